/**
 * A small JSON client for end-to-end tests: it speaks to the local pilot (or any Airlock API) over
 * real mutual TLS, presenting one principal's device certificate, the way a desktop agent does.
 *
 * One client is one device: it keeps its TLS connections alive between requests (as an agent would,
 * and so a test with hundreds of calls does not spend its time in handshakes). Close it when done.
 *
 * @example
 *   const alice = e2eClientFor(pilot, 'alice');
 *   const token = await alice.getToken('expense-summary', ['erp:write'], 15);
 *   const res = await alice.request('POST', '/v1/connectors/erp/createJournalEntry', { token, body });
 *   expect(res.status).toBe(202);
 *   alice.close();
 */
import { readFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';

export interface E2eClientOptions {
  /** The API's base URL, e.g. the local pilot's `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** The CA that issued the server's certificate: a PEM file path or the PEM text. */
  readonly ca: string;
  /** The device certificate the client presents: a PEM file path or the PEM text. */
  readonly cert: string;
  /** The device certificate's private key: a PEM file path or the PEM text. */
  readonly key: string;
  /**
   * A request without a complete response within this time fails (tests fail instead of hanging).
   * @default 15_000
   */
  readonly timeoutMs?: number;
}

export interface E2eRequestOptions {
  /** Sent as JSON (`content-type: application/json`). A string is sent as it is, for malformed-body tests. */
  readonly body?: unknown;
  /** Extra request headers, e.g. `{ 'Airlock-Approval': id }`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** An access token, sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: a test reads bodies of every shape and checks them with expect().
export interface E2eResponse<T = any> {
  readonly status: number;
  /** Response headers, names in lower case (repeated headers joined with ", "). */
  readonly headers: Readonly<Record<string, string>>;
  /** The parsed JSON body; `undefined` when the body is empty or not JSON (see `text`). */
  readonly json: T;
  /** The raw body. */
  readonly text: string;
}

export interface E2eClient {
  /** The base URL the client talks to. */
  readonly url: string;
  /**
   * Sends one request and resolves with whatever status came back (a 4xx/5xx is a result, not an
   * error). Rejects only when no response arrived: connection refused, TLS handshake refused, timeout.
   */
  // biome-ignore lint/suspicious/noExplicitAny: as E2eResponse.
  request<T = any>(method: string, path: string, options?: E2eRequestOptions): Promise<E2eResponse<T>>;
  /**
   * Asks the credential broker for an access token bound to this client's certificate
   * (`POST /v1/credentials`) and returns it. Rejects with the broker's status and error body when
   * no token was issued, so a test that expected one fails with the reason.
   */
  getToken(workflow: string, scopes: readonly string[], durationMinutes: number): Promise<string>;
  /** Closes the kept-alive connections. Requests after this open new ones. */
  close(): void;
}

/** What {@link e2eClientFor} needs of a running local pilot (`startLocalPilot`'s result). */
export interface PilotCertificates {
  readonly url: string;
  readonly certificates: {
    readonly ca: string;
    client(principal: string): { readonly cert: string; readonly key: string };
  };
}

/** Creates a client presenting the given device certificate. */
export function createE2eClient(options: E2eClientOptions): E2eClient {
  const base = new URL(options.url);
  if (base.protocol !== 'https:')
    throw new Error(`createE2eClient: expected an https: URL, got ${options.url}`);
  const timeoutMs = options.timeoutMs ?? 15_000;
  const agent = new Agent({
    keepAlive: true,
    ca: pem(options.ca),
    cert: pem(options.cert),
    key: pem(options.key),
    minVersion: 'TLSv1.2',
  });

  const request = <T>(method: string, path: string, requestOptions: E2eRequestOptions = {}) =>
    new Promise<E2eResponse<T>>((resolve, reject) => {
      const target = new URL(path, base);
      const headers: Record<string, string> = { accept: 'application/json', ...requestOptions.headers };
      const payload =
        requestOptions.body === undefined
          ? undefined
          : Buffer.from(
              typeof requestOptions.body === 'string'
                ? requestOptions.body
                : JSON.stringify(requestOptions.body),
              'utf8',
            );
      if (payload) {
        headers['content-type'] ??= 'application/json';
        headers['content-length'] = String(payload.byteLength);
      }
      if (requestOptions.token !== undefined) headers.authorization = `Bearer ${requestOptions.token}`;

      const req = httpsRequest(target, { method: method.toUpperCase(), agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          const responseHeaders: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) responseHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: responseHeaders,
            json: parseJson(text) as T,
            text,
          });
        });
      });
      // A whole-request deadline (not only an idle-socket timeout), so a stuck server fails the test.
      const timer = setTimeout(() => {
        req.destroy(new Error(`${method} ${target.pathname}: no complete response within ${timeoutMs} ms`));
      }, timeoutMs);
      req.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      req.end(payload);
    });

  return {
    url: base.origin,
    request,
    async getToken(workflow, scopes, durationMinutes) {
      const response = await request<{ accessToken?: string }>('POST', '/v1/credentials', {
        body: { workflow, scopes, durationMinutes },
      });
      if (response.status !== 201 || typeof response.json?.accessToken !== 'string') {
        throw new Error(`POST /v1/credentials answered ${response.status}: ${response.text}`);
      }
      return response.json.accessToken;
    },
    close: () => agent.destroy(),
  };
}

/** A client presenting `principal`'s device certificate to a running local pilot. */
export function e2eClientFor(pilot: PilotCertificates, principal: string, timeoutMs?: number): E2eClient {
  const files = pilot.certificates.client(principal);
  return createE2eClient({
    url: pilot.url,
    ca: pilot.certificates.ca,
    cert: files.cert,
    key: files.key,
    timeoutMs,
  });
}

/** PEM text as it is; anything else is a path to read. */
function pem(pathOrPem: string): string {
  return pathOrPem.trimStart().startsWith('-----BEGIN') ? pathOrPem : readFileSync(pathOrPem, 'utf8');
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
