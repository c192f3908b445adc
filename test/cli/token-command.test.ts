/**
 * `airlock token` against a running local pilot: the token a `headersHelper` prints, used as Claude
 * Code uses it (an MCP SDK client over the device certificate with those headers).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { loadConfig } from '../../lib/config/load-config';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import { createMtlsFetch } from '../../local/mtls-fetch';
import { type CliRun, runAirlock } from './support/fake-cli-io';

const CONFIG = join(__dirname, '../../config/airlock.config.yaml');
let home: string;
let pilot: LocalPilot;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'airlock-cli-token-'));
  pilot = await startLocalPilot({ home, port: 0, config: loadConfig() });
}, 60_000);

afterAll(async () => {
  await pilot?.close();
  await rm(home, { recursive: true, force: true });
});

function airlock(args: string[]): Promise<CliRun> {
  return runAirlock(args, { env: { AIRLOCK_HOME: home, AIRLOCK_CONFIG: CONFIG }, cwd: home });
}

describe('Function: registerTokenCommand', () => {
  describe('Method: token --headers', () => {
    it('prints one JSON object of headers whose token lists the tools over the device certificate (a headersHelper)', async () => {
      // Act
      const run = await airlock([
        'token',
        '--headers',
        '--workflow',
        'expense-summary',
        '--scopes',
        'receipts:read',
        '--local',
        '--principal',
        'alice',
      ]);

      // Assess
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      const headers = JSON.parse(run.stdout) as Record<string, string>;
      expect(Object.keys(headers)).toEqual(['Authorization']);
      expect(headers.Authorization).toMatch(/^Bearer eyJ/);
      const files = pilot.certificates.client('alice');
      const fetch = createMtlsFetch({
        cert: await readFile(files.cert),
        key: await readFile(files.key),
        ca: await readFile(pilot.certificates.ca),
      });
      const client = new Client({ name: 'headers-helper-e2e', version: '1.0.0' });
      try {
        await client.connect(
          new StreamableHTTPClientTransport(new URL(`${pilot.url}/v1/mcp`), {
            fetch,
            requestInit: { headers },
          }),
        );
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name).sort()).toEqual(['receipts_list', 'receipts_read']);
      } finally {
        await client.close();
        fetch.close();
      }
    });

    it('runs as the generated headersHelper on a device with no Airlock config (an empty folder, no AIRLOCK_* variables), as Claude Code runs it', async () => {
      // Prepare: IT generates the entry from the config; the device has only its certificate files
      const files = pilot.certificates.client('alice');
      const generated = await airlock([
        'clients',
        'config',
        '--for',
        'claude-code',
        '--workflow',
        'expense-summary',
        '--server',
        pilot.url,
        '--cert',
        files.cert,
        '--key',
        files.key,
        '--ca',
        pilot.certificates.ca,
        '--local',
      ]);
      expect(generated.code).toBe(0);
      const helper = (JSON.parse(generated.stdout) as { mcpServers: { airlock: { headersHelper: string } } })
        .mcpServers.airlock.headersHelper;
      const [npx, command, ...args] = helper.split(' ');
      expect(`${npx} ${command}`).toBe('npx airlock');
      const device = await mkdtemp(join(tmpdir(), 'airlock-device-'));

      try {
        // Act
        const run = await runAirlock(args, { env: {}, cwd: device });

        // Assess
        expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
        expect((JSON.parse(run.stdout) as Record<string, string>).Authorization).toMatch(/^Bearer eyJ/);
      } finally {
        await rm(device, { recursive: true, force: true });
      }
    });

    it('prints the token with its expiry as JSON with --json', async () => {
      // Act
      const run = await airlock([
        '--json',
        'token',
        '--workflow',
        'expense-summary',
        '--duration-minutes',
        '10',
        '--local',
        '--principal',
        'alice',
      ]);

      // Assess
      expect(run.code).toBe(0);
      const printed = JSON.parse(run.stdout);
      expect(printed).toMatchObject({ tokenType: 'Bearer', workflow: 'expense-summary' });
      expect(Date.parse(printed.expiresAt) - Date.now()).toBeLessThanOrEqual(10 * 60_000);
    });

    it("refuses a helper TTL longer than the token's life (exit 2), so a client never sends an expired token", async () => {
      // Act
      const run = await airlock([
        'token',
        '--headers',
        '--workflow',
        'expense-summary',
        '--duration-minutes',
        '5',
        '--ttl-seconds',
        '600',
        '--local',
        '--principal',
        'alice',
      ]);

      // Assess
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/--ttl-seconds 600: the token would live 5 minutes/);
    });

    it('says on stderr why Airlock refused mallory a token (exit 1), and prints nothing on stdout', async () => {
      // Act
      const run = await airlock([
        'token',
        '--headers',
        '--workflow',
        'expense-summary',
        '--local',
        '--principal',
        'mallory',
      ]);

      // Assess
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/Airlock refused a token for workflow "expense-summary"/);
      expect(run.stderr).not.toMatch(/eyJ|at .*\.ts:\d+/);
    });
  });
});
