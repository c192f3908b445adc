/**
 * The sample CRM, HR and mail APIs of the local pilot's two further workflows (customer follow-up and
 * onboarding checklist): one HTTPS server on 127.0.0.1, each API under its own base path (`/crm`,
 * `/hr`, `/mail`, as the example config's `https://crm.example.com/api` and so on) with OAuth 2.0
 * client credentials, the same client as the sample ERP. The mail API writes each message it is sent
 * as an `.eml` file into an outbox folder: a person (or a test) opens what the agent sent. It counts
 * every request, so a test can prove that a refused call never reached it.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** A customer of the sample CRM. */
export interface SampleCustomer {
  readonly customerId: string;
  readonly name: string;
  readonly company: string;
  readonly email: string;
  readonly phone: string;
  readonly plan: string;
}

export const SAMPLE_CUSTOMERS: readonly SampleCustomer[] = [
  {
    customerId: 'C-1042',
    name: 'Jane Doe',
    company: 'Harbour Freight Ltd',
    email: 'jane.doe@harbourfreight.example',
    phone: '+44 20 7946 0958',
    plan: 'Business',
  },
  {
    customerId: 'C-2077',
    name: 'Tomás Ruiz',
    company: 'Ruiz Logística',
    email: 'tomas.ruiz@ruizlogistica.example',
    phone: '+34 912 345 678',
    plan: 'Enterprise',
  },
];

/** Support tickets per customer: what a follow-up refers to, and which log file holds its trace. */
export const SAMPLE_TICKETS: Readonly<Record<string, readonly Record<string, string>[]>> = {
  'C-1042': [
    {
      ticketId: 'T-5310',
      subject: 'Invoice export fails with a timeout',
      status: 'resolved',
      resolution: 'Export batch size lowered; fix deployed in release 4.18.2',
      logKey: '2026-11/export-service-2026-11-03.log',
    },
  ],
  'C-2077': [
    {
      ticketId: 'T-5377',
      subject: 'Single sign-on loops back to the login page',
      status: 'open',
      resolution: '',
      logKey: '2026-11/sso-gateway-2026-11-04.log',
    },
  ],
};

/** A new hire of the sample HR system. */
export interface SampleNewHire {
  readonly employeeId: string;
  readonly name: string;
  readonly role: string;
  readonly department: string;
  readonly startDate: string;
  readonly manager: string;
  readonly location: string;
  readonly personalEmail: string;
  readonly equipment: readonly string[];
}

export const SAMPLE_NEW_HIRES: readonly SampleNewHire[] = [
  {
    employeeId: 'E-3101',
    name: 'Priya Natarajan',
    role: 'Accounts Payable Specialist',
    department: 'Finance',
    startDate: '2026-12-07',
    manager: 'bob',
    location: 'London',
    personalEmail: 'priya.n@mailbox.example',
    equipment: ['laptop', 'headset'],
  },
  {
    employeeId: 'E-3102',
    name: 'Lukas Berger',
    role: 'Support Engineer',
    department: 'Customer Support',
    startDate: '2026-12-14',
    manager: 'erin',
    location: 'Vienna',
    personalEmail: 'lukas.berger@post.example',
    equipment: ['laptop', 'second monitor', 'headset'],
  },
];

/** A message the mail API accepted, as written to the outbox. */
export interface SampleMailMessage {
  readonly messageId: string;
  readonly to: string;
  readonly subject: string;
  readonly file: string;
}

export interface SampleWorkplaceApisOptions {
  /** PEM key and certificate of the server; the certificate must name 127.0.0.1. */
  readonly tls: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** @default 0 (any free port) */
  readonly port?: number;
  /** The one OAuth2 client the APIs accept. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** Folder the mail API writes `<messageId>.eml` files to. */
  readonly outbox: string;
}

export interface SampleWorkplaceApis {
  /** Base URLs by the host the example config names: `crm.example.com` → `https://127.0.0.1:<port>/crm`. */
  readonly urls: Readonly<Record<string, string>>;
  readonly port: number;
  /** Messages the mail API accepted, oldest first. */
  sentMail(): readonly SampleMailMessage[];
  /** Requests received per API (`crm`, `hr`, `mail`), refused ones and token requests included. */
  calls(): Readonly<Record<string, number>>;
  close(): Promise<void>;
}

/** The hosts of the example config and the base path each API is served under. */
export const SAMPLE_WORKPLACE_HOSTS: Readonly<Record<string, string>> = {
  'crm.example.com': 'crm',
  'hr.example.com': 'hr',
  'mail.example.com': 'mail',
};

const MAX_BODY_BYTES = 32 * 1024;
const TOKEN_LIFETIME_SECONDS = 3600;

class HttpProblem extends Error {
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
        reject(new HttpProblem(413, 'payload_too_large', 'The request body is too large.'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
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

/** An RFC 5322 header value: no line breaks (header injection), non-ASCII as an RFC 2047 word. */
function headerValue(value: string): string {
  const flat = value.replace(/[\r\n]+/g, ' ');
  return /^[\x20-\x7e]*$/.test(flat) ? flat : `=?UTF-8?B?${Buffer.from(flat, 'utf8').toString('base64')}?=`;
}

function base64Lines(text: string): string {
  return (
    Buffer.from(text, 'utf8')
      .toString('base64')
      .match(/.{1,76}/g)
      ?.join('\r\n') ?? ''
  );
}

/**
 * The message as an `.eml` file (RFC 5322, MIME): a text body and, when given, one text attachment.
 * A stand-in for the organisation's mail system, which composes its own messages in production.
 */
export function composeEml(message: {
  readonly messageId: string;
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly body: string;
  readonly attachmentName?: string;
  readonly attachment?: string;
  readonly date: Date;
}): string {
  const boundary = `airlock-${randomBytes(12).toString('hex')}`;
  const headers = [
    `Message-ID: <${message.messageId}@mail.example.com>`,
    `Date: ${message.date.toUTCString()}`,
    `From: ${headerValue(message.from)}`,
    `To: ${headerValue(message.to)}`,
    `Subject: ${headerValue(message.subject)}`,
    'MIME-Version: 1.0',
  ];
  const text = [
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    base64Lines(message.body),
  ];
  if (message.attachment === undefined) return [...headers, ...text, ''].join('\r\n');
  const name = (message.attachmentName ?? 'attachment.txt').replace(/["\r\n\\]/g, '_');
  return [
    ...headers,
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    ...text,
    `--${boundary}`,
    `Content-Type: text/plain; charset=utf-8; name="${name}"`,
    `Content-Disposition: attachment; filename="${name}"`,
    'Content-Transfer-Encoding: base64',
    '',
    base64Lines(message.attachment),
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

/**
 * A message id of letters only (`msg-` and 24 of a–z): a run of digits in a random id (a UUID's last
 * group) can read as a phone number to the personal-data scanner, which would redact it in the answer.
 */
function newMessageId(): string {
  return `msg-${[...randomBytes(24)].map((byte) => String.fromCharCode(97 + (byte % 26))).join('')}`;
}

const EMAIL = /^[^\s@<>"]+@[^\s@<>"]+\.[A-Za-z]{2,}$/;

function field(
  body: Record<string, unknown>,
  name: string,
  max: number,
  required: boolean,
): string | undefined {
  const value = body[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new HttpProblem(400, 'invalid_request', `${name} must be 1 to ${max} characters.`);
  }
  return value;
}

/** Starts the sample CRM, HR and mail APIs on 127.0.0.1. */
export async function startSampleWorkplaceApis(
  options: SampleWorkplaceApisOptions,
): Promise<SampleWorkplaceApis> {
  const tokens = new Map<string, number>();
  const sent: SampleMailMessage[] = [];
  const counts: Record<string, number> = { crm: 0, hr: 0, mail: 0, other: 0 };
  await mkdir(options.outbox, { recursive: true, mode: 0o700 });

  const issueToken = async (req: IncomingMessage, res: ServerResponse) => {
    const form = new URLSearchParams(await readBody(req));
    let id = form.get('client_id') ?? '';
    let secret = form.get('client_secret') ?? '';
    const header = req.headers.authorization ?? '';
    if (/^basic /i.test(header)) {
      const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      try {
        id = decodeURIComponent(decoded.slice(0, Math.max(colon, 0)).replace(/\+/g, ' '));
        secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
      } catch {
        id = '';
      }
    }
    if (!sameSecret(id, options.clientId) || !sameSecret(secret, options.clientSecret)) {
      sendJson(
        res,
        401,
        { error: 'invalid_client' },
        { 'www-authenticate': 'Basic realm="sample-workplace"' },
      );
      return;
    }
    if (form.get('grant_type') !== 'client_credentials') {
      sendJson(res, 400, { error: 'unsupported_grant_type' });
      return;
    }
    const token = randomBytes(24).toString('base64url');
    tokens.set(token, Date.now() + TOKEN_LIFETIME_SECONDS * 1000);
    sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: TOKEN_LIFETIME_SECONDS });
  };

  const requireBearer = (req: IncomingMessage): void => {
    const match = /^bearer (\S+)$/i.exec(req.headers.authorization ?? '');
    const expiresAt = match ? tokens.get(match[1]!) : undefined;
    if (expiresAt === undefined || expiresAt <= Date.now()) {
      throw new HttpProblem(401, 'invalid_token', 'A valid bearer token is required.');
    }
  };

  const sendMail = async (req: IncomingMessage, res: ServerResponse) => {
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      throw new HttpProblem(415, 'unsupported_media_type', 'Send the message as application/json.');
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await readBody(req)) as Record<string, unknown>;
    } catch (error) {
      if (error instanceof HttpProblem) throw error;
      throw new HttpProblem(400, 'invalid_request', 'The body is not valid JSON.');
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new HttpProblem(400, 'invalid_request', 'Expected a JSON object.');
    }
    const to = field(body, 'to', 254, true)!;
    if (!EMAIL.test(to)) throw new HttpProblem(400, 'invalid_request', 'to must be one e-mail address.');
    const subject = field(body, 'subject', 200, true)!;
    const text = field(body, 'body', 8000, true)!;
    const attachmentName = field(body, 'attachmentName', 100, false);
    const attachment = field(body, 'attachment', 8000, false);
    const messageId = newMessageId();
    const file = join(options.outbox, `${messageId}.eml`);
    await writeFile(
      file,
      composeEml({
        messageId,
        from: 'Customer Support <support@example.com>',
        to,
        subject,
        body: text,
        ...(attachmentName ? { attachmentName } : {}),
        ...(attachment ? { attachment } : {}),
        date: new Date(),
      }),
      { mode: 0o600, flag: 'wx' },
    );
    sent.push({ messageId, to, subject, file });
    sendJson(res, 201, { messageId, status: 'queued' });
  };

  type Answer = (req: IncomingMessage, res: ServerResponse, ids: string[], url: URL) => Promise<void> | void;
  const routes: [RegExp, Answer][] = [
    [
      /^GET \/crm\/customers\/([^/]+)$/,
      (_req, res, [id]) => {
        const customer = SAMPLE_CUSTOMERS.find((c) => c.customerId === id);
        if (!customer) throw new HttpProblem(404, 'not_found', 'No such customer.');
        sendJson(res, 200, customer);
      },
    ],
    [
      /^GET \/crm\/customers\/([^/]+)\/tickets$/,
      (_req, res, [id]) => {
        const tickets = Object.hasOwn(SAMPLE_TICKETS, id!) ? SAMPLE_TICKETS[id!] : undefined;
        if (!tickets) throw new HttpProblem(404, 'not_found', 'No such customer.');
        sendJson(res, 200, { tickets });
      },
    ],
    [
      /^GET \/hr\/new-hires$/,
      (_req, res, _ids, url) => {
        const after = url.searchParams.get('startingAfter') ?? '';
        const newHires = SAMPLE_NEW_HIRES.filter((h) => h.startDate > after).map(
          ({ employeeId, name, role, department, startDate }) => ({
            employeeId,
            name,
            role,
            department,
            startDate,
          }),
        );
        sendJson(res, 200, { newHires });
      },
    ],
    [
      /^GET \/hr\/new-hires\/([^/]+)$/,
      (_req, res, [id]) => {
        const hire = SAMPLE_NEW_HIRES.find((h) => h.employeeId === id);
        if (!hire) throw new HttpProblem(404, 'not_found', 'No such employee.');
        sendJson(res, 200, hire);
      },
    ],
    [/^POST \/mail\/messages$/, (req, res) => sendMail(req, res)],
  ];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const [, api = '', ...rest] = url.pathname.split('/');
    const path = `/${rest.join('/')}`;
    counts[Object.hasOwn(counts, api) && api !== 'other' ? api : 'other']! += 1;
    if (req.method === 'POST' && path === '/oauth/token' && ['crm', 'hr', 'mail'].includes(api)) {
      await issueToken(req, res);
      return;
    }
    const route = `${req.method} /${api}${path}`;
    for (const [pattern, answer] of routes) {
      const match = pattern.exec(route);
      if (!match) continue;
      requireBearer(req);
      await answer(req, res, match.slice(1).map(decodeURIComponent), url);
      return;
    }
    sendJson(res, 404, { error: 'not_found', message: `No route ${route}.` });
  };

  const server = createServer({ key: options.tls.key, cert: options.tls.cert }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof HttpProblem) {
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
    urls: Object.fromEntries(
      Object.entries(SAMPLE_WORKPLACE_HOSTS).map(([host, api]) => [host, `https://127.0.0.1:${port}/${api}`]),
    ),
    port,
    sentMail: () => sent.map((m) => ({ ...m })),
    calls: () => ({ ...counts }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
