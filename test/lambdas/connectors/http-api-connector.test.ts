import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { HttpApiConnector } from '../../../lambdas/connectors/http-api/http-api-connector';
import type { SecretSource } from '../../../lambdas/core/ports';
import { loadConfig } from '../../../lib/config/load-config';
import type { HttpApiConnectorConfig } from '../../../lib/config/schema';
import { type SampleErp, startSampleErp } from '../../../local/sample-erp';
import { refusalAsync } from '../support/refusal';
import { createThrowawayTls, type ThrowawayTls } from './throwaway-tls';

const config = loadConfig(join(__dirname, '../../../config/airlock.config.yaml'));
const erpConfig = config.connectors['erp'] as HttpApiConnectorConfig;
const CLIENT_ID = 'airlock-pilot';
// Characters that client_secret_basic must form-encode (RFC 6749 §2.3.1).
const CLIENT_SECRET = 'test secret: with+special/chars=';

const secretSource = (
  value: Record<string, string> = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
) => {
  const reads: string[] = [];
  const source: SecretSource & { reads: string[] } = {
    reads,
    async getJson(name: string) {
      reads.push(name);
      return value;
    },
  };
  return source;
};

let tls: ThrowawayTls;
const connectors: HttpApiConnector[] = [];

function connector(
  overrides: Partial<HttpApiConnectorConfig>,
  source: SecretSource = secretSource(),
  ca = tls.ca,
) {
  const created = new HttpApiConnector('erp', { ...erpConfig, ...overrides }, { secretSource: source, ca });
  connectors.push(created);
  return created;
}

beforeAll(() => {
  tls = createThrowawayTls();
});

afterEach(() => {
  for (const created of connectors.splice(0)) created.close();
});

describe('Class: HttpApiConnector (against the sample ERP over HTTPS)', () => {
  let erp: SampleErp;
  const local = (): Partial<HttpApiConnectorConfig> => ({ baseUrl: erp.url, allowedHosts: ['127.0.0.1'] });

  beforeEach(async () => {
    erp = await startSampleErp({ tls, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  });

  afterEach(async () => {
    await erp.close();
  });

  describe('Method: invoke', () => {
    it('looks up GL codes', async () => {
      // Prepare
      const erpConnector = connector(local());

      // Act
      const { result, documents, bytesOut } = await erpConnector.invoke(
        'lookupGlCode',
        { query: 'travel' },
        { requestId: 'req-1' },
      );

      // Assess
      expect(result).toEqual({
        matches: [
          { code: '6400', name: 'Travel' },
          { code: '6410', name: 'Travel - Taxi and Ground Transport' },
          { code: '6420', name: 'Travel - Lodging' },
        ],
      });
      expect(documents).toEqual([{ id: 'GET /api/gl-codes', bytes: Buffer.from(JSON.stringify(result)) }]);
      expect(bytesOut).toBe(Buffer.byteLength(JSON.stringify(result)));
    });

    it('creates a journal entry with exactly the configured body', async () => {
      // Prepare
      const erpConnector = connector(local());
      const entry = { glCode: '6600', amount: 1430, currency: 'EUR', memo: 'CloudSummit Europe 2026 pass' };

      // Act
      const { result } = await erpConnector.invoke('createJournalEntry', entry, { requestId: 'req-2' });

      // Assess
      expect(result).toEqual({ entryId: 'JE-000001' });
      expect(erp.journalEntries()).toEqual([expect.objectContaining({ entryId: 'JE-000001', ...entry })]);
    });

    it('asks for one token for many calls, concurrent ones included', async () => {
      // Prepare
      const source = secretSource();
      const erpConnector = connector(local(), source);

      // Act
      const concurrent = await Promise.all(
        ['taxi', 'lodging', 'meals'].map((query) =>
          erpConnector.invoke('lookupGlCode', { query }, { requestId: `req-${query}` }),
        ),
      );
      const later = await erpConnector.invoke('lookupGlCode', { query: 'rent' }, { requestId: 'req-rent' });

      // Assess
      expect(erp.calls()).toMatchObject({ token: 1, glCodes: 4 });
      expect(source.reads).toEqual([erpConfig.auth.secretName]);
      // The one secret read is priced once, to the call that caused it.
      expect(concurrent.map((r) => r.secretReads)).toEqual([1, 0, 0]);
      expect(later.secretReads).toBe(0);
    });

    it('fetches a fresh token once when the ERP answers 401', async () => {
      // Prepare
      const erpConnector = connector(local());
      await erpConnector.invoke('lookupGlCode', { query: 'rent' }, { requestId: 'req-a' });
      erp.revokeTokens();

      // Act
      const { result, secretReads } = await erpConnector.invoke(
        'lookupGlCode',
        { query: 'rent' },
        { requestId: 'req-b' },
      );

      // Assess
      expect(result).toEqual({ matches: [{ code: '6100', name: 'Rent' }] });
      expect(erp.calls()).toMatchObject({ token: 2, glCodes: 3 });
      expect(secretReads).toBe(1);
    });

    it('refuses a destination outside allowedHosts before any connection', async () => {
      // Prepare: the base URL points at the ERP, but only erp.example.com is allowed
      const erpConnector = connector({ baseUrl: erp.url, allowedHosts: ['erp.example.com'] });

      // Act
      const error = await refusalAsync(() =>
        erpConnector.invoke('lookupGlCode', { query: 'x' }, { requestId: 'req-3' }),
      );

      // Assess
      expect(error.code).toBe('forbidden');
      expect(error.message).toContain('"127.0.0.1" is not in the connector\'s allowedHosts');
      expect(erp.calls().total).toBe(0);
    });

    it('refuses bad parameters before any connection', async () => {
      // Prepare
      const erpConnector = connector(local());

      // Act
      const error = await refusalAsync(() =>
        erpConnector.invoke(
          'createJournalEntry',
          { glCode: '6600', amount: -5, currency: 'EUR', memo: 'x' },
          { requestId: 'req-4' },
        ),
      );

      // Assess
      expect(error.code).toBe('invalid_request');
      expect(error.message).toContain('parameter "amount"');
      expect(erp.calls().total).toBe(0);
    });

    it('reports refused client credentials without revealing the secret', async () => {
      // Prepare
      const wrong = 'wrong-secret-that-must-not-leak';
      const erpConnector = connector(local(), secretSource({ clientId: CLIENT_ID, clientSecret: wrong }));

      // Act
      const error = await refusalAsync(() =>
        erpConnector.invoke('lookupGlCode', { query: 'x' }, { requestId: 'req-5' }),
      );

      // Assess
      expect(error.code).toBe('upstream_error');
      expect(error.message).toContain('the token endpoint refused the client credentials (HTTP 401)');
      expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain(wrong);
      expect(erp.calls()).toMatchObject({ token: 1, glCodes: 0 });
    });

    it('reports a secret without the OAuth2 fields', async () => {
      // Prepare
      const erpConnector = connector(local(), secretSource({ clientId: CLIENT_ID }));

      // Act
      const error = await refusalAsync(() =>
        erpConnector.invoke('lookupGlCode', { query: 'x' }, { requestId: 'req-6' }),
      );

      // Assess
      expect(error.code).toBe('upstream_error');
      expect(error.message).toContain('must hold the fields clientId and clientSecret');
      expect(erp.calls().total).toBe(0);
    });

    it('refuses an ERP whose certificate it does not trust', async () => {
      // Prepare: trusts another CA only
      const erpConnector = connector(local(), secretSource(), createThrowawayTls('Some other CA').ca);

      // Act
      const error = await refusalAsync(() =>
        erpConnector.invoke('lookupGlCode', { query: 'x' }, { requestId: 'req-7' }),
      );

      // Assess
      expect(error.code).toBe('upstream_error');
      expect(error.message).toMatch(/could not be reached \([A-Z_]+\)/);
    });

    it('answers not_found for an operation the connector does not have', async () => {
      // Act
      const error = await refusalAsync(() =>
        connector(local()).invoke('deleteLedger', {}, { requestId: 'req-8' }),
      );

      // Assess
      expect(error.code).toBe('not_found');
      expect(erp.calls().total).toBe(0);
    });
  });

  describe('Method: describe', () => {
    it('previews the exact call without secrets and without calling the ERP', () => {
      // Prepare
      const erpConnector = connector(local());

      // Act
      const lookup = erpConnector.describe('lookupGlCode', { query: 'taxi & ground' });
      const entry = erpConnector.describe('createJournalEntry', {
        glCode: '6410',
        amount: 38.5,
        currency: 'EUR',
        memo: 'Taxi to client',
      });

      // Assess
      expect(lookup).toEqual({
        method: 'GET',
        url: `${erp.url}/gl-codes?query=taxi+%26+ground`,
        destinationHost: '127.0.0.1',
      });
      expect(entry).toEqual({
        method: 'POST',
        url: `${erp.url}/journal-entries`,
        body: { glCode: '6410', amount: 38.5, currency: 'EUR', memo: 'Taxi to client' },
        destinationHost: '127.0.0.1',
      });
      expect(JSON.stringify([lookup, entry])).not.toContain(CLIENT_SECRET);
      expect(erp.calls().total).toBe(0);
    });

    it('refuses to preview a call to a host outside allowedHosts', () => {
      // Prepare
      const erpConnector = connector({ baseUrl: erp.url, allowedHosts: ['erp.example.com'] });

      // Act / Assess
      expect(() => erpConnector.describe('lookupGlCode', { query: 'x' })).toThrow(/allowedHosts/);
    });
  });

  it('refuses a config whose path names an undeclared parameter', () => {
    // Prepare
    const lookup = erpConfig.operations['lookupGlCode'];

    // Act / Assess
    expect(() =>
      connector({ ...local(), operations: { lookup: { ...lookup, path: '/gl-codes/{code}' } } }),
    ).toThrow('"code" (used in the path or bodyParameters) is not a declared parameter');
  });
});

/** An upstream that misbehaves on purpose; its token endpoint works. */
describe('Class: HttpApiConnector (against a misbehaving upstream)', () => {
  let server: Server;
  let baseUrl: string;
  const received: {
    method?: string;
    url?: string;
    body: string;
    authorization?: string;
    requestId?: string | string[];
  }[] = [];
  const LEAKY_BODY = 'Internal error: token=upstream-session-abc123';

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse, body: string) => void> = {
    'POST /api/oauth/token': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'tok-1', token_type: 'Bearer', expires_in: 3600 }));
    },
    'GET /api/slow': () => {
      // Never answers.
    },
    'GET /api/huge': (_req, res) => {
      // Chunked (no content-length): 128 KiB of a JSON array, then the answer stays open.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
      for (let i = 0; i < 8; i++) res.write(`"${'x'.repeat(16 * 1024)}",`);
    },
    'GET /api/declared-huge': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024) });
      res.write('[');
    },
    'GET /api/html': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>Login</html>');
    },
    'GET /api/broken-json': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"matches": [');
    },
    'GET /api/fail': (_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: LEAKY_BODY }));
    },
    'GET /api/redirect': (_req, res) => {
      res.writeHead(302, { location: 'https://evil.example.net/' });
      res.end();
    },
  };

  const get = (path: string) => ({
    description: `GET ${path}`,
    access: 'read' as const,
    action: 'Read' as const,
    classification: 'internal' as const,
    method: 'GET' as const,
    path,
    parameters: {},
    bodyParameters: [],
  });

  const misbehaving = (): Partial<HttpApiConnectorConfig> => ({
    baseUrl,
    allowedHosts: ['127.0.0.1'],
    timeoutMs: 2000,
    maxResponseBytes: 64 * 1024,
    operations: {
      slow: get('/slow'),
      huge: get('/huge'),
      declaredHuge: get('/declared-huge'),
      html: get('/html'),
      brokenJson: get('/broken-json'),
      fail: get('/fail'),
      redirect: get('/redirect'),
      echo: {
        ...get('/echo/{segment}'),
        parameters: { segment: { type: 'string', description: 'a path segment', required: true } },
      },
      post: {
        ...get('/echo/{segment}'),
        method: 'POST',
        bodyParameters: ['amount'],
        parameters: {
          segment: { type: 'string', description: 'a path segment', required: true },
          amount: { type: 'number', description: 'an amount', required: true },
          dryRun: { type: 'boolean', description: 'a flag', required: false },
        },
      },
    },
  });

  beforeAll(async () => {
    server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        received.push({
          method: req.method,
          url: req.url,
          body,
          authorization: req.headers.authorization,
          requestId: req.headers['x-request-id'],
        });
        const path = new URL(req.url ?? '/', 'https://127.0.0.1').pathname;
        const route = routes[`${req.method} ${path}`];
        if (route) return route(req, res, body);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, url: req.url, body: body ? JSON.parse(body) : null }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    received.length = 0;
  });

  it.each([
    ['streams more than the response limit', 'huge', 'the upstream answered more than 65536 bytes'],
    ['declares more than the response limit', 'declaredHuge', 'the upstream answered more than 65536 bytes'],
    ['answers HTML', 'html', 'the upstream did not answer with JSON'],
    ['answers malformed JSON', 'brokenJson', 'the upstream answered malformed JSON'],
    ['answers 500', 'fail', 'the upstream answered HTTP 500'],
    ['redirects elsewhere', 'redirect', 'the upstream answered HTTP 302'],
  ])('refuses an upstream that %s as upstream_error', async (_case, operation, expected) => {
    // Prepare
    const upstream = connector(misbehaving());
    const started = Date.now();

    // Act
    const error = await refusalAsync(() => upstream.invoke(operation, {}, { requestId: 'req-x' }));

    // Assess
    expect(error.code).toBe('upstream_error');
    expect(error.message).toBe(`Connector "erp": ${expected}.`);
    expect(error.message).not.toContain('tok-1');
    expect(error.message).not.toContain(LEAKY_BODY);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('gives up on an upstream that never answers after timeoutMs', async () => {
    // Prepare
    const upstream = connector({ ...misbehaving(), timeoutMs: 500 });
    const started = Date.now();

    // Act
    const error = await refusalAsync(() => upstream.invoke('slow', {}, { requestId: 'req-s' }));

    // Assess
    expect(error.code).toBe('upstream_error');
    expect(error.message).toBe('Connector "erp": the upstream did not answer within 500 ms.');
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops waiting when the caller cancels', async () => {
    // Prepare
    const upstream = connector({ ...misbehaving(), timeoutMs: 10_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);

    // Act
    const error = await refusalAsync(() =>
      upstream.invoke('slow', {}, { requestId: 'req-y', signal: controller.signal }),
    );

    // Assess
    expect(error.code).toBe('upstream_error');
    expect(error.message).toContain('cancelled');
  });

  it('URL-encodes path parameters so they cannot climb out of the base path', async () => {
    // Prepare
    const upstream = connector(misbehaving());

    // Act
    const { result } = await upstream.invoke(
      'echo',
      { segment: '../../admin?x=1#y' },
      { requestId: 'req-z' },
    );
    const dots = await refusalAsync(() =>
      upstream.invoke('echo', { segment: '..' }, { requestId: 'req-z2' }),
    );

    // Assess
    expect(result).toMatchObject({ method: 'GET', url: '/api/echo/..%2F..%2Fadmin%3Fx%3D1%23y' });
    expect(dots.code).toBe('invalid_request');
    expect(dots.message).toContain('must not be empty, "." or ".."');
    expect(received.filter((r) => r.url?.startsWith('/api/echo'))).toHaveLength(1);
  });

  it('sends bodyParameters as JSON and the rest as the query, with the bearer token', async () => {
    // Prepare
    const upstream = connector(misbehaving());

    // Act
    const { result } = await upstream.invoke(
      'post',
      { segment: 'entries', amount: 12.5, dryRun: true },
      { requestId: 'req-p' },
    );

    // Assess
    expect(result).toEqual({ method: 'POST', url: '/api/echo/entries?dryRun=true', body: { amount: 12.5 } });
    const sent = received.find((r) => r.method === 'POST' && r.url?.startsWith('/api/echo'));
    expect(sent).toMatchObject({ authorization: 'Bearer tok-1', requestId: 'req-p' });
  });

  it('authenticates to the token endpoint with client_secret_basic', async () => {
    // Prepare
    const upstream = connector(misbehaving());

    // Act
    await upstream.invoke('echo', { segment: 'a' }, { requestId: 'req-t' });

    // Assess
    const tokenRequest = received.find((r) => r.url === '/api/oauth/token');
    expect(tokenRequest?.body).toBe('grant_type=client_credentials');
    const basic = Buffer.from(tokenRequest?.authorization?.replace(/^Basic /, '') ?? '', 'base64').toString();
    expect(basic).toBe(`${CLIENT_ID}:test+secret%3A+with%2Bspecial%2Fchars%3D`);
  });
});
