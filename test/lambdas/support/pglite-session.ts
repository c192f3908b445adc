/**
 * A real PostgreSQL (PGlite) session in a worker thread, for fakes that need one statement at a time
 * (an RDS Data API fake's transactions). In a worker because PGlite loads parts of itself with dynamic
 * imports, which jest's module sandbox does not allow.
 */
import { Worker } from 'node:worker_threads';

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.pglite);
const db = new PGlite();
let queue = db.waitReady;
parentPort.on('message', (m) => {
  queue = queue.then(async () => {
    try {
      if (m.op === 'exec') {
        await db.exec(m.sql);
        parentPort.postMessage({ id: m.id, rows: [], fields: [] });
      } else {
        const asText = (v) => v;
        const r = await db.query(m.sql, m.values, { parsers: { 1082: asText, 1114: asText, 1184: asText } });
        parentPort.postMessage({ id: m.id, rows: r.rows, fields: r.fields.map((f) => f.name) });
      }
    } catch (e) {
      parentPort.postMessage({ id: m.id, error: { message: String(e && e.message), code: e && e.code } });
    }
  });
});
`;

export interface SessionRows {
  readonly fields: string[];
  readonly rows: Record<string, unknown>[];
}

/** PostgreSQL's error, with its SQLSTATE. */
export class SessionError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export class PgliteSession {
  private readonly worker = new Worker(SOURCE, {
    eval: true,
    workerData: { pglite: require.resolve('@electric-sql/pglite') },
  });
  private nextId = 1;
  private readonly pending = new Map<
    number,
    (message: { error?: { message: string; code?: string } } & SessionRows) => void
  >();

  constructor() {
    this.worker.on('message', (message) => {
      this.pending.get(message.id)?.(message);
      this.pending.delete(message.id);
    });
  }

  exec(sql: string): Promise<SessionRows> {
    return this.send({ op: 'exec', sql });
  }

  query(sql: string, values: readonly unknown[] = []): Promise<SessionRows> {
    return this.send({ op: 'query', sql, values });
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }

  private send(message: Record<string, unknown>): Promise<SessionRows> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (answer) =>
        answer.error ? reject(new SessionError(answer.error.message, answer.error.code)) : resolve(answer),
      );
      this.worker.postMessage({ ...message, id });
    });
  }
}
