/**
 * A misbehaving stand-in for the sample ERP, listening on the sample ERP's own port once that is
 * closed, so the pilot's connector (whose base URL is fixed at start) reaches it instead.
 *
 * Its token endpoint works (it checks the connector's client credentials and hands out one access
 * token the test knows, so the test can prove that token never leaks); every other call answers as
 * the current {@link UpstreamFaultMode} says.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';

/**
 * - `garbage-json`: 200, `application/json`, a body that is not JSON;
 * - `not-json`: 200 with an HTML page;
 * - `server-error`: 500 with a stack trace in the body (which must not reach the agent);
 * - `slow`: answers correctly, but only after `slowMs`;
 * - `reset`: drops the connection without an answer.
 */
export type UpstreamFaultMode = 'garbage-json' | 'not-json' | 'server-error' | 'slow' | 'reset';

export interface FaultyUpstreamOptions {
  readonly port: number;
  readonly tls: { readonly key: string; readonly cert: string };
  readonly clientId: string;
  readonly clientSecret: string;
  /** How long `slow` waits before answering. */
  readonly slowMs: number;
}

export interface FaultyUpstream {
  mode: UpstreamFaultMode;
  /** The one access token the token endpoint issues. */
  readonly accessToken: string;
  /** Calls other than the token endpoint received so far. */
  calls(): number;
  close(): Promise<void>;
}

/** Starts the stand-in on 127.0.0.1:`port`. */
export async function startFaultyUpstream(options: FaultyUpstreamOptions): Promise<FaultyUpstream> {
  const accessToken = `erp-at-${randomBytes(18).toString('base64url')}`;
  const expectedBasic = `Basic ${Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64')}`;
  let calls = 0;
  const timers = new Set<NodeJS.Timeout>();
  const state: { mode: UpstreamFaultMode } = { mode: 'garbage-json' };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const path = new URL(req.url ?? '/', 'https://127.0.0.1').pathname;
    if (req.method === 'POST' && path === '/api/oauth/token') {
      if (req.headers.authorization !== expectedBasic) return send(res, 401, { error: 'invalid_client' });
      return send(res, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: 3600 });
    }
    calls++;
    if (req.headers.authorization !== `Bearer ${accessToken}`)
      return send(res, 401, { error: 'invalid_token' });
    switch (state.mode) {
      case 'garbage-json':
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"matches": [{"code": "6400", "name": "Tra');
      case 'not-json':
        res.writeHead(200, { 'content-type': 'text/html' });
        return res.end('<html><body>Service temporarily unavailable</body></html>');
      case 'server-error':
        res.writeHead(500, { 'content-type': 'text/plain' });
        return res.end(`Error: connect ECONNREFUSED db.internal:5432\n    at secret=${options.clientSecret}`);
      case 'slow': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          send(res, 200, { matches: [{ code: '6400', name: 'Travel' }] });
        }, options.slowMs);
        timers.add(timer);
        return;
      }
      case 'reset':
        return req.socket.destroy();
    }
  };

  const server: Server = createServer({ key: options.tls.key, cert: options.tls.cert }, handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    get mode() {
      return state.mode;
    },
    set mode(mode: UpstreamFaultMode) {
      state.mode = mode;
    },
    accessToken,
    calls: () => calls,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
