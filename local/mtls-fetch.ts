/**
 * A `fetch` that presents a client certificate (mutual TLS), for MCP clients and the desktop bridge.
 *
 * Node's built-in fetch cannot present a client certificate without an extra dispatcher package, so
 * this one speaks HTTPS through `node:https` with a keep-alive agent holding the device's certificate
 * and key, and answers with a standard web `Response`. It is what the MCP SDK's
 * `StreamableHTTPClientTransport({ fetch })` expects.
 */
import type { IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

export interface MtlsFetchOptions {
  /** The client (device) certificate, PEM. */
  readonly cert: string | Buffer;
  /** The certificate's private key, PEM. */
  readonly key: string | Buffer;
  /**
   * The CA(s) that issued the server's certificate, PEM (the local pilot's `certs/ca.pem`).
   * @default - Node's trusted root certificates
   */
  readonly ca?: string | Buffer;
  /**
   * A request that gets no response headers within this time fails.
   * @default 30_000
   */
  readonly timeoutMs?: number;
}

/** A `fetch`-compatible function over mutual TLS, plus `close()` to drop its kept-alive connections. */
export interface MtlsFetch {
  (input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** Closes idle connections; requests after this open new ones. */
  close(): void;
}

/** Statuses whose responses never have a body. */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

/**
 * Creates a fetch over mutual TLS. Only `https:` URLs are accepted; redirects are never followed
 * (the caller gets the 3xx response), so a request and its token never go to another origin.
 * Network and TLS failures reject with `TypeError('fetch failed: …')` whose `cause` is Node's error
 * (with its `code`, e.g. `ECONNREFUSED`, `CERT_HAS_EXPIRED`), as the built-in fetch does.
 */
export function createMtlsFetch(options: MtlsFetchOptions): MtlsFetch {
  const agent = new Agent({
    keepAlive: true,
    cert: options.cert,
    key: options.key,
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    minVersion: 'TLSv1.2',
  });
  const timeoutMs = options.timeoutMs ?? 30_000;

  const mtlsFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const base = input instanceof Request ? input : undefined;
    const url = new URL(base ? base.url : input.toString());
    if (url.protocol !== 'https:') {
      throw new TypeError(`fetch failed: mutual TLS needs an https: URL, not ${url.protocol}`);
    }
    const method = (init.method ?? base?.method ?? 'GET').toUpperCase();
    const headers = new Headers(base?.headers);
    for (const [name, value] of new Headers(init.headers)) headers.set(name, value);
    const body = await bodyBytes(
      init.body ?? (base && method !== 'GET' && method !== 'HEAD' ? base.body : null),
    );
    if (body && !headers.has('content-length')) headers.set('content-length', String(body.byteLength));
    const signal = init.signal ?? base?.signal ?? undefined;
    signal?.throwIfAborted();

    return new Promise<Response>((resolve, reject) => {
      let response: IncomingMessage | undefined;
      // One listener per request, removed when the exchange is over: the SDK shares one signal
      // across every request of a transport, so listeners left behind would pile up.
      const onAbort = () => {
        const reason = abortError(signal as AbortSignal);
        req.destroy(reason);
        response?.destroy(reason);
      };
      const req = httpsRequest(
        url,
        { method, agent, headers: Object.fromEntries(headers), timeout: timeoutMs },
        (res) => {
          response = res;
          res.once('close', () => signal?.removeEventListener('abort', onAbort));
          const status = res.statusCode ?? 502;
          const responseHeaders = new Headers();
          for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
            responseHeaders.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
          }
          const hasBody = method !== 'HEAD' && !NULL_BODY_STATUSES.has(status);
          if (!hasBody) res.resume();
          resolve(
            new Response(hasBody ? (Readable.toWeb(res) as ReadableStream<Uint8Array>) : null, {
              status,
              statusText: res.statusMessage ?? '',
              headers: responseHeaders,
            }),
          );
        },
      );
      req.on('timeout', () => {
        req.destroy(Object.assign(new Error(`no response within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      });
      req.on('error', (error) => {
        signal?.removeEventListener('abort', onAbort);
        reject(
          signal?.aborted
            ? abortError(signal)
            : new TypeError(`fetch failed: ${error.message}`, { cause: error }),
        );
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      req.end(body ? Buffer.from(body) : undefined);
    });
  };
  return Object.assign(mtlsFetch, { close: () => agent.destroy() });
}

/** Any `BodyInit` as bytes: the web `Response` constructor already knows how to read every kind. */
async function bodyBytes(
  body: RequestInit['body'] | ReadableStream | null | undefined,
): Promise<Uint8Array | undefined> {
  if (body === null || body === undefined) return undefined;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return new Uint8Array(await new Response(body as ConstructorParameters<typeof Response>[0]).arrayBuffer());
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException('This operation was aborted', 'AbortError');
}
