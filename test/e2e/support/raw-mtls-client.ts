/**
 * A byte-level HTTPS client over mutual TLS for fuzzing: it sends exactly the method, path, headers
 * and body bytes it is given (invalid UTF-8, wrong content types, any size), over one keep-alive
 * connection pool, and returns whatever comes back.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import type { E2eResponse } from '../e2e-client';

export interface RawRequest {
  readonly method: string;
  /** Sent as it is: already percent-encoded, may hold traversal sequences. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer;
}

export interface RawMtlsClient {
  send(raw: RawRequest): Promise<E2eResponse>;
  close(): void;
}

export interface RawMtlsClientOptions {
  readonly url: string;
  /** PEM file paths. */
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  /** Connections kept open at most. @default 4 */
  readonly maxSockets?: number;
  /** A request with no complete answer by then fails. @default 10000 */
  readonly timeoutMs?: number;
}

/** One device's connection pool to the API. */
export function createRawMtlsClient(options: RawMtlsClientOptions): RawMtlsClient {
  const base = new URL(options.url);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const agent = new Agent({
    keepAlive: true,
    maxSockets: options.maxSockets ?? 4,
    ca: readFileSync(options.ca, 'utf8'),
    cert: readFileSync(options.cert, 'utf8'),
    key: readFileSync(options.key, 'utf8'),
  });
  return {
    send: (raw) =>
      new Promise<E2eResponse>((resolve, reject) => {
        const headers: Record<string, string> = { ...raw.headers };
        if (raw.body !== undefined) headers['content-length'] = String(raw.body.length);
        const req = request(
          { host: base.hostname, port: base.port, method: raw.method, path: raw.path, headers, agent },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('error', reject);
            res.on('end', () => {
              clearTimeout(timer);
              const text = Buffer.concat(chunks).toString('utf8');
              const responseHeaders: Record<string, string> = {};
              for (const [name, value] of Object.entries(res.headers)) {
                if (value !== undefined)
                  responseHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
              }
              let json: unknown;
              try {
                json = text ? JSON.parse(text) : undefined;
              } catch {
                json = undefined;
              }
              resolve({ status: res.statusCode ?? 0, headers: responseHeaders, json, text });
            });
          },
        );
        const timer = setTimeout(
          () =>
            req.destroy(
              new Error(`${raw.method} ${raw.path.slice(0, 80)}: no answer within ${timeoutMs} ms`),
            ),
          timeoutMs,
        );
        req.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        req.end(raw.body);
      }),
    close: () => agent.destroy(),
  };
}
