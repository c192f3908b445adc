import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Agent, createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { startLocalApiServer } from '../local/local-api-server';
import { LocalCertificateAuthority } from '../local/local-certificate-authority';
import type { BenchRow } from './bench-row';

/** A bare Node HTTPS server with the same mutual TLS as the local API server, and nothing else. */
export interface BareMtlsServerOptions {
  readonly tls: { readonly ca: string; readonly cert: string; readonly key: string };
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The answer to every request. */
  readonly respond: (req: IncomingMessage) => { readonly status: number; readonly body: string };
}

/** A running server of this bench. */
export interface BenchServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts the baseline: TLS and HTTP as the local API server has them (client certificate required,
 * keep-alive), answering straight from `respond`, so the ratio to it is what the event conversion,
 * routing and logging cost.
 */
export async function startBareMtlsServer(options: BareMtlsServerOptions): Promise<BenchServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer(
    {
      ...options.tls,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      keepAlive: true,
    },
    (req, res) => {
      const { status, body } = options.respond(req);
      // Read the request to its end, as the local server does, so both keep the connection reusable.
      req.resume();
      req.on('end', () => {
        res.writeHead(status, {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
        });
        res.end(body);
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

/** One request of a load run. */
export interface ThroughputRequest {
  /** @default 'GET' */
  readonly method?: string;
  /**
   * Path and query, resolved against `url`.
   * @default - `url` itself
   */
  readonly path?: string;
  readonly headers?: OutgoingHttpHeaders;
  readonly body?: string;
}

/** What {@link measureThroughput} does. */
export interface ThroughputOptions {
  readonly url: string;
  /** Carries the client certificate and the keep-alive policy; `maxSockets` should be at least `concurrency`. */
  readonly agent: Agent;
  /** Requests in flight at once: each of this many workers sends its next request when the last one ends. */
  readonly concurrency: number;
  readonly durationMs: number;
  /**
   * The n-th request to send (n counts from 0 across all workers).
   * @default - GET `url`
   */
  readonly makeRequest?: (n: number) => ThroughputRequest;
  /**
   * Which statuses count as a success; others count as errors.
   * @default - 2xx
   */
  readonly isSuccess?: (status: number) => boolean;
}

/** The figures of one load run. */
export interface Throughput {
  /** Requests that completed (any status) or failed in the run. */
  readonly requests: number;
  /** Successful requests per second of wall time. */
  readonly perSecond: number;
  /** Latency of successful requests, median and 99th percentile (nearest rank). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Transport failures and unsuccessful statuses. */
  readonly errors: number;
}

/**
 * Sends requests back to back from `concurrency` workers for `durationMs` and reports throughput and
 * latency. Reusable for end-to-end figures: pass an agent holding a device certificate and a
 * `makeRequest` that builds the call to measure.
 */
export async function measureThroughput(options: ThroughputOptions): Promise<Throughput> {
  const makeRequest = options.makeRequest ?? (() => ({}));
  const isSuccess = options.isSuccess ?? ((status: number) => status >= 200 && status < 300);
  const latencies: number[] = [];
  let requests = 0;
  let errors = 0;
  let sequence = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;

  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const spec = makeRequest(sequence++);
      const sent = performance.now();
      const status = await sendOne(options.url, options.agent, spec).catch(() => undefined);
      requests++;
      if (status !== undefined && isSuccess(status)) latencies.push(performance.now() - sent);
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const elapsedSeconds = (performance.now() - started) / 1000;

  latencies.sort((a, b) => a - b);
  return {
    requests,
    perSecond: latencies.length / elapsedSeconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    errors,
  };
}

function sendOne(url: string, agent: Agent, spec: ThroughputRequest): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = spec.path === undefined ? url : new URL(spec.path, url);
    const req = request(target, { method: spec.method ?? 'GET', headers: spec.headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(spec.body);
  });
}

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

const HEALTH_BODY = JSON.stringify({ status: 'ok' });
const MEASURE_MS = 2_000;
const WARM_UP_MS = 300;

/**
 * Requests per second with keep-alive, at concurrency 1 and 16, of the local API server (trivial
 * handler) and of a bare Node mTLS server answering the same bytes, measured in the same run; the
 * ratio is the local server's overhead.
 */
export async function run(): Promise<BenchRow[]> {
  const authority = await LocalCertificateAuthority.createInMemory();
  const device = await authority.createClientCertificate('bench');
  const tls = authority.serverTls();
  const local = await startLocalApiServer({
    tls,
    port: 0,
    routes: [
      {
        method: 'GET',
        resource: '/v1/health',
        handler: async () => ({ statusCode: 200, body: HEALTH_BODY }),
      },
    ],
  });
  const bare = await startBareMtlsServer({
    tls,
    port: 0,
    respond: () => ({ status: 200, body: HEALTH_BODY }),
  });

  const measure = async (server: BenchServer, concurrency: number): Promise<Throughput> => {
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca: tls.ca, ...device });
    try {
      const url = `${server.url}/v1/health`;
      await measureThroughput({ url, agent, concurrency, durationMs: WARM_UP_MS });
      return await measureThroughput({ url, agent, concurrency, durationMs: MEASURE_MS });
    } finally {
      agent.destroy();
    }
  };

  const rows: BenchRow[] = [];
  try {
    for (const concurrency of [1, 16]) {
      const bareFigures = await measure(bare, concurrency);
      const localFigures = await measure(local, concurrency);
      const describe = (figures: Throughput) =>
        `keep-alive, ${MEASURE_MS / 1000} s; p50 ${figures.p50Ms.toFixed(2)} ms, p99 ${figures.p99Ms.toFixed(2)} ms, ` +
        `${figures.errors} errors`;
      rows.push(
        {
          name: `mTLS local API server, trivial handler, concurrency ${concurrency}`,
          value: Math.round(localFigures.perSecond),
          unit: 'req/s',
          note: describe(localFigures),
        },
        {
          name: `mTLS bare Node https server, concurrency ${concurrency}`,
          value: Math.round(bareFigures.perSecond),
          unit: 'req/s',
          note: describe(bareFigures),
        },
        {
          name: `mTLS local API server / bare server, concurrency ${concurrency}`,
          value: Number((localFigures.perSecond / bareFigures.perSecond).toFixed(2)),
          unit: '×',
          note: 'same run, same TLS settings; below 1 is the cost of routing, event conversion and logging',
        },
      );
    }
  } finally {
    await Promise.all([local.close(), bare.close()]);
  }
  return rows;
}

if (require.main === module) {
  run().then(
    (rows) => console.table(rows),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
