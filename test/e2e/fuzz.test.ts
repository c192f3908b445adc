/**
 * Fuzzing every route of the local pilot over real mutual TLS, through one keep-alive connection
 * pool: thousands of generated invalid requests (a fixed seed, so a run is repeatable). Each must be
 * refused with a 4xx that follows the error contract, never a 5xx, never with a token in it; nothing
 * invalid may create a journal entry; the pilot still answers afterwards. A failing case is saved
 * under `regressions/` and replayed by every later run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadConfig } from '../../lib/config/load-config';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import type { E2eResponse } from './e2e-client';
import { errorContractViolations } from './support/error-contract';
import {
  type FuzzCase,
  fuzzCase,
  loadRegressions,
  saveRegression,
  toRawRequest,
  VALID_TOKEN,
} from './support/fuzz-case';
import { createRawMtlsClient, type RawMtlsClient } from './support/raw-mtls-client';

/** Fixed, so a failure is reproduced by running the test again. */
const SEED = 0x41_49_52_4c; // "AIRL"
const REGRESSIONS = join(__dirname, 'regressions');
const WORKFLOW = 'expense-summary';
const MAX_BODY_BYTES = 16_384;
/** The rate limiter allows 120 calls per token per minute: a token serves fewer than that. */
const CALLS_PER_TOKEN = 100;

let home: string;
let pilot: LocalPilot;
let client: RawMtlsClient;
let tokens: string[] = [];
let validTokenCalls = 0;
let logLines: string[] = [];

/** Headers of a JSON request. */
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

/** A valid token of alice's, renewed before the per-token rate limit bites. */
function validToken(): string {
  const index = Math.floor(validTokenCalls++ / CALLS_PER_TOKEN);
  return tokens[index % tokens.length];
}

async function issueToken(): Promise<string> {
  const response = await client.send({
    method: 'POST',
    path: '/v1/credentials',
    headers: JSON_HEADERS,
    body: Buffer.from(
      JSON.stringify({
        workflow: WORKFLOW,
        scopes: ['receipts:read', 'erp:read', 'erp:write'],
        durationMinutes: 30,
      }),
    ),
  });
  if (response.status !== 201) throw new Error(`no token: ${response.status} ${response.text}`);
  return response.json.accessToken;
}

/** What is wrong with the pilot's answer to an invalid request (nothing, when it is a proper refusal). */
function problemsOf(response: E2eResponse): string[] {
  const problems = errorContractViolations(response);
  if (response.status >= 500) problems.push(`answered ${response.status}; an invalid request is a 4xx`);
  return problems;
}

async function probe(fuzz: FuzzCase): Promise<string[]> {
  let response: E2eResponse;
  try {
    response = await client.send(toRawRequest(fuzz, validToken));
  } catch (error) {
    return [`no answer: ${(error as Error).message}`];
  }
  return problemsOf(response);
}

/** Runs one property with the fixed seed; saves and reports the first failing case. */
async function checkProperty(name: string, cases: fc.Arbitrary<FuzzCase>, numRuns: number): Promise<void> {
  let failure: { fuzz: FuzzCase; problems: string[] } | undefined;
  const details = await fc.check(
    fc.asyncProperty(cases, async (fuzz) => {
      const problems = await probe(fuzz);
      if (problems.length > 0) {
        failure ??= { fuzz, problems };
        return false;
      }
      return true;
    }),
    { seed: SEED, numRuns, endOnFailure: true },
  );
  if (details.failed && failure) {
    const file = await saveRegression(REGRESSIONS, failure.fuzz, failure.problems);
    throw new Error(
      `${name}: ${failure.problems.join('; ')}\nSaved as ${file}:\n${JSON.stringify(failure.fuzz)}`,
    );
  }
  expect(details.failed).toBe(false);
  expect(details.numRuns).toBe(numRuns);
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'airlock-e2e-fuzz-'));
  logLines = [];
  pilot = await startLocalPilot({ home, port: 0, config: loadConfig(), log: (line) => logLines.push(line) });
  const files = pilot.certificates.client('alice');
  client = createRawMtlsClient({
    url: pilot.url,
    ca: pilot.certificates.ca,
    cert: files.cert,
    key: files.key,
  });
  tokens = [];
  for (let i = 0; i < 8; i++) tokens.push(await issueToken());
}, 60_000);

afterAll(async () => {
  client?.close();
  await pilot?.close();
  await rm(home, { recursive: true, force: true });
});

// ---- Building blocks ------------------------------------------------------------------------

const printableChar = fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code));
const printable = (maxLength: number) => fc.string({ unit: printableChar, maxLength });
const base64urlChar = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');
const base64url = (minLength: number, maxLength: number) =>
  fc.string({ unit: base64urlChar, minLength, maxLength });

/** Values of every JSON type, with the odd ones a parser trips on. */
const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    null,
    true,
    0,
    -1,
    1e308,
    -0,
    '',
    '\u0000',
    '\u202e',
    '💥',
    [],
    {},
    '__proto__',
    'constructor',
  ),
  fc.string({ maxLength: 40 }),
);
const wrongTypeFor = (kind: 'string' | 'number' | 'array') =>
  anyJson.filter((value) =>
    kind === 'string'
      ? typeof value !== 'string'
      : kind === 'number'
        ? typeof value !== 'number'
        : !Array.isArray(value),
  );

/** A Bearer token that is not a valid token: random, truncated, tampered, or re-signed garbage. */
function garbageToken(): fc.Arbitrary<string> {
  const real = () => tokens[0];
  return fc.oneof(
    base64url(1, 200),
    fc.tuple(base64url(0, 60), base64url(0, 200), base64url(0, 90)).map(([h, p, s]) => `${h}.${p}.${s}`),
    fc.integer({ min: 1, max: 400 }).map((cut) => real().slice(0, Math.min(cut, real().length - 1))),
    fc.nat().map((at) => {
      // One character of the signature changed: a tampered token.
      const token = real();
      const i = token.lastIndexOf('.') + 1 + (at % (token.length - token.lastIndexOf('.') - 1));
      return `${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`;
    }),
    fc
      .tuple(fc.jsonValue({ maxDepth: 2 }), fc.uint8Array({ minLength: 64, maxLength: 64 }))
      .map(
        ([claims, signature]) =>
          `${real().split('.')[0]}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${Buffer.from(signature).toString('base64url')}`,
      ),
    fc.constantFrom('', 'null', 'undefined', 'Bearer', '.', '..', '...', 'e30.e30.', `${'a'.repeat(9000)}`),
  );
}

/** Extra headers a confused or hostile client might send; none of them may change who the caller is. */
const extraHeaders = fc.dictionary(
  fc.constantFrom(
    'x-forwarded-for',
    'x-forwarded-client-cert',
    'x-amzn-client-cert',
    'x-airlock-principal',
    'forwarded',
    'x-http-method-override',
    'airlock-approval',
    'accept',
    'accept-encoding',
  ),
  printable(120),
  { maxKeys: 3 },
);

const TOKEN_ROUTES = [
  '/v1/connectors/receipts/list',
  '/v1/connectors/receipts/read',
  '/v1/connectors/erp/lookupGlCode',
  '/v1/connectors/erp/createJournalEntry',
  '/v1/mcp',
  '/v1/usage',
];

/** A JSON-ish request body: random JSON, or random text. */
const body = fc.oneof(
  anyJson.map((value) => JSON.stringify(value) ?? ''),
  fc.string({ maxLength: 300 }),
  fc.constant(''),
);

// ---- Properties ---------------------------------------------------------------------------------

describe('Fuzz: requests without a valid token', () => {
  it('refuses every call to a token route (401 or another 4xx), by the error contract', async () => {
    // Prepare
    const cases = fc
      .record({
        path: fc.constantFrom(...TOKEN_ROUTES),
        auth: fc.oneof(
          fc.constant(undefined),
          garbageToken().map((token) => ({ token })),
          fc
            .constantFrom('Basic YWxpY2U6c2VjcmV0', 'Bearer', 'Bearer a b', 'bearer', 'Token abc', 'Bearer\t')
            .map((authorization) => ({ authorization })),
        ),
        headers: extraHeaders,
        body,
      })
      .map(({ path, auth, headers, body: text }) =>
        fuzzCase('no-valid-token', {
          method: 'POST',
          path,
          headers: {
            ...headers,
            ...JSON_HEADERS,
            ...(auth && 'authorization' in auth ? { authorization: auth.authorization } : {}),
          },
          body: text,
          token: auth && 'token' in auth ? auth.token : undefined,
        }),
      );

    // Act & Assess
    await checkProperty('no-valid-token', cases, 1200);
  }, 60_000);
});

describe('Fuzz: POST /v1/credentials', () => {
  const valid = { workflow: WORKFLOW, scopes: ['receipts:read'], durationMinutes: 15 };

  it('refuses every invalid credential request without issuing a token', async () => {
    // Prepare: a valid request with one thing wrong, or random JSON.
    const mutated = fc.oneof(
      wrongTypeFor('string').map((workflow) => ({ ...valid, workflow })),
      fc
        .stringMatching(/^[a-z][a-z0-9-]{0,20}$/)
        .filter((w) => w !== WORKFLOW)
        .map((workflow) => ({ ...valid, workflow })),
      fc
        .constantFrom('constructor', 'valueof', '__proto__', 'prototype')
        .map((workflow) => ({ ...valid, workflow })),
      printable(80)
        .filter((w) => w !== WORKFLOW)
        .map((workflow) => ({ ...valid, workflow })),
      wrongTypeFor('array').map((scopes) => ({ ...valid, scopes })),
      fc
        .array(printable(30), { maxLength: 4 })
        .map((scopes) => ({ ...valid, scopes: [...scopes, 'not a scope'] })),
      fc
        .constantFrom(
          [],
          ['receipts:export'],
          ['erp:export'],
          ['admin:write'],
          ['receipts:read', 'other:read'],
        )
        .map((scopes) => ({ ...valid, scopes })),
      wrongTypeFor('number').map((durationMinutes) => ({ ...valid, durationMinutes })),
      fc
        .oneof(
          fc.integer({ max: 0 }),
          fc.integer({ min: 61 }),
          fc.double({ min: 1.01, max: 59.99, noInteger: true }),
        )
        .map((durationMinutes) => ({ ...valid, durationMinutes })),
      fc
        .tuple(fc.string({ minLength: 1, maxLength: 20 }), anyJson)
        .filter(([key]) => !['workflow', 'scopes', 'durationMinutes', 'resource'].includes(key))
        .map(([key, value]) => ({ ...valid, [key]: value })),
      fc
        .oneof(wrongTypeFor('string'), fc.constantFrom('', '\u0007bell', 'x'.repeat(513)))
        .map((resource) => ({ ...valid, resource })),
      fc.constantFrom('workflow', 'scopes', 'durationMinutes').map((missing) => {
        const copy: Record<string, unknown> = { ...valid };
        delete copy[missing];
        return copy;
      }),
      anyJson.filter((value) => value === null || typeof value !== 'object' || Array.isArray(value)),
    );
    const cases = fc.tuple(mutated, extraHeaders).map(([request, headers]) =>
      fuzzCase('credentials', {
        method: 'POST',
        path: '/v1/credentials',
        headers: { ...headers, ...JSON_HEADERS },
        body: JSON.stringify(request) ?? '',
      }),
    );

    // Act & Assess
    await checkProperty('credentials', cases, 700);
  }, 60_000);
});

describe('Fuzz: connector calls with a valid token and invalid parameters', () => {
  it('refuses every invalid call and creates no journal entry', async () => {
    // Prepare
    const entriesBefore = pilot.sampleErp.journalEntries().length;
    const entry = { glCode: '6400', amount: 12.5, currency: 'EUR', memo: 'fuzz' };
    const traversal = fc.constantFrom(
      '../../secrets/airlock_pilot_erp-client.json',
      '..%2f..%2fsecrets',
      '/etc/passwd',
      '2026-q3/../../keys/token-signing-key.pem',
      '..\\..\\keys',
      'C:\\Windows\\win.ini',
      '2026-q3/\u0000.txt',
      'file:///etc/passwd',
      '%2e%2e/%2e%2e/etc/passwd',
      '~/.ssh/id_rsa',
    );
    const calls = fc.oneof(
      // receipts/read: wrong types, traversal, too long, unknown files, unknown parameters.
      fc
        .oneof(
          wrongTypeFor('string').map((key) => ({ key })),
          traversal.map((key) => ({ key })),
          fc.constant({ key: 'a'.repeat(513) }),
          base64url(1, 40).map((key) => ({ key: `no-such-folder/${key}.txt` })),
          fc.constant({}),
          fc
            .tuple(fc.string({ minLength: 1, maxLength: 12 }), anyJson)
            .filter(([name]) => name !== 'key' && name !== 'intent')
            .map(([name, value]) => ({ key: 'x.txt', [name]: value })),
        )
        .map((params) => ({ path: '/v1/connectors/receipts/read', params })),
      // receipts/list: wrong types, traversal, too long.
      fc
        .oneof(
          wrongTypeFor('string')
            .filter((prefix) => prefix !== undefined)
            .map((prefix) => ({ prefix })),
          // Only prefixes that leave the folder: any other text is a legitimate (empty) listing.
          traversal
            .filter((prefix) => /\.\.[/\\]/.test(prefix) || prefix.includes('\u0000'))
            .map((prefix) => ({ prefix })),
          fc.constant({ prefix: 'p'.repeat(257) }),
        )
        .map((params) => ({ path: '/v1/connectors/receipts/list', params })),
      // erp/lookupGlCode: wrong types, too long, unknown parameters.
      fc
        .oneof(
          wrongTypeFor('string').map((query) => ({ query })),
          fc.constant({ query: 'q'.repeat(101) }),
          fc.constant({}),
          fc.constant({ query: 'travel', url: 'https://attacker.example/' }),
        )
        .map((params) => ({ path: '/v1/connectors/erp/lookupGlCode', params })),
      // erp/createJournalEntry: one field wrong.
      fc
        .oneof(
          fc
            .oneof(
              wrongTypeFor('string'),
              printable(8).filter((g) => !/^[0-9]{4}$/.test(g)),
            )
            .map((glCode) => ({ ...entry, glCode })),
          fc
            .oneof(wrongTypeFor('number'), fc.constantFrom(0, -1, 0.001, 1_000_000.01, 1e308))
            .map((amount) => ({ ...entry, amount })),
          fc
            .oneof(
              wrongTypeFor('string'),
              printable(5).filter((c) => !['EUR', 'USD', 'GBP'].includes(c)),
            )
            .map((currency) => ({ ...entry, currency })),
          fc.constant({ ...entry, memo: 'm'.repeat(501) }),
          fc.constantFrom('glCode', 'amount', 'currency', 'memo').map((missing) => {
            const copy: Record<string, unknown> = { ...entry };
            delete copy[missing];
            return copy;
          }),
          fc.constant({ ...entry, path: '/admin' }),
        )
        .map((params) => ({ path: '/v1/connectors/erp/createJournalEntry', params })),
      // A bad intent on an otherwise valid call.
      fc
        .oneof(
          wrongTypeFor('string').filter((i) => i !== undefined),
          fc.constant('i'.repeat(1001)),
        )
        .map((intent) => ({
          path: '/v1/connectors/erp/createJournalEntry',
          params: { ...entry, intent },
        })),
      // Usage reports for models without a price, inherited object keys included.
      fc
        .constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'gpt-unknown')
        .map((model) => ({
          path: '/v1/usage',
          params: { workflow: WORKFLOW, model, inputTokens: 1, outputTokens: 1 },
        })),
      // Operations and connectors that do not exist.
      fc
        .tuple(
          fc.constantFrom(
            'receipts',
            'erp',
            'admin',
            'receipts%2f..',
            '__proto__',
            'constructor',
            'toString',
          ),
          fc.constantFrom('write', 'delete', 'export', 'constructor', 'list%00'),
        )
        .map(([connector, operation]) => ({ path: `/v1/connectors/${connector}/${operation}`, params: {} })),
    );
    const approvalHeader = fc.oneof(
      fc.constant(undefined),
      printable(140).filter((id) => id.trim().length > 0),
      base64url(32, 32).map((hex) => `apr_${hex}`),
    );
    const cases = fc.tuple(calls, approvalHeader).map(([call, approval]) =>
      fuzzCase('valid-token', {
        method: 'POST',
        path: call.path,
        headers: { ...JSON_HEADERS, ...(approval ? { 'airlock-approval': approval } : {}) },
        body: JSON.stringify(call.params),
        token: VALID_TOKEN,
      }),
    );
    // An invalid approval id on a valid entry: looked up before anything runs, so refused.
    const validEntryWithBadApproval = fc
      .oneof(
        printable(140).filter((id) => id.trim().length > 0),
        base64url(32, 32).map((hex) => `apr_${hex}`),
      )
      .map((approval) =>
        fuzzCase('valid-token', {
          method: 'POST',
          path: '/v1/connectors/erp/createJournalEntry',
          headers: { ...JSON_HEADERS, 'airlock-approval': approval },
          body: JSON.stringify(entry),
          token: VALID_TOKEN,
        }),
      );

    // Act & Assess
    await checkProperty(
      'valid-token',
      fc.oneof({ arbitrary: cases, weight: 9 }, { arbitrary: validEntryWithBadApproval, weight: 1 }),
      600,
    );
    expect(pilot.sampleErp.journalEntries()).toHaveLength(entriesBefore);
  }, 60_000);
});

describe('Fuzz: body bytes and framing', () => {
  it('refuses invalid UTF-8, wrong content types, deep nesting and sizes around the 16 KB limit', async () => {
    // Prepare
    const validCredentials = JSON.stringify({
      workflow: WORKFLOW,
      scopes: ['receipts:read'],
      durationMinutes: 15,
    });
    const invalidUtf8 = fc
      .tuple(
        fc.constantFrom('{"workflow":"', '{"key":"', '{"'),
        fc.constantFrom([0xff], [0xfe, 0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe0, 0x80]),
        fc.uint8Array({ maxLength: 40 }),
      )
      .map(([start, bad, rest]) =>
        Buffer.concat([Buffer.from(start), Buffer.from(bad), Buffer.from(rest), Buffer.from('"}')]),
      );
    const deepNesting = fc
      .tuple(fc.integer({ min: 100, max: 5000 }), fc.constantFrom('array', 'object'))
      .map(([depth, kind]) =>
        Buffer.from(
          kind === 'array'
            ? `${'['.repeat(depth)}${']'.repeat(depth)}`
            : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
        ),
      );
    const aroundLimit = fc
      .integer({ min: MAX_BODY_BYTES - 8, max: MAX_BODY_BYTES + 8 })
      .chain((size) => fc.constant(size))
      .map((size) => {
        // {"pad":"xxx..."}: an unknown field, so even a body within the limit is invalid.
        const frame = '{"pad":""}';
        return Buffer.from(`{"pad":"${'x'.repeat(Math.max(0, size - frame.length))}"}`);
      });
    const bigger = fc
      .integer({ min: MAX_BODY_BYTES + 1, max: 4 * MAX_BODY_BYTES })
      .map((size) => Buffer.alloc(size, 0x7b));
    const bodies = fc.oneof(
      invalidUtf8,
      deepNesting,
      aroundLimit,
      bigger,
      fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.from(bytes)),
    );
    const contentType = fc.constantFrom(
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonx',
      'application/json-patch+json',
      '',
    );
    const routes = fc.constantFrom('/v1/credentials', '/v1/connectors/receipts/read', '/v1/usage');
    const framed = fc.tuple(routes, bodies, contentType).map(([path, bytes, type]) =>
      fuzzCase('framing', {
        method: 'POST',
        path,
        headers: type ? { 'content-type': type } : {},
        body: bytes,
        token: path === '/v1/credentials' ? undefined : VALID_TOKEN,
      }),
    );
    // A valid credential request sent as anything but JSON must not be taken as one.
    const validButNotJson = contentType
      .filter((type) => type !== 'application/json')
      .map((type) =>
        fuzzCase('framing', {
          method: 'POST',
          path: '/v1/credentials',
          headers: type ? { 'content-type': type } : {},
          body: validCredentials,
        }),
      );

    // Act & Assess
    await checkProperty(
      'framing',
      fc.oneof({ arbitrary: framed, weight: 5 }, { arbitrary: validButNotJson, weight: 1 }),
      400,
    );
  }, 60_000);
});

describe('Fuzz: paths, methods and approvals', () => {
  it('refuses unknown and traversing paths, other methods, and invalid approval requests', async () => {
    // Prepare
    const junk = fc.oneof(
      fc.constantFrom(
        '..',
        '%2e%2e',
        '%2E%2E%2F',
        '..%2f..%2f',
        '%00',
        '%E0%A4%A',
        '%',
        '%zz',
        '.',
        '~',
        ';',
        'x%20y',
        '%252e%252e',
      ),
      base64url(1, 12).map((text) => `${text}%2f..`),
    );
    const segment = fc.oneof(junk, base64url(1, 10));
    const path = fc.oneof(
      fc
        .tuple(
          fc.constantFrom('/v1/connectors/', '/v1/', '/', '/v1/approvals/', '/v2/', '/v1//', '/V1/'),
          fc.array(segment, { minLength: 1, maxLength: 4 }),
          junk,
        )
        .map(([prefix, segments, bad]) => `${prefix}${[...segments, bad].join('/')}`),
      fc.constantFrom(
        '/v1/credentials/',
        '/v1/credentials/..',
        '/v1/health/../credentials',
        '/v1/connectors/receipts',
        '/v1/approvals/x/decision/y',
        '/v1/mcp/x',
        '/.airlock/keys/token-signing-key.pem',
        `/${'a/'.repeat(400)}`,
      ),
    );
    const routed = fc
      .tuple(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'), path, body)
      .map(([method, target, text]) =>
        fuzzCase('paths', {
          method,
          path: target,
          headers: JSON_HEADERS,
          body: method === 'GET' ? undefined : text,
        }),
      );
    const otherMethods = fc
      .tuple(
        fc.constantFrom('PUT', 'DELETE', 'PATCH'),
        fc.constantFrom('/v1/credentials', '/v1/health', '/v1/approvals', ...TOKEN_ROUTES),
      )
      .map(([method, target]) =>
        fuzzCase('paths', { method, path: target, headers: JSON_HEADERS, body: '{}' }),
      );
    const approvalId = fc.oneof(
      base64url(1, 40),
      base64url(32, 32).map((hex) => `apr_${hex}`),
      junk,
    );
    const approvals = fc.oneof(
      approvalId.map((id) =>
        fuzzCase('paths', { method: 'GET', path: `/v1/approvals/${id}`, headers: JSON_HEADERS }),
      ),
      fc.tuple(approvalId, anyJson).map(([id, decision]) =>
        fuzzCase('paths', {
          method: 'POST',
          path: `/v1/approvals/${id}/decision`,
          headers: JSON_HEADERS,
          body: JSON.stringify({ decision, reason: 'fuzz' }),
        }),
      ),
      fc
        .constantFrom(
          '?status=approved%00',
          '?status=__proto__',
          '?status=',
          `?status=${'x'.repeat(300)}`,
          '?limit=-1&status=weird',
        )
        .map((query) =>
          fuzzCase('paths', { method: 'GET', path: `/v1/approvals${query}`, headers: JSON_HEADERS }),
        ),
    );

    // Act & Assess
    await checkProperty(
      'paths',
      fc.oneof({ arbitrary: routed, weight: 5 }, otherMethods, { arbitrary: approvals, weight: 3 }),
      600,
    );
  }, 60_000);
});

describe('Fuzz: afterwards', () => {
  it('replays every saved regression case as a refusal', async () => {
    // Prepare
    const saved = await loadRegressions(REGRESSIONS);

    // Act
    const results = await Promise.all(
      saved.map(async ({ file, regression }) => ({ file, problems: await probe(regression.case) })),
    );

    // Assess
    expect(results.filter((result) => result.problems.length > 0)).toEqual([]);
  });

  it('still answers /v1/health, and logged no 5xx and no token', async () => {
    // Act
    const health = await client.send({
      method: 'GET',
      path: '/v1/health',
      headers: { accept: 'application/json' },
    });

    // Assess
    expect(health.status).toBe(200);
    expect(health.json.status).toBe('ok');
    expect(logLines.filter((line) => / 5\d\d /.test(line) || /internal error/.test(line))).toEqual([]);
    expect(logLines.filter((line) => tokens.some((token) => line.includes(token.split('.')[2])))).toEqual([]);
  });
});
