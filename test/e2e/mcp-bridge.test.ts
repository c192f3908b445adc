import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { type CallToolResult, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { killSwitchCopiesOf } from '../../cli/kill-switch-copies';
import { DynamoDbRevocationStore } from '../../lambdas/adapters/aws/dynamodb-revocation-store';
import { FileKillSwitchParameters } from '../../lambdas/adapters/local/file-kill-switch-parameters';
import { killSwitchPrefix } from '../../lambdas/core/kill-switch';
import { engageKillSwitch, releaseKillSwitch } from '../../lambdas/core/kill-switch-operator';
import { loadConfig } from '../../lib/config/load-config';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import { LOCAL_TABLES, openLocalDynamo } from '../../local/local-state';
import { SAMPLE_RECEIPT_WITH_PERSONAL_DATA } from '../../local/sample-receipts';

const REPO = join(__dirname, '../..');
// Each test starts the CLI as a child process (through tsx), which takes seconds on a busy machine.
const BRIDGE_TEST_TIMEOUT_MS = 60_000;
const config = loadConfig(join(REPO, 'config/airlock.config.yaml'));
// A short kill-switch backstop, so the release after the drill below is seen within a second.
const pilotConfig = { ...config, killSwitch: { ...config.killSwitch, backstopSeconds: 1 } };

interface Bridge {
  readonly client: Client;
  /** Everything the bridge wrote to stderr so far. */
  stderr(): string;
}

/** Starts `airlock bridge` as the desktop would (a child process speaking MCP on stdio) and connects to it. */
async function startBridge(env: Record<string, string>, args: string[]): Promise<Bridge> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(REPO, 'bin/airlock.cjs'), 'bridge', '--workflow', 'expense-summary', ...args],
    cwd: REPO,
    env: { ...(process.env as Record<string, string>), ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const client = new Client({ name: 'desktop-e2e', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function eventuallyAsync(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('Class: airlock bridge (stdio MCP server for the desktop) against the local pilot', () => {
  let home: string;
  let pilot: LocalPilot;
  let env: Record<string, string>;
  const bridges: Bridge[] = [];

  const bridge = async (args: string[], extraEnv: Record<string, string> = {}) => {
    const started = await startBridge({ ...env, ...extraEnv }, args);
    bridges.push(started);
    return started;
  };

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-mcp-bridge-'));
    pilot = await startLocalPilot({ home, port: 0, config: pilotConfig });
    env = { AIRLOCK_HOME: home, AIRLOCK_PORT: String(pilot.port) };
  });

  afterAll(async () => {
    for (const { client } of bridges) await client.close();
    await pilot?.close();
    await rm(home, { recursive: true, force: true });
  });

  describe('Method: tools/list', () => {
    it(
      "lists the workflow's tools for alice, and only the receipts tools when she asks for receipts:read alone",
      async () => {
        // Prepare
        const [full, narrow] = await Promise.all([
          bridge(['--principal', 'alice']),
          bridge(['--principal', 'alice', '--scopes', 'receipts:read']),
        ]);

        // Act
        const all = await full.client.listTools();
        const receipts = await narrow.client.listTools();

        // Assess
        expect(all.tools.map((t) => t.name).sort()).toEqual([
          'erp_createJournalEntry',
          'erp_lookupGlCode',
          'everything_compressFile',
          'everything_echo',
          'handbook_search',
          'ledger_entriesByVendor',
          'ledger_spendByGlCode',
          'receipts_list',
          'receipts_read',
        ]);
        expect(receipts.tools.map((t) => t.name).sort()).toEqual(['receipts_list', 'receipts_read']);
        expect(full.stderr()).not.toMatch(/eyJ/); // no JWT ever reaches the log
        // The model is told to give a reason for each call (kept in the audit trail), and how approvals work.
        expect(full.client.getInstructions()).toMatch(/Pass "intent" with a short reason/);
        expect(full.client.getInstructions()).toMatch(/approvalId/);
      },
      BRIDGE_TEST_TIMEOUT_MS,
    );

    it(
      'answers tools/list with an error for mallory (not an empty list) and says on stderr that Airlock refused her a token',
      async () => {
        // Prepare
        const mallory = await bridge(['--principal', 'mallory']);

        // Act
        const listing = mallory.client.listTools();

        // Assess
        // One "MCP error" prefix (the desktop's client adds it), never two.
        await expect(listing).rejects.toThrow(
          /^MCP error -32603: Airlock is not available: Airlock refused a token/,
        );
        await eventually(() => /refused a token/.test(mallory.stderr()));
        expect(mallory.stderr()).toMatch(/Airlock refused a token for workflow "expense-summary"/);
      },
      BRIDGE_TEST_TIMEOUT_MS,
    );

    it(
      'answers tools/list with an error and asks whether the local pilot runs when nothing listens on the port',
      async () => {
        // Prepare
        const nowhere = await bridge(['--principal', 'alice'], { AIRLOCK_PORT: String(await freePort()) });

        // Act
        const listing = nowhere.client.listTools();

        // Assess
        await expect(listing).rejects.toThrow(/is the local pilot running\?/);
        await eventually(() => /npm start/.test(nowhere.stderr()));
        expect(nowhere.stderr()).toMatch(/is the local pilot running\? Start it with npm start/);
      },
      BRIDGE_TEST_TIMEOUT_MS,
    );
  });

  describe('Method: tools/call', () => {
    it(
      "relays Airlock's refusal of a tool it does not offer with one error prefix, not three",
      async () => {
        // Prepare
        const alice = await bridge(['--principal', 'alice', '--scopes', 'receipts:read']);

        // Act
        const calling = alice.client.callTool({ name: 'erp_createJournalEntry', arguments: {} });

        // Assess
        await expect(calling).rejects.toThrow(
          /^MCP error -32602: Unknown tool "erp_createJournalEntry"\. Your tools: receipts_list, receipts_read\.$/,
        );
      },
      BRIDGE_TEST_TIMEOUT_MS,
    );

    it(
      'reads a receipt for alice',
      async () => {
        // Prepare
        const alice = await bridge(['--principal', 'alice', '--scopes', 'receipts:read']);

        // Act
        const result = (await alice.client.callTool({
          name: 'receipts_read',
          arguments: { key: SAMPLE_RECEIPT_WITH_PERSONAL_DATA, intent: 'expense summary Q3' },
        })) as CallToolResult;

        // Assess
        expect(result.isError).toBeFalsy();
        expect(textOf(result)).toContain('HARBOUR VIEW HOTEL');
        expect(textOf(result)).not.toContain('alice.martin@example.com');
      },
      BRIDGE_TEST_TIMEOUT_MS,
    );

    it(
      'holds a journal entry above the threshold for a manager, with the approval id to re-send',
      async () => {
        // Prepare
        const alice = await bridge(['--principal', 'alice']);

        // Act
        const result = (await alice.client.callTool({
          name: 'erp_createJournalEntry',
          arguments: { glCode: '6100', amount: 2500, currency: 'EUR', memo: 'Q3 conference travel' },
        })) as CallToolResult;

        // Assess
        expect(result.isError).toBeFalsy();
        const text = textOf(result);
        expect(text).toMatch(/nothing has run yet/);
        expect(text).toMatch(/"managers" must approve/);
        expect(text).toMatch(/"approvalId": "apr_[0-9a-f]{32}"/);
        expect(pilot.sampleErp.journalEntries()).toHaveLength(0);
      },
      BRIDGE_TEST_TIMEOUT_MS,
    );

    it(
      'fails calls with the kill-switch reason while the switch is engaged',
      async () => {
        // Prepare
        const alice = await bridge(['--principal', 'alice', '--scopes', 'receipts:read']);
        expect((await alice.client.listTools()).tools.length).toBe(2);
        const parameters = new FileKillSwitchParameters(home);
        // As `airlock kill-switch engage --local` does: the copy every request reads, then the parameter.
        const dynamo = await openLocalDynamo(home);
        const switchOptions = {
          source: parameters,
          writer: parameters,
          copies: killSwitchCopiesOf(
            new DynamoDbRevocationStore({ client: dynamo.doc, tableName: LOCAL_TABLES.revocations }),
          ),
          prefix: killSwitchPrefix(config.stage),
          changedBy: 'e2e',
          backstopSeconds: 1,
        };
        await engageKillSwitch({ ...switchOptions, reason: 'incident drill 42' });

        try {
          // Act: the next call, with no wait
          const result = (await alice.client.callTool({
            name: 'receipts_list',
            arguments: {},
          })) as CallToolResult;

          // Assess
          expect(result.isError).toBe(true);
          expect(textOf(result)).toMatch(/kill switch is engaged.*incident drill 42/);
          expect(alice.stderr()).toMatch(/kill switch is engaged.*incident drill 42/);
        } finally {
          await releaseKillSwitch({ ...switchOptions, reason: 'drill over' });
          await dynamo.close();
        }
      },
      BRIDGE_TEST_TIMEOUT_MS,
    );

    it(
      'attack on availability: a sealed Airlock showed as connected with no tools and never came back; now tools/list fails while sealed and the desktop is told to list again once released',
      async () => {
        // Prepare
        const alice = await bridge([
          '--principal',
          'alice',
          '--scopes',
          'receipts:read',
          '--retry-seconds',
          '1',
        ]);
        let listChanged = 0;
        alice.client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
          listChanged += 1;
        });
        expect(alice.client.getServerCapabilities()?.tools?.listChanged).toBe(true);
        // The drill before this one released the switch; the pilot sees a release once its parameter read
        // (every backstopSeconds ± 20 %) has caught up, so wait for that instead of racing it.
        let tools = 0;
        await eventuallyAsync(async () => {
          tools = (await alice.client.listTools().catch(() => ({ tools: [] }))).tools.length;
          return tools > 0;
        });
        expect(tools).toBe(2);
        listChanged = 0;
        const parameters = new FileKillSwitchParameters(home);
        const dynamo = await openLocalDynamo(home);
        const switchOptions = {
          source: parameters,
          writer: parameters,
          copies: killSwitchCopiesOf(
            new DynamoDbRevocationStore({ client: dynamo.doc, tableName: LOCAL_TABLES.revocations }),
          ),
          prefix: killSwitchPrefix(config.stage),
          changedBy: 'e2e',
          backstopSeconds: 1,
        };
        await engageKillSwitch({ ...switchOptions, reason: 'incident drill 43' });
        try {
          // Act + Assess: sealed, the list is an error naming the reason
          await expect(alice.client.listTools()).rejects.toThrow(/kill switch is engaged.*incident drill 43/);
        } finally {
          await releaseKillSwitch({ ...switchOptions, reason: 'drill over' });
          await dynamo.close();
        }

        // Assess: released, the bridge notices by itself and notifies; the list works again
        await eventually(() => listChanged > 0, 30_000);
        expect((await alice.client.listTools()).tools.map((t) => t.name).sort()).toEqual([
          'receipts_list',
          'receipts_read',
        ]);
        expect(alice.stderr()).toMatch(/Airlock answers again/);
      },
      BRIDGE_TEST_TIMEOUT_MS,
    );

    it(
      'starts while Airlock is sealed: the desktop connects, tools/list fails naming the kill switch and its reason, and calls are refused',
      async () => {
        // Prepare
        const parameters = new FileKillSwitchParameters(home);
        const dynamo = await openLocalDynamo(home);
        const switchOptions = {
          source: parameters,
          writer: parameters,
          copies: killSwitchCopiesOf(
            new DynamoDbRevocationStore({ client: dynamo.doc, tableName: LOCAL_TABLES.revocations }),
          ),
          prefix: killSwitchPrefix(config.stage),
          changedBy: 'e2e',
          backstopSeconds: 1,
        };
        await engageKillSwitch({ ...switchOptions, reason: 'incident drill 44' });
        try {
          // Act
          const alice = await bridge(['--principal', 'alice', '--scopes', 'receipts:read']);
          const listing = alice.client.listTools();
          const call = (await alice.client.callTool({
            name: 'receipts_list',
            arguments: {},
          })) as CallToolResult;

          // Assess
          expect(alice.client.getServerVersion()?.name).toBe('airlock');
          await expect(listing).rejects.toThrow(
            /^MCP error -32603: Airlock is not available: .*kill switch is engaged.*incident drill 44/,
          );
          expect(call.isError).toBe(true);
          expect(textOf(call)).toMatch(/kill switch is engaged.*incident drill 44/);
        } finally {
          await releaseKillSwitch({ ...switchOptions, reason: 'drill over' });
          await dynamo.close();
        }
      },
      BRIDGE_TEST_TIMEOUT_MS,
    );
  });
});
