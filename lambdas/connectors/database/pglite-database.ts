/**
 * The database port in the local pilot: a real PostgreSQL (PGlite, PostgreSQL compiled to WebAssembly)
 * in a worker thread, seeded from a SQL file, queried as a role that may only SELECT inside a
 * read-only transaction. PGlite cannot interrupt a running statement (WebAssembly has no signals, so
 * `statement_timeout` never fires), so the timeout is kept here: a query past it terminates the
 * worker, and the next query starts a fresh one from the seed.
 */
import { readFile } from 'node:fs/promises';
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

/** The worker (CommonJS, run with `eval`, so it needs no build step in jest, tsx or a bundle). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.pglite);
const ready = (async () => {
  const db = new PGlite();
  await db.waitReady;
  await db.exec(workerData.seed);
  await db.exec(
    'CREATE ROLE ${LOCAL_READER_ROLE} NOLOGIN; ' +
    'GRANT USAGE ON SCHEMA public TO ${LOCAL_READER_ROLE}; ' +
    'GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${LOCAL_READER_ROLE};'
  );
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
}

/** An embedded PostgreSQL per connector, in its own worker thread. */
export class PgliteDatabase implements SqlDatabase {
  private running: RunningWorker | undefined;
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly props: PgliteDatabaseProps) {}

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
    const running = await this.start(query.label);
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

  private async start(label: string): Promise<RunningWorker> {
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
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { pglite: require.resolve('@electric-sql/pglite'), seed },
      });
      worker.unref();
      const pending = new Map<number, Pending>();
      const failAll = (error: Error) => {
        for (const p of pending.values()) p.reject(error);
        pending.clear();
        if (this.running?.worker === worker) this.running = undefined;
      };
      const ready = new Promise<void>((resolve, reject) => {
        worker.on('message', (message) => {
          if (message.ready) resolve();
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
}
