import { MemoryCounterStore } from '../../../lambdas/adapters/local/memory-counter-store';
import { approvalPage } from '../../../lambdas/approvals/approvals-pages';
import { approvalNotice, chatNotice } from '../../../lambdas/core/approval-notice';
import { approvalPreviewText } from '../../../lambdas/core/approval-preview';
import { runDocumentsOf } from '../../../lambdas/core/connector-proxy';
import { AirlockError, DependencyError } from '../../../lambdas/core/errors';
import { MAX_RUN_DOCUMENTS } from '../../../lambdas/core/run-read-log';
import { TOOL_DEFINITION_CHANGED_REASON } from '../../../lib/contracts/metrics';
import { FakeClock } from '../support/fake-clock';
import { type PipelineFixture, pipelineFixture } from '../support/pipeline-fixture';
import { refusalAsync } from '../support/refusal';

const ERP_WRITE = ['erp:write'];
/** A JWT-shaped string (header and payload start with `{"`), as an agent might paste one. */
const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';

let fixtures: PipelineFixture[] = [];

function fixture(options: Parameters<typeof pipelineFixture>[0] = {}): PipelineFixture {
  const created = pipelineFixture(options);
  fixtures.push(created);
  return created;
}

afterEach(() => {
  for (const f of fixtures) f.close();
  fixtures = [];
});

describe('Class: ConnectorProxy', () => {
  describe('the principal’s daily amount (split entries)', () => {
    it('attack: a journal entry split into pieces under the threshold went through without approval', async () => {
      // Prepare: the threshold is EUR 1,000; alice books 600 and then 500.
      const f = fixture();
      const alice = f.caller('alice', ERP_WRITE);

      // Act
      const first = await f.proxy.call(alice, f.journalEntry(600));
      const second = await f.proxy.call(alice, f.journalEntry(500));

      // Assess: the second piece waits for a manager; only the first reached the ERP.
      expect(first.status).toBe('completed');
      expect(second.status).toBe('pending_approval');
      expect(f.erpCalls).toHaveLength(1);
      expect(f.records().at(-1)).toMatchObject({
        type: 'connector_pending',
        reasons: ['erp-daily-total-over-threshold-needs-approval'],
      });
    });

    it('counts across execution environments: pieces sent to two environments add up too', async () => {
      // Prepare: two Lambda environments, one counters table.
      const clock = new FakeClock(Date.parse('2026-11-02T09:00:00.000Z'));
      const counters = new MemoryCounterStore(clock);
      const one = fixture({ clock, counters });
      const two = fixture({ clock, counters });

      // Act
      await one.proxy.call(one.caller('alice', ERP_WRITE), one.journalEntry(700));
      const outcome = await two.proxy.call(two.caller('alice', ERP_WRITE), two.journalEntry(400));

      // Assess
      expect(outcome.status).toBe('pending_approval');
      expect(two.erpCalls).toHaveLength(0);
    });

    it('lets at most the threshold through without approval when pieces race', async () => {
      // Prepare
      const f = fixture();
      const alice = f.caller('alice', ERP_WRITE);

      // Act: six entries of 300 at once.
      const outcomes = await Promise.all(
        Array.from({ length: 6 }, () => f.proxy.call(alice, f.journalEntry(300))),
      );

      // Assess: 3 × 300 = 900 ran; the rest wait (a fourth would make 1,200).
      expect(outcomes.filter((o) => o.status === 'completed')).toHaveLength(3);
      expect(f.erpCalls).toHaveLength(3);
    });

    it('gives back the amount of a call that did not run: a held entry does not count', async () => {
      // Prepare
      const f = fixture();
      const alice = f.caller('alice', ERP_WRITE);
      expect((await f.proxy.call(alice, f.journalEntry(2500))).status).toBe('pending_approval');

      // Act
      const small = await f.proxy.call(alice, f.journalEntry(900));

      // Assess
      expect(small.status).toBe('completed');
    });

    it('counts each principal and each currency on its own, and starts again the next day (UTC)', async () => {
      // Prepare
      const f = fixture();
      await f.proxy.call(f.caller('alice', ERP_WRITE), f.journalEntry(900));

      // Act
      const bob = await f.proxy.call(f.caller('bob', ERP_WRITE), f.journalEntry(900));
      const inDollars = await f.proxy.call(f.caller('alice', ERP_WRITE), {
        ...f.journalEntry(900),
        params: { glCode: '6400', amount: 900, currency: 'USD', memo: 'x' },
      });
      f.clock.advance(24 * 3_600_000);
      const tomorrow = await f.proxy.call(f.caller('alice', ERP_WRITE), f.journalEntry(900));

      // Assess
      expect([bob.status, inDollars.status, tomorrow.status]).toEqual([
        'completed',
        'completed',
        'completed',
      ]);
    });

    it('refuses the call when the counters cannot be read (fail closed), and records the refusal', async () => {
      // Prepare
      const f = fixture();
      f.counters.failAdds = true;

      // Act
      const outcome = f.proxy.call(f.caller('alice', ERP_WRITE), f.journalEntry(100));

      // Assess
      await expect(outcome).rejects.toThrow(DependencyError);
      expect(f.erpCalls).toHaveLength(0);
      expect(f.records().at(-1)).toMatchObject({
        type: 'connector_denied',
        reasons: ['unavailable', 'dependency:counter-store'],
      });
    });
  });

  describe('the token’s resource', () => {
    it('attack: a token narrowed to 2026-q3/ read a receipt of another quarter', async () => {
      // Prepare
      const f = fixture();
      const narrowed = f.caller('alice', ['receipts:read'], { resource: '2026-q3/' });

      // Act
      const error = await refusalAsync(
        f.proxy.call(narrowed, {
          connector: 'receipts',
          operation: 'read',
          params: { key: '2026-q4/taxi.txt' },
          requestId: 'req-q4',
        }),
      );

      // Assess
      expect(error).toMatchObject({ code: 'forbidden', reasons: ['outside-token-resource'] });
      expect(error.message).toMatch(/start with "2026-q3\/"/);
      expect(f.records().at(-1)).toMatchObject({
        type: 'connector_denied',
        reasons: ['forbidden', 'outside-token-resource'],
      });
    });

    it('serves what lies within it: a key and a listing below the prefix', async () => {
      // Prepare
      const f = fixture();
      const narrowed = f.caller('alice', ['receipts:read'], { resource: '2026-q3/' });

      // Act
      const read = await f.proxy.call(narrowed, {
        connector: 'receipts',
        operation: 'read',
        params: { key: '2026-q3/hotel.txt' },
        requestId: 'r1',
      });
      const listed = await f.proxy.call(narrowed, {
        connector: 'receipts',
        operation: 'list',
        params: { prefix: '2026-q3/' },
        requestId: 'r2',
      });

      // Assess
      expect(read.status).toBe('completed');
      expect(listed).toMatchObject({ result: { items: [{ key: '2026-q3/hotel.txt' }] } });
    });

    it('refuses a listing wider than the prefix, saying which prefix to list', async () => {
      // Prepare
      const f = fixture();
      const narrowed = f.caller('alice', ['receipts:read'], { resource: '2026-q3/' });

      // Act
      const error = await refusalAsync(
        f.proxy.call(narrowed, { connector: 'receipts', operation: 'list', params: {}, requestId: 'r' }),
      );

      // Assess
      expect(error.message).toMatch(/list with a prefix that starts with "2026-q3\/"/);
    });

    it('refuses a narrowed token at a connector kind without resources (an HTTP API)', async () => {
      // Prepare
      const f = fixture();
      const narrowed = f.caller('alice', ['erp:read'], { resource: '2026-q3/' });

      // Act
      const error = await refusalAsync(
        f.proxy.call(narrowed, {
          connector: 'erp',
          operation: 'lookupGlCode',
          params: { query: 'travel' },
          requestId: 'r',
        }),
      );

      // Assess
      expect(error).toMatchObject({ code: 'forbidden', reasons: ['outside-token-resource'] });
      expect(error.message).toMatch(/Request a token without "resource" for erp/);
    });
  });

  describe('approvals and the audit trail', () => {
    async function approvedEntry(f: PipelineFixture) {
      const alice = f.caller('alice', ERP_WRITE);
      const call = f.journalEntry(2500);
      const held = await f.proxy.call(alice, call);
      if (held.status !== 'pending_approval') throw new Error('expected a held call');
      await f.approvals.decide({ id: held.approval.id, approver: 'bob', decision: 'approve', reason: 'ok' });
      return { alice, call: { ...call, approvalId: held.approval.id }, id: held.approval.id };
    }

    it('attack: a re-sent approved call used up its approval while the audit trail was down, without running', async () => {
      // Prepare
      const f = fixture();
      const { alice, call, id } = await approvedEntry(f);
      f.audit.failAppends = true;

      // Act
      const during = f.proxy.call(alice, call);

      // Assess: refused, nothing ran, and the approval is still there to use once the trail is back.
      await expect(during).rejects.toThrow(DependencyError);
      expect(f.approvalStore.records.get(id)?.status).toBe('approved');
      f.audit.failAppends = false;
      const after = await f.proxy.call(alice, call);
      expect(after.status).toBe('completed');
      expect(f.erpCalls).toHaveLength(1);
      expect(f.approvalStore.records.get(id)?.status).toBe('executed');
    });

    it('records the re-sent write, naming its approval, before the approval is used up', async () => {
      // Prepare
      const f = fixture();
      const { alice, call, id } = await approvedEntry(f);
      const statusWhenRecorded: (string | undefined)[] = [];
      const append = f.audit.append.bind(f.audit);
      f.audit.append = async (record) => {
        if (record.details?.stage === 'before_upstream')
          statusWhenRecorded.push(f.approvalStore.records.get(id)?.status);
        return append(record);
      };

      // Act
      await f.proxy.call(alice, call);

      // Assess
      expect(statusWhenRecorded).toEqual(['approved']);
      expect(f.records().find((r) => r.details?.stage === 'before_upstream')).toMatchObject({
        details: { approvalId: id },
      });
    });

    it('attack: a held call’s approval was stored with no record while the audit trail was down', async () => {
      // Prepare
      const f = fixture();
      f.audit.failAppends = true;

      // Act
      const outcome = f.proxy.call(f.caller('alice', ERP_WRITE), f.journalEntry(2500));

      // Assess: no approval exists that the trail does not name.
      await expect(outcome).rejects.toThrow(DependencyError);
      expect(f.approvalStore.records.size).toBe(0);
    });
  });

  describe('the documents the principal read before it asked', () => {
    const read = (key: string, n: number) => ({
      connector: 'receipts',
      operation: 'read',
      params: { key },
      requestId: `read-${n}`,
    });
    /** alice reads `keys` in turn, then asks for a journal entry that is held: its stored approval. */
    const heldAfterReading = async (f: PipelineFixture, keys: readonly string[]) => {
      const alice = f.caller('alice', ['receipts:read', ...ERP_WRITE]);
      for (const [n, key] of keys.entries()) await f.proxy.call(alice, read(key, n + 1));
      const held = await f.proxy.call(alice, f.journalEntry(2500));
      if (held.status !== 'pending_approval') throw new Error('expected a held call');
      const stored = f.approvalStore.records.get(held.approval.id);
      if (!stored) throw new Error('expected the approval to be stored');
      return stored;
    };

    it('gives a held write the documents its own run read before, with the hashes the audit records hold', async () => {
      // Prepare
      const f = fixture();

      // Act
      const stored = await heldAfterReading(f, ['2026-q3/hotel.txt', '2026-q4/taxi.txt']);

      // Assess
      const documents = stored.documents ?? [];
      expect(documents.map((d) => `${d.connector}/${d.operation} ${d.id}`)).toEqual([
        'receipts/read 2026-q3/hotel.txt',
        'receipts/read 2026-q4/taxi.txt',
      ]);
      const hashes = f
        .records()
        .filter((r) => r.type === 'connector_allowed' && r.operation === 'read')
        .flatMap((r) => r.docHashes);
      expect(documents.map((d) => d.sha256)).toEqual(hashes);
      // Each under the classification it was read with, which decides who is shown its name.
      expect(documents.map((d) => d.classification)).toEqual(['pii', 'pii']);
    });

    it('attack: the notice sent to the whole approver group names a confidential document the agent read (not every reader is cleared for it)', async () => {
      // Prepare: a held write after two reads; one of them is made confidential here.
      const f = fixture();
      const stored = await heldAfterReading(f, ['2026-q3/hotel.txt', '2026-q4/taxi.txt']);
      if (!stored.documents) throw new Error('expected documents on the approval');
      const record = {
        ...stored,
        documents: [
          stored.documents[0],
          { ...stored.documents[1], id: 'hr/salary-bands.md', classification: 'confidential' },
        ],
      };

      // Act
      const email = approvalNotice(record).message;
      const chat = chatNotice(record).content.description;

      // Assess: the pii receipt is named (its name holds no personal data), the confidential one withheld.
      for (const text of [email, chat]) {
        expect(text).toContain('2026-q3/hotel.txt');
        expect(text).toContain('[withheld: confidential document]');
        expect(text).not.toContain('salary-bands');
      }
    });

    it('attack: a document whose name holds personal data (an e-mail in a file key) is named whole to an approver not cleared for pii', async () => {
      // Prepare: alice reads a receipt filed under a customer's e-mail address, then asks for a write.
      const f = fixture();
      f.files.set('2026-q3/jane.doe@example.com.txt', 'Taxi, EUR 12.40');
      const stored = await heldAfterReading(f, ['2026-q3/jane.doe@example.com.txt']);

      // Act: what the notice says, and what bob (a manager, cleared for confidential, not pii) is shown.
      const email = approvalNotice(stored).message;
      const shown = await f.approvals.show('bob', stored.id);

      // Assess: redacted as a result would be for him; the stored record keeps the name for the audit.
      expect(stored.documents?.[0]?.id).toBe('2026-q3/jane.doe@example.com.txt');
      expect(email).not.toContain('jane.doe@example.com');
      expect(shown.documents?.[0]?.id).not.toContain('jane.doe@example.com');
      expect(shown.documents?.[0]?.id).toMatch(/^2026-q3\/.+\.txt$/);
      expect(shown.documents?.[0]).not.toHaveProperty('idRedacted');
    });

    it('redacts the personal data in a long name before cutting it to length (a cut address would escape the detectors)', () => {
      // Prepare: an address that straddles the 300th character of a name.
      const id = `${'x'.repeat(290)}/jane.doe@example.com.txt`;

      // Act
      const [kept] = runDocumentsOf(
        { connector: 'handbook', operation: 'search' },
        [{ id, sha256: 'a'.repeat(64), classification: 'confidential' }],
        new Date('2026-12-06T00:00:00.000Z'),
      );

      // Assess
      expect(kept?.id).toHaveLength(300);
      expect(kept?.classification).toBe('confidential');
      expect(kept?.idRedacted).toBeDefined();
      expect(kept?.idRedacted).not.toContain('jane.doe');
      expect(kept?.idRedacted).not.toContain('jane.doe@exa');
    });

    it('attack: a run that pads its list with cheap reads cannot hide the document it read last from the approver', async () => {
      // Prepare
      const f = fixture();
      const alice = f.caller('alice', ['receipts:read', ...ERP_WRITE]);
      for (let i = 0; i < MAX_RUN_DOCUMENTS; i += 1) await f.proxy.call(alice, read('2026-q3/hotel.txt', i));
      await f.proxy.call(alice, read('2026-q4/taxi.txt', MAX_RUN_DOCUMENTS));

      // Act
      const held = await f.proxy.call(alice, f.journalEntry(2500));

      // Assess: the approver is told one more document was read than the list shows
      if (held.status !== 'pending_approval') throw new Error('expected a held call');
      const record = f.approvalStore.records.get(held.approval.id);
      expect(record?.documents).toHaveLength(MAX_RUN_DOCUMENTS);
      expect(record?.documentsNotShown).toBe(1);
      const told = `and 1 more document(s) alice read through Airlock since ${record?.documentsSince} (any token, any workflow), not listed here (the audit trail names each one)`;
      expect(approvalNotice(record!).message).toContain(told);
      expect(chatNotice(record!).content.description).toContain(told);
      const page = approvalPage(
        { principal: 'bob', signOutAction: '/approvals/sign-out', signOutCsrf: 'csrf' },
        record!,
        approvalPreviewText(record!, f.config, '/approvals'),
      );
      expect(page.body).toContain(told);
    });

    it('attack: reading with one token and asking with a fresh one hid the reads from the approver', async () => {
      // Prepare: the agent reads with one token, then takes a fresh token to ask for the write
      const f = fixture();
      const earlierToken = f.caller('alice', ['receipts:read']);
      await f.proxy.call(earlierToken, read('2026-q3/hotel.txt', 1));
      f.clock.advance(20 * 60_000);
      const freshToken = f.caller('alice', ['receipts:read', ...ERP_WRITE]);

      // Act
      const held = await f.proxy.call(freshToken, f.journalEntry(2500));

      // Assess: the approver sees the read, and since when the list holds every read of alice's
      if (held.status !== 'pending_approval') throw new Error('expected a held call');
      const record = f.approvalStore.records.get(held.approval.id);
      expect(record?.documents?.map((d) => d.id)).toEqual(['2026-q3/hotel.txt']);
      expect(Date.parse(record?.documentsSince ?? '')).toBeLessThanOrEqual(
        f.clock.now().getTime() - 20 * 60_000,
      );
    });

    it('shows every read of a token still valid, across a window boundary, and none older than two windows', async () => {
      // Prepare: the longest token lifetime of the config is the window
      const f = fixture();
      const windowMs =
        Math.max(...Object.values(f.config.workflows).map((w) => w.maxTokenLifetimeMinutes)) * 60_000;
      const alice = () => f.caller('alice', ['receipts:read', ...ERP_WRITE]);
      await f.proxy.call(alice(), read('2026-q4/taxi.txt', 1));
      f.clock.advance(2 * windowMs);
      await f.proxy.call(alice(), read('2026-q3/hotel.txt', 2));
      // A token issued now lives at most one window: whenever it asks, its reads are in this window or the last.
      f.clock.advance(windowMs - 1);

      // Act
      const held = await f.proxy.call(alice(), f.journalEntry(2500));

      // Assess
      if (held.status !== 'pending_approval') throw new Error('expected a held call');
      const record = f.approvalStore.records.get(held.approval.id);
      expect(record?.documents?.map((d) => d.id)).toEqual(['2026-q3/hotel.txt']);
    });

    it('never shows another principal’s reads', async () => {
      // Prepare
      const f = fixture();
      const carol = f.caller('carol', ['receipts:read']);
      await f.proxy.call(carol, read('2026-q4/taxi.txt', 2)).catch(() => undefined);
      const alice = f.caller('alice', ['receipts:read', ...ERP_WRITE]);

      // Act
      const held = await f.proxy.call(alice, f.journalEntry(2500));

      // Assess
      if (held.status !== 'pending_approval') throw new Error('expected a held call');
      const record = f.approvalStore.records.get(held.approval.id);
      expect(record?.documents).toBeUndefined();
      expect(record?.documentsSince).toBeDefined();
    });

    it('still answers the read and holds the write when the run log does not answer (the audit trail has the hashes)', async () => {
      // Prepare
      const f = fixture();
      const alice = f.caller('alice', ['receipts:read', ...ERP_WRITE]);
      f.runReads.fail = true;

      // Act
      const answered = await f.proxy.call(alice, read('2026-q3/hotel.txt', 1));
      const held = await f.proxy.call(alice, f.journalEntry(2500));

      // Assess
      expect(answered.status).toBe('completed');
      expect(held.status).toBe('pending_approval');
      expect(f.runReadErrors).toHaveLength(2);
      // Both are metered, for the alarm: the read not noted, and the held write's list not looked up.
      expect(f.points.map((p) => [p.outcome, p.readLogFailures])).toEqual([
        ['allowed', 1],
        ['approval_requested', 1],
      ]);
    });

    it('meters no read-log failure when the read log answers', async () => {
      // Prepare
      const f = fixture();
      const alice = f.caller('alice', ['receipts:read', ...ERP_WRITE]);

      // Act
      await f.proxy.call(alice, read('2026-q3/hotel.txt', 1));
      await f.proxy.call(alice, f.journalEntry(2500));

      // Assess
      expect(f.points).toHaveLength(2);
      for (const point of f.points) expect(point).not.toHaveProperty('readLogFailures');
    });

    it('never tells the approver the run read nothing when its document list could not be read (fail closed)', async () => {
      // Prepare
      const f = fixture();
      const alice = f.caller('alice', ['receipts:read', ...ERP_WRITE]);
      await f.proxy.call(alice, read('2026-q3/hotel.txt', 1));
      f.runReads.fail = true;

      // Act
      const held = await f.proxy.call(alice, f.journalEntry(2500));

      // Assess
      if (held.status !== 'pending_approval') throw new Error('expected a held call');
      const record = f.approvalStore.records.get(held.approval.id);
      expect(record?.documentsUnavailable).toBe(true);
      const unknown = 'unknown: the list of documents alice read could not be looked up';
      expect(approvalNotice(record!).message).toContain(`Read before: ${unknown}`);
      expect(chatNotice(record!).content.description).toContain(unknown);
      const page = approvalPage(
        { principal: 'bob', signOutAction: '/approvals/sign-out', signOutCsrf: 'csrf' },
        record!,
        approvalPreviewText(record!, f.config, '/approvals'),
      );
      expect(page.body).toContain(unknown);
      expect(page.body).not.toContain('the agent read nothing');
    });
  });

  describe('an upstream that fails', () => {
    it.each([
      [
        'a secret it cannot read',
        () => new DependencyError('secrets manager', 'The secret could not be read.'),
        ['connector_failed', ['dependency:secrets-manager']],
        'failed',
      ],
      [
        'a refusal the connector makes itself',
        () => new AirlockError('payload_too_large', 'The upstream answered too much.'),
        ['connector_denied', ['payload_too_large']],
        'refused',
      ],
    ])(
      'attack on the trail: one failure (%s) was written twice, once as failed and once as denied, inflating the denial count',
      async (_name, failure, record, metered) => {
        // Prepare
        const f = fixture();
        const alice = f.caller('alice', ['erp:read']);
        f.failUpstreamWith(failure());

        // Act
        const outcome = f.proxy.call(alice, {
          connector: 'erp',
          operation: 'lookupGlCode',
          params: { query: 'travel' },
          requestId: 'req-fail',
        });

        // Assess: one record, naming the cause; one metered outcome.
        await expect(outcome).rejects.toThrow();
        const records = f.records().filter((r) => r.requestId === 'req-fail');
        expect(records.map((r) => [r.type, r.reasons])).toEqual([record]);
        expect(f.points.map((p) => p.outcome)).toEqual([metered]);
      },
    );
  });

  describe('the intent', () => {
    it('attack: a token pasted inside a sentence of intent reached the audit trail', async () => {
      // Prepare
      const f = fixture();

      // Act
      const error = await refusalAsync(
        f.proxy.call(f.caller('alice', ERP_WRITE), {
          ...f.journalEntry(100),
          intent: `Book the taxi; my session is ${JWT} if you need it.`,
        }),
      );

      // Assess: refused, nothing ran, and the refusal is on the record with the token masked.
      expect(error).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/^intent:/) });
      expect(f.erpCalls).toHaveLength(0);
      const refusal = f.records().at(-1);
      expect(refusal).toMatchObject({
        type: 'connector_denied',
        intent: 'Book the taxi; my session is [credential removed] if you need it.',
      });
      expect(JSON.stringify(f.records())).not.toContain(JWT);
    });
  });
  describe('data protection on the way out', () => {
    it('attack: a journal entry memo carried a customer’s e-mail address and phone number out to the ERP', async () => {
      // Prepare
      const f = fixture();
      const call = f.journalEntry(100);

      // Act
      const error = await refusalAsync(
        f.proxy.call(f.caller('alice', ERP_WRITE), {
          ...call,
          params: { ...call.params, memo: 'Refund for jane.doe@example.com, call +44 20 7946 0958' },
        }),
      );

      // Assess: refused by the policy, before anything reached the ERP, and on the record.
      expect(error).toMatchObject({ code: 'forbidden', reasons: ['personal-data-in-request'] });
      expect(f.erpCalls).toHaveLength(0);
      expect(f.records().at(-1)).toMatchObject({
        type: 'connector_denied',
        reasons: ['forbidden', 'personal-data-in-request'],
      });
      expect(JSON.stringify(f.records())).not.toContain('jane.doe@example.com');
    });

    it('attack: the personal data was base64-encoded to slip past the scan', async () => {
      // Prepare
      const f = fixture();
      const call = f.journalEntry(100);
      const hidden = Buffer.from(
        'Customer contact: jane.doe@example.com, IBAN GB82WEST12345698765432',
      ).toString('base64');

      // Act
      const error = await refusalAsync(
        f.proxy.call(f.caller('alice', ERP_WRITE), { ...call, params: { ...call.params, memo: hidden } }),
      );

      // Assess
      expect(error).toMatchObject({ code: 'forbidden', reasons: ['personal-data-in-request'] });
      expect(f.erpCalls).toHaveLength(0);
    });

    it('lets through a write whose text was redacted by Airlock on the way in', async () => {
      // Prepare
      const f = fixture();
      const call = f.journalEntry(100);

      // Act
      const outcome = await f.proxy.call(f.caller('alice', ERP_WRITE), {
        ...call,
        params: { ...call.params, memo: 'Refund for [redacted:email], hotel 2 nights' },
      });

      // Assess
      expect(outcome.status).toBe('completed');
      expect(f.erpCalls).toHaveLength(1);
    });
  });

  describe('calls made on behalf of the caller', () => {
    it("names the caller's principal to the connector (token exchange acts for it), never anything from the arguments", async () => {
      // Prepare
      const f = fixture();

      // Act
      await f.proxy.call(f.caller('alice', ERP_WRITE), f.journalEntry(100));

      // Assess
      expect(f.erpInvocations.map((options) => options.subject)).toEqual(['alice']);
    });
  });

  describe('an upstream tool changed since it was pinned', () => {
    it('counts the refusal as ToolDefinitionChanges (alarmed) besides the denial, and audits it', async () => {
      // Prepare
      const f = fixture({
        erpFailure: () =>
          new AirlockError('forbidden', 'the upstream changed the tool', {
            reasons: [TOOL_DEFINITION_CHANGED_REASON],
          }),
      });

      // Act
      const refused = await f.proxy.call(f.caller('alice', ERP_WRITE), f.journalEntry(100)).catch((e) => e);

      // Assess
      expect(refused).toMatchObject({ code: 'forbidden', reasons: [TOOL_DEFINITION_CHANGED_REASON] });
      expect(f.points.at(-1)).toMatchObject({ outcome: 'denied', toolDefinitionChanges: 1 });
      expect(f.records().at(-1)).toMatchObject({
        type: 'connector_denied',
        reasons: expect.arrayContaining([TOOL_DEFINITION_CHANGED_REASON]),
      });
    });

    it('counts no tool definition change for any other refusal', async () => {
      // Prepare
      const f = fixture({
        erpFailure: () => new AirlockError('forbidden', 'no', { reasons: ['something-else'] }),
      });

      // Act
      await f.proxy.call(f.caller('alice', ERP_WRITE), f.journalEntry(100)).catch(() => undefined);

      // Assess
      expect(f.points.at(-1)).toMatchObject({ outcome: 'denied' });
      expect(f.points.at(-1)).not.toHaveProperty('toolDefinitionChanges');
    });
  });

  describe('shadow policies', () => {
    const SHADOW_NO_JOURNAL_ENTRIES = `@id("shadow-no-journal-entries")
forbid (principal, action == Airlock::Action::"Write", resource in Airlock::Connector::"erp");`;

    it('a shadow forbid refuses nothing: the write runs, and what it would have done is recorded and metered', async () => {
      // Prepare
      const f = fixture({ shadowPolicies: [SHADOW_NO_JOURNAL_ENTRIES] });

      // Act
      const outcome = await f.proxy.call(f.caller('alice', ERP_WRITE), f.journalEntry(100));

      // Assess
      expect(outcome.status).toBe('completed');
      expect(f.erpCalls).toHaveLength(1);
      expect(f.records().map((r) => r.type)).toEqual([
        'policy_shadowed',
        'connector_allowed',
        'connector_completed',
      ]);
      expect(f.records()[0]).toMatchObject({
        decision: 'deny',
        reasons: ['shadow-no-journal-entries'],
        connector: 'erp',
        operation: 'createJournalEntry',
        details: { enforced: 'allow', wouldBe: 'deny', shadowPolicies: ['shadow-no-journal-entries'] },
      });
      expect(f.points.at(-1)).toMatchObject({ outcome: 'allowed', shadowRefusals: 1 });
    });

    it('still runs the call when the shadow record cannot be written, and records the call', async () => {
      // Prepare: the ledger fails once, on the shadow record.
      const f = fixture({ shadowPolicies: [SHADOW_NO_JOURNAL_ENTRIES] });
      f.audit.failNext = { error: new Error('throttled'), landed: false };

      // Act
      const outcome = await f.proxy.call(f.caller('alice', ERP_WRITE), f.journalEntry(100));

      // Assess
      expect(outcome.status).toBe('completed');
      expect(f.records().map((r) => r.type)).toEqual(['connector_allowed', 'connector_completed']);
    });
  });
});
