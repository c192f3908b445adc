/**
 * One HTTPS request to an upstream, bounded in time and size. Built on node:https rather than the
 * global fetch so an HTTPS agent with a custom CA (the local sample ERP) can be passed, and so the
 * response is read chunk by chunk and cut off the moment it passes the size limit.
 */
import {
  type ClientRequest,
  type Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
} from 'node:http';
import { type Agent, request } from 'node:https';
import { AirlockError } from '../../core/errors';

/** Host names of the loopback interface, the only ones reached over plain http. */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

export interface UpstreamRequest {
  readonly url: URL;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Keep-alive agent carrying the trusted CAs. */
  readonly agent?: Agent;
  /**
   * Allows a plain `http://` URL whose host is loopback (a local upstream such as an MCP server the
   * local pilot runs), sent with this agent. @default - https only
   */
  readonly loopbackHttpAgent?: HttpAgent;
  /** Whole-request deadline: connect, send, and read the full response. */
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  /** The caller's own cancellation. */
  readonly signal?: AbortSignal;
  /** How errors name the upstream, e.g. `connector "erp"`. */
  readonly label: string;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * Sends the request and reads the whole response.
 * @throws AirlockError `upstream_error` on timeout, cancellation, a connection or TLS failure, or a
 * response larger than `maxResponseBytes`; `forbidden` for anything but https. Messages name the
 * upstream and the reason only, never headers (they carry tokens) or bodies.
 */
export function sendUpstreamRequest(upstream: UpstreamRequest): Promise<UpstreamResponse> {
  const { url, label, timeoutMs, maxResponseBytes } = upstream;
  const loopbackHttp =
    upstream.loopbackHttpAgent !== undefined && url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp) {
    return Promise.reject(
      new AirlockError('forbidden', `${label}: only https:// upstreams are allowed.`, {
        reasons: ['https-only'],
      }),
    );
  }
  if (upstream.signal?.aborted) {
    return Promise.reject(
      new AirlockError('upstream_error', `${label}: the call was cancelled before it was sent.`),
    );
  }
  return new Promise<UpstreamResponse>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      upstream.signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const fail = (sentence: string): void =>
      finish(() => reject(new AirlockError('upstream_error', `${label}: ${sentence}`)));

    let req: ClientRequest;
    try {
      const options = {
        method: upstream.method,
        headers: {
          ...upstream.headers,
          ...(upstream.body !== undefined && { 'content-length': String(Buffer.byteLength(upstream.body)) }),
        },
      };
      req = loopbackHttp
        ? httpRequest(url, { ...options, agent: upstream.loopbackHttpAgent })
        : request(url, { ...options, agent: upstream.agent });
    } catch {
      // e.g. a header value with characters HTTP does not allow: nothing was sent.
      settled = true;
      reject(new AirlockError('upstream_error', `${label}: the request could not be built.`));
      return;
    }
    // Settle with the reason first, then tear the connection down: later socket errors are moot.
    const abandon = (sentence: string): void => {
      fail(sentence);
      req.destroy();
    };
    const timer = setTimeout(() => abandon(`the upstream did not answer within ${timeoutMs} ms.`), timeoutMs);
    const onAbort = (): void => abandon('the call was cancelled before the upstream answered.');
    upstream.signal?.addEventListener('abort', onAbort, { once: true });

    req.on('error', (error: Error) => {
      // Only the error code: Node's messages can include addresses and certificate details.
      const code = (error as NodeJS.ErrnoException).code ?? 'connection failed';
      fail(`the upstream could not be reached (${code}).`);
    });
    req.on('response', (res) => {
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxResponseBytes) {
        abandon(`the upstream answered more than ${maxResponseBytes} bytes.`);
        return;
      }
      const chunks: Buffer[] = [];
      let length = 0;
      res.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length > maxResponseBytes) {
          abandon(`the upstream answered more than ${maxResponseBytes} bytes.`);
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', () => fail('the upstream broke off its answer.'));
      res.on('aborted', () => fail('the upstream broke off its answer.'));
      res.on('end', () =>
        finish(() =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, length) }),
        ),
      );
    });
    req.end(upstream.body);
  });
}
