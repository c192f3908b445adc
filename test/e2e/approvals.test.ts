/**
 * Human-in-the-loop approvals, end to end: the local pilot over real mutual TLS, each principal
 * presenting their own device certificate, the sample ERP behind the connector.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../lib/config/load-config';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import { type E2eClient, type E2eResponse, e2eClientFor } from './e2e-client';

const WORKFLOW = 'expense-summary';
const CREATE_ENTRY = '/v1/connectors/erp/createJournalEntry';
const HOUR_MS = 3_600_000;

/** The pilot's clock: real time plus an offset a test moves forward to make approvals expire. */
const clock = { offsetMs: 0, now: () => new Date(Date.now() + clock.offsetMs) };

let home: string;
let pilot: LocalPilot;
let alice: E2eClient;
let bob: E2eClient;
let mallory: E2eClient;
let memoCounter = 0;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'airlock-e2e-approvals-'));
  pilot = await startLocalPilot({ home, port: 0, config: loadConfig(), clock });
  alice = e2eClientFor(pilot, 'alice');
  bob = e2eClientFor(pilot, 'bob');
  mallory = e2eClientFor(pilot, 'mallory');
}, 60_000);

afterAll(async () => {
  for (const client of [alice, bob, mallory]) client?.close();
  await pilot?.close();
  await rm(home, { recursive: true, force: true });
});

afterEach(() => {
  clock.offsetMs = 0;
});

/** A journal entry with a memo no other test uses, so its upstream effect can be counted. */
function journalEntry(amount: number): { glCode: string; amount: number; currency: string; memo: string } {
  memoCounter += 1;
  return { glCode: '6400', amount, currency: 'EUR', memo: `Q3 travel accrual #${memoCounter}` };
}

/** Entries the sample ERP holds with this memo. */
function entriesWithMemo(memo: string) {
  return pilot.sampleErp.journalEntries().filter((entry) => entry.memo === memo);
}

/** A fresh token for alice (each test takes its own, valid at the pilot's current time). */
function aliceToken(): Promise<string> {
  return alice.getToken(WORKFLOW, ['erp:read', 'erp:write'], 15);
}

function send(token: string, body: object, approvalId?: string): Promise<E2eResponse> {
  return alice.request('POST', CREATE_ENTRY, {
    token,
    body,
    ...(approvalId ? { headers: { 'Airlock-Approval': approvalId } } : {}),
  });
}

function decide(client: E2eClient, id: string, decision: 'approve' | 'reject', reason: string) {
  return client.request('POST', `/v1/approvals/${id}/decision`, { body: { decision, reason } });
}

/** Alice sends an entry above the threshold; returns the 202's approval id. */
async function holdEntry(token: string, body: object): Promise<string> {
  const held = await send(token, body);
  expect(held.status).toBe(202);
  return held.json.approval.id as string;
}

describe('Class: LocalPilot (approvals over mutual TLS)', () => {
  describe('Method: POST /v1/connectors/erp/createJournalEntry', () => {
    it('runs an entry below the threshold at once', async () => {
      // Prepare
      const token = await aliceToken();
      const body = journalEntry(250);

      // Act
      const response = await send(token, body);

      // Assess
      expect(response.status).toBe(200);
      expect(response.json.result.entryId).toEqual(expect.any(String));
      expect(entriesWithMemo(body.memo)).toEqual([
        expect.objectContaining({ entryId: response.json.result.entryId, amount: 250, glCode: '6400' }),
      ]);
    });

    it('holds an entry above the threshold for a manager, with the exact upstream call and its hash', async () => {
      // Prepare
      const token = await aliceToken();
      const body = journalEntry(2500);
      const upstreamCallsBefore = pilot.sampleErp.calls().journalEntries;

      // Act
      const response = await send(token, body);

      // Assess
      expect(response.status).toBe(202);
      const { approval } = response.json;
      expect(approval).toEqual({
        id: expect.stringMatching(/^apr_[0-9a-f]{32}$/),
        status: 'pending',
        approverGroup: 'managers',
        expiresAt: expect.any(String),
        // The agent sees the method and what it sent, never the internal upstream URL.
        preview: {
          call: { method: 'POST', body },
          sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        },
      });
      expect(response.text).not.toContain(pilot.sampleErp.url);
      // The approver sees the exact upstream call, whose hash the agent was given.
      const shown = await bob.request('GET', `/v1/approvals/${approval.id}`);
      expect(shown.json.approval.preview).toEqual({
        call: expect.objectContaining({
          method: 'POST',
          url: `${pilot.sampleErp.url}/journal-entries`,
          body,
        }),
        sha256: approval.preview.sha256,
      });
      const expiresIn = Date.parse(approval.expiresAt) - Date.now();
      expect(expiresIn).toBeGreaterThan(23 * HOUR_MS);
      expect(expiresIn).toBeLessThanOrEqual(24 * HOUR_MS);
      expect(response.json.message).toContain(`Airlock-Approval: ${approval.id}`);
      expect(pilot.sampleErp.calls().journalEntries).toBe(upstreamCallsBefore);
      expect(entriesWithMemo(body.memo)).toEqual([]);
    });

    it('runs the held call once after a manager approved it, and refuses it after that', async () => {
      // Prepare
      const token = await aliceToken();
      const body = journalEntry(2500);
      const id = await holdEntry(token, body);
      const approved = await decide(bob, id, 'approve', 'Matches the Q3 travel budget');
      const entriesBefore = pilot.sampleErp.journalEntries().length;

      // Act
      const executed = await send(token, body, id);
      const third = await send(token, body, id);

      // Assess
      expect(approved.status).toBe(200);
      expect(executed.status).toBe(200);
      expect(executed.json.result.entryId).toEqual(expect.any(String));
      expect(pilot.sampleErp.journalEntries().length).toBe(entriesBefore + 1);
      expect(entriesWithMemo(body.memo)).toEqual([
        expect.objectContaining({ entryId: executed.json.result.entryId, amount: 2500 }),
      ]);
      expect(third.status).toBe(409);
      expect(third.json.error).toEqual(
        expect.objectContaining({ code: 'conflict', message: expect.stringContaining('already used') }),
      );
    });

    it('refuses a re-send before the approval was decided (409)', async () => {
      // Prepare
      const token = await aliceToken();
      const body = journalEntry(2500);
      const id = await holdEntry(token, body);

      // Act
      const early = await send(token, body, id);

      // Assess
      expect(early.status).toBe(409);
      expect(early.json.error.message).toContain('still waiting for a member of "managers"');
      expect(entriesWithMemo(body.memo)).toEqual([]);
    });

    it('refuses a re-send with a different amount, naming the mismatch (403)', async () => {
      // Prepare
      const token = await aliceToken();
      const body = journalEntry(2500);
      const id = await holdEntry(token, body);
      await decide(bob, id, 'approve', 'Fine as previewed');

      // Act
      const altered = await send(token, { ...body, amount: 25_000 }, id);

      // Assess
      expect(altered.status).toBe(403);
      expect(altered.json.error).toEqual(
        expect.objectContaining({
          code: 'forbidden',
          message: expect.stringContaining('the arguments changed'),
          reasons: ['approval-mismatch:argumentsHash'],
        }),
      );
      expect(pilot.sampleErp.journalEntries().filter((e) => e.amount === 25_000)).toEqual([]);
      expect(entriesWithMemo(body.memo)).toEqual([]);
    });

    it('refuses a rejected call with the approver’s reason (410)', async () => {
      // Prepare
      const token = await aliceToken();
      const body = journalEntry(2500);
      const id = await holdEntry(token, body);
      const rejected = await decide(bob, id, 'reject', 'Duplicate of last week’s accrual');

      // Act
      const resent = await send(token, body, id);

      // Assess
      expect(rejected.status).toBe(200);
      expect(rejected.json.approval.status).toBe('rejected');
      expect(resent.status).toBe(410);
      expect(resent.json.error).toEqual(
        expect.objectContaining({
          code: 'gone',
          message: expect.stringContaining('bob rejected this call: "Duplicate of last week’s accrual"'),
        }),
      );
      expect(entriesWithMemo(body.memo)).toEqual([]);
    });

    it('refuses an approved call re-sent after the approval expired (410)', async () => {
      // Prepare
      const body = journalEntry(2500);
      const id = await holdEntry(await aliceToken(), body);
      await decide(bob, id, 'approve', 'Fine as previewed');
      clock.offsetMs = 25 * HOUR_MS;
      const lateToken = await aliceToken();

      // Act
      const late = await send(lateToken, body, id);

      // Assess
      expect(late.status).toBe(410);
      expect(late.json.error).toEqual(
        expect.objectContaining({ code: 'gone', message: expect.stringContaining('expired') }),
      );
      expect(entriesWithMemo(body.memo)).toEqual([]);
    });

    it('runs one of 20 parallel re-sends of an approved call, and the ERP entry is created exactly once', async () => {
      // Prepare
      const token = await aliceToken();
      const body = journalEntry(4200);
      const id = await holdEntry(token, body);
      await decide(bob, id, 'approve', 'Conference sponsorship, budgeted');
      const entriesBefore = pilot.sampleErp.journalEntries().length;
      const upstreamCallsBefore = pilot.sampleErp.calls().journalEntries;

      // Act
      const responses = await Promise.all(Array.from({ length: 20 }, () => send(token, body, id)));

      // Assess
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses).toEqual([200, ...Array(19).fill(409)]);
      expect(responses.filter((r) => r.status === 409).map((r) => r.json.error.code)).toEqual(
        Array(19).fill('conflict'),
      );
      expect(pilot.sampleErp.journalEntries().length).toBe(entriesBefore + 1);
      expect(pilot.sampleErp.calls().journalEntries).toBe(upstreamCallsBefore + 1);
      expect(entriesWithMemo(body.memo)).toHaveLength(1);
    });
  });

  describe('Method: POST /v1/approvals/{id}/decision', () => {
    it('refuses the requester approving their own call (403, separation of duties)', async () => {
      // Prepare
      const id = await holdEntry(await aliceToken(), journalEntry(2500));

      // Act
      const response = await decide(alice, id, 'approve', 'Looks fine to me');

      // Assess
      expect(response.status).toBe(403);
      expect(response.json.error).toEqual(
        expect.objectContaining({
          code: 'forbidden',
          message: expect.stringContaining('Separation of duties'),
          reasons: ['self-approval'],
        }),
      );
    });

    it('refuses a principal outside the approver group (403)', async () => {
      // Prepare
      const id = await holdEntry(await aliceToken(), journalEntry(2500));

      // Act
      const response = await decide(mallory, id, 'approve', 'Sure');

      // Assess
      expect(response.status).toBe(403);
      expect(response.json.error).toEqual(
        expect.objectContaining({
          code: 'forbidden',
          message: expect.stringContaining('Only members of the group "managers"'),
          reasons: ['not-an-approver'],
        }),
      );
    });

    it('records who approved, when and why', async () => {
      // Prepare
      const id = await holdEntry(await aliceToken(), journalEntry(2500));

      // Act
      const response = await decide(bob, id, 'approve', 'Within the quarter’s travel budget');

      // Assess
      expect(response.status).toBe(200);
      expect(response.json.approval).toEqual(
        expect.objectContaining({
          id,
          status: 'approved',
          principal: 'alice',
          decidedBy: 'bob',
          decidedAt: expect.any(String),
          decisionReason: 'Within the quarter’s travel budget',
        }),
      );
    });

    it('refuses deciding twice (409)', async () => {
      // Prepare
      const id = await holdEntry(await aliceToken(), journalEntry(2500));
      await decide(bob, id, 'approve', 'Fine');

      // Act
      const again = await decide(bob, id, 'reject', 'Changed my mind');

      // Assess
      expect(again.status).toBe(409);
      expect(again.json.error).toEqual(
        expect.objectContaining({ code: 'conflict', message: expect.stringContaining('already approved') }),
      );
    });

    it('refuses deciding an expired approval (410)', async () => {
      // Prepare
      const id = await holdEntry(await aliceToken(), journalEntry(2500));
      clock.offsetMs = 25 * HOUR_MS;

      // Act
      const response = await decide(bob, id, 'approve', 'Late but fine');

      // Assess
      expect(response.status).toBe(410);
      expect(response.json.error).toEqual(
        expect.objectContaining({ code: 'gone', message: expect.stringContaining('expired') }),
      );
    });

    it('answers 404 for an unknown approval', async () => {
      // Act
      const response = await decide(bob, `apr_${'0'.repeat(32)}`, 'approve', 'Fine');

      // Assess
      expect(response.status).toBe(404);
      expect(response.json.error).toEqual(
        expect.objectContaining({ code: 'not_found', message: expect.stringContaining('No approval') }),
      );
    });
  });

  describe('Method: GET /v1/approvals', () => {
    it('lists a pending approval for the approver group and shows it, but not to outsiders', async () => {
      // Prepare
      const body = journalEntry(3100);
      const id = await holdEntry(await aliceToken(), body);

      // Act
      const bobList = await bob.request('GET', '/v1/approvals?status=pending');
      const malloryList = await mallory.request('GET', '/v1/approvals?status=pending');
      const shown = await bob.request('GET', `/v1/approvals/${id}`);
      const malloryShow = await mallory.request('GET', `/v1/approvals/${id}`);

      // Assess
      expect(bobList.status).toBe(200);
      expect(bobList.json.approvals.map((a: { id: string }) => a.id)).toContain(id);
      expect(malloryList.status).toBe(200);
      expect(malloryList.json.approvals).toEqual([]);
      expect(shown.status).toBe(200);
      expect(shown.json.approval).toEqual(
        expect.objectContaining({ id, status: 'pending', principal: 'alice', preview: expect.anything() }),
      );
      expect(shown.json.approval.preview.call.body).toEqual(body);
      expect(malloryShow.status).toBe(403);
    });
  });
});
