/**
 * The database kind: the config's query checks, the connector's column classification, and both
 * adapters against real PostgreSQL: PGlite in its worker (local pilot), and the RDS Data API adapter
 * over a Data API fake that runs each statement in a real PGlite as a read-only user (the AWS side).
 */

import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BeginTransactionCommand,
  ExecuteStatementCommand,
  type ExecuteStatementCommandInput,
  type Field,
  RDSDataClient,
  RollbackTransactionCommand,
} from '@aws-sdk/client-rds-data';
import { mockClient } from 'aws-sdk-client-mock';
import { DatabaseConnector } from '../../../lambdas/connectors/database/database-connector';
import {
  checkQueryText,
  placeholdersOf,
  toPositional,
} from '../../../lambdas/connectors/database/database-query';
import { LOCAL_READER_ROLE, PgliteDatabase } from '../../../lambdas/connectors/database/pglite-database';
import { RdsDataDatabase } from '../../../lambdas/connectors/database/rds-data-database';
import type {
  QueryRows,
  ReadOnlyQuery,
  SqlDatabase,
} from '../../../lambdas/connectors/database/sql-database';
import { AirlockError } from '../../../lambdas/core/errors';
import { loadConfig, parseConfig } from '../../../lib/config/load-config';
import type { AirlockConfig } from '../../../lib/config/schema';
import { SAMPLE_LEDGER_SQL } from '../../../local/sample-ledger';
import { PgliteSession } from '../support/pglite-session';

type DatabaseConfig = Extract<AirlockConfig['connectors'][string], { kind: 'database' }>;

function ledgerConfig(): DatabaseConfig {
  return loadConfig().connectors.ledger as DatabaseConfig;
}

function exampleWith(change: (ledger: { operations: Record<string, Record<string, unknown>> }) => void) {
  const example = JSON.parse(JSON.stringify(loadConfig()));
  change(example.connectors.ledger);
  return example;
}

const query = (sql: string, parameters: ReadOnlyQuery['parameters'] = {}, maxRows = 10): ReadOnlyQuery => ({
  sql,
  parameters,
  maxRows,
  statementTimeoutMs: 2_000,
  label: 'ledger/test',
});

describe('Database config', () => {
  it.each([
    ['UPDATE ledger_entries SET amount = 0', /expected a SELECT/],
    ['SELECT 1; DELETE FROM ledger_entries', /one statement without ";"/],
    ['SELECT 1 -- a comment', /without comments/],
    ['SELECT $1', /:name placeholders/],
    ['SELECT $$x$$', /dollar-quoted/],
    ["SELECT 'x FROM t", /unterminated quote/],
  ])('refuses %j', (sql, message) => {
    expect(checkQueryText(sql)).toMatch(message);
  });

  it('accepts a SELECT whose literals hold what would be refused outside them', () => {
    expect(checkQueryText("SELECT ';--' AS x WHERE 'a:b' <> :b")).toBeUndefined();
    expect(checkQueryText(`SELECT 1 AS "it's", 'O''Brien' AS name`)).toBeUndefined();
  });

  it('reads :name placeholders, never a cast or a literal, and numbers a repeated name once', () => {
    const sql = "SELECT ':nope', x::date FROM t WHERE a = :from AND b > :from::date AND c = :to";
    expect(placeholdersOf(sql)).toEqual(['from', 'from', 'to']);
    expect(toPositional(sql)).toEqual({
      text: "SELECT ':nope', x::date FROM t WHERE a = $1 AND b > $1::date AND c = $2",
      names: ['from', 'to'],
    });
  });

  it('names the field of a query that writes, a write access, and a placeholder nobody declared', () => {
    const writes = exampleWith((l) => {
      l.operations.spendByGlCode.sql = 'DELETE FROM ledger_entries';
    });
    const writeAccess = exampleWith((l) => {
      l.operations.spendByGlCode.access = 'write';
    });
    const undeclared = exampleWith((l) => {
      l.operations.spendByGlCode.sql = 'SELECT gl_code FROM ledger_entries WHERE quarter = :q';
    });
    expect(() => parseConfig(writes, 'test')).toThrow(
      /connectors\.ledger\.operations\.spendByGlCode\.sql.*SELECT/s,
    );
    expect(() => parseConfig(writeAccess, 'test')).toThrow(
      /connectors\.ledger\.operations\.spendByGlCode\.access.*never gets SQL write privileges/s,
    );
    expect(() => parseConfig(undeclared, 'test')).toThrow(/placeholder :q is not a declared parameter/);
  });
});

/** A database that answers what it is told to, and remembers what it was asked. */
class AnsweringDatabase implements SqlDatabase {
  readonly asked: ReadOnlyQuery[] = [];
  constructor(private readonly answer: QueryRows) {}
  async query(q: ReadOnlyQuery): Promise<QueryRows> {
    this.asked.push(q);
    return this.answer;
  }
}

describe('Class: DatabaseConnector', () => {
  const row = {
    posted_on: '2026-08-05',
    vendor: 'Harbour View Hotel',
    gl_code: '6110',
    amount: '365.00',
    currency: 'GBP',
    submitted_by: 'alice@example.com',
  };
  const columns = Object.keys(row);

  it('binds the validated parameters by name and never changes the configured SQL', async () => {
    const database = new AnsweringDatabase({ columns, rows: [row], truncated: false });
    const connector = new DatabaseConnector('ledger', ledgerConfig(), database);
    await connector.invoke('entriesByVendor', { vendor: "x' OR 1=1 --" }, { requestId: 'r' });
    expect(database.asked[0]).toMatchObject({
      sql: ledgerConfig().operations.entriesByVendor!.sql,
      parameters: { vendor: "x' OR 1=1 --" },
      maxRows: 50,
      statementTimeoutMs: 5000,
    });
  });

  it('withholds a column classified above the caller, and shows it to a caller cleared for it', async () => {
    const connector = new DatabaseConnector(
      'ledger',
      ledgerConfig(),
      new AnsweringDatabase({ columns, rows: [row], truncated: false }),
    );
    const uncleared = await connector.invoke('entriesByVendor', { vendor: 'x' }, { requestId: 'r' });
    const cleared = await connector.invoke(
      'entriesByVendor',
      { vendor: 'x' },
      { requestId: 'r', clearedFor: ['public', 'internal', 'pii'] },
    );
    expect(uncleared.withheld).toBe(1);
    expect((uncleared.result as { rows: unknown[] }).rows[0]).toMatchObject({
      submitted_by: '[withheld: pii column]',
      vendor: 'Harbour View Hotel',
    });
    expect(cleared.withheld).toBe(0);
    expect((cleared.result as { rows: unknown[] }).rows[0]).toMatchObject({
      submitted_by: 'alice@example.com',
    });
  });

  it('attack: a column the config does not classify fails the call closed, returning nothing', async () => {
    const connector = new DatabaseConnector(
      'ledger',
      ledgerConfig(),
      new AnsweringDatabase({
        columns: ['vendor', 'iban'],
        rows: [{ vendor: 'x', iban: 'GB82WEST12345698765432' }],
        truncated: false,
      }),
    );
    await expect(
      connector.invoke('entriesByVendor', { vendor: 'x' }, { requestId: 'r' }),
    ).rejects.toMatchObject({
      code: 'upstream_error',
      message: expect.stringContaining('"iban"'),
    });
  });

  it('describes the call as the configured query and its bound values, for approvers', () => {
    const connector = new DatabaseConnector(
      'ledger',
      ledgerConfig(),
      new AnsweringDatabase({ columns: [], rows: [], truncated: false }),
    );
    expect(connector.describe('spendByGlCode', { quarter: '2026-Q3' })).toEqual({
      method: 'QUERY',
      path: 'ledger/spendByGlCode',
      body: { sql: ledgerConfig().operations.spendByGlCode!.sql, parameters: { quarter: '2026-Q3' } },
    });
  });
});

describe('Class: PgliteDatabase (a real PostgreSQL in a worker)', () => {
  let home: string;
  let database: PgliteDatabase;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-pglite-'));
    await writeFile(join(home, 'ledger.sql'), SAMPLE_LEDGER_SQL);
    database = new PgliteDatabase({ name: 'ledger', seedFile: join(home, 'ledger.sql') });
  });

  afterAll(async () => {
    database.close();
    await rm(home, { recursive: true, force: true });
  });

  it('returns at most maxRows rows and says when there were more', async () => {
    const answer = await database.query(query('SELECT id, vendor FROM ledger_entries ORDER BY id', {}, 2));
    expect(answer.columns).toEqual(['id', 'vendor']);
    expect(answer.rows).toEqual([
      { id: 1, vendor: 'City Cabs Ltd' },
      { id: 2, vendor: 'Cafe Central' },
    ]);
    expect(answer.truncated).toBe(true);
  });

  it('attack: a data-modifying WITH is refused, and the rows are still there', async () => {
    await expect(
      database.query(
        query('WITH gone AS (DELETE FROM ledger_entries RETURNING id) SELECT count(*) FROM gone'),
      ),
    ).rejects.toMatchObject({ code: 'forbidden' });
    const count = await database.query(query('SELECT count(*) AS n FROM ledger_entries'));
    expect(count.rows).toEqual([{ n: 6 }]);
  });

  it('attack: the query role reads only the seeded tables, not the catalog of passwords', async () => {
    await expect(database.query(query('SELECT rolpassword FROM pg_authid'))).rejects.toMatchObject({
      code: 'forbidden',
    });
  });

  it('cancels a query past its statement timeout, and the next query runs on a fresh database', async () => {
    const slow = { ...query('SELECT count(*) FROM generate_series(1, 400000000)'), statementTimeoutMs: 300 };
    await expect(database.query(slow)).rejects.toMatchObject({
      code: 'upstream_error',
      message: expect.stringContaining('statement timeout'),
    });
    const after = await database.query(query('SELECT count(*) AS n FROM ledger_entries'));
    expect(after.rows).toEqual([{ n: 6 }]);
  });
});

describe('Class: PgliteDatabase (the seeded cluster kept between starts)', () => {
  let home: string;
  const open: PgliteDatabase[] = [];

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-pglite-snapshot-'));
    // A seed whose every run gives a different row: only a cluster loaded whole gives the same one.
    await writeFile(join(home, 'ledger.sql'), 'CREATE TABLE marker AS SELECT gen_random_uuid()::text AS id;');
  });

  afterAll(async () => {
    for (const database of open) database.close();
    await rm(home, { recursive: true, force: true });
  });

  const started = async () => {
    const database = new PgliteDatabase({
      name: 'ledger',
      seedFile: join(home, 'ledger.sql'),
      snapshotDirectory: join(home, 'pglite'),
    });
    open.push(database);
    await database.start();
    return database;
  };
  const markerOf = async (database: PgliteDatabase) =>
    (await database.query(query('SELECT id FROM marker'))).rows[0]?.id;

  it('loads the cluster a first start kept instead of seeding again, and seeds again when the kept one does not load', async () => {
    // Act: a first start seeds and keeps the cluster; a second loads it.
    const first = await started();
    const seeded = await markerOf(first);
    first.close();
    const [snapshot] = await readdir(join(home, 'pglite'));
    const second = await started();
    const loaded = await markerOf(second);
    second.close();

    // Act: a kept cluster that is not one (a truncated or edited file).
    await writeFile(join(home, 'pglite', snapshot), 'not a data directory');
    const third = await started();
    const reseeded = await markerOf(third);
    third.close();

    // Assess
    expect(snapshot).toMatch(/^ledger-[0-9a-f]{32}\.tar\.gz$/);
    expect(typeof seeded).toBe('string');
    expect(loaded).toBe(seeded);
    expect(reseeded).not.toBe(seeded);
    expect(await readdir(join(home, 'pglite'))).toEqual([snapshot]);
    expect((await stat(join(home, 'pglite', snapshot))).size).toBeGreaterThan(100_000);
  }, 120_000);
});

/**
 * An RDS Data API fake that behaves like the service: each transaction is a real PostgreSQL
 * transaction (PGlite) as a user that may only read, statements run with their named parameters
 * bound, records come back as Data API fields, and errors carry the SQLState as the service's do.
 */
async function dataApiOverPglite() {
  const db = new PgliteSession();
  await db.exec(SAMPLE_LEDGER_SQL);
  await db.exec(
    `CREATE ROLE ${LOCAL_READER_ROLE} NOLOGIN; GRANT USAGE ON SCHEMA public TO ${LOCAL_READER_ROLE}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${LOCAL_READER_ROLE};`,
  );
  const stub = mockClient(RDSDataClient as never) as unknown as ReturnType<typeof mockClient>;
  const statements: string[] = [];
  const fail = (e: { message?: string; code?: string }) =>
    Object.assign(new Error(`ERROR: ${e.message}; SQLState: ${e.code}`), { name: 'DatabaseErrorException' });
  stub.on(BeginTransactionCommand as never).callsFake(async () => {
    await db.exec(`BEGIN; SET LOCAL ROLE ${LOCAL_READER_ROLE}`);
    return { transactionId: 'tx-1' };
  });
  stub.on(RollbackTransactionCommand as never).callsFake(async () => {
    await db.exec('ROLLBACK');
    return { transactionStatus: 'Rollback Complete' };
  });
  stub.on(ExecuteStatementCommand as never).callsFake(async (input: ExecuteStatementCommandInput) => {
    statements.push(input.sql ?? '');
    const parameters = input.parameters ?? [];
    const names = parameters.map((p) => p.name);
    const { text, names: order } = toPositional(input.sql ?? '');
    const values = order.map((name) => {
      const v = parameters[names.indexOf(name)]?.value ?? { isNull: true };
      return v.isNull ? null : (v.stringValue ?? v.longValue ?? v.doubleValue ?? v.booleanValue);
    });
    try {
      const r = await db.query(text, values);
      return {
        columnMetadata: r.fields.map((name) => ({ name, label: name })),
        records: r.rows.map((row) =>
          r.fields.map((name): Field => {
            const v = row[name];
            if (v === null) return { isNull: true };
            if (typeof v === 'number') return { longValue: v };
            return { stringValue: String(v) };
          }),
        ),
      };
    } catch (e) {
      throw fail(e as { message?: string; code?: string });
    }
  });
  return { stub, statements, db };
}

describe('Class: RdsDataDatabase (over a Data API fake backed by PostgreSQL)', () => {
  let fake: Awaited<ReturnType<typeof dataApiOverPglite>>;
  const adapter = () =>
    new RdsDataDatabase({
      client: new RDSDataClient({
        region: 'eu-west-1',
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      }),
      clusterArn: 'arn:aws:rds:eu-west-1:111122223333:cluster:ledger-replica',
      secretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:ledger-readonly-AbCdEf',
      database: 'ledger',
    });

  beforeAll(async () => {
    fake = await dataApiOverPglite();
  });

  afterAll(async () => {
    fake.stub.restore();
    await fake.db.close();
  });

  it('runs the query read-only with a statement timeout, binds parameters by name, limits rows, rolls back', async () => {
    fake.statements.length = 0;
    const answer = await adapter().query({
      ...query(
        'SELECT vendor, amount FROM ledger_entries WHERE quarter = :quarter ORDER BY id',
        { quarter: '2026-Q3' },
        3,
      ),
      statementTimeoutMs: 1500,
    });
    expect(fake.statements.slice(0, 2)).toEqual([
      'SET TRANSACTION READ ONLY',
      'SET LOCAL statement_timeout = 1500',
    ]);
    expect(fake.statements[2]).toMatch(/LIMIT 4$/);
    expect(answer).toEqual({
      columns: ['vendor', 'amount'],
      rows: [
        { vendor: 'Harbour View Hotel', amount: '365.00' },
        { vendor: 'Northern Rail', amount: '87.50' },
        { vendor: 'Diagram Tools Inc', amount: '240.00' },
      ],
      truncated: true,
    });
    expect(fake.stub.commandCalls(RollbackTransactionCommand as never)).toHaveLength(1);
  });

  it('attack: SQL in a parameter is a value: it matches nothing', async () => {
    const answer = await adapter().query(
      query('SELECT vendor FROM ledger_entries WHERE vendor = :vendor', { vendor: "' OR '1'='1" }),
    );
    expect(answer.rows).toEqual([]);
  });

  it('attack: a write hidden in a SELECT is refused by the read-only transaction (forbidden), and rolled back', async () => {
    const before = fake.stub.commandCalls(RollbackTransactionCommand as never).length;
    const error = await adapter()
      .query(query("SELECT nextval('ledger_entries_id_seq') AS id"))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirlockError);
    expect(error).toMatchObject({ code: 'forbidden', reasons: ['database-read-only'] });
    expect(fake.stub.commandCalls(RollbackTransactionCommand as never)).toHaveLength(before + 1);
  });
});
