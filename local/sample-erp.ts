/**
 * A small ERP general-ledger API for the local pilot and the tests: HTTPS on 127.0.0.1, OAuth 2.0
 * client credentials, GL-code lookup and journal entries, under the base path `/api` (as the example
 * config's `https://erp.example.com/api`). It counts every request it receives, so a test can prove
 * that a refused call never reached it.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** The sample chart of accounts: 4-digit GL codes. */
export const SAMPLE_CHART_OF_ACCOUNTS: readonly { readonly code: string; readonly name: string }[] = [
  { code: '1000', name: 'Cash' },
  { code: '1200', name: 'Accounts Receivable' },
  { code: '2000', name: 'Accounts Payable' },
  { code: '4000', name: 'Revenue' },
  { code: '6000', name: 'Salaries and Wages' },
  { code: '6100', name: 'Rent' },
  { code: '6200', name: 'Utilities' },
  { code: '6300', name: 'Office Supplies' },
  { code: '6400', name: 'Travel' },
  { code: '6410', name: 'Travel - Taxi and Ground Transport' },
  { code: '6420', name: 'Travel - Lodging' },
  { code: '6500', name: 'Meals and Entertainment' },
  { code: '6600', name: 'Training and Conferences' },
  { code: '6700', name: 'Software Subscriptions' },
  { code: '6800', name: 'Telephone and Internet' },
  { code: '6900', name: 'Professional Fees' },
];

export interface SampleErpOptions {
  /** PEM key and certificate of the server; the certificate must name 127.0.0.1. */
  readonly tls: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /**
   * Port on 127.0.0.1.
   * @default 0 (any free port)
   */
  readonly port?: number;
  /** The one OAuth2 client the ERP accepts. */
  readonly clientId: string;
  readonly clientSecret: string;
  /**
   * Lifetime of issued access tokens.
   * @default 3600
   */
  readonly tokenLifetimeSeconds?: number;
}

export interface SampleJournalEntry {
  readonly entryId: string;
  readonly glCode: string;
  readonly amount: number;
  readonly currency: string;
  readonly memo: string;
  readonly createdAt: string;
}

/** Requests received, by route (every request counts, refused ones too). */
export interface SampleErpCalls {
  readonly token: number;
  readonly glCodes: number;
  readonly journalEntries: number;
  readonly other: number;
  readonly total: number;
}

export interface SampleErp {
  /** Base URL to configure as the connector's `baseUrl`: `https://127.0.0.1:<port>/api`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
  /** Journal entries created so far, oldest first. */
  journalEntries(): readonly SampleJournalEntry[];
  calls(): SampleErpCalls;
  /** Forgets every issued access token, as if they had expired (tests of the 401 refresh). */
  revokeTokens(): void;
}

const MAX_BODY_BYTES = 16 * 1024;

class BadRequest extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > MAX_BODY_BYTES) {
        reject(new BadRequest(413, 'payload_too_large', 'The request body is too large.'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

function validateJournalEntry(body: unknown): Omit<SampleJournalEntry, 'entryId' | 'createdAt'> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequest(400, 'invalid_request', 'Expected a JSON object.');
  }
  const { glCode, amount, currency, memo, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0)
    throw new BadRequest(400, 'invalid_request', `Unknown field(s): ${unknown.join(', ')}.`);
  if (typeof glCode !== 'string' || !SAMPLE_CHART_OF_ACCOUNTS.some((account) => account.code === glCode)) {
    throw new BadRequest(400, 'invalid_request', 'glCode must be a code of the chart of accounts.');
  }
  if (
    typeof amount !== 'number' ||
    !Number.isFinite(amount) ||
    amount <= 0 ||
    amount > 1_000_000 ||
    Math.round(amount * 100) / 100 !== amount
  ) {
    throw new BadRequest(400, 'invalid_request', 'amount must be a positive number with at most 2 decimals.');
  }
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) {
    throw new BadRequest(400, 'invalid_request', 'currency must be an ISO 4217 code such as EUR.');
  }
  if (typeof memo !== 'string' || memo.length === 0 || memo.length > 500) {
    throw new BadRequest(400, 'invalid_request', 'memo must be 1 to 500 characters.');
  }
  return { glCode, amount, currency, memo };
}

/**
 * Starts the sample ERP on 127.0.0.1.
 * @returns once it listens
 */
export async function startSampleErp(options: SampleErpOptions): Promise<SampleErp> {
  const lifetime = options.tokenLifetimeSeconds ?? 3600;
  const tokens = new Map<string, number>();
  const entries: SampleJournalEntry[] = [];
  const counts = { token: 0, glCodes: 0, journalEntries: 0, other: 0 };

  const clientAuthenticated = (req: IncomingMessage, form: URLSearchParams): boolean => {
    let id = form.get('client_id') ?? '';
    let secret = form.get('client_secret') ?? '';
    const header = req.headers.authorization ?? '';
    if (/^basic /i.test(header)) {
      const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return false;
      try {
        id = formDecode(decoded.slice(0, colon));
        secret = formDecode(decoded.slice(colon + 1));
      } catch {
        return false;
      }
    }
    return sameSecret(id, options.clientId) && sameSecret(secret, options.clientSecret);
  };

  const requireBearer = (req: IncomingMessage): void => {
    const match = /^bearer (\S+)$/i.exec(req.headers.authorization ?? '');
    const expiresAt = match ? tokens.get(match[1]) : undefined;
    if (expiresAt === undefined || expiresAt <= Date.now()) {
      throw new BadRequest(401, 'invalid_token', 'A valid bearer token is required.');
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const route = `${req.method} ${url.pathname}`;
    if (route === 'POST /api/oauth/token') {
      counts.token++;
      const form = new URLSearchParams(await readBody(req));
      if (!clientAuthenticated(req, form)) {
        sendJson(res, 401, { error: 'invalid_client' }, { 'www-authenticate': 'Basic realm="sample-erp"' });
        return;
      }
      if (form.get('grant_type') !== 'client_credentials') {
        sendJson(res, 400, { error: 'unsupported_grant_type' });
        return;
      }
      const token = randomBytes(24).toString('base64url');
      tokens.set(token, Date.now() + lifetime * 1000);
      sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: lifetime });
      return;
    }
    if (route === 'GET /api/gl-codes') {
      counts.glCodes++;
      requireBearer(req);
      const query = (url.searchParams.get('query') ?? '').trim().toLowerCase();
      const matches = SAMPLE_CHART_OF_ACCOUNTS.filter(
        (account) => account.name.toLowerCase().includes(query) || account.code.startsWith(query),
      );
      sendJson(res, 200, { matches });
      return;
    }
    if (route === 'POST /api/journal-entries') {
      counts.journalEntries++;
      requireBearer(req);
      if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
        throw new BadRequest(415, 'unsupported_media_type', 'Send the entry as application/json.');
      }
      let body: unknown;
      try {
        body = JSON.parse(await readBody(req));
      } catch (error) {
        if (error instanceof BadRequest) throw error;
        throw new BadRequest(400, 'invalid_request', 'The body is not valid JSON.');
      }
      const entry: SampleJournalEntry = {
        entryId: `JE-${String(entries.length + 1).padStart(6, '0')}`,
        ...validateJournalEntry(body),
        createdAt: new Date().toISOString(),
      };
      entries.push(entry);
      sendJson(res, 201, { entryId: entry.entryId }, { location: `/api/journal-entries/${entry.entryId}` });
      return;
    }
    counts.other++;
    sendJson(res, 404, { error: 'not_found', message: `No route ${route}.` });
  };

  const server = createServer({ key: options.tls.key, cert: options.tls.cert }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof BadRequest) {
        const headers: Record<string, string> =
          error.status === 401 ? { 'www-authenticate': `Bearer error="${error.error}"` } : {};
        sendJson(res, error.status, { error: error.error, message: error.message }, headers);
        return;
      }
      sendJson(res, 500, { error: 'server_error' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `https://127.0.0.1:${port}/api`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive connections from connectors would otherwise hold close() open.
        server.closeAllConnections();
      }),
    journalEntries: () => entries.map((entry) => ({ ...entry })),
    calls: () => ({ ...counts, total: counts.token + counts.glCodes + counts.journalEntries + counts.other }),
    revokeTokens: () => tokens.clear(),
  };
}
