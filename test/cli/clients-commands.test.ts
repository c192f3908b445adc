/**
 * `airlock clients config`: the generated client configurations, validated against the schemas the
 * clients document (Claude Code's MCP server entries, Cowork on 3P's managedMcpServers), and the MDM
 * wrappers checked to carry exactly that value.
 */
import { join } from 'node:path';
import { z } from 'zod';
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

function airlock(args: string[], config = EXAMPLE_CONFIG): Promise<CliRun> {
  return runAirlock(args, { env: { AIRLOCK_CONFIG: config } });
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
        `npx airlock token --headers --workflow expense-summary --server ${SERVER} --cert $HOME/.airlock/device.pem --key $HOME/.airlock/device.key.pem --ca $HOME/.airlock/ca.pem --ttl-seconds 1800`,
      );
      expect(Object.keys(printed.env).sort()).toEqual([
        'CLAUDE_CODE_CLIENT_CERT',
        'CLAUDE_CODE_CLIENT_KEY',
        'NODE_EXTRA_CA_CERTS',
      ]);
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
      // Prepare: a connector operation outside the workflow
      const config = loadConfig(EXAMPLE_CONFIG);
      const erpOps = Object.keys(config.connectors.erp.operations);

      // Act
      const run = await airlock([
        'clients',
        'config',
        '--for',
        'cowork-3p',
        '--workflow',
        'expense-summary',
        '--server',
        SERVER,
      ]);

      // Assess
      expect(run.code).toBe(0);
      const [server] = managedMcpServers.parse(JSON.parse(run.stdout).managedMcpServers);
      expect(server).toMatchObject({ name: 'airlock', url: `${SERVER}/v1/mcp`, headersHelperTtlSec: 1800 });
      expect(server.toolPolicy).toMatchObject({
        receipts_list: 'allow',
        receipts_read: 'allow',
        erp_lookupGlCode: 'allow',
        erp_createJournalEntry: 'ask',
      });
      for (const op of erpOps.filter(
        (o) => !config.workflows['expense-summary'].connectors.erp.includes(o),
      )) {
        expect(server.toolPolicy?.[`erp_${op}`]).toBe('blocked');
      }
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
      const value = /"managedMcpServers"="(.*)"\r\n$/.exec(reg.stdout)?.[1] ?? '';
      expect(JSON.parse(value.replace(/\\"/g, '"').replace(/\\\\/g, '\\'))).toEqual(expected);
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
