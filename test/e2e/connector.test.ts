/**
 * The seed's expense workflow end to end over real mutual TLS against the local pilot: every call
 * goes through token verification, the kill switch, scopes, Cedar, the connector, DLP and the audit.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import { SAMPLE_RECEIPT_WITH_PERSONAL_DATA } from '../../local/sample-receipts';
import { tinyPdf } from '../lambdas/support/tiny-pdf';
import { type E2eClient, e2eClientFor } from './e2e-client';

describe('Local pilot: the expense-summary workflow through the connector proxy', () => {
  let home: string;
  let pilot: LocalPilot;
  let alice: E2eClient;
  let token: string;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-connector-'));
    pilot = await startLocalPilot({ home, port: 0 });
    alice = e2eClientFor(pilot, 'alice');
    token = await alice.getToken('expense-summary', ['receipts:read', 'erp:read', 'erp:write'], 30);
  });

  afterAll(async () => {
    alice?.close();
    await pilot?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('lets alice list the receipts', async () => {
    // Act
    const response = await alice.request('POST', '/v1/connectors/receipts/list', { token, body: {} });

    // Assess
    expect(response.status).toBe(200);
    expect(response.json.result.items).toEqual(
      expect.arrayContaining([
        { key: SAMPLE_RECEIPT_WITH_PERSONAL_DATA, size: expect.any(Number), modified: expect.any(String) },
      ]),
    );
    expect(response.json.requestId).toEqual(expect.any(String));
  });

  it('lets alice read a receipt, with the e-mail address and phone number redacted and counted', async () => {
    // Act
    const response = await alice.request('POST', '/v1/connectors/receipts/read', {
      token,
      body: { key: SAMPLE_RECEIPT_WITH_PERSONAL_DATA, intent: 'summarize Q3 hotel costs' },
    });

    // Assess
    expect(response.status).toBe(200);
    const { content } = response.json.result;
    expect(content).toContain('[redacted:email]');
    expect(content).toContain('[redacted:phone]');
    expect(content).not.toMatch(/[\w.+-]+@[\w-]+\.[\w.]+/);
    expect(content).toContain('GBP  365.00');
    expect(response.json.redactions).toBeGreaterThanOrEqual(2);
  });

  describe('attack: a receipt that is not UTF-8 text used to come back as base64, personal data unscanned', () => {
    beforeAll(async () => {
      const folder = join(home, 'receipts', '2026-q4');
      await mkdir(folder, { recursive: true });
      await writeFile(
        join(folder, 'hotel-adler.pdf'),
        tinyPdf({
          pages: [
            [
              'HOTEL ADLER, Berlin',
              'Guest: Jörg Müller <jorg.muller@example.de>, Tel. 089/12345678',
              'Paid by Visa 4111.1111.1111.1111',
              'TOTAL EUR 378.00',
            ],
          ],
        }),
      );
      await writeFile(
        join(folder, 'cafe-latin1.txt'),
        Buffer.from(
          'CAFÉ MÜLLER\nGast: _alice@example.com, Tél 0044 20 7946 0958\nSumme EUR 12,50\n',
          'latin1',
        ),
      );
    });

    it.each([
      ['a PDF receipt', '2026-q4/hotel-adler.pdf', 'application/pdf (PDF)', 'TOTAL EUR 378.00'],
      [
        'a Latin-1 text receipt',
        '2026-q4/cafe-latin1.txt',
        'application/octet-stream (text (windows-1252))',
        'CAFÉ MÜLLER',
      ],
    ])(
      'reads %s as text with the personal data redacted and counted',
      async (_label, key, extractedFrom, kept) => {
        // Act
        const response = await alice.request('POST', '/v1/connectors/receipts/read', {
          token,
          body: { key },
        });

        // Assess
        expect(response.status).toBe(200);
        const { result } = response.json;
        expect(result.contentType).toBe('text/plain; charset=utf-8');
        expect(result.extractedFrom).toBe(extractedFrom);
        expect(result.content).toContain(kept);
        expect(result.content).toContain('[redacted:email]');
        expect(result.content).toContain('[redacted:phone]');
        expect(result.content).not.toMatch(/@example|12345678|7946|4111/);
        expect(response.json.redactions).toBeGreaterThanOrEqual(2);
      },
    );
  });

  it('lets alice look up a GL code in the ERP', async () => {
    // Act
    const response = await alice.request('POST', '/v1/connectors/erp/lookupGlCode', {
      token,
      body: { query: 'travel' },
    });

    // Assess
    expect(response.status).toBe(200);
    expect(response.json.result.matches).toEqual(
      expect.arrayContaining([
        { code: expect.stringMatching(/^\d{4}$/), name: expect.stringMatching(/travel/i) },
      ]),
    );
  });

  it('creates a journal entry below the approval threshold directly', async () => {
    // Prepare
    const before = pilot.sampleErp.journalEntries().length;

    // Act
    const response = await alice.request('POST', '/v1/connectors/erp/createJournalEntry', {
      token,
      body: { glCode: '6400', amount: 250, currency: 'EUR', memo: 'Team lunch Q3' },
    });

    // Assess
    expect(response.status).toBe(200);
    expect(response.json.result).toEqual({ entryId: expect.any(String) });
    expect(pilot.sampleErp.journalEntries()).toHaveLength(before + 1);
  });

  it('holds a journal entry above the threshold for a manager: 202, nothing written upstream', async () => {
    // Prepare
    const before = pilot.sampleErp.journalEntries().length;

    // Act
    const response = await alice.request('POST', '/v1/connectors/erp/createJournalEntry', {
      token,
      body: { glCode: '6400', amount: 2500, currency: 'EUR', memo: 'Conference travel Q3' },
    });

    // Assess
    expect(response.status).toBe(202);
    expect(response.json.approval).toMatchObject({
      id: expect.stringMatching(/^apr_[0-9a-f]{32}$/),
      status: 'pending',
      approverGroup: 'managers',
      preview: {
        call: { method: 'POST', body: { amount: 2500 } },
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    });
    expect(pilot.sampleErp.journalEntries()).toHaveLength(before);
  });

  it('refuses mallory any token, so she reaches no connector', async () => {
    // Prepare
    const mallory = e2eClientFor(pilot, 'mallory');

    // Act
    const response = await mallory.request('POST', '/v1/credentials', {
      body: { workflow: 'expense-summary', scopes: ['receipts:read'], durationMinutes: 5 },
    });
    const withAlicesToken = await mallory.request('POST', '/v1/connectors/receipts/list', {
      token,
      body: {},
    });
    mallory.close();

    // Assess
    expect(response.status).toBe(403);
    expect(withAlicesToken.status).toBe(401);
    expect(withAlicesToken.json.error.reasons).toEqual(['certificate_mismatch']);
  });

  it.each([
    '../secrets/airlock_pilot_erp-client.json',
    '2026-q3/../../certs/ca.key.pem',
    '/etc/passwd',
    '%2e%2e/x',
  ])('refuses the path %s without reading anything outside the receipts folder', async (key) => {
    // Act
    const response = await alice.request('POST', '/v1/connectors/receipts/read', { token, body: { key } });

    // Assess
    expect([400, 403]).toContain(response.status);
    expect(response.json.error.code).toMatch(/invalid_request|forbidden/);
    expect(response.text).not.toContain('BEGIN');
    expect(response.text).not.toContain('clientSecret');
  });

  it.each([
    ['an unknown operation', '/v1/connectors/receipts/delete', {}, 404],
    ['an unknown connector', '/v1/connectors/crm/list', {}, 404],
    ['a parameter of the wrong type', '/v1/connectors/erp/lookupGlCode', { query: 42 }, 400],
    ['an extra parameter', '/v1/connectors/erp/lookupGlCode', { query: 'travel', limit: 5 }, 400],
  ])('answers %s with the error contract', async (_case, path, body, status) => {
    // Act
    const response = await alice.request('POST', path, { token, body });

    // Assess
    expect(response.status).toBe(status);
    expect(response.json.error).toMatchObject({ message: expect.any(String), requestId: expect.any(String) });
  });

  it('refuses a call with a token lacking the scope', async () => {
    // Prepare
    const readOnly = await alice.getToken('expense-summary', ['erp:read'], 5);

    // Act
    const response = await alice.request('POST', '/v1/connectors/erp/createJournalEntry', {
      token: readOnly,
      body: { glCode: '6400', amount: 10, currency: 'EUR', memo: 'x' },
    });

    // Assess
    expect(response.status).toBe(403);
    expect(response.json.error.reasons).toEqual(['missing-scope:erp:write']);
  });
});

describe('Local pilot: the audit ledger fails closed', () => {
  it('refuses a journal entry, and calls nothing upstream, when the ledger refuses the write', async () => {
    // Prepare
    const home = await mkdtemp(join(tmpdir(), 'airlock-ledger-down-'));
    let ledgerDown = false;
    const pilot = await startLocalPilot({
      home,
      port: 0,
      wrapPorts: (ports) => ({
        ...ports,
        auditStore: {
          ...ports.auditStore,
          readRecord: ports.auditStore.readRecord?.bind(ports.auditStore),
          listChainHeads: () => ports.auditStore.listChainHeads(),
          readChain: (chainId, options) => ports.auditStore.readChain(chainId, options),
          append: async (record) => {
            if (ledgerDown) throw new Error('ProvisionedThroughputExceededException');
            return ports.auditStore.append(record);
          },
        },
      }),
    });
    const alice = e2eClientFor(pilot, 'alice');
    try {
      const token = await alice.getToken('expense-summary', ['erp:write'], 5);
      const callsBefore = pilot.sampleErp.calls().journalEntries;
      ledgerDown = true;

      // Act
      const response = await alice.request('POST', '/v1/connectors/erp/createJournalEntry', {
        token,
        body: { glCode: '6400', amount: 120, currency: 'EUR', memo: 'Taxi' },
      });
      const credentials = await alice.request('POST', '/v1/credentials', {
        body: { workflow: 'expense-summary', scopes: ['erp:read'], durationMinutes: 5 },
      });

      // Assess
      expect(response.status).toBe(503);
      expect(response.json.error).toMatchObject({
        code: 'unavailable',
        message: expect.stringMatching(/audit-ledger/),
      });
      expect(pilot.sampleErp.calls().journalEntries).toBe(callsBefore);
      expect(pilot.sampleErp.journalEntries()).toHaveLength(0);
      expect(credentials.status).toBe(503);
      expect(credentials.text).not.toContain('accessToken');
    } finally {
      alice.close();
      await pilot.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});
