import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { UpstreamCall } from '../../../lambdas/connectors/connector';
import {
  type ApprovalBinding,
  ApprovalDesk,
  type ApprovalNotifier,
  type ApprovalRecord,
} from '../../../lambdas/core/approval-desk';
import { loadConfig } from '../../../lib/config/load-config';
import type { AirlockConfig } from '../../../lib/config/schema';
import { InMemoryApprovalStore } from '../support/approval-fixtures';
import { refusalAsync } from '../support/refusal';

const config = loadConfig(join(__dirname, '../../../config/airlock.config.yaml'));

class RecordingNotifier implements ApprovalNotifier {
  readonly notified: ApprovalRecord[] = [];
  async notify(approval: ApprovalRecord): Promise<void> {
    this.notified.push(approval);
  }
}

class MovableClock {
  constructor(private current: Date) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

const journalEntry: UpstreamCall = {
  method: 'POST',
  url: 'https://erp.example.com/api/journal-entries',
  body: { glCode: '6100', amount: 1250.5, currency: 'EUR', memo: 'Q3 travel' },
  destinationHost: 'erp.example.com',
};

function bindingFor(principal: string, overrides: Partial<ApprovalBinding> = {}): ApprovalBinding {
  return {
    principal,
    workflow: 'expense-summary',
    connector: 'erp',
    operation: 'createJournalEntry',
    argumentsHash: createHash('sha256').update('glCode=6100 amount=1250.5').digest('hex'),
    policyVersion: 'policies-v1',
    ...overrides,
  };
}

const HOUR = 3_600_000;

function setup(
  options: {
    config?: AirlockConfig;
    notifier?: ApprovalNotifier;
    onNotifyError?: (error: unknown) => void;
  } = {},
) {
  const store = new InMemoryApprovalStore();
  const notifier = new RecordingNotifier();
  const clock = new MovableClock(new Date('2026-11-02T09:00:00.000Z'));
  const desk = new ApprovalDesk({
    store,
    notifier: options.notifier ?? notifier,
    config: options.config ?? config,
    clock,
    onNotifyError: options.onNotifyError,
  });
  const request = (principal = 'alice', approverGroup = 'managers', binding: Partial<ApprovalBinding> = {}) =>
    desk.create({
      ...bindingFor(principal, binding),
      approverGroup,
      preview: journalEntry,
      requestId: `req-${principal}`,
      reasons: ['journal-entry-above-threshold'],
    });
  const approved = async (principal = 'alice') => {
    const pending = await request(principal);
    await desk.decide({
      id: pending.id,
      approver: 'bob',
      decision: 'approve',
      reason: 'matches the receipts',
    });
    return pending;
  };
  return { desk, store, notifier, clock, request, approved };
}

describe('Class: ApprovalDesk', () => {
  describe('Method: remindDue', () => {
    it('reminds the approver group once of a pending approval within the window, never of a decided or far one', async () => {
      // Prepare: expiry 24 h; one decided, one pending created 2 h later
      const { desk, notifier, clock, request, approved } = setup();
      await approved('alice');
      clock.advance(2 * HOUR);
      const late = await request('alice');
      notifier.notified.length = 0;

      // Act: 21 h after the first: the late one has 23 h left (outside 2 h), nothing due; then 23 h later it is
      clock.advance(19 * HOUR);
      const early = await desk.remindDue(2);
      clock.advance(4 * HOUR);
      const due = await desk.remindDue(2);
      const again = await desk.remindDue(2);

      // Assess
      expect(early).toEqual([]);
      expect(due.map((r) => r.id)).toEqual([late.id]);
      expect(due[0].remindedAt).toBe(clock.now().toISOString());
      expect(again).toEqual([]);
      expect(notifier.notified.map((r) => r.id)).toEqual([late.id]);
    });
  });

  describe('Method: prepareDecision and checkConsumable', () => {
    it('change nothing: the status changes only in commitDecision and claim, after the caller recorded it', async () => {
      // Prepare
      const { desk, store, request } = setup();
      const pending = await request('alice');

      // Act
      const prepared = await desk.prepareDecision({
        id: pending.id,
        approver: 'bob',
        decision: 'approve',
        reason: 'ok',
      });

      // Assess
      expect(store.records.get(pending.id)?.status).toBe('pending');
      await desk.commitDecision(prepared);
      expect(store.records.get(pending.id)?.status).toBe('approved');
      const approved = await desk.checkConsumable(pending.id, bindingFor('alice'));
      expect(store.records.get(pending.id)?.status).toBe('approved');
      await desk.claim(approved);
      expect(store.records.get(pending.id)?.status).toBe('executed');
    });

    it('refuses a second commit of a decision someone else committed first (409), changing nothing', async () => {
      // Prepare
      const { desk, store, request } = setup();
      const pending = await request('alice');
      const first = await desk.prepareDecision({
        id: pending.id,
        approver: 'bob',
        decision: 'approve',
        reason: 'a',
      });
      const second = await desk.prepareDecision({
        id: pending.id,
        approver: 'bob',
        decision: 'reject',
        reason: 'b',
      });
      await desk.commitDecision(first);

      // Act
      const error = await refusalAsync(desk.commitDecision(second));

      // Assess
      expect(error).toMatchObject({ status: 409 });
      expect(store.records.get(pending.id)).toMatchObject({ status: 'approved', decisionReason: 'a' });
    });
  });

  describe('Method: create', () => {
    it('stores a pending approval bound to the call, with the sha256 of the canonical JSON of the preview', async () => {
      // Prepare
      const { desk, store, request } = setup();
      const canonical =
        '{"body":{"amount":1250.5,"currency":"EUR","glCode":"6100","memo":"Q3 travel"},"destinationHost":"erp.example.com","method":"POST","url":"https://erp.example.com/api/journal-entries"}';

      // Act
      const pending = await request('alice');

      // Assess
      expect(pending).toEqual({
        id: expect.stringMatching(/^apr_[0-9a-f]{32}$/),
        status: 'pending',
        approverGroup: 'managers',
        expiresAt: '2026-11-03T09:00:00.000Z',
        preview: {
          call: { method: 'POST', body: journalEntry.body },
          sha256: createHash('sha256').update(canonical).digest('hex'),
        },
      });
      expect(store.records.get(pending.id)).toMatchObject({
        preview: { call: journalEntry },
        ...bindingFor('alice'),
        status: 'pending',
        createdAt: '2026-11-02T09:00:00.000Z',
        requestId: 'req-alice',
        reasons: ['journal-entry-above-threshold'],
      });
      expect(await desk.show('bob', pending.id)).toMatchObject({ id: pending.id, status: 'pending' });
    });

    it('attack: the pending approval shown to the agent revealed the internal upstream URL (approvers still see it)', async () => {
      // Prepare
      const { desk, request } = setup();

      // Act
      const pending = await request('alice');

      // Assess: the agent sees what it sent, not where the call goes; the approver sees everything.
      expect(JSON.stringify(pending)).not.toMatch(/erp\.example\.com/);
      expect(pending.preview.call).toEqual({ method: 'POST', body: journalEntry.body });
      const forApprover = await desk.show('bob', pending.id);
      expect(forApprover.preview.call).toMatchObject({
        url: 'https://erp.example.com/api/journal-entries',
        destinationHost: 'erp.example.com',
      });
      expect(forApprover.preview.sha256).toBe(pending.preview.sha256);
    });

    it('gives every approval its own id', async () => {
      // Prepare
      const { request } = setup();

      // Act
      const ids = new Set(await Promise.all(Array.from({ length: 10 }, async () => (await request()).id)));

      // Assess
      expect(ids.size).toBe(10);
    });

    it('notifies the approver group with the stored record', async () => {
      // Prepare
      const { notifier, request, store } = setup();

      // Act
      const pending = await request('alice');

      // Assess
      expect(notifier.notified).toEqual([store.records.get(pending.id)]);
    });

    it('keeps the approval when the notifier fails, and reports the failure', async () => {
      // Prepare
      const reported: unknown[] = [];
      const failing: ApprovalNotifier = {
        notify: async () => {
          throw new Error('topic unreachable');
        },
      };
      const { desk, request } = setup({ notifier: failing, onNotifyError: (error) => reported.push(error) });

      // Act
      const pending = await request('alice');

      // Assess
      expect((await desk.listFor('bob')).approvals.map((a) => a.id)).toEqual([pending.id]);
      expect(reported).toEqual([new Error('topic unreachable')]);
    });
  });

  describe('Method: decide', () => {
    it('lets a member of the approver group approve, recording who, when and why', async () => {
      // Prepare
      const { desk, clock, request } = setup();
      const pending = await request('alice');
      clock.advance(HOUR);

      // Act
      const decided = await desk.decide({
        id: pending.id,
        approver: 'bob',
        decision: 'approve',
        reason: 'matches the receipts',
      });

      // Assess
      expect(decided).toMatchObject({
        status: 'approved',
        decidedBy: 'bob',
        decidedAt: '2026-11-02T10:00:00.000Z',
        decisionReason: 'matches the receipts',
      });
      expect(await desk.show('alice', pending.id)).toEqual(decided);
    });

    it('refuses the requester approving their own call (403 self-approval), even as a group member', async () => {
      // Prepare
      const { desk, request } = setup();
      const pending = await request('bob');

      // Act
      const error = await refusalAsync(
        desk.decide({ id: pending.id, approver: 'bob', decision: 'approve', reason: 'mine' }),
      );

      // Assess
      expect(error).toMatchObject({ status: 403, code: 'forbidden', reasons: ['self-approval'] });
      expect((await desk.show('bob', pending.id)).status).toBe('pending');
    });

    it.each([
      ['alice, in finance but not managers', 'alice'],
      ['mallory, in no group', 'mallory'],
      ['someone who is not a principal', 'eve'],
    ])('refuses a non-member of the approver group (403): %s', async (_label, approver) => {
      // Prepare
      const { desk, request } = setup();
      const pending = await request('bob', 'managers');

      // Act
      const error = await refusalAsync(
        desk.decide({ id: pending.id, approver, decision: 'approve', reason: 'looks fine' }),
      );

      // Assess
      expect(error).toMatchObject({ status: 403, reasons: ['not-an-approver'] });
      expect(error.message).toContain('"managers"');
    });

    it('answers 404 for an unknown id', async () => {
      // Prepare
      const { desk } = setup();
      const unknown = `apr_${'0'.repeat(32)}`;

      // Act
      const error = await refusalAsync(
        desk.decide({ id: unknown, approver: 'bob', decision: 'approve', reason: 'ok' }),
      );

      // Assess
      expect(error).toMatchObject({ status: 404, code: 'not_found' });
      expect(error.message).toContain(unknown);
    });

    it.each([['apr_123'], [''], ['../../etc/passwd'], [`apr_${'A'.repeat(32)}`], [`apr_${'0'.repeat(32)} `]])(
      'answers 404 for a malformed id %j, saying what an id looks like',
      async (id) => {
        // Prepare
        const { desk } = setup();

        // Act
        const error = await refusalAsync(
          desk.decide({ id, approver: 'bob', decision: 'approve', reason: 'ok' }),
        );

        // Assess
        expect(error).toMatchObject({ status: 404, code: 'not_found' });
        expect(error.message).toContain('Approval ids look like apr_');
      },
    );

    it('refuses deciding twice (409) and keeps the first decision', async () => {
      // Prepare
      const { desk, request } = setup();
      const pending = await request('alice');
      await desk.decide({ id: pending.id, approver: 'bob', decision: 'reject', reason: 'wrong GL code' });

      // Act
      const error = await refusalAsync(
        desk.decide({ id: pending.id, approver: 'bob', decision: 'approve', reason: 'changed my mind' }),
      );

      // Assess
      expect(error).toMatchObject({ status: 409, code: 'conflict' });
      expect(error.message).toContain('already rejected');
      expect(await desk.show('bob', pending.id)).toMatchObject({
        status: 'rejected',
        decisionReason: 'wrong GL code',
      });
    });

    it('lets only one of two approvers deciding at the same moment win (the other gets 409)', async () => {
      // Prepare: carol is a second manager.
      const withCarol: AirlockConfig = {
        ...config,
        principals: { ...config.principals, carol: { groups: ['managers'], clearances: [] } },
      };
      const { desk, request } = setup({ config: withCarol });
      const pending = await request('alice');

      // Act
      const outcomes = await Promise.allSettled([
        desk.decide({ id: pending.id, approver: 'bob', decision: 'approve', reason: 'fine' }),
        desk.decide({ id: pending.id, approver: 'carol', decision: 'reject', reason: 'not fine' }),
      ]);

      // Assess
      const winners = outcomes.filter((o) => o.status === 'fulfilled');
      const losers = outcomes.filter((o) => o.status === 'rejected');
      expect(winners).toHaveLength(1);
      expect(losers.map((o) => (o as PromiseRejectedResult).reason)).toEqual([
        expect.objectContaining({ status: 409 }),
      ]);
      expect((await desk.show('bob', pending.id)).status).toBe(
        (winners[0] as PromiseFulfilledResult<ApprovalRecord>).value.status,
      );
    });

    it('refuses an expired approval (410)', async () => {
      // Prepare
      const { desk, clock, request } = setup();
      const pending = await request('alice');
      clock.advance(config.approvals.expiryHours * HOUR);

      // Act
      const error = await refusalAsync(
        desk.decide({ id: pending.id, approver: 'bob', decision: 'approve', reason: 'late' }),
      );

      // Assess
      expect(error).toMatchObject({ status: 410, code: 'gone' });
      expect(error.message).toContain(`expired at ${pending.expiresAt}`);
    });
  });

  describe('Method: consume', () => {
    it('claims an approved, matching call once and marks it executed', async () => {
      // Prepare
      const { desk, clock, approved } = setup();
      const pending = await approved('alice');
      clock.advance(2 * HOUR);

      // Act
      const executed = await desk.consume(pending.id, bindingFor('alice'));

      // Assess
      expect(executed).toMatchObject({
        status: 'executed',
        executedAt: '2026-11-02T11:00:00.000Z',
        decidedBy: 'bob',
      });
      expect(await desk.show('alice', pending.id)).toEqual(executed);
    });

    it('refuses a second consume of the same approval (409)', async () => {
      // Prepare
      const { desk, approved } = setup();
      const pending = await approved('alice');
      await desk.consume(pending.id, bindingFor('alice'));

      // Act
      const error = await refusalAsync(desk.consume(pending.id, bindingFor('alice')));

      // Assess
      expect(error).toMatchObject({ status: 409, code: 'conflict' });
      expect(error.message).toContain('each approval runs once');
    });

    it('lets exactly one of many simultaneous re-sends run', async () => {
      // Prepare
      const { desk, approved } = setup();
      const pending = await approved('alice');

      // Act
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, () => desk.consume(pending.id, bindingFor('alice'))),
      );

      // Assess
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const reasons = outcomes
        .filter((o) => o.status === 'rejected')
        .map((o) => (o as PromiseRejectedResult).reason);
      expect(reasons).toHaveLength(9);
      for (const reason of reasons) expect(reason).toMatchObject({ status: 409 });
    });

    it.each<[string, Partial<ApprovalBinding>, string, string]>([
      [
        'changed arguments',
        { argumentsHash: 'f'.repeat(64) },
        'the arguments changed',
        'approval-mismatch:argumentsHash',
      ],
      [
        'changed policies',
        { policyVersion: 'policies-v2' },
        'the policies changed since',
        'approval-mismatch:policyVersion',
      ],
      [
        'another operation',
        { operation: 'lookupGlCode' },
        'a different operation',
        'approval-mismatch:operation',
      ],
      [
        'another workflow',
        { workflow: 'other-workflow' },
        'a different workflow',
        'approval-mismatch:workflow',
      ],
    ])(
      'refuses a re-send with %s (403 naming the mismatch) and leaves the approval usable',
      async (_label, change, phrase, reason) => {
        // Prepare
        const { desk, approved } = setup();
        const pending = await approved('alice');

        // Act
        const error = await refusalAsync(desk.consume(pending.id, bindingFor('alice', change)));

        // Assess
        expect(error).toMatchObject({ status: 403, code: 'forbidden', reasons: [reason] });
        expect(error.message).toContain(phrase);
        expect((await desk.consume(pending.id, bindingFor('alice'))).status).toBe('executed');
      },
    );

    it('refuses another principal using someone else’s approval (403)', async () => {
      // Prepare
      const { desk, approved } = setup();
      const pending = await approved('alice');

      // Act
      const error = await refusalAsync(desk.consume(pending.id, bindingFor('mallory')));

      // Assess
      expect(error).toMatchObject({ status: 403, reasons: ['approval-mismatch:principal'] });
    });

    it('refuses a rejected approval (410) with the approver and their reason', async () => {
      // Prepare
      const { desk, request } = setup();
      const pending = await request('alice');
      await desk.decide({
        id: pending.id,
        approver: 'bob',
        decision: 'reject',
        reason: 'GL 6100 is closed for Q3',
      });

      // Act
      const error = await refusalAsync(desk.consume(pending.id, bindingFor('alice')));

      // Assess
      expect(error).toMatchObject({ status: 410, code: 'gone' });
      expect(error.message).toContain('bob rejected this call: "GL 6100 is closed for Q3"');
    });

    it('refuses an approved approval past its expiry (410)', async () => {
      // Prepare
      const { desk, clock, approved } = setup();
      const pending = await approved('alice');
      clock.advance(config.approvals.expiryHours * HOUR + 1);

      // Act
      const error = await refusalAsync(desk.consume(pending.id, bindingFor('alice')));

      // Assess
      expect(error).toMatchObject({ status: 410, code: 'gone' });
      expect((await desk.show('alice', pending.id)).status).toBe('approved');
    });

    it('refuses a still pending approval (409) naming who must approve', async () => {
      // Prepare
      const { desk, request } = setup();
      const pending = await request('alice');

      // Act
      const error = await refusalAsync(desk.consume(pending.id, bindingFor('alice')));

      // Assess
      expect(error).toMatchObject({ status: 409, code: 'conflict' });
      expect(error.message).toContain('still waiting for a member of "managers"');
      expect((await desk.show('alice', pending.id)).status).toBe('pending');
    });

    it('answers 404 for an unknown id', async () => {
      // Prepare
      const { desk } = setup();

      // Act
      const error = await refusalAsync(desk.consume(`apr_${'a'.repeat(32)}`, bindingFor('alice')));

      // Assess
      expect(error).toMatchObject({ status: 404 });
    });
  });

  describe('Method: listFor', () => {
    it('lists, newest first, the approvals of the groups the principal is in, plus their own requests', async () => {
      // Prepare
      const { desk, clock, request } = setup();
      const forManagers = await request('alice', 'managers');
      clock.advance(1000);
      const forFinance = await request('mallory', 'finance');
      clock.advance(1000);
      const forAuditors = await request('alice', 'auditors');
      clock.advance(1000);
      const ofMallory = await request('mallory', 'managers');

      // Act
      const ids = async (principal: string) => (await desk.listFor(principal)).approvals.map((a) => a.id);

      // Assess
      expect(await ids('bob')).toEqual([ofMallory.id, forFinance.id, forManagers.id]);
      expect(await ids('alice')).toEqual([forAuditors.id, forFinance.id, forManagers.id]);
      expect(await ids('mallory')).toEqual([ofMallory.id, forFinance.id]);
      expect(await ids('eve')).toEqual([]);
    });

    it('hides pending approvals that have expired', async () => {
      // Prepare
      const { desk, clock, request } = setup();
      const old = await request('alice');
      clock.advance(config.approvals.expiryHours * HOUR - 1000);
      const fresh = await request('alice');
      clock.advance(1000);

      // Act
      const listed = (await desk.listFor('bob')).approvals;

      // Assess
      expect(listed.map((a) => a.id)).toEqual([fresh.id]);
      expect(listed.map((a) => a.id)).not.toContain(old.id);
    });

    it('attack: an approval that expired unused was still listed as approved', async () => {
      // Prepare
      const { desk, clock, approved } = setup();
      const stale = await approved('alice');
      clock.advance(config.approvals.expiryHours * HOUR - 1000);
      const fresh = await approved('mallory');
      clock.advance(1000);

      // Act
      const listed = (await desk.listFor('bob', 'approved')).approvals;

      // Assess: the expired one can no longer run, so it is not offered as approved.
      expect(listed.map((a) => a.id)).toEqual([fresh.id]);
      expect(listed.map((a) => a.id)).not.toContain(stale.id);
    });

    it('pages: at most limit approvals per page and a next cursor that continues after the last one', async () => {
      // Prepare
      const { desk, clock, request } = setup();
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        ids.unshift((await request('alice')).id);
        clock.advance(1000);
      }

      // Act
      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await desk.listFor('bob', 'pending', { limit: 3, ...(cursor ? { cursor } : {}) });
        pages.push(page.approvals.map((a) => a.id));
        cursor = page.next;
      } while (cursor);

      // Assess: newest first, nothing twice, nothing missed.
      expect(pages.map((page) => page.length)).toEqual([3, 3, 1]);
      expect(pages.flat()).toEqual(ids);
    });

    it.each([
      ['not base64url JSON', 'not-a-cursor'],
      ['another shape', Buffer.from('{"id":"x"}').toString('base64url')],
      ['a made-up id', Buffer.from('["2026-11-02T09:00:00.000Z","../x"]').toString('base64url')],
      ['too long', 'a'.repeat(500)],
    ])('refuses a cursor that is %s with 400 naming cursor', async (_case, cursor) => {
      // Prepare
      const { desk } = setup();

      // Act
      const error = await refusalAsync(desk.listFor('bob', 'pending', { cursor }));

      // Assess
      expect(error).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/^cursor:/) });
    });

    it.each([0, 101, 2.5])('refuses a page size of %s with 400 naming limit', async (limit) => {
      // Prepare
      const { desk } = setup();

      // Act
      const error = await refusalAsync(desk.listFor('bob', 'pending', { limit }));

      // Assess
      expect(error).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/^limit:/) });
    });

    it('lists by the status asked for', async () => {
      // Prepare
      const { desk, approved, request } = setup();
      const yes = await approved('alice');
      const waiting = await request('alice');

      // Act
      const approvedList = (await desk.listFor('bob', 'approved')).approvals;
      const pendingList = (await desk.listFor('bob', 'pending')).approvals;

      // Assess
      expect(approvedList.map((a) => [a.id, a.status])).toEqual([[yes.id, 'approved']]);
      expect(pendingList.map((a) => a.id)).toEqual([waiting.id]);
    });
  });

  describe('Method: show', () => {
    it('refuses someone who is neither the requester nor an approver (403)', async () => {
      // Prepare
      const { desk, request } = setup();
      const pending = await request('alice');

      // Act
      const error = await refusalAsync(desk.show('mallory', pending.id));

      // Assess
      expect(error).toMatchObject({ status: 403, reasons: ['not-an-approver'] });
    });
  });

  describe('Method: seenBy (the documents read before, by clearance)', () => {
    const readAt = '2026-11-02T08:55:00.000Z';
    const documents = [
      {
        connector: 'receipts',
        operation: 'read',
        id: '2026-q3/taxi.txt',
        sha256: 'a'.repeat(64),
        readAt,
        classification: 'internal',
      },
      {
        connector: 'handbook',
        operation: 'search',
        id: 'handbook/salary-bands.md',
        sha256: 'b'.repeat(64),
        readAt,
        classification: 'confidential',
      },
      {
        connector: 'hr-files',
        operation: 'read',
        id: 'hr/cases/jane.doe@example.com.pdf',
        idRedacted: 'hr/cases/[email redacted].pdf',
        sha256: 'c'.repeat(64),
        readAt,
        classification: 'pii',
      },
      {
        connector: 'receipts',
        operation: 'read',
        id: 'noted-before-classifications.txt',
        sha256: 'd'.repeat(64),
        readAt,
      },
      {
        connector: 'crm',
        operation: 'getContact',
        id: 'GET /contacts/jane.doe@example.com',
        idRedacted: 'GET /contacts/[email redacted]',
        sha256: 'e'.repeat(64),
        readAt,
        classification: 'internal',
      },
    ];
    const held = async (desk: ApprovalDesk) =>
      desk.create({
        ...bindingFor('alice'),
        approverGroup: 'managers',
        preview: journalEntry,
        requestId: 'req-alice',
        reasons: ['journal-entry-above-threshold'],
        documents,
      });

    it('attack: an approver not cleared for pii or confidential is shown the names of such documents the requester read (a name can say what it holds)', async () => {
      // Prepare: bob approves for managers, cleared for confidential and not pii; alice is cleared for neither.
      const { desk } = setup();
      const approval = await held(desk);

      // Act: what bob is shown, by id and in his list, and what alice is shown of her own request.
      const shown = await desk.show('bob', approval.id);
      const listed = (await desk.listFor('bob')).approvals.find((a) => a.id === approval.id);
      const own = await desk.show('alice', approval.id);

      // Assess: a pii name redacted as a result would be, one he is not cleared for withheld, with what still
      // says that, where and when it was read.
      for (const seen of [shown, listed]) {
        expect(seen?.documents?.map((d) => d.id)).toEqual([
          '2026-q3/taxi.txt',
          'handbook/salary-bands.md',
          'hr/cases/[email redacted].pdf',
          '[withheld: unclassified document]',
          // Personal data in any name is redacted for someone not cleared for pii, as in a result.
          'GET /contacts/[email redacted]',
        ]);
        expect(seen?.documents?.[2]).toMatchObject({ connector: 'hr-files', sha256: 'c'.repeat(64), readAt });
      }
      expect(own.documents?.[1]?.id).toBe('[withheld: confidential document]');
      expect(JSON.stringify([shown, listed, own])).not.toContain('jane.doe');
      expect(JSON.stringify([shown, listed, own])).not.toContain('idRedacted');
    });

    it('shows an approver cleared for pii the name whole, and keeps the stored record whole', async () => {
      // Prepare
      const cleared: AirlockConfig = {
        ...config,
        principals: {
          ...config.principals,
          bob: { ...config.principals.bob, clearances: ['confidential', 'pii'] },
        },
      };
      const { desk, store } = setup({ config: cleared });
      const approval = await held(desk);

      // Act
      const shown = await desk.show('bob', approval.id);

      // Assess
      expect(shown.documents?.map((d) => d.id)).toEqual([
        '2026-q3/taxi.txt',
        'handbook/salary-bands.md',
        'hr/cases/jane.doe@example.com.pdf',
        '[withheld: unclassified document]',
        'GET /contacts/jane.doe@example.com',
      ]);
      expect((await store.get(approval.id))?.documents?.[2]?.id).toBe('hr/cases/jane.doe@example.com.pdf');
    });
  });
});
