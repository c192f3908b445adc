import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type {
  APIGatewayEventClientCertificate,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
} from 'aws-lambda';
import { describeClientCertificate, type MatchedRoute, toApiGatewayEvent } from './api-gateway-event';

/** A Lambda proxy handler as the local pilot calls it: it answers every request, it never throws. */
export type LocalApiHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** One API Gateway resource and method, wired to a handler. */
export interface LocalApiRoute {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** An API Gateway resource path: literal segments, `{name}` for one segment, `{name+}` (last) for the rest. */
  readonly resource: string;
  readonly handler: LocalApiHandler;
}

/** Options of {@link startLocalApiServer}. */
export interface LocalApiServerOptions {
  /** The trust anchor (the local CA, PEM) and the server's own certificate and key (PEM). */
  readonly tls: { readonly ca: string; readonly cert: string; readonly key: string };
  /** @default '127.0.0.1' */
  readonly host?: string;
  /**
   * 0 picks a free port.
   * @default 8443
   */
  readonly port?: number;
  readonly routes: readonly LocalApiRoute[];
  /**
   * Larger request bodies are refused with 413 before they are read.
   * @default 16384
   */
  readonly maxBodyBytes?: number;
  /**
   * Receives one access-log line per request (method, path, status, principal, duration, request id)
   * and one per refused handshake; never headers, bodies or tokens.
   * @default - no logging
   */
  readonly log?: (line: string) => void;
  /** @default 'local' */
  readonly stage?: string;
  /** How long a connection may take or stay idle, and how many may be open at once. */
  readonly connections?: ConnectionLimits;
}

/**
 * Bounds on connections, so that clients that connect and stall (before the TLS handshake, before or
 * during a request, or by not reading the answer) cannot hold sockets and memory without limit. Every
 * bound cuts the connection; the request, if any, was never passed to a handler or has been answered.
 */
export interface ConnectionLimits {
  /**
   * A TLS handshake not finished by then is cut (a client that connects and sends nothing).
   * @default 10000
   */
  readonly handshakeTimeoutMs?: number;
  /**
   * The headers of a request must have arrived by then, counted from the end of the handshake or of the
   * previous request (a client that sends nothing, or sends headers a byte at a time); 408 and cut.
   * @default 10000
   */
  readonly headersTimeoutMs?: number;
  /**
   * The whole request, headers and body, must have arrived by then (a body that stops arriving); 408 and cut.
   * @default 30000
   */
  readonly requestTimeoutMs?: number;
  /**
   * A keep-alive connection idle that long after an answer is closed.
   * @default 5000
   */
  readonly keepAliveTimeoutMs?: number;
  /**
   * A connection with no traffic in either direction that long is cut (a client that stopped reading its
   * answer, a peer that vanished without closing). Longer than any handler takes.
   * @default 60000
   */
  readonly idleTimeoutMs?: number;
  /**
   * Connections open at once, TLS handshakes included; beyond it new connections are closed on arrival.
   * @default 256
   */
  readonly maxConnections?: number;
}

const CONNECTION_DEFAULTS: Required<ConnectionLimits> = {
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
  maxConnections: 256,
};

/** At most one log line per this interval about connections refused over the limit. */
const DROP_LOG_INTERVAL_MS = 10_000;

/** A running local API server. */
export interface LocalApiServer {
  /** e.g. `https://127.0.0.1:8443`. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections, lets requests in flight finish, and resolves once the server has stopped. */
  close(): Promise<void>;
}

/** The local API server refused its options. */
export class LocalApiServerError extends Error {
  public readonly name = 'LocalApiServerError';
}

interface CompiledRoute extends LocalApiRoute {
  readonly segments: readonly RouteSegment[];
}

type RouteSegment =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'parameter'; readonly name: string }
  | { readonly kind: 'greedy'; readonly name: string };

type RouteMatch =
  | { readonly kind: 'matched'; readonly route: CompiledRoute; readonly match: MatchedRoute }
  | { readonly kind: 'wrong_method'; readonly allowed: readonly string[] }
  | { readonly kind: 'no_route' }
  | { readonly kind: 'bad_encoding' };

/** How much of a refused (413) body is read and dropped before the connection is cut. */
const DISCARD_LIMIT_BYTES = 1_048_576;
/** Beyond this, in-flight requests are cut off so `close()` always resolves. */
const CLOSE_GRACE_MS = 5_000;

/**
 * Starts the local pilot's HTTPS server with mutual TLS: only clients presenting a certificate issued
 * by `tls.ca` complete the handshake (no other trust anchor is used), so a request that reaches a
 * handler always carries a verified client certificate, exactly as behind API Gateway's mTLS domain.
 * Each request becomes an API Gateway REST proxy event; refusals follow the HTTP error contract. Every
 * route takes JSON, which is UTF-8 (RFC 8259 §8.1): a body that is not valid UTF-8 is refused with 400
 * before any handler sees it, never passed on with replacement characters. Connections are bounded in
 * time and number ({@link ConnectionLimits}).
 * @throws LocalApiServerError when the options are not usable (bad route, port, limit).
 */
export async function startLocalApiServer(options: LocalApiServerOptions): Promise<LocalApiServer> {
  const host = options.host ?? '127.0.0.1';
  const requestedPort = options.port ?? 8443;
  const maxBodyBytes = options.maxBodyBytes ?? 16_384;
  const stage = options.stage ?? 'local';
  const log = options.log;
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65_535) {
    throw new LocalApiServerError(
      `port must be an integer from 0 to 65535 (0 picks a free port), got ${requestedPort}.`,
    );
  }
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 0) {
    throw new LocalApiServerError(`maxBodyBytes must be a non-negative integer, got ${maxBodyBytes}.`);
  }
  const limits = connectionLimits(options.connections);
  const routes = compileRoutes(options.routes);
  // The described certificate is the same for every request of a keep-alive connection: describe it once.
  const peers = new WeakMap<TLSSocket, { clientCert: APIGatewayEventClientCertificate; principal: string }>();

  const server = createServer(
    {
      ca: options.tls.ca,
      cert: options.tls.cert,
      key: options.tls.key,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      keepAlive: true,
      handshakeTimeout: limits.handshakeTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node checks the two timeouts above only this often (30 s by default, which would more than
      // double them): a few times per timeout, at most once a second.
      connectionsCheckingInterval: Math.max(
        10,
        Math.min(1_000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)),
      ),
    },
    (req, res) => {
      handleRequest(req, res).catch(() => res.destroy());
    },
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // With no 'timeout' listener, Node destroys a socket idle for this long.
  server.timeout = limits.idleTimeoutMs;
  server.maxConnections = limits.maxConnections;
  let dropped = 0;
  let lastDropLog = Number.NEGATIVE_INFINITY;
  server.on('drop', () => {
    dropped++;
    const now = performance.now();
    // A flood of connections must not become a flood of log lines.
    if (now - lastDropLog < DROP_LOG_INTERVAL_MS) return;
    log?.(
      `refused ${dropped} connection(s): ${limits.maxConnections} connections are open, the limit (connections.maxConnections)`,
    );
    lastDropLog = now;
    dropped = 0;
  });

  server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
    // Node refuses an unverified certificate after the handshake by dropping the connection; the reason
    // is only on the socket, and it is what an operator needs to fix a device.
    const reason = socket.authorizationError ?? error.code ?? error.message;
    log?.(`TLS handshake refused: ${reason}${socket.remoteAddress ? ` from ${socket.remoteAddress}` : ''}`);
  });

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    const requestTimeEpoch = Date.now();
    const socket = req.socket as TLSSocket;
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const path = url.split('?', 1)[0];
    let principal = '-';
    const finish = (status: number): void => {
      log?.(
        `${method} ${path} ${status} ${principal} ${(performance.now() - started).toFixed(1)}ms ${requestId}`,
      );
    };
    try {
      // rejectUnauthorized already refused these at the handshake; checked again so that a change of
      // TLS settings can never let an unauthenticated request through.
      if (!socket.authorized) {
        sendError(
          res,
          401,
          'unauthenticated',
          'A client certificate from the local CA is required.',
          requestId,
        );
        return finish(401);
      }
      let peer = peers.get(socket);
      if (peer === undefined) {
        const certificate = socket.getPeerCertificate(true);
        peer = { clientCert: describeClientCertificate(certificate), principal: commonNameOf(certificate) };
        peers.set(socket, peer);
      }
      principal = peer.principal;

      const found = matchRoute(routes, method, path);
      if (found.kind !== 'matched') {
        const status = found.kind === 'bad_encoding' ? 400 : 404;
        sendRouteError(res, found, method, path, requestId);
        return finish(status);
      }

      const body = await readBody(req, res, maxBodyBytes);
      if (body === 'too_large') {
        sendError(
          res,
          413,
          'payload_too_large',
          `The request body is larger than ${maxBodyBytes} bytes; send less data per request.`,
          requestId,
        );
        return finish(413);
      }
      if (body === 'not_utf8') {
        sendError(
          res,
          400,
          'invalid_request',
          'The request body is not valid UTF-8; send JSON encoded in UTF-8.',
          requestId,
        );
        return finish(400);
      }

      const event = toApiGatewayEvent(req, body, {
        requestId,
        route: found.match,
        peerCertificate: peer.clientCert,
        stage,
        requestTimeEpoch,
      });
      const result = await found.route.handler(event);
      const status = sendResult(res, result, requestId);
      return finish(status);
    } catch (error) {
      // Handlers map every failure to the error contract; reaching this is a bug. The log names the
      // error only (never the event, which carries tokens and bodies).
      log?.(`internal error ${requestId}: ${describeError(error)}`);
      if (!res.headersSent) {
        sendError(
          res,
          500,
          'internal_error',
          'The server failed unexpectedly; the request was not completed.',
          requestId,
        );
      } else {
        res.destroy();
      }
      return finish(500);
    }
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        new LocalApiServerError(
          error.code === 'EADDRINUSE'
            ? `Port ${requestedPort} on ${host} is in use; stop what uses it or choose another port.`
            : `Cannot listen on ${host}:${requestedPort}: ${error.message}`,
          { cause: error },
        ),
      );
    };
    server.once('error', onError);
    server.listen(requestedPort, host, () => {
      server.off('error', onError);
      resolve();
    });
  });

  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `https://${urlHost}:${port}`,
    port,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve, reject) => {
        const forceClose = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        forceClose.unref();
        server.close((error) => {
          clearTimeout(forceClose);
          if (error) reject(error);
          else resolve();
        });
        // Keep-alive connections would otherwise hold close() until they time out.
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

function connectionLimits(given: ConnectionLimits = {}): Required<ConnectionLimits> {
  const limits = { ...CONNECTION_DEFAULTS };
  for (const [name, value] of Object.entries(given) as [keyof ConnectionLimits, number | undefined][]) {
    if (!Object.hasOwn(CONNECTION_DEFAULTS, name)) {
      throw new LocalApiServerError(
        `connections.${name} is not a connection limit; use ${Object.keys(CONNECTION_DEFAULTS).join(', ')}.`,
      );
    }
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 1) {
      throw new LocalApiServerError(`connections.${name} must be a positive integer, got ${value}.`);
    }
    limits[name] = value;
  }
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new LocalApiServerError(
      `connections.headersTimeoutMs (${limits.headersTimeoutMs}) must not exceed connections.requestTimeoutMs (${limits.requestTimeoutMs}).`,
    );
  }
  return limits;
}

function compileRoutes(routes: readonly LocalApiRoute[]): CompiledRoute[] {
  const seen = new Set<string>();
  return routes
    .map((route): CompiledRoute => {
      if (route.method !== 'GET' && route.method !== 'POST' && route.method !== 'DELETE') {
        throw new LocalApiServerError(
          `Route ${route.resource}: method must be GET, POST or DELETE, got ${route.method}.`,
        );
      }
      if (typeof route.resource !== 'string' || !route.resource.startsWith('/')) {
        throw new LocalApiServerError(
          `Route resource must start with "/", e.g. /v1/connectors/{connector}/{operation}; got ${route.resource}.`,
        );
      }
      const key = `${route.method} ${route.resource}`;
      if (seen.has(key)) throw new LocalApiServerError(`Route ${key} is declared twice.`);
      seen.add(key);
      const parts = route.resource === '/' ? [] : route.resource.slice(1).split('/');
      const segments = parts.map((part, index): RouteSegment => {
        const parameter = /^\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}$/.exec(part);
        if (parameter === null) {
          if (part.length === 0 || /[{}]/.test(part)) {
            throw new LocalApiServerError(
              `Route ${route.resource}: segment "${part}" must be a literal, {name} or {name+}.`,
            );
          }
          return { kind: 'literal', value: part };
        }
        if (parameter[2] === '+' && index !== parts.length - 1) {
          throw new LocalApiServerError(
            `Route ${route.resource}: {${parameter[1]}+} must be the last segment.`,
          );
        }
        return { kind: parameter[2] === '+' ? 'greedy' : 'parameter', name: parameter[1] };
      });
      return { ...route, segments };
    })
    .sort(bySpecificity);
}

function matchRoute(routes: readonly CompiledRoute[], method: string, path: string): RouteMatch {
  if (!path.startsWith('/')) return { kind: 'no_route' };
  const parts = path === '/' ? [] : path.slice(1).split('/');
  const allowed: string[] = [];
  for (const route of routes) {
    const raw = matchSegments(route.segments, parts);
    if (raw === null) continue;
    if (route.method !== method) {
      allowed.push(route.method);
      continue;
    }
    const pathParameters: Record<string, string> = {};
    try {
      for (const [name, value] of Object.entries(raw)) pathParameters[name] = decodeURIComponent(value);
    } catch {
      return { kind: 'bad_encoding' };
    }
    return {
      kind: 'matched',
      route,
      match: {
        resource: route.resource,
        pathParameters: Object.keys(pathParameters).length === 0 ? null : pathParameters,
      },
    };
  }
  return allowed.length > 0 ? { kind: 'wrong_method', allowed } : { kind: 'no_route' };
}

/** The still-encoded parameters when `parts` fit the route, else null. */
function matchSegments(
  segments: readonly RouteSegment[],
  parts: readonly string[],
): Record<string, string> | null {
  const parameters: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment.kind === 'greedy') {
      const rest = parts.slice(i);
      if (rest.length === 0 || rest.some((part) => part.length === 0)) return null;
      parameters[segment.name] = rest.join('/');
      return parameters;
    }
    const part = parts[i];
    if (part === undefined || part.length === 0) return null;
    if (segment.kind === 'literal') {
      if (part !== segment.value) return null;
    } else {
      parameters[segment.name] = part;
    }
  }
  return parts.length === segments.length ? parameters : null;
}

const SEGMENT_RANK = { literal: 0, parameter: 1, greedy: 2 } as const;

/** Literal segments win over `{name}`, and `{name}` over `{name+}`, as in API Gateway. */
function bySpecificity(a: CompiledRoute, b: CompiledRoute): number {
  const length = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < length; i++) {
    const difference = SEGMENT_RANK[a.segments[i].kind] - SEGMENT_RANK[b.segments[i].kind];
    if (difference !== 0) return difference;
  }
  return b.segments.length - a.segments.length;
}

/** Refuses bytes that are not UTF-8 instead of replacing them; keeps a byte order mark as the text's first character. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The body decoded as UTF-8; `not_utf8` when it is not valid UTF-8; `too_large` as soon as it is known
 * to pass the limit (from Content-Length, or while reading), without buffering the rest.
 */
function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  maxBodyBytes: number,
): Promise<string | 'too_large' | 'not_utf8'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBodyBytes) {
    discardRestOfBody(req, res, declared - maxBodyBytes);
    return Promise.resolve('too_large');
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBodyBytes) {
        req.off('data', onData);
        req.off('end', onEnd);
        discardRestOfBody(req, res, 0);
        resolve('too_large');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      try {
        resolve(STRICT_UTF8.decode(Buffer.concat(chunks)));
      } catch {
        resolve('not_utf8');
      }
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.once('error', reject);
  });
}

/**
 * After a 413 the client may still be sending. Closing at once would reset the connection and the
 * client could lose the answer, so the rest is read and dropped, up to a bound; past it the connection
 * is cut (a client that declares more than the bound is cut after the answer).
 */
function discardRestOfBody(req: IncomingMessage, res: ServerResponse, expectedBytes: number): void {
  if (expectedBytes > DISCARD_LIMIT_BYTES) {
    // Node closes the connection once a response saying so is sent.
    res.setHeader('Connection', 'close');
    return;
  }
  let discarded = 0;
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DISCARD_LIMIT_BYTES) req.socket.destroy();
  });
  req.resume();
}

function sendRouteError(
  res: ServerResponse,
  found: Exclude<RouteMatch, { kind: 'matched' }>,
  method: string,
  path: string,
  requestId: string,
): void {
  if (found.kind === 'bad_encoding') {
    sendError(res, 400, 'invalid_request', `The path ${path} has malformed percent-encoding.`, requestId);
  } else if (found.kind === 'wrong_method') {
    res.setHeader('Allow', found.allowed.join(', '));
    sendError(
      res,
      404,
      'not_found',
      `There is no ${method} ${path}; this path accepts ${found.allowed.join(' or ')}.`,
      requestId,
    );
  } else {
    sendError(res, 404, 'not_found', `There is no route ${method} ${path}.`, requestId);
  }
}

function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  requestId: string,
): void {
  const body = JSON.stringify({ error: { code, message, requestId } });
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': requestId,
  });
  res.end(body);
}

/** Writes a handler's result as API Gateway would; returns the status sent. */
function sendResult(res: ServerResponse, result: APIGatewayProxyResult, requestId: string): number {
  if (
    result === null ||
    typeof result !== 'object' ||
    !Number.isInteger(result.statusCode) ||
    result.statusCode < 100 ||
    result.statusCode > 599 ||
    typeof result.body !== 'string'
  ) {
    throw new TypeError('The handler returned something that is not an API Gateway proxy result.');
  }
  const body = result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body, 'utf8');
  const headers: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    headers[name] = values.map(String);
  }
  // As in API Gateway, a header in both maps is sent with the single value after the multi values.
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    const existing = headers[name];
    headers[name] = existing === undefined ? String(value) : [...[existing].flat(), String(value)];
  }
  const names = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
  if (!names.has('content-type')) headers['Content-Type'] = 'application/json';
  headers['Content-Length'] = String(body.length);
  headers['x-amzn-RequestId'] = requestId;
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    // Framing is this server's business, not the handler's.
    if (lower === 'transfer-encoding' || (lower === 'content-length' && name !== 'Content-Length')) {
      delete headers[name];
    }
  }
  res.writeHead(result.statusCode, headers);
  res.end(body);
  return result.statusCode;
}

function commonNameOf(certificate: PeerCertificate): string {
  const commonName = certificate.subject?.CN;
  return (Array.isArray(commonName) ? commonName[0] : commonName) ?? '-';
}

/** Enough to find the bug (type, message, where), short enough not to dump data the error may carry. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return `a thrown ${typeof error}`;
  const where = error.stack
    ?.split('\n')
    .find((line) => line.trimStart().startsWith('at '))
    ?.trim();
  return `${error.name}: ${error.message.slice(0, 200)}${where ? ` (${where})` : ''}`;
}
