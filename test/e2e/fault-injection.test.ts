/**
 * Fault injection, end to end over real mutual TLS: the local pilot with every port behind a fault
 * switch (and under its dependency deadline, as the pilot runs it), and the sample ERP replaced by a
 * misbehaving stand-in at the end. For each dependency of each route, failing, hanging and garbage
 * answers are refused with the error contract (503 `unavailable` / `kill_switch_engaged`, 502
 * `upstream_error`, 401 for an undecidable token), never 500; no call waits past its budget; nothing
 * is executed upstream without an audit record; and no upstream secret or token shows in a response
 * or in the pilot's log.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderDigestStore } from '../../lambdas/adapters/local/folder-digest-store';
import type { AuditRecord } from '../../lambdas/core/audit-record';
import { readLedger, verifyAuditTrail } from '../../lambdas/core/audit-verifier';
import { type DependencyName, withDependencyDeadlines } from '../../lambdas/core/dependency-deadline';
import { loadConfig } from '../../lib/config/load-config';
import type { AirlockConfig } from '../../lib/config/schema';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import type { LocalPilotPorts } from '../../local/local-ports';
import { SAMPLE_RECEIPT_WITH_PERSONAL_DATA } from '../../local/sample-receipts';
import { type E2eClient, type E2eResponse, e2eClientFor } from './e2e-client';
import { expectErrorContract } from './support/error-contract';
import { FaultInjector, type FaultMode } from './support/fault-injector';
import { type FaultyUpstream, startFaultyUpstream, type UpstreamFaultMode } from './support/faulty-upstream';
import { readUpstreamSecrets } from './support/upstream-secrets';
import { waitForKillSwitch } from './support/wait-for-kill-switch';

/**
 * Each dependency's budget in this pilot: short, so hanging cases stay fast, yet long enough for a
 * healthy local read on a busy machine.
 */
const BUDGET_MS = 500;
const BUDGETS: Record<DependencyName, number> = {
  signer: BUDGET_MS,
  killSwitchSource: BUDGET_MS,
  revocations: BUDGET_MS,
  auditStore: BUDGET_MS,
  approvalStore: BUDGET_MS,
  runReadLog: BUDGET_MS,
  secretSource: BUDGET_MS,
  counterStore: BUDGET_MS,
};
/** The ERP connector's own timeout in this pilot. */
const UPSTREAM_TIMEOUT_MS = 1000;
/** Scheduling slack on a shared 2-core machine: a budget is kept if the answer comes within budget + this. */
const MARGIN_MS = 1500;
/** How often this pilot reads the kill-switch parameters: short, so every case reads them afresh. */
const KILL_SWITCH_BACKSTOP_MS = 50;
/** Its staleness bound: longer than a healthy read takes on a busy machine (then the copies decide alone). */
const STALENESS_MS = 500;
const WORKFLOW = 'expense-summary';
const ALL_SCOPES = ['receipts:read', 'erp:read', 'erp:write'];

const READ_RECEIPT = {
  path: '/v1/connectors/receipts/read',
  body: { key: SAMPLE_RECEIPT_WITH_PERSONAL_DATA },
};
const LOOKUP_GL_CODE = { path: '/v1/connectors/erp/lookupGlCode', body: { query: 'travel' } };
let memo = 0;
/** A journal entry below the approval threshold (a fresh memo each time, so entries are told apart). */
const smallEntry = () => ({
  path: '/v1/connectors/erp/createJournalEntry',
  body: { glCode: '6400', amount: 42.5, currency: 'EUR', memo: `fault-injection ${++memo}` },
});
const largeEntry = () => ({
  path: '/v1/connectors/erp/createJournalEntry',
  body: { glCode: '6420', amount: 4200, currency: 'EUR', memo: `fault-injection ${++memo}` },
});

/** The pilot's config, with a kill-switch backstop short enough that every case reads the parameters afresh. */
function faultTestConfig(): AirlockConfig {
  const config = loadConfig();
  const erp = config.connectors.erp;
  if (erp.kind !== 'http-api')
    throw new Error('the example config changed: erp is not an http-api connector');
  return {
    ...config,
    killSwitch: { backstopSeconds: KILL_SWITCH_BACKSTOP_MS / 1000, stalenessSeconds: STALENESS_MS / 1000 },
    connectors: { ...config.connectors, erp: { ...erp, timeoutMs: UPSTREAM_TIMEOUT_MS } },
  };
}

const faults = new FaultInjector();
const logLines: string[] = [];
/** Every token and secret that must never appear in a response body or a log line. */
const secrets = new Set<string>();
let home: string;
let pilot: LocalPilot;
let ports: LocalPilotPorts;
let alice: E2eClient;
let bob: E2eClient;
let upstream: FaultyUpstream | undefined;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'airlock-e2e-faults-'));
  pilot = await startLocalPilot({
    home,
    port: 0,
    config: faultTestConfig(),
    log: (line) => logLines.push(line),
    wrapPorts: (built) => {
      ports = built;
      return withDependencyDeadlines(faults.wrap(built), BUDGETS);
    },
  });
  for (const credentials of (await readUpstreamSecrets(home, pilot.config)).values()) {
    secrets.add(credentials.clientSecret);
  }
  alice = e2eClientFor(pilot, 'alice');
  bob = e2eClientFor(pilot, 'bob');
  await waitForKillSwitch(alice, false);
}, 60_000);

afterEach(async () => {
  faults.clear();
  // A garbage kill-switch read engages the switch until a read succeeds again: wait for that.
  await waitForKillSwitch(alice, false, { timeoutMs: 5000 });
});

afterAll(async () => {
  alice?.close();
  bob?.close();
  await upstream?.close();
  await pilot?.close();
  await rm(home, { recursive: true, force: true });
});

/** A fresh token for alice, issued with every port healthy. */
async function aliceToken(): Promise<string> {
  const token = await alice.getToken(WORKFLOW, ALL_SCOPES, 30);
  secrets.add(token);
  return token;
}

/** Sends one call and measures how long the answer took. */
async function timed(
  client: E2eClient,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> },
): Promise<{ response: E2eResponse; ms: number }> {
  const started = performance.now();
  const response = await client.request('POST', path, options);
  return { response, ms: performance.now() - started };
}

/** The refusal follows the contract, carries no secret, and (for a hang) came within its budget. */
function expectRefused(
  { response, ms }: { response: E2eResponse; ms: number },
  expected: { status: number; code: string },
  budgetMs?: number,
): void {
  expectErrorContract(response, expected);
  for (const secret of secrets) expect(response.text).not.toContain(secret);
  if (budgetMs !== undefined) expect(ms).toBeLessThan(budgetMs + MARGIN_MS);
}

/**
 * Makes the kill switch parameters misbehave. Garbage is read by the next background read (a request
 * sets it off) and engages the switch: wait until the pilot reports it. A read that fails or hangs is
 * waited out past the staleness bound (a failing read within it is served from the last reading).
 */
async function injectKillSwitchFault(mode: FaultMode): Promise<void> {
  faults.inject({ port: 'killSwitchSource', method: 'read', mode });
  if (mode === 'garbage') {
    await waitForKillSwitch(alice, true, { timeoutMs: 5000 });
    return;
  }
  await new Promise((resolve) => setTimeout(resolve, STALENESS_MS + 100));
}

async function auditRecordsOf(requestId: string): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  for (const chain of (await readLedger(ports.auditStore)).values()) {
    for await (const record of chain) if (record.requestId === requestId) records.push(record);
  }
  return records;
}

const MODES: readonly FaultMode[] = ['fail', 'hang', 'garbage'];

describe('Route: POST /v1/credentials', () => {
  const credentialsBody = { workflow: WORKFLOW, scopes: ['receipts:read'], durationMinutes: 15 };

  it.each(MODES)('refuses with 503 unavailable when the token signer answers with %s', async (mode) => {
    // Prepare
    faults.inject({ port: 'signer', method: 'sign', mode });

    // Act
    const result = await timed(alice, '/v1/credentials', { body: credentialsBody });

    // Assess
    expectRefused(result, { status: 503, code: 'unavailable' }, BUDGET_MS);
    expect(faults.callsOf('signer', 'sign')).toBe(1);
  });

  it('refuses with 503 kill_switch_engaged when the kill switch parameters answer garbage', async () => {
    // Prepare
    await injectKillSwitchFault('garbage');

    // Act
    const result = await timed(alice, '/v1/credentials', { body: credentialsBody });

    // Assess
    expectRefused(result, { status: 503, code: 'kill_switch_engaged' }, BUDGET_MS);
  });

  it.each(['fail', 'hang'] as const)(
    'keeps issuing on the copies when the kill switch parameters cannot be read (%s): SSM throttling seals nobody',
    async (mode) => {
      // Prepare
      await injectKillSwitchFault(mode);

      // Act
      const result = await timed(alice, '/v1/credentials', { body: credentialsBody });

      // Assess: the copy in the revocations table decides, read with the request
      expect(result.response.status).toBe(201);
    },
  );

  it.each([
    ['fail', 'unavailable'],
    ['hang', 'unavailable'],
    ['garbage', 'unavailable'],
  ] as const)(
    'refuses with 503 %2$s when the revocation list answers with %1$s, and records the refusal',
    async (mode, code) => {
      // Prepare
      faults.inject({ port: 'revocations', method: 'readEntries', mode });

      // Act
      const result = await timed(alice, '/v1/credentials', { body: credentialsBody });

      // Assess
      expectRefused(result, { status: 503, code }, BUDGET_MS);
      expect(await auditRecordsOf(result.response.json.error.requestId)).toEqual([
        expect.objectContaining({
          type: 'credential_denied',
          principal: 'alice',
          reasons: expect.arrayContaining(['unavailable']),
        }),
      ]);
    },
  );

  it.each(['fail', 'hang'] as const)(
    'issues no token when its audit record cannot be written (ledger: %s)',
    async (mode) => {
      // Prepare
      faults.inject({ port: 'auditStore', method: 'append', mode });

      // Act
      const result = await timed(alice, '/v1/credentials', { body: credentialsBody });

      // Assess
      expectRefused(result, { status: 503, code: 'unavailable' }, BUDGET_MS);
      expect(result.response.text).not.toMatch(/eyJ[\w-]+\.eyJ/);
    },
  );
});

describe('Route: POST /v1/connectors/{connector}/{operation}', () => {
  let token: string;

  beforeEach(async () => {
    token = await aliceToken();
  });

  it('refuses a read with 503 kill_switch_engaged when the kill switch parameters answer garbage', async () => {
    // Prepare
    await injectKillSwitchFault('garbage');

    // Act
    const result = await timed(alice, READ_RECEIPT.path, { token, body: READ_RECEIPT.body });

    // Assess
    expectRefused(result, { status: 503, code: 'kill_switch_engaged' }, BUDGET_MS);
  });

  it.each(['fail', 'hang'] as const)(
    'serves a read on the copies when the kill switch parameters cannot be read (%s)',
    async (mode) => {
      // Prepare
      await injectKillSwitchFault(mode);

      // Act
      const result = await timed(alice, READ_RECEIPT.path, { token, body: READ_RECEIPT.body });

      // Assess
      expect(result.response.status).toBe(200);
    },
  );

  it.each([
    ['fail', 503, 'unavailable'],
    ['hang', 503, 'unavailable'],
    ['garbage', 503, 'unavailable'],
  ] as const)(
    'refuses a read when the revocation list answers with %s (%i %s)',
    async (mode, status, code) => {
      // Prepare
      faults.inject({ port: 'revocations', method: 'readEntries', mode });

      // Act
      const result = await timed(alice, READ_RECEIPT.path, { token, body: READ_RECEIPT.body });

      // Assess
      expectRefused(result, { status, code }, BUDGET_MS);
    },
  );

  it.each(['fail', 'hang'] as const)(
    'returns no document when the read cannot be recorded (ledger: %s)',
    async (mode) => {
      // Prepare
      faults.inject({ port: 'auditStore', method: 'append', mode });

      // Act
      const result = await timed(alice, READ_RECEIPT.path, { token, body: READ_RECEIPT.body });

      // Assess
      expectRefused(result, { status: 503, code: 'unavailable' }, BUDGET_MS);
      expect(result.response.json.result).toBeUndefined();
      expect(result.response.text).not.toContain('GBP');
    },
  );

  it.each(['fail', 'hang'] as const)(
    'executes no journal entry upstream when the ledger fails before the write (%s)',
    async (mode) => {
      // Prepare
      const entriesBefore = pilot.sampleErp.journalEntries().length;
      const callsBefore = pilot.sampleErp.calls().journalEntries;
      faults.inject({ port: 'auditStore', method: 'append', mode });
      const call = smallEntry();

      // Act
      const result = await timed(alice, call.path, { token, body: call.body });

      // Assess
      expectRefused(result, { status: 503, code: 'unavailable' }, BUDGET_MS);
      expect(pilot.sampleErp.journalEntries()).toHaveLength(entriesBefore);
      expect(pilot.sampleErp.calls().journalEntries).toBe(callsBefore);
    },
  );

  it('keeps the before-upstream record of a write whose completion cannot be recorded', async () => {
    // Prepare
    const entriesBefore = pilot.sampleErp.journalEntries().length;
    faults.inject({ port: 'auditStore', method: 'append', mode: 'fail', healthyCalls: 1 });
    const call = smallEntry();

    // Act
    const result = await timed(alice, call.path, { token, body: call.body });

    // Assess
    expectRefused(result, { status: 503, code: 'unavailable' });
    const created = pilot.sampleErp.journalEntries().slice(entriesBefore);
    expect(created).toEqual([expect.objectContaining({ memo: call.body.memo })]);
    faults.clear();
    const records = await auditRecordsOf(result.response.json.error.requestId);
    expect(records).toEqual([
      expect.objectContaining({
        type: 'connector_allowed',
        operation: 'createJournalEntry',
        details: expect.objectContaining({ stage: 'before_upstream' }),
      }),
    ]);
  });

  it.each(MODES)(
    'refuses an ERP call with 502 upstream_error when the secret store answers with %s, and reaches no ERP endpoint',
    async (mode) => {
      // Prepare: the ERP forgets its tokens, so the connector must read its client secret again.
      pilot.sampleErp.revokeTokens();
      const entriesBefore = pilot.sampleErp.journalEntries().length;
      const tokenCallsBefore = pilot.sampleErp.calls().token;
      faults.inject({ port: 'secretSource', method: 'getJson', mode });
      const call = smallEntry();

      // Act
      const result = await timed(alice, call.path, { token, body: call.body });

      // Assess
      expectRefused(result, { status: 502, code: 'upstream_error' }, BUDGET_MS);
      expect(pilot.sampleErp.journalEntries()).toHaveLength(entriesBefore);
      expect(pilot.sampleErp.calls().token).toBe(tokenCallsBefore);
    },
  );

  it.each(['fail', 'hang'] as const)(
    'holds nothing and executes nothing when the approvals store cannot store a request for approval (%s)',
    async (mode) => {
      // Prepare
      const entriesBefore = pilot.sampleErp.journalEntries().length;
      faults.inject({ port: 'approvalStore', method: 'create', mode });
      const call = largeEntry();

      // Act
      const result = await timed(alice, call.path, { token, body: call.body });

      // Assess
      expectRefused(result, { status: 503, code: 'unavailable' }, BUDGET_MS);
      expect(pilot.sampleErp.journalEntries()).toHaveLength(entriesBefore);
    },
  );

  it.each([
    ['transition', 'fail', 503, 'unavailable'],
    ['transition', 'hang', 503, 'unavailable'],
    ['get', 'hang', 503, 'unavailable'],
    ['get', 'garbage', 403, 'forbidden'],
  ] as const)(
    'executes an approved call only once the approvals store confirms it (%s: %s → %i)',
    async (method, mode, status, code) => {
      // Prepare: alice asks, bob approves.
      const call = largeEntry();
      const held = await alice.request('POST', call.path, { token, body: call.body });
      expect(held.status).toBe(202);
      const approvalId: string = held.json.approval.id;
      const decided = await bob.request('POST', `/v1/approvals/${approvalId}/decision`, {
        body: { decision: 'approve', reason: 'fault injection' },
      });
      expect(decided.status).toBe(200);
      const entriesBefore = pilot.sampleErp.journalEntries().length;
      faults.inject({ port: 'approvalStore', method, mode });

      // Act
      const refused = await timed(alice, call.path, {
        token,
        body: call.body,
        headers: { 'Airlock-Approval': approvalId },
      });
      faults.clear();
      const retried = await alice.request('POST', call.path, {
        token,
        body: call.body,
        headers: { 'Airlock-Approval': approvalId },
      });

      // Assess
      expectRefused(refused, { status, code }, BUDGET_MS);
      expect(retried.status).toBe(200);
      expect(pilot.sampleErp.journalEntries().slice(entriesBefore)).toEqual([
        expect.objectContaining({ memo: call.body.memo, amount: 4200 }),
      ]);
    },
  );
});

describe('Upstream: the ERP misbehaves', () => {
  let token: string;

  beforeAll(async () => {
    token = await aliceToken();
  });

  it('refuses with 502 upstream_error while the ERP is down, and records the failed write', async () => {
    // Prepare
    await pilot.sampleErp.close();
    const call = smallEntry();

    // Act
    const lookup = await timed(alice, LOOKUP_GL_CODE.path, { token, body: LOOKUP_GL_CODE.body });
    const write = await timed(alice, call.path, { token, body: call.body });

    // Assess
    expectRefused(lookup, { status: 502, code: 'upstream_error' }, UPSTREAM_TIMEOUT_MS);
    expectRefused(write, { status: 502, code: 'upstream_error' }, UPSTREAM_TIMEOUT_MS);
    const records = await auditRecordsOf(write.response.json.error.requestId);
    expect(records.map((r) => [r.type, r.details?.stage])).toEqual([
      ['connector_allowed', 'before_upstream'],
      ['connector_failed', undefined],
    ]);
  });

  describe('with a misbehaving stand-in on the ERP port', () => {
    beforeAll(async () => {
      const [credentials] = (await readUpstreamSecrets(home, pilot.config)).values();
      upstream = await startFaultyUpstream({
        port: pilot.sampleErp.port,
        tls: pilot.ca.serverTls(),
        clientId: credentials.clientId,
        clientSecret: credentials.clientSecret,
        slowMs: UPSTREAM_TIMEOUT_MS * 3,
      });
      secrets.add(upstream.accessToken);
    });

    it.each(['garbage-json', 'not-json', 'server-error', 'slow', 'reset'] as const)(
      'refuses with 502 upstream_error when the ERP answers %s, within the connector timeout',
      async (mode: UpstreamFaultMode) => {
        // Prepare
        upstream!.mode = mode;
        const callsBefore = upstream!.calls();

        // Act
        const result = await timed(alice, LOOKUP_GL_CODE.path, { token, body: LOOKUP_GL_CODE.body });

        // Assess
        expectRefused(result, { status: 502, code: 'upstream_error' }, UPSTREAM_TIMEOUT_MS);
        expect(upstream!.calls()).toBeGreaterThan(callsBefore);
        expect(result.response.text).not.toContain('ECONNREFUSED');
      },
    );
  });
});

describe('Afterwards', () => {
  it('answers normally again once the faults are gone', async () => {
    // Act
    const token = await aliceToken();
    const response = await alice.request('POST', READ_RECEIPT.path, { token, body: READ_RECEIPT.body });

    // Assess
    expect(response.status).toBe(200);
  });

  it('never wrote an upstream secret or token into the pilot log', () => {
    // Assess
    expect(logLines.length).toBeGreaterThan(0);
    const leaks = logLines.filter((line) => [...secrets].some((secret) => line.includes(secret)));
    expect(leaks).toEqual([]);
    expect(logLines.filter((line) => / 500 /.test(line))).toEqual([]);
  });

  it('keeps an audit trail that verifies, failed and hung writes included', async () => {
    // Prepare
    await pilot.anchor();

    // Act
    const result = await verifyAuditTrail({
      store: ports.auditStore,
      digests: new FolderDigestStore(home),
      publicKey: await ports.signer.getPublicKey(),
    });

    // Assess
    expect(result).toMatchObject({ ok: true });
    expect(result.records).toBeGreaterThan(20);
  });
});
