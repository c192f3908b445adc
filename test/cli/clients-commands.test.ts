/**
 * `airlock clients config`: the generated client configurations, validated against the schemas the
 * clients document (Claude Code's MCP server entries, Cowork on 3P's managedMcpServers), and the MDM
 * wrappers checked to carry exactly that value.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import * as z from 'zod';
import { localInferenceProfileArn } from '../../lambdas/adapters/local/provider-metrics-usage-source';
import { loadConfig } from '../../lib/config/load-config';
import { type CliRun, runAirlock } from './support/fake-cli-io';

const EXAMPLE_CONFIG = join(__dirname, '../../config/airlock.config.yaml');
const OAUTH_CONFIG = join(__dirname, '../../config/airlock.oauth.yaml');
const SERVER = 'https://airlock.example.com';

/** Claude Code's MCP server entry (`.mcp.json` / managed-mcp.json): http with headersHelper, or stdio. */
const claudeCodeServer = z.union([
  z.strictObject({
    type: z.literal('http'),
    url: z.url(),
    headers: z.record(z.string(), z.string()).optional(),
    headersHelper: z.string().min(1).optional(),
  }),
  z.strictObject({
    command: z.string().min(1),
    args: z.array(z.string()),
    env: z.record(z.string(), z.string()).optional(),
  }),
]);

/** Cowork on third-party inference: `managedMcpServers`, as its MDM documentation describes it. */
const managedMcpServers = z.array(
  z.strictObject({
    name: z.string().min(1),
    url: z.url().startsWith('https://'),
    headers: z.record(z.string(), z.string()).optional(),
    oauth: z.unknown().optional(),
    headersHelper: z.string().min(1).optional(),
    headersHelperTtlSec: z.number().int().positive().optional(),
    toolPolicy: z.record(z.string(), z.enum(['allow', 'ask', 'blocked'])).optional(),
  }),
);

/** The example's Foundation output `InferenceProfileArns`, as `cost report` reads it. */
const PROFILE_ARN = 'arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/k3x9m2example';
const PROFILES = JSON.stringify({ 'expense-summary': PROFILE_ARN });

function airlock(
  args: string[],
  config = EXAMPLE_CONFIG,
  env: NodeJS.ProcessEnv = { AIRLOCK_INFERENCE_PROFILES: PROFILES },
): Promise<CliRun> {
  return runAirlock(args, { env: { AIRLOCK_CONFIG: config, ...env } });
}

describe('Function: registerClientsCommands', () => {
  describe('Method: clients config --for claude-code', () => {
    it('connects directly to /v1/mcp with airlock token --headers as headersHelper, and the certificate variables', async () => {
      // Act
      const run = await airlock([
        'clients',
        'config',
        '--for',
        'claude-code',
        '--workflow',
        'expense-summary',
        '--server',
        SERVER,
      ]);

      // Assess
      expect(run.code).toBe(0);
      const printed = JSON.parse(run.stdout);
      const entry = claudeCodeServer.parse(printed.mcpServers.airlock);
      expect(entry).toMatchObject({ type: 'http', url: `${SERVER}/v1/mcp` });
      expect((entry as { headersHelper: string }).headersHelper).toBe(
        `npx airlock token --headers --workflow expense-summary --server ${SERVER} --cert $HOME/.airlock/device.pem --key $HOME/.airlock/device.key.pem --ca $HOME/.airlock/ca.pem --scopes erp:read,erp:write,everything:read,everything:write,handbook:read,ledger:read,receipts:read,usage:report --ttl-seconds 1800`,
      );
      expect(Object.keys(printed.env).sort()).toEqual([
        'ANTHROPIC_DEFAULT_HAIKU_MODEL',
        'ANTHROPIC_MODEL',
        'ANTHROPIC_SMALL_FAST_MODEL',
        'AWS_REGION',
        'CLAUDE_CODE_CLIENT_CERT',
        'CLAUDE_CODE_CLIENT_KEY',
        'CLAUDE_CODE_USE_BEDROCK',
        'NODE_EXTRA_CA_CERTS',
      ]);
    });

    it("calls Bedrock through the workflow's inference profile from AIRLOCK_INFERENCE_PROFILES, so its tokens are measured", async () => {
      // Act
      const run = await airlock([
        'clients',
        'config',
        '--for',
        'claude-code',
        '--workflow',
        'expense-summary',
        '--server',
        SERVER,
      ]);

      // Assess
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).env).toMatchObject({
        CLAUDE_CODE_USE_BEDROCK: '1',
        AWS_REGION: 'eu-west-1',
        ANTHROPIC_MODEL: PROFILE_ARN,
      });
    });

    it("pins Claude Code's background (haiku-tier) model to the same profile, so none of its calls escape the workflow's count", async () => {
      // Act
      const run = await airlock([
        'clients',
        'config',
        '--for',
        'claude-code',
        '--workflow',
        'expense-summary',
        '--server',
        SERVER,
      ]);

      // Assess
      expect(run.code).toBe(0);
      const env = JSON.parse(run.stdout).env;
      expect(env.ANTHROPIC_DEFAULT_HAIKU_MODEL).toBe(PROFILE_ARN);
      // The deprecated name, for Claude Code versions that read only it.
      expect(env.ANTHROPIC_SMALL_FAST_MODEL).toBe(PROFILE_ARN);
    });

    it('takes --inference-profile-arn over the variable, and the local stand-in profile with --local', async () => {
      // Prepare
      const other = 'arn:aws:bedrock:us-east-1:210987654321:application-inference-profile/otherprofile1';
      const args = [
        'clients',
        'config',
        '--for',
        'claude-code',
        '--workflow',
        'expense-summary',
        '--server',
        SERVER,
      ];

      // Act
      const flagged = await airlock([...args, '--inference-profile-arn', other]);
      const local = await airlock([...args, '--local'], EXAMPLE_CONFIG, {});
      const bridged = await airlock([...args, '--bridge', '--inference-profile-arn', other]);

      // Assess
      expect(flagged.code).toBe(0);
      expect(JSON.parse(flagged.stdout).env).toMatchObject({
        AWS_REGION: 'us-east-1',
        ANTHROPIC_MODEL: other,
      });
      expect(local.code).toBe(0);
      expect(JSON.parse(local.stdout).env.ANTHROPIC_MODEL).toBe(
        localInferenceProfileArn(loadConfig(EXAMPLE_CONFIG).stage, 'expense-summary'),
      );
      expect(bridged.code).toBe(0);
      expect(JSON.parse(bridged.stdout).env).toEqual({
        CLAUDE_CODE_USE_BEDROCK: '1',
        AWS_REGION: 'us-east-1',
        ANTHROPIC_MODEL: other,
        ANTHROPIC_DEFAULT_HAIKU_MODEL: other,
        ANTHROPIC_SMALL_FAST_MODEL: other,
      });
    });

    it('gives a workflow without llm no Bedrock settings, and refuses an ARN for it (exit 2), naming the flag', async () => {
      // Prepare
      const args = [
        'clients',
        'config',
        '--for',
        'claude-code',
        '--workflow',
        'customer-follow-up',
        '--server',
        SERVER,
      ];

      // Act
      const plain = await airlock(args, EXAMPLE_CONFIG, {});
      const withArn = await airlock([...args, '--inference-profile-arn', PROFILE_ARN]);

      // Assess
      expect(plain.code).toBe(0);
      expect(JSON.parse(plain.stdout).env).not.toHaveProperty('CLAUDE_CODE_USE_BEDROCK');
      expect(JSON.parse(plain.stdout).env).not.toHaveProperty('ANTHROPIC_MODEL');
      expect(JSON.parse(plain.stdout).env).not.toHaveProperty('ANTHROPIC_DEFAULT_HAIKU_MODEL');
      expect(withArn.code).toBe(2);
      expect(withArn.stderr).toMatch(
        /--inference-profile-arn: workflow "customer-follow-up" has no llm section/,
      );
    });

    it('refuses a model ARN that would bypass the per-workflow profile (foundation model, malformed), naming the flag or variable', async () => {
      // Prepare
      const args = [
        'clients',
        'config',
        '--for',
        'claude-code',
        '--workflow',
        'expense-summary',
        '--server',
        SERVER,
      ];
      const foundationModel =
        'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0';

      // Act
      const viaFlag = await airlock([...args, '--inference-profile-arn', foundationModel]);
      const viaVariable = await airlock(args, EXAMPLE_CONFIG, {
        AIRLOCK_INFERENCE_PROFILES: JSON.stringify({ 'expense-summary': 'not-an-arn' }),
      });
      const notJson = await airlock(args, EXAMPLE_CONFIG, { AIRLOCK_INFERENCE_PROFILES: '{expense' });
      const none = await airlock(args, EXAMPLE_CONFIG, {});

      // Assess
      expect(viaFlag.code).toBe(2);
      expect(viaFlag.stderr).toMatch(
        /--inference-profile-arn: ".*" is not a Bedrock application inference profile ARN/,
      );
      expect(viaVariable.code).toBe(2);
      expect(viaVariable.stderr).toMatch(
        /AIRLOCK_INFERENCE_PROFILES \(workflow "expense-summary"\): "not-an-arn"/,
      );
      expect(notJson.code).toBe(2);
      expect(notJson.stderr).toMatch(/AIRLOCK_INFERENCE_PROFILES: not JSON/);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/--inference-profile-arn: workflow "expense-summary" has an llm section/);
      expect(`${viaFlag.stdout}${viaVariable.stdout}${notJson.stdout}${none.stdout}`).toBe('');
    });

    it('uses the stdio bridge with --bridge', async () => {
      // Act
      const run = await airlock([
        'clients',
        'config',
        '--for',
        'claude-code',
        '--bridge',
        '--workflow',
        'expense-summary',
        '--server',
        SERVER,
      ]);

      // Assess
      expect(run.code).toBe(0);
      const entry = claudeCodeServer.parse(JSON.parse(run.stdout).mcpServers.airlock);
      expect(entry).toMatchObject({
        command: 'npx',
        args: expect.arrayContaining(['airlock', 'bridge', '--workflow']),
      });
    });

    it('refuses a helper TTL longer than the workflow issues tokens for (exit 2), naming the flag', async () => {
      // Act
      const run = await airlock([
        'clients',
        'config',
        '--for',
        'claude-code',
        '--workflow',
        'expense-summary',
        '--server',
        SERVER,
        '--helper-ttl-seconds',
        '7200',
      ]);

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(
        /--helper-ttl-seconds 7200: workflow "expense-summary" issues tokens of at most 3600 seconds/,
      );
    });
  });

  describe('Method: clients config --for cowork-3p', () => {
    it('derives toolPolicy from the workflow: reads allow, approval-gated writes ask, operations it does not grant blocked', async () => {
      // Prepare: the example, with one ERP operation taken out of the workflow (the connector still has it)
      const document = parse(await readFile(EXAMPLE_CONFIG, 'utf8'));
      document.workflows['expense-summary'].connectors.erp = ['createJournalEntry'];
      const dir = await mkdtemp(join(tmpdir(), 'airlock-clients-'));
      const configFile = join(dir, 'airlock.config.yaml');
      await writeFile(configFile, stringify(document));
      expect(Object.keys(loadConfig(configFile).connectors.erp.operations)).toContain('lookupGlCode');

      // Act
      const run = await airlock(
        ['clients', 'config', '--for', 'cowork-3p', '--workflow', 'expense-summary', '--server', SERVER],
        configFile,
      ).finally(() => rm(dir, { recursive: true, force: true }));

      // Assess
      expect(run.code).toBe(0);
      const [server] = managedMcpServers.parse(JSON.parse(run.stdout).managedMcpServers);
      expect(server).toMatchObject({ name: 'airlock', url: `${SERVER}/v1/mcp`, headersHelperTtlSec: 1800 });
      expect(server.toolPolicy).toMatchObject({
        receipts_list: 'allow',
        receipts_read: 'allow',
        erp_lookupGlCode: 'blocked',
        erp_createJournalEntry: 'ask',
      });
      const blocked = Object.entries(server.toolPolicy ?? {}).filter(([, policy]) => policy === 'blocked');
      expect(blocked.map(([tool]) => tool)).toEqual(['erp_lookupGlCode']);
    });

    it('points at the OAuth entry point when the config has one (Cowork presents no client certificate)', async () => {
      // Act
      const run = await airlock(
        ['clients', 'config', '--for', 'cowork-3p', '--workflow', 'expense-summary', '--server', SERVER],
        OAUTH_CONFIG,
      );

      // Assess
      expect(run.code).toBe(0);
      const [server] = managedMcpServers.parse(JSON.parse(run.stdout).managedMcpServers);
      const oauth = loadConfig(OAUTH_CONFIG).oauth;
      expect(server.url).toBe(new URL('/v1/mcp', oauth?.publicUrl).toString());
      expect(server.headersHelper).toBeUndefined();
    });

    it('wraps the same value in a .mobileconfig and a .reg', async () => {
      // Act
      const json = await airlock([
        'clients',
        'config',
        '--for',
        'cowork-3p',
        '--workflow',
        'expense-summary',
        '--server',
        SERVER,
      ]);
      const plist = await airlock([
        'clients',
        'config',
        '--for',
        'cowork-3p',
        '--workflow',
        'expense-summary',
        '--server',
        SERVER,
        '--format',
        'mobileconfig',
      ]);
      const reg = await airlock([
        'clients',
        'config',
        '--for',
        'cowork-3p',
        '--workflow',
        'expense-summary',
        '--server',
        SERVER,
        '--format',
        'reg',
      ]);

      // Assess
      const expected = JSON.parse(json.stdout).managedMcpServers;
      expect(plist.code).toBe(0);
      expect(plist.stdout).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<!DOCTYPE plist/);
      const embedded =
        /<key>managedMcpServers<\/key>\s*<string>([^<]*)<\/string>/.exec(plist.stdout)?.[1] ?? '';
      const unescaped = embedded
        .replace(/&quot;/g, '"')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&');
      expect(managedMcpServers.parse(JSON.parse(unescaped))).toEqual(expected);
      expect(plist.stdout.match(/<key>PayloadUUID<\/key>\s*<string>[0-9A-F-]{36}<\/string>/g)).toHaveLength(
        2,
      );
      expect(reg.code).toBe(0);
      expect(
        reg.stdout.startsWith(
          'Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Claude]\r\n',
        ),
      ).toBe(true);
      const value = /"managedMcpServers"="(.*?)"\r\n/.exec(reg.stdout)?.[1] ?? '';
      expect(JSON.parse(value.replace(/\\"/g, '"').replace(/\\\\/g, '\\'))).toEqual(expected);
    });

    it("sets Bedrock as the provider with the workflow's inference profile as the only model, in JSON, .mobileconfig and .reg", async () => {
      // Prepare
      const args = [
        'clients',
        'config',
        '--for',
        'cowork-3p',
        '--workflow',
        'expense-summary',
        '--server',
        SERVER,
      ];

      // Act
      const json = await airlock(args);
      const plist = await airlock([...args, '--format', 'mobileconfig']);
      const reg = await airlock([...args, '--format', 'reg', '--models-setting-key', 'customModels']);
      const noLlm = await airlock(
        ['clients', 'config', '--for', 'cowork-3p', '--workflow', 'customer-follow-up', '--server', SERVER],
        EXAMPLE_CONFIG,
        {},
      );

      // Assess
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({
        inferenceProvider: 'bedrock',
        inferenceBedrockRegion: 'eu-west-1',
        inferenceModels: [PROFILE_ARN],
      });
      expect(plist.code).toBe(0);
      expect(plist.stdout).toContain(
        `<key>inferenceModels</key>\n      <string>[&quot;${PROFILE_ARN}&quot;]</string>`,
      );
      expect(plist.stdout).toContain('<key>inferenceProvider</key>\n      <string>bedrock</string>');
      expect(reg.code).toBe(0);
      expect(reg.stdout).toContain(`"customModels"="[\\"${PROFILE_ARN}\\"]"\r\n`);
      expect(reg.stdout).toContain('"inferenceBedrockRegion"="eu-west-1"\r\n');
      expect(noLlm.code).toBe(0);
      expect(Object.keys(JSON.parse(noLlm.stdout))).toEqual(['managedMcpServers']);
    });

    it('refuses an unknown workflow and a server URL with a path (exit 2)', async () => {
      // Act
      const unknown = await airlock([
        'clients',
        'config',
        '--for',
        'cowork-3p',
        '--workflow',
        'nope',
        '--server',
        SERVER,
      ]);
      const path = await airlock([
        'clients',
        'config',
        '--for',
        'cowork-3p',
        '--workflow',
        'expense-summary',
        '--server',
        `${SERVER}/v1/mcp`,
      ]);

      // Assess
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/--workflow: "nope" is not a workflow/);
      expect(path.code).toBe(2);
      expect(path.stderr).toMatch(/--server.*with no path/);
    });
  });

  describe('Method: clients config --for claude-desktop', () => {
    it('gives the bridge entry of claude_desktop_config.json', async () => {
      // Act
      const run = await airlock([
        'clients',
        'config',
        '--for',
        'claude-desktop',
        '--workflow',
        'expense-summary',
        '--server',
        SERVER,
      ]);

      // Assess
      expect(run.code).toBe(0);
      expect(claudeCodeServer.parse(JSON.parse(run.stdout).mcpServers.airlock)).toMatchObject({
        command: 'npx',
      });
    });
  });
});
