/**
 * The database port in the local pilot: a real PostgreSQL (PGlite, PostgreSQL compiled to WebAssembly)
 * in a worker thread, seeded from a SQL file, queried as a role that may only SELECT inside a
 * read-only transaction. PGlite cannot interrupt a running statement (WebAssembly has no signals, so
 * `statement_timeout` never fires), so the timeout is kept here: a query past it terminates the
 * worker, and the next query starts a fresh one from the seed.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AirlockError } from '../../core/errors';
import { toPositional, withRowLimit } from './database-query';
import {
  databaseError,
  QUERY_CANCELED,
  type QueryRows,
  type ReadOnlyQuery,
  type SqlDatabase,
} from './sql-database';

/** The role queries run as: SELECT on the seeded tables and nothing else. */
export const LOCAL_READER_ROLE = 'airlock_reader';

/** The folder of the local pilot's state (AIRLOCK_HOME) where seeded clusters are kept between starts. */
export const LOCAL_DATABASE_SNAPSHOTS = 'pglite';

/** The worker (CommonJS, run with `eval`, so it needs no build step in jest, tsx or a bundle). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.pglite);
const ready = (async () => {
  if (workerData.snapshot) {
    // The seeded cluster of an earlier start: loading it skips initdb and the seed.
    try {
      const db = new PGlite({ loadDataDir: new Blob([workerData.snapshot]) });
      await db.waitReady;
      return db;
    } catch {
      parentPort.postMessage({ snapshotRefused: true });
    }
  }
  const db = new PGlite();
  await db.waitReady;
  await db.exec(workerData.seed);
  await db.exec(
    'CREATE ROLE ${LOCAL_READER_ROLE} NOLOGIN; ' +
    'GRANT USAGE ON SCHEMA public TO ${LOCAL_READER_ROLE}; ' +
    'GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${LOCAL_READER_ROLE};'
  );
  if (workerData.snapshotWanted) {
    const dump = await db.dumpDataDir('gzip');
    parentPort.postMessage({ snapshot: new Uint8Array(await dump.arrayBuffer()) });
  }
  return db;
})();
ready.then(
  () => parentPort.postMessage({ ready: true }),
  (e) => parentPort.postMessage({ seedError: { code: e && e.code, message: String(e && e.message) } }),
);
let queue = Promise.resolve();
parentPort.on('message', (m) => { queue = queue.then(() => run(m)); });
async function run(m) {
  const db = await ready;
  try {
    await db.exec('BEGIN READ ONLY');
    await db.exec('SET LOCAL ROLE ${LOCAL_READER_ROLE}');
    // Dates and times as PostgreSQL writes them (as the Data API returns them), not as JS Dates.
    const asText = (value) => value;
    const r = await db.query(m.text, m.values, { parsers: { 1082: asText, 1114: asText, 1184: asText, 1083: asText } });
    parentPort.postMessage({ id: m.id, columns: r.fields.map((f) => f.name), rows: r.rows });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: { code: e && e.code, message: String(e && e.message) } });
  } finally {
    await db.exec('ROLLBACK').catch(() => undefined);
  }
}
`;

interface Pending {
  readonly label: string;
  resolve(answer: { columns: string[]; rows: Record<string, unknown>[] }): void;
  reject(error: Error): void;
}

interface RunningWorker {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  readonly pending: Map<number, Pending>;
}

export interface PgliteDatabaseProps {
  /** The SQL file the database is seeded from (tables and rows), read when a worker starts. */
  readonly seedFile: string;
  /** Names the connector in messages. */
  readonly name: string;
  /**
   * A folder where the seeded cluster is kept after its first start (a gzipped data directory named by
   * a hash of the seed and of this code), so later starts load it (~1 s here) instead of creating a
   * cluster and running the seed (~4–10 s). A snapshot that does not load is made again.
   * @default - no snapshot: every start creates and seeds a cluster
   */
  readonly snapshotDirectory?: string;
}

/** An embedded PostgreSQL per connector, in its own worker thread. */
export class PgliteDatabase implements SqlDatabase {
  private running: RunningWorker | undefined;
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly props: PgliteDatabaseProps) {}

  /**
   * Starts the database now rather than on the first query, and resolves once it answers (the local
   * pilot starts its databases with it, so a first query does not wait for PostgreSQL).
   */
  start(): Promise<void> {
    const started = this.queue.then(() => this.startWorker(this.props.name));
    this.queue = started.catch(() => undefined);
    return started.then(() => undefined);
  }

  query(query: ReadOnlyQuery): Promise<QueryRows> {
    // One query at a time: PGlite has one connection, and each query has its own transaction.
    const result = this.queue.then(() => this.run(query));
    this.queue = result.catch(() => undefined);
    return result;
  }

  close(): void {
    const running = this.running;
    this.running = undefined;
    if (running) void running.worker.terminate();
  }

  private async run(query: ReadOnlyQuery): Promise<QueryRows> {
    const running = await this.startWorker(query.label);
    const { text, names } = toPositional(withRowLimit(query.sql, query.maxRows + 1));
    const id = this.nextId++;
    const answer = await new Promise<{ columns: string[]; rows: Record<string, unknown>[] }>(
      (resolve, reject) => {
        const timer = setTimeout(() => {
          // The statement cannot be interrupted inside the worker: end the worker with it.
          running.pending.delete(id);
          if (this.running === running) this.close();
          reject(databaseError(query.label, QUERY_CANCELED));
        }, query.statementTimeoutMs);
        running.pending.set(id, {
          label: query.label,
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        running.worker.postMessage({ id, text, values: names.map((name) => query.parameters[name] ?? null) });
      },
    );
    const truncated = answer.rows.length > query.maxRows;
    return { columns: answer.columns, rows: answer.rows.slice(0, query.maxRows), truncated };
  }

  private async startWorker(label: string): Promise<RunningWorker> {
    if (!this.running) {
      let seed: string;
      try {
        seed = await readFile(this.props.seedFile, 'utf8');
      } catch {
        throw new AirlockError(
          'upstream_error',
          `${label}: the local database's seed file could not be read; restart the local pilot to write the sample.`,
        );
      }
      const snapshotFile = this.snapshotFileOf(seed);
      const snapshot = snapshotFile ? await readFile(snapshotFile).catch(() => undefined) : undefined;
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          pglite: require.resolve('@electric-sql/pglite'),
          seed,
          ...(snapshot ? { snapshot } : {}),
          snapshotWanted: snapshotFile !== undefined,
        },
      });
      worker.unref();
      const pending = new Map<number, Pending>();
      const failAll = (error: Error) => {
        for (const p of pending.values()) p.reject(error);
        pending.clear();
        if (this.running?.worker === worker) this.running = undefined;
      };
      const ready = new Promise<void>((resolve, reject) => {
        // Ready once the snapshot made on this start is written (so the next start finds it).
        let kept: Promise<void> = Promise.resolve();
        worker.on('message', (message) => {
          if (message.ready) resolve(kept);
          else if (message.snapshot && snapshotFile)
            kept = kept.then(() => keepSnapshot(this.props.name, snapshotFile, message.snapshot));
          else if (message.snapshotRefused && snapshotFile)
            kept = kept.then(() => rm(snapshotFile, { force: true }).catch(() => undefined));
          else if (message.seedError) {
            reject(
              new AirlockError(
                'upstream_error',
                `${label}: the local database could not be seeded from ${this.props.name}'s seed file (SQLSTATE ${message.seedError.code ?? 'unknown'}).`,
              ),
            );
            void worker.terminate();
          } else {
            const p = pending.get(message.id);
            pending.delete(message.id);
            if (!p) return;
            if (message.error) p.reject(databaseError(p.label, message.error.code));
            else p.resolve(message);
          }
        });
        const crashed = () => {
          const error = new AirlockError('upstream_error', `${label}: the local database stopped.`);
          reject(error);
          failAll(error);
        };
        worker.on('error', crashed);
        worker.on('exit', crashed);
      });
      this.running = { worker, ready, pending };
    }
    const running = this.running;
    try {
      await running.ready;
    } catch (error) {
      if (this.running === running) this.running = undefined;
      throw error;
    }
    return running;
  }

  /** Where the snapshot of a cluster seeded with `seed` is kept, if snapshots are kept. */
  private snapshotFileOf(seed: string): string | undefined {
    const folder = this.props.snapshotDirectory;
    if (!folder) return undefined;
    const key = createHash('sha256')
      .update(`${pgliteVersion()}\0${WORKER_SOURCE}\0${seed}`)
      .digest('hex')
      .slice(0, 32);
    return join(folder, `${this.props.name}-${key}.tar.gz`);
  }
}

/**
 * The PGlite release a snapshot was made with: another release may not read its data directory. Its
 * package.json is not exported, so it is read beside the resolved entry (`dist/`).
 */
function pgliteVersion(): string {
  const packageJson = join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json');
  return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
}

/**
 * Writes a snapshot whole or not at all (a temporary file renamed over it), and drops the connector's
 * snapshots of other seeds. A snapshot that cannot be written only means the next start seeds again.
 */
async function keepSnapshot(connector: string, file: string, snapshot: Uint8Array): Promise<void> {
  const folder = dirname(file);
  // This connector's snapshots only: another connector's name may start with this one's (`ledger-eu`).
  const ofThisConnector = (other: string) =>
    other.startsWith(`${connector}-`) && /^[0-9a-f]{32}\.tar\.gz$/.test(other.slice(connector.length + 1));
  try {
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(temporary, snapshot, { mode: 0o600 });
    await rename(temporary, file);
    for (const other of await readdir(folder)) {
      if (ofThisConnector(other) && join(folder, other) !== file)
        await rm(join(folder, other), { force: true });
    }
  } catch {
    // Kept or not, the database is up; the next start seeds again.
  }
}
