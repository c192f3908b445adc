/**
 * A loopback forwarder for the official MCP conformance suite, which speaks plain HTTP and cannot
 * present a client certificate or a bearer token: it listens on 127.0.0.1 (plain HTTP) and forwards
 * every request to Airlock's `/v1/mcp` over mutual TLS with one test device's certificate, adding
 * that device's access token.
 *
 * It changes nothing else the endpoint judges: the method, the body and every header (Host and
 * Origin included) reach Airlock as the suite sent them, so Airlock's own checks (DNS rebinding,
 * protocol version headers, body limits) are what the suite measures. The one translation is the
 * scheme of `Origin`: the forwarder is the TLS terminator of a plain-HTTP origin, so
 * `Origin: http://<host>` reaches Airlock as `https://<host>` (the host, the part rebinding forges,
 * is untouched).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface ForwarderOptions {
  /** Airlock's MCP endpoint, e.g. `https://127.0.0.1:<port>/v1/mcp`. */
  readonly target: string;
  /** The device certificate, its key and the server's CA (PEM). */
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  readonly ca: string | Buffer;
  /** The device's access token, sent as `Authorization: Bearer <token>`. */
  readonly token: string;
}

export interface Forwarder {
  /** The plain-HTTP URL the suite is given, e.g. `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  /** How many requests were forwarded (so a test can show the suite really went through it). */
  readonly forwarded: () => number;
  close(): Promise<void>;
}

/** Headers that describe the hop, not the message. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'authorization']);

export async function startConformanceForwarder(options: ForwarderOptions): Promise<Forwarder> {
  const target = new URL(options.target);
  const agent = new Agent({
    keepAlive: true,
    cert: options.cert,
    key: options.key,
    ca: options.ca,
    minVersion: 'TLSv1.2',
  });
  let count = 0;
  const server: Server = createServer((req, res) => {
    count += 1;
    forward(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`forwarder: ${error instanceof Error ? error.message : String(error)}`);
    });
  });

  async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || HOP_HEADERS.has(name)) continue;
      headers[name] = value;
    }
    if (typeof headers.origin === 'string')
      headers.origin = headers.origin.replace(/^http:\/\//i, 'https://');
    headers.authorization = `Bearer ${options.token}`;
    headers['content-length'] = String(body.length);
    await new Promise<void>((resolve, reject) => {
      const upstream = httpsRequest(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: req.method,
          headers,
          agent,
          // SNI and the server-certificate check name the pilot, whatever Host the suite sent.
          servername: 'localhost',
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', resolve);
          answer.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    forwarded: () => count,
    close: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
