/**
 * The database connector end to end over real mutual TLS against the local pilot: the configured
 * queries run in a real embedded PostgreSQL (PGlite) seeded with the sample ledger, through the token,
 * Cedar, column classification, DLP and the audit trail. The agent sends only a query's name and its
 * parameters; every attempt to make it write is refused and recorded.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_DATABASE_SNAPSHOTS } from '../../lambdas/connectors/database/pglite-database';
import type { AuditRecord } from '../../lambdas/core/audit-record';
import { readLedger } from '../../lambdas/core/audit-verifier';
import { loadConfig, parseConfig } from '../../lib/config/load-config';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import type { LocalPilotPorts } from '../../local/local-ports';
import { type E2eClient, e2eClientFor } from './e2e-client';

/** The example pilot, plus a ledger query a careless operator wrote that would write (nextval). */
function configWithWritingQuery() {
  const example = JSON.parse(JSON.stringify(loadConfig()));
  example.connectors.ledger.operations.nextEntryId = {
    description: 'Reserves the next entry id (a write hidden in a SELECT)',
    access: 'read',
    action: 'Read',
    classification: 'internal',
    sql: "SELECT nextval('ledger_entries_id_seq') AS id",
    columns: { id: 'internal' },
  };
  example.workflows['expense-summary'].connectors.ledger.push('nextEntryId');
  return parseConfig(example, 'test');
}

describe('Local pilot: the database connector (ledger)', () => {
  let home: string;
  let pilot: LocalPilot;
  let alice: E2eClient;
  let bob: E2eClient;
  let aliceToken: string;
  let bobToken: string;
  let auditStore: LocalPilotPorts['auditStore'] | undefined;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-database-'));
    pilot = await startLocalPilot({
      home,
      port: 0,
      config: configWithWritingQuery(),
      // As `airlock local` starts it: the ledger's database is up before the first query.
      startDatabases: true,
      wrapPorts: (built) => {
        auditStore = built.auditStore;
        return built;
      },
    });
    alice = e2eClientFor(pilot, 'alice');
    bob = e2eClientFor(pilot, 'bob');
    aliceToken = await alice.getToken('expense-summary', ['ledger:read'], 30);
    bobToken = await bob.getToken('expense-summary', ['ledger:read'], 30);
  }, 90_000);

  afterAll(async () => {
    alice?.close();
    bob?.close();
    await pilot?.close();
    await rm(home, { recursive: true, force: true });
  });

  async function auditRecords(): Promise<AuditRecord[]> {
    if (!auditStore) throw new Error('the audit store was not captured');
    const records: AuditRecord[] = [];
    for (const chain of (await readLedger(auditStore)).values()) for await (const r of chain) records.push(r);
    return records;
  }

  it('has the ledger database up before the pilot says it is ready (as airlock local starts it), its seeded cluster kept', async () => {
    // Assess: nothing has queried it yet; the start seeded it and kept the cluster for the next start.
    expect(await readdir(join(home, LOCAL_DATABASE_SNAPSHOTS))).toEqual([
      expect.stringMatching(/^ledger-[0-9a-f]{32}\.tar\.gz$/),
    ]);
  });

  it('runs a configured query with its parameter bound, and returns classified columns', async () => {
    // Act
    const response = await alice.request('POST', '/v1/connectors/ledger/spendByGlCode', {
      token: aliceToken,
      body: { quarter: '2026-Q3', intent: 'quarterly spend per GL code' },
    });

    // Assess
    expect(response.status).toBe(200);
    const { result } = response.json;
    expect(result.columns.map((c: { name: string }) => c.name)).toEqual([
      'gl_code',
      'gl_name',
      'currency',
      'total',
      'entries',
    ]);
    expect(result.rows).toContainEqual(
      expect.objectContaining({
        gl_code: '6110',
        gl_name: 'Travel - accommodation',
        currency: 'GBP',
        total: '365.00',
      }),
    );
    expect(result).toMatchObject({ rowCount: 4, truncated: false });
  });

  it('withholds a pii column from a caller not cleared for pii, and counts it on the audit record', async () => {
    // Act
    const response = await bob.request('POST', '/v1/connectors/ledger/entriesByVendor', {
      token: bobToken,
      body: { vendor: 'Harbour View Hotel' },
    });

    // Assess
    expect(response.status).toBe(200);
    expect(response.json.result.rows).toEqual([
      {
        posted_on: '2026-08-05',
        vendor: 'Harbour View Hotel',
        gl_code: '6110',
        amount: '365.00',
        currency: 'GBP',
        submitted_by: '[withheld: pii column]',
      },
    ]);
    expect(JSON.stringify(response.json)).not.toContain('alice@example.com');
    const record = (await auditRecords()).find(
      (r) => r.requestId === response.json.requestId && r.decision === 'allow',
    );
    expect(record).toMatchObject({ connector: 'ledger', operation: 'entriesByVendor' });
    expect(JSON.stringify(record)).toMatch(/"withheld":1\b/);
  });

  it('attack: SQL injection through a parameter is bound as a value, matches nothing and changes nothing', async () => {
    // Act
    const injected = await alice.request('POST', '/v1/connectors/ledger/entriesByVendor', {
      token: aliceToken,
      body: { vendor: "x' OR '1'='1'; DELETE FROM ledger_entries; --" },
    });
    const after = await alice.request('POST', '/v1/connectors/ledger/spendByGlCode', {
      token: aliceToken,
      body: { quarter: '2026-Q3' },
    });

    // Assess
    expect(injected.status).toBe(200);
    expect(injected.json.result).toMatchObject({ rows: [], rowCount: 0 });
    expect(after.json.result.rowCount).toBe(4);
  });

  it('attack: a parameter that does not match its declared pattern never reaches the database', async () => {
    // Act
    const response = await alice.request('POST', '/v1/connectors/ledger/spendByGlCode', {
      token: aliceToken,
      body: { quarter: "2026-Q3' UNION SELECT * FROM pg_shadow --" },
    });

    // Assess
    expect(response.status).toBe(400);
    expect(response.json.error.code).toBe('invalid_request');
    expect(response.json.error.message).toMatch(/parameter "quarter"/);
  });

  it('attack: SQL sent by the agent is refused: there is no operation that takes SQL', async () => {
    // Act
    const asOperation = await alice.request('POST', '/v1/connectors/ledger/execute', {
      token: aliceToken,
      body: { sql: 'DELETE FROM ledger_entries' },
    });
    const asParameter = await alice.request('POST', '/v1/connectors/ledger/spendByGlCode', {
      token: aliceToken,
      body: { quarter: '2026-Q3', sql: 'DELETE FROM ledger_entries' },
    });

    // Assess
    expect(asOperation.status).toBe(404);
    expect(asParameter.status).toBe(400);
    expect(asParameter.json.error.message).toMatch(/unknown parameter "sql"/);
  });

  it('attack: a write hidden in a configured query is refused by the read-only database, 403 and audited', async () => {
    // Act
    const response = await alice.request('POST', '/v1/connectors/ledger/nextEntryId', {
      token: aliceToken,
      body: {},
    });

    // Assess
    expect(response.status).toBe(403);
    expect(response.json.error).toMatchObject({ code: 'forbidden', reasons: ['database-read-only'] });
    const records = await auditRecords();
    expect(records).toContainEqual(
      expect.objectContaining({
        requestId: response.json.error.requestId,
        connector: 'ledger',
        operation: 'nextEntryId',
        decision: 'deny',
        reasons: expect.arrayContaining(['database-read-only']),
      }),
    );
  });

  it('attack: a token without the ledger scope runs no query', async () => {
    // Prepare
    const receiptsOnly = await alice.getToken('expense-summary', ['receipts:read'], 30);

    // Act
    const response = await alice.request('POST', '/v1/connectors/ledger/spendByGlCode', {
      token: receiptsOnly,
      body: { quarter: '2026-Q3' },
    });

    // Assess
    expect(response.status).toBe(403);
  });
});
