/**
 * Test upstreams for RFC 8693 token exchange, on loopback:
 * - an authorization server (jose, node:http) whose token endpoint takes the token-exchange grant with
 *   client_secret_basic, verifies the subject assertion against the one key it trusts for the connector's
 *   issuer (ES256, `aud` = its token endpoint, short-lived, each `jti` once), refuses principals it does not
 *   know with `invalid_grant`, and issues an access token for the assertion's `sub`, audience-bound to the
 *   MCP server;
 * - a real MCP SDK server (streamable HTTP) that accepts only those tokens and answers `whoami` with the
 *   subject it verified, so a test sees as whom a call reached the upstream.
 */

import type { KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { generateKeyPair, jwtVerify, SignJWT } from 'jose';
import * as z from 'zod';

export interface TokenExchangeServerOptions {
  /** The issuer the connector's subject assertions carry, and the public key trusted for it. */
  readonly assertionIssuer: string;
  readonly assertionKey: KeyObject;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Principals the upstream knows; anyone else is refused (`invalid_grant`). */
  readonly knownSubjects: readonly string[];
  /** The server's clock (assertion times are checked against it). @default - the system clock */
  readonly now?: () => Date;
  /** Lifetime of the tokens it issues. @default 300 */
  readonly expiresIn?: number;
}

export interface ExchangeRecord {
  readonly subject?: string;
  readonly status: number;
  readonly error?: string;
  readonly audience?: string;
  readonly resource?: string;
  readonly scope?: string;
  readonly assertionClaims?: Record<string, unknown>;
  readonly assertionHeader?: Record<string, unknown>;
}

export interface TokenExchangeUpstream {
  readonly tokenUrl: string;
  readonly mcpUrl: string;
  /** Every exchange the authorization server answered, in order. */
  readonly exchanges: ExchangeRecord[];
  /** The subject of every MCP request the upstream accepted, and `401` for each it refused. */
  readonly mcpCallers: string[];
  /** The `x-request-id` of every `tools/call` the upstream accepted, with its subject, in order. */
  readonly toolCalls: { subject: string; requestId?: string }[];
  /** Answers the next `times` exchanges with this status and body instead (a failing authorization server). */
  failNext(status: number, body: string, times?: number): void;
  close(): Promise<void>;
}

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

async function readBody(req: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

export async function startTokenExchangeUpstream(
  options: TokenExchangeServerOptions,
): Promise<TokenExchangeUpstream> {
  const issuerKeys = await generateKeyPair('ES256');
  const exchanges: ExchangeRecord[] = [];
  const mcpCallers: string[] = [];
  const toolCalls: { subject: string; requestId?: string }[] = [];
  const seenJti = new Set<string>();
  let injected: { status: number; body: string; times: number } | undefined;
  const trusted = options.assertionKey;

  const as = createServer(async (req, res) => {
    const body = await readBody(req);
    const reply = (status: number, json: unknown, record: Omit<ExchangeRecord, 'status'> = {}) => {
      exchanges.push({
        ...record,
        status,
        ...(status >= 400 && { error: (json as { error: string }).error }),
      });
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(json));
    };
    if (injected) {
      const { status, body: text } = injected;
      injected = injected.times > 1 ? { ...injected, times: injected.times - 1 } : undefined;
      exchanges.push({ status });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(text);
      return;
    }
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [id, secret] = basic
      ? Buffer.from(basic, 'base64').toString('utf8').split(':').map(decodeURIComponent)
      : [];
    if (id !== options.clientId || secret !== options.clientSecret) {
      reply(401, { error: 'invalid_client' });
      return;
    }
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== TOKEN_EXCHANGE) {
      reply(400, { error: 'unsupported_grant_type' });
      return;
    }
    const extra = {
      audience: form.get('audience') ?? undefined,
      resource: form.get('resource') ?? undefined,
      scope: form.get('scope') ?? undefined,
    };
    if (form.get('subject_token_type') !== 'urn:ietf:params:oauth:token-type:jwt') {
      reply(400, { error: 'invalid_request' }, extra);
      return;
    }
    let claims: Record<string, unknown>;
    let header: Record<string, unknown>;
    try {
      const verified = await jwtVerify(form.get('subject_token') ?? '', trusted, {
        issuer: options.assertionIssuer,
        audience: tokenUrl,
        algorithms: ['ES256'],
        maxTokenAge: '120s',
        ...(options.now && { currentDate: options.now() }),
        requiredClaims: ['sub', 'jti', 'exp', 'iat'],
      });
      claims = verified.payload as Record<string, unknown>;
      header = verified.protectedHeader as Record<string, unknown>;
    } catch {
      reply(400, { error: 'invalid_grant' }, extra);
      return;
    }
    const subject = String(claims.sub);
    const jti = String(claims.jti);
    if (seenJti.has(jti) || !options.knownSubjects.includes(subject)) {
      reply(
        400,
        { error: 'invalid_grant' },
        { ...extra, subject, assertionClaims: claims, assertionHeader: header },
      );
      return;
    }
    seenJti.add(jti);
    const accessToken = await new SignJWT({ scope: extra.scope ?? 'tickets' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' })
      .setIssuer(tokenUrl)
      .setSubject(subject)
      .setAudience(mcpUrl)
      .setIssuedAt()
      .setExpirationTime(`${options.expiresIn ?? 300}s`)
      .sign(issuerKeys.privateKey);
    reply(
      200,
      {
        access_token: accessToken,
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        token_type: 'Bearer',
        expires_in: options.expiresIn ?? 300,
      },
      { ...extra, subject, assertionClaims: claims, assertionHeader: header },
    );
  });

  const mcp = createServer(async (req, res) => {
    const body = await readBody(req);
    let subject: string;
    try {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const { payload } = await jwtVerify(token, issuerKeys.publicKey, {
        issuer: tokenUrl,
        audience: mcpUrl,
        algorithms: ['ES256'],
      });
      subject = String(payload.sub);
    } catch {
      mcpCallers.push('401');
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' });
      res.end();
      return;
    }
    mcpCallers.push(subject);
    if (body && (JSON.parse(body) as { method?: unknown }).method === 'tools/call') {
      const requestId = req.headers['x-request-id'];
      toolCalls.push({ subject, ...(typeof requestId === 'string' && { requestId }) });
    }
    const server = new McpServer({ name: 'ticket-desk', version: '1.0.0' });
    server.registerTool(
      'whoami',
      { description: 'Says who the ticket desk thinks you are.', inputSchema: { note: z.string().max(64) } },
      async ({ note }) => ({ content: [{ type: 'text', text: `you are ${subject} (${note})` }] }),
    );
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body ? JSON.parse(body) : undefined);
  });

  const asPort = await listen(as);
  const mcpPort = await listen(mcp);
  const tokenUrl = `http://127.0.0.1:${asPort}/oauth2/token`;
  const mcpUrl = `http://127.0.0.1:${mcpPort}/mcp`;
  return {
    tokenUrl,
    mcpUrl,
    exchanges,
    mcpCallers,
    toolCalls,
    failNext(status, body, times = 1) {
      injected = { status, body, times };
    },
    async close() {
      for (const server of [as, mcp]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}
