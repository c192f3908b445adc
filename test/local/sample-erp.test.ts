import { request } from 'node:https';
import { SAMPLE_CHART_OF_ACCOUNTS, type SampleErp, startSampleErp } from '../../local/sample-erp';
import { createThrowawayTls, type ThrowawayTls } from '../lambdas/connectors/throwaway-tls';

const CLIENT_ID = 'airlock-pilot';
const CLIENT_SECRET = 'sample-erp-test-secret';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, unknown>;
}

let tls: ThrowawayTls;
let erp: SampleErp;

/** One HTTPS call to the sample ERP, trusting the test CA only. */
function call(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string } = {},
) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request(`${erp.url}${path}`, { method, headers: options.headers, ca: tls.ca }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text) }),
      );
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

async function token(): Promise<string> {
  const answer = await call('POST', '/oauth/token', {
    headers: {
      authorization: basic(CLIENT_ID, CLIENT_SECRET),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  return answer.json['access_token'] as string;
}

const jsonPost = (bearer: string, body: unknown) => ({
  headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

describe('Function: startSampleErp', () => {
  beforeAll(() => {
    tls = createThrowawayTls();
  });

  beforeEach(async () => {
    erp = await startSampleErp({
      tls,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      tokenLifetimeSeconds: 600,
    });
  });

  afterEach(async () => {
    await erp.close();
  });

  it('listens on 127.0.0.1 under the /api base path', () => {
    // Act / Assess
    expect(erp.url).toBe(`https://127.0.0.1:${erp.port}/api`);
  });

  describe('Route: POST /api/oauth/token', () => {
    it('issues an opaque bearer token to the configured client', async () => {
      // Act
      const answer = await call('POST', '/oauth/token', {
        headers: {
          authorization: basic(CLIENT_ID, CLIENT_SECRET),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
      });

      // Assess
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 600,
      });
      expect(answer.headers['cache-control']).toBe('no-store');
    });

    it('accepts the credentials in the form body too (client_secret_post)', async () => {
      // Act
      const answer = await call('POST', '/oauth/token', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `grant_type=client_credentials&client_id=${CLIENT_ID}&client_secret=${CLIENT_SECRET}`,
      });

      // Assess
      expect(answer.status).toBe(200);
    });

    it('refuses a wrong secret and another grant type', async () => {
      // Act
      const wrong = await call('POST', '/oauth/token', {
        headers: { authorization: basic(CLIENT_ID, 'guess') },
        body: 'grant_type=client_credentials',
      });
      const password = await call('POST', '/oauth/token', {
        headers: { authorization: basic(CLIENT_ID, CLIENT_SECRET) },
        body: 'grant_type=password&username=a&password=b',
      });

      // Assess
      expect(wrong.status).toBe(401);
      expect(wrong.json).toEqual({ error: 'invalid_client' });
      expect(password.status).toBe(400);
      expect(password.json).toEqual({ error: 'unsupported_grant_type' });
    });
  });

  describe('Route: GET /api/gl-codes', () => {
    it('finds GL codes by name', async () => {
      // Prepare
      const bearer = await token();

      // Act
      const answer = await call('GET', '/gl-codes?query=meals', {
        headers: { authorization: `Bearer ${bearer}` },
      });

      // Assess
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({ matches: [{ code: '6500', name: 'Meals and Entertainment' }] });
    });

    it('requires a bearer token it issued', async () => {
      // Act
      const none = await call('GET', '/gl-codes?query=travel');
      const forged = await call('GET', '/gl-codes?query=travel', {
        headers: { authorization: 'Bearer forged' },
      });

      // Assess
      expect(none.status).toBe(401);
      expect(forged.status).toBe(401);
      expect(forged.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    });

    it('refuses tokens after they are revoked', async () => {
      // Prepare
      const bearer = await token();
      erp.revokeTokens();

      // Act
      const answer = await call('GET', '/gl-codes?query=rent', {
        headers: { authorization: `Bearer ${bearer}` },
      });

      // Assess
      expect(answer.status).toBe(401);
    });
  });

  describe('Route: POST /api/journal-entries', () => {
    it('creates an entry and keeps it for the test to inspect', async () => {
      // Prepare
      const bearer = await token();
      const entry = { glCode: '6420', amount: 365, currency: 'GBP', memo: 'Harbour View Hotel, 2 nights' };

      // Act
      const answer = await call('POST', '/journal-entries', jsonPost(bearer, entry));

      // Assess
      expect(answer.status).toBe(201);
      expect(answer.json).toEqual({ entryId: 'JE-000001' });
      expect(erp.journalEntries()).toEqual([
        { entryId: 'JE-000001', ...entry, createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
      ]);
    });

    it.each([
      ['an unknown GL code', { glCode: '9999', amount: 10, currency: 'EUR', memo: 'x' }, 'glCode'],
      ['a negative amount', { glCode: '6400', amount: -1, currency: 'EUR', memo: 'x' }, 'amount'],
      ['fractions of a cent', { glCode: '6400', amount: 1.234, currency: 'EUR', memo: 'x' }, 'amount'],
      ['a lower-case currency', { glCode: '6400', amount: 1, currency: 'eur', memo: 'x' }, 'currency'],
      ['an empty memo', { glCode: '6400', amount: 1, currency: 'EUR', memo: '' }, 'memo'],
      [
        'an extra field',
        { glCode: '6400', amount: 1, currency: 'EUR', memo: 'x', approved: true },
        'approved',
      ],
    ])('refuses %s', async (_case, body, field) => {
      // Prepare
      const bearer = await token();

      // Act
      const answer = await call('POST', '/journal-entries', jsonPost(bearer, body));

      // Assess
      expect(answer.status).toBe(400);
      expect(answer.json['message']).toContain(field);
      expect(erp.journalEntries()).toEqual([]);
    });

    it('requires a bearer token', async () => {
      // Act
      const answer = await call('POST', '/journal-entries', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ glCode: '6400', amount: 1, currency: 'EUR', memo: 'x' }),
      });

      // Assess
      expect(answer.status).toBe(401);
      expect(erp.journalEntries()).toEqual([]);
    });
  });

  describe('Method: calls', () => {
    it('counts every request by route, refused ones included', async () => {
      // Prepare
      const bearer = await token();
      await call('GET', '/gl-codes?query=rent', { headers: { authorization: `Bearer ${bearer}` } });
      await call('GET', '/gl-codes?query=rent');
      await call('GET', '/nowhere');

      // Act
      const calls = erp.calls();

      // Assess
      expect(calls).toEqual({ token: 1, glCodes: 2, journalEntries: 0, other: 1, total: 4 });
    });
  });

  it('has a chart of accounts of 4-digit codes with Travel at 6400', () => {
    // Act / Assess
    expect(SAMPLE_CHART_OF_ACCOUNTS.length).toBeGreaterThanOrEqual(15);
    expect(SAMPLE_CHART_OF_ACCOUNTS.every((account) => /^\d{4}$/.test(account.code))).toBe(true);
    expect(SAMPLE_CHART_OF_ACCOUNTS).toContainEqual({ code: '6400', name: 'Travel' });
  });
});
