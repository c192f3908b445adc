/**
 * The kill switch end to end over real mutual TLS against the local pilot (issue "P1 Kill switch",
 * and "the kill switch at scale"): under a steady load of token and connector calls, an engaged switch
 * lets no call through that was sent after the engage was written; a release restores service for new
 * tokens while tokens from before the incident stay refused; a workflow's switch seals that workflow
 * only; a garbage parameter fails closed; a parameter store that cannot be read seals nobody while
 * the copies decide; and a revoked token or principal is refused on the next call.
 *
 * Timing. The CLI writes each change to the switch's copy in the revocations table, which every
 * request reads with its revocation check (consistently), and then to the parameter: an engage is
 * seen by every request whose read starts after the write. A function reads the parameters itself
 * only every `killSwitch.backstopSeconds` ± 20 %, and counts the switch engaged while either place
 * says so: a release, or a change written to the parameter alone, is seen within 1.2 ×
 * backstopSeconds plus one read. This file runs the pilot with backstopSeconds 1 and
 * stalenessSeconds 3 so the suite stays fast. Every bound is asserted on what the calls answered,
 * with the time each was sent and received, never on a sleep alone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killSwitchCopiesOf } from '../../cli/kill-switch-copies';
import { runCli } from '../../cli/program';
import { DynamoDbRevocationStore } from '../../lambdas/adapters/aws/dynamodb-revocation-store';
import { FileKillSwitchParameters } from '../../lambdas/adapters/local/file-kill-switch-parameters';
import { killSwitchParameterName, killSwitchPrefix } from '../../lambdas/core/kill-switch';
import {
  type EngageKillSwitchOptions,
  engageKillSwitch,
  type KillSwitchChange,
  type KillSwitchCopyStore,
  releaseKillSwitch,
} from '../../lambdas/core/kill-switch-operator';
import { loadConfig } from '../../lib/config/load-config';
import type { AirlockConfig } from '../../lib/config/schema';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import { LOCAL_TABLES, type LocalDynamo, openLocalDynamo } from '../../local/local-state';
import { type E2eClient, type E2eResponse, e2eClientFor } from './e2e-client';
import { FaultInjector } from './support/fault-injector';
import { waitForKillSwitch } from './support/wait-for-kill-switch';

const BACKSTOP_SECONDS = 1;
const STALENESS_SECONDS = 3;
const BACKSTOP_MS = BACKSTOP_SECONDS * 1000;
const STALENESS_MS = STALENESS_SECONDS * 1000;
/** One parameter read, with scheduling slack on a shared 2-core machine. */
const READ_MARGIN_MS = 500;
/** The longest interval between two parameter reads of one environment: the period plus its jitter. */
const BACKSTOP_BOUND_MS = BACKSTOP_MS * 1.2 + READ_MARGIN_MS;
/**
 * A JWT's `iat` has whole seconds, and a token issued in the same second as a cut-off counts as issued
 * before it (fail closed), so a new token works at the latest one second after a release.
 */
const IAT_GRANULARITY_MS = 1000;
/** After a release: every function has read the released parameter, and new tokens are past the cut-off. */
const RESTORE_BOUND_MS = Math.max(BACKSTOP_MS * 1.2, IAT_GRANULARITY_MS) + READ_MARGIN_MS;
/** Calls each load loop has served before a change, so the pilot is warm. */
const WARM_UP_CALLS = 5;
/** Steady load kept up after warming, before anything changes. */
const WARM_UP_MS = BACKSTOP_MS / 2;
/** Load kept up after a bound, so "nothing after the bound" covers a good number of calls. */
const OBSERVE_MS = 1000;
/** Fewest calls a phase must hold for its assertion to mean something. */
const MIN_CALLS = 5;

const EXPENSE = 'expense-summary';
const TRAVEL = 'travel-booking';
const OPERATOR = 'oncall@example.com';
const LIST = { path: '/v1/connectors/receipts/list', body: {} };
const LOOKUP = { path: '/v1/connectors/erp/lookupGlCode', body: { query: 'travel' } };

/**
 * The example pilot with a short kill-switch backstop, a second workflow (a copy of expense-summary) to
 * show a workflow's switch seals only its own, and rate limits and the spend cap out of the way of
 * the steady load.
 */
function killSwitchTestConfig(): AirlockConfig {
  const config = loadConfig();
  const expense = config.workflows[EXPENSE];
  if (!expense) throw new Error(`the example config changed: no workflow ${EXPENSE}`);
  const unthrottled = {
    ...expense,
    rateLimits: { perTokenPerMinute: 1_000_000, perWorkflowPerMinute: 1_000_000 },
    dailySpendCapUsd: 1_000_000,
  };
  return {
    ...config,
    killSwitch: { backstopSeconds: BACKSTOP_SECONDS, stalenessSeconds: STALENESS_SECONDS },
    workflows: {
      ...config.workflows,
      [EXPENSE]: unthrottled,
      [TRAVEL]: { ...unthrottled, description: 'Travel bookings checked against receipts and GL codes' },
    },
  };
}

/** One call of the steady load, as the client saw it. */
interface CallRecord {
  readonly kind: 'credentials' | 'connector' | 'health';
  readonly label: string;
  readonly sentAt: number;
  readonly receivedAt: number;
  readonly response: E2eResponse;
}

/** One client loop of the steady load: the same call again and again, back to back. */
interface LoadLoop {
  readonly kind: CallRecord['kind'];
  readonly label: string;
  call(): Promise<E2eResponse>;
}

/** A few concurrent client loops, each recording every call with its send and receive time. */
class SteadyLoad {
  private readonly records: CallRecord[] = [];
  private running = true;
  private readonly finished: Promise<PromiseSettledResult<void>[]>;

  constructor(private readonly loops: readonly LoadLoop[]) {
    this.finished = Promise.allSettled(loops.map((loop) => this.run(loop)));
  }

  /** Stops every loop after its call in flight and returns all calls, a call without any response failing. */
  async stop(): Promise<CallRecord[]> {
    this.running = false;
    for (const result of await this.finished) {
      if (result.status === 'rejected') throw result.reason;
    }
    return this.records;
  }

  /**
   * Resolves once every loop has been served `calls` times in a row, so a cold start (first policy
   * decision, the ERP's OAuth token) is behind the load before anything changes.
   */
  async warmUp(calls = WARM_UP_CALLS, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.loops.every((loop) => this.servedInARow(loop.label) >= calls)) {
      if (Date.now() > deadline) {
        throw new Error(`the steady load was not served ${calls} times per loop within ${timeoutMs} ms`);
      }
      await sleepUntil(Date.now() + 20);
    }
  }

  private servedInARow(label: string): number {
    let count = 0;
    for (let i = this.records.length - 1; i >= 0; i--) {
      if (this.records[i].label !== label) continue;
      if (!wasServed(this.records[i])) break;
      count++;
    }
    return count;
  }

  private async run(loop: LoadLoop): Promise<void> {
    while (this.running) {
      const sentAt = Date.now();
      const response = await loop.call();
      this.records.push({ kind: loop.kind, label: loop.label, sentAt, receivedAt: Date.now(), response });
    }
  }
}

const credentialsLoop = (client: E2eClient, label: string, workflow: string): LoadLoop => ({
  kind: 'credentials',
  label,
  call: () =>
    client.request('POST', '/v1/credentials', {
      body: { workflow, scopes: ['receipts:read'], durationMinutes: 5 },
    }),
});

const connectorLoop = (
  client: E2eClient,
  label: string,
  token: string,
  operation: { path: string; body: unknown },
): LoadLoop => ({
  kind: 'connector',
  label,
  call: () => client.request('POST', operation.path, { token, body: operation.body }),
});

const healthLoop = (client: E2eClient, workflow: string): LoadLoop => ({
  kind: 'health',
  label: `health of ${workflow}`,
  call: () => client.request('GET', `/v1/health?workflow=${workflow}`),
});

/** True when the call did what it asked: a token (201), a connector result (200), or a health answer (200). */
function wasServed(record: CallRecord): boolean {
  return record.response.status === (record.kind === 'credentials' ? 201 : 200);
}

/** True when the call was refused by the kill switch (503 `kill_switch_engaged`) for the expected reason and scope. */
function wasSealed(record: CallRecord, reason: string | RegExp, scope: 'global' | 'workflow'): boolean {
  const error = record.response.json?.error;
  const matches = (text: unknown) =>
    typeof text === 'string' && (typeof reason === 'string' ? text.includes(reason) : reason.test(text));
  return (
    record.response.status === 503 &&
    error?.code === 'kill_switch_engaged' &&
    error.scope === scope &&
    matches(error.reason) &&
    matches(error.message) &&
    !record.response.text.includes('accessToken')
  );
}

/** What a failed assertion prints for a call: when it went and what came back (never a token). */
function describeCall(record: CallRecord, since: number): string {
  const error = record.response.json?.error;
  const outcome = error ? `${error.code}: ${error.message}` : 'served';
  return `${record.label} sent at +${record.sentAt - since} ms answered ${record.response.status} (${outcome})`;
}

function sentFrom(records: readonly CallRecord[], from: number, until = Number.POSITIVE_INFINITY) {
  return records.filter((record) => record.sentAt >= from && record.sentAt < until);
}

function sleepUntil(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
}

/** Waits until a token issued now has an `iat` at or after `cutOff` (see {@link IAT_GRANULARITY_MS}). */
function pastCutOff(cutOff: Date | null): Promise<void> {
  return cutOff === null ? Promise.resolve() : sleepUntil(Math.ceil(cutOff.getTime() / 1000) * 1000 + 1);
}

/** The claims of an access token (the test's own token, so its signature is not this helper's concern). */
function claimsOf(token: string): { jti: string; exp: number; iat: number; sub: string } {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

describe('Local pilot: the kill switch and revocation over mutual TLS', () => {
  const faults = new FaultInjector();
  let home: string;
  let pilot: LocalPilot;
  let parameters: FileKillSwitchParameters;
  let copies: KillSwitchCopyStore;
  let dynamo: LocalDynamo;
  let prefix: string;
  let alice: E2eClient;
  let bob: E2eClient;

  /**
   * What `airlock kill-switch engage|release --local` does: the copy in the running pilot's revocations
   * table, then the parameter file.
   */
  const operatorOptions = (workflow?: string): Omit<EngageKillSwitchOptions, 'reason'> => ({
    source: parameters,
    writer: parameters,
    copies,
    prefix,
    workflow,
    changedBy: OPERATOR,
    backstopSeconds: BACKSTOP_SECONDS,
  });

  /** Releases a switch and waits until the pilot serves again and new tokens are past the cut-off. */
  async function releaseAndSettle(workflow?: string): Promise<KillSwitchChange> {
    const release = await releaseKillSwitch({ ...operatorOptions(workflow), reason: 'incident closed' });
    await waitForKillSwitch(alice, false, { workflow: workflow ?? EXPENSE, timeoutMs: 10_000 });
    await pastCutOff(release.revokeIssuedBefore);
    return release;
  }

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-e2e-kill-switch-'));
    pilot = await startLocalPilot({
      home,
      port: 0,
      config: killSwitchTestConfig(),
      wrapPorts: (ports) => faults.wrap(ports),
    });
    parameters = new FileKillSwitchParameters(home);
    dynamo = await openLocalDynamo(home);
    copies = killSwitchCopiesOf(
      new DynamoDbRevocationStore({ client: dynamo.doc, tableName: LOCAL_TABLES.revocations }),
    );
    prefix = killSwitchPrefix(pilot.config.stage);
    alice = e2eClientFor(pilot, 'alice');
    bob = e2eClientFor(pilot, 'bob');
  }, 60_000);

  afterEach(() => faults.clear());

  afterAll(async () => {
    alice?.close();
    bob?.close();
    await dynamo?.close();
    await pilot?.close();
    await rm(home, { recursive: true, force: true });
  });

  describe('Function: engageKillSwitch, global, under steady load', () => {
    const reason = 'INC-4711: suspected token theft on a finance laptop';
    let engage: KillSwitchChange;
    let aliceBefore: string;
    let bobBefore: string;

    it('refuses every token and connector call sent after the engage was written, with the operator’s reason', async () => {
      // Prepare
      aliceBefore = await alice.getToken(EXPENSE, ['receipts:read', 'erp:read'], 30);
      bobBefore = await bob.getToken(EXPENSE, ['receipts:read', 'erp:read'], 30);
      const load = new SteadyLoad([
        connectorLoop(alice, 'alice receipts/list', aliceBefore, LIST),
        connectorLoop(alice, 'alice erp/lookupGlCode', aliceBefore, LOOKUP),
        connectorLoop(bob, 'bob receipts/list', bobBefore, LIST),
        credentialsLoop(alice, 'alice POST /v1/credentials', EXPENSE),
        credentialsLoop(bob, 'bob POST /v1/credentials', EXPENSE),
      ]);
      await load.warmUp();
      await sleepUntil(Date.now() + WARM_UP_MS);

      // Act
      engage = await engageKillSwitch({ ...operatorOptions(), reason });
      const engagedAt = engage.changedAt.getTime();
      const writtenAt = Date.now();
      await sleepUntil(writtenAt + OBSERVE_MS);
      const records = await load.stop();

      // Assess: the load was served before the switch, so the refusals afterwards are the switch's doing.
      const before = records.filter((record) => record.receivedAt < engagedAt);
      expect(before.filter((record) => record.kind === 'connector').length).toBeGreaterThanOrEqual(MIN_CALLS);
      expect(before.filter((record) => record.kind === 'credentials').length).toBeGreaterThanOrEqual(
        MIN_CALLS,
      );
      expect(before.filter((record) => !wasServed(record)).map((r) => describeCall(r, engagedAt))).toEqual(
        [],
      );

      // Assess: zero calls allowed that were sent after the write, each refused with the operator's reason.
      const late = sentFrom(records, writtenAt);
      expect(late.filter((record) => record.kind === 'connector').length).toBeGreaterThanOrEqual(MIN_CALLS);
      expect(late.filter((record) => record.kind === 'credentials').length).toBeGreaterThanOrEqual(MIN_CALLS);
      expect(
        late.filter((record) => !wasSealed(record, reason, 'global')).map((r) => describeCall(r, engagedAt)),
      ).toEqual([]);

      // Assess: the measured propagation (first refusal) is within the bound, and what the operator was told.
      const refusals = records.filter((record) => wasSealed(record, reason, 'global'));
      const firstRefusalMs = Math.min(...refusals.map((record) => record.receivedAt)) - engagedAt;
      const lastServedSentMs =
        Math.max(...records.filter(wasServed).map((record) => record.sentAt)) - engagedAt;
      expect(firstRefusalMs).toBeLessThanOrEqual(writtenAt - engagedAt + READ_MARGIN_MS);
      expect(lastServedSentMs).toBeLessThan(writtenAt - engagedAt);
      expect(engage).toMatchObject({ copied: true, effectiveBy: engage.changedAt });
      console.info(
        `kill switch (copy read per request): ${records.length} calls; written ${writtenAt - engagedAt} ms after changedAt; first refusal ${firstRefusalMs} ms; last call served was sent at +${lastServedSentMs} ms`,
      );

      // Assess: an operator checking health sees it engaged, and why.
      const health = await alice.request('GET', `/v1/health?workflow=${EXPENSE}`);
      expect(health.json.killSwitch).toMatchObject({ engaged: true, scope: 'global', reason });
    });

    it('restores service within the bound on release: new tokens are issued and their calls succeed', async () => {
      // Prepare
      type Attempt = { sentAt: number; issued: number; issuedAt: number; used?: number; usedAt?: number };
      const attempts: Attempt[] = [];
      let running = true;
      const newTokenThenCall = async (client: E2eClient) => {
        while (running) {
          const sentAt = Date.now();
          const issued = await client.request('POST', '/v1/credentials', {
            body: { workflow: EXPENSE, scopes: ['receipts:read'], durationMinutes: 5 },
          });
          const attempt: Attempt = { sentAt, issued: issued.status, issuedAt: Date.now() };
          if (issued.status === 201) {
            const used = await client.request('POST', LIST.path, {
              token: issued.json.accessToken,
              body: {},
            });
            Object.assign(attempt, { used: used.status, usedAt: Date.now() });
          }
          attempts.push(attempt);
        }
      };
      const loops = Promise.all([newTokenThenCall(alice), newTokenThenCall(bob)]);
      const oldTokens = new SteadyLoad([connectorLoop(alice, 'alice token from before', aliceBefore, LIST)]);

      // Act
      const release = await releaseKillSwitch({ ...operatorOptions(), reason: 'INC-4711 contained' });
      const releasedAt = release.changedAt.getTime();
      await sleepUntil(releasedAt + RESTORE_BOUND_MS + OBSERVE_MS);
      running = false;
      await loops;
      const oldTokenCalls = await oldTokens.stop();

      // Assess: the first new token and the first call with a new token came within the bound.
      const after = attempts.filter((attempt) => attempt.sentAt >= releasedAt);
      const firstIssued = Math.min(...after.filter((a) => a.issued === 201).map((a) => a.issuedAt));
      const firstUsed = Math.min(
        ...after.filter((a) => a.used === 200).map((a) => a.usedAt ?? Number.POSITIVE_INFINITY),
      );
      expect(firstIssued - releasedAt).toBeLessThanOrEqual(BACKSTOP_BOUND_MS);
      expect(firstUsed - releasedAt).toBeLessThanOrEqual(RESTORE_BOUND_MS);
      console.info(
        `kill switch release: first new token ${firstIssued - releasedAt} ms, first call served with a new token ${firstUsed - releasedAt} ms after release; bound ${RESTORE_BOUND_MS} ms`,
      );

      // Assess: from the bound on, every token request is served and every new token works.
      const late = attempts.filter((attempt) => attempt.sentAt >= releasedAt + RESTORE_BOUND_MS);
      expect(late.length).toBeGreaterThanOrEqual(MIN_CALLS);
      expect(late.filter((attempt) => attempt.issued !== 201 || attempt.used !== 200)).toEqual([]);

      // Assess: the token from before the incident was never served again, released or not.
      const oldAfterRelease = sentFrom(oldTokenCalls, releasedAt + RESTORE_BOUND_MS);
      expect(oldAfterRelease.length).toBeGreaterThanOrEqual(MIN_CALLS);
      expect(oldTokenCalls.filter(wasServed).map((r) => describeCall(r, releasedAt))).toEqual([]);
      expect(release.revokeIssuedBefore?.getTime()).toBe(releasedAt);
    });

    it('keeps refusing a token issued before the incident after the release (401 issued_before_revocation)', async () => {
      // Act
      const alicesOld = await alice.request('POST', LIST.path, { token: aliceBefore, body: {} });
      const bobsOld = await bob.request('POST', LOOKUP.path, { token: bobBefore, body: LOOKUP.body });

      // Assess
      for (const response of [alicesOld, bobsOld]) {
        expect(response.status).toBe(401);
        expect(response.json.error).toMatchObject({
          code: 'unauthenticated',
          reasons: ['issued_before_revocation'],
          message: expect.stringMatching(/request a new|new token/i),
        });
      }
      expect(claimsOf(aliceBefore).iat * 1000).toBeLessThan(engage.changedAt.getTime());
    });
  });

  describe('Function: engageKillSwitch, one workflow', () => {
    it(`seals ${EXPENSE} only, while ${TRAVEL} keeps being served under the same load`, async () => {
      // Prepare
      const reason = 'receipts folder exposed by a misconfigured share';
      const expenseToken = await alice.getToken(EXPENSE, ['receipts:read'], 30);
      const travelToken = await alice.getToken(TRAVEL, ['receipts:read'], 30);
      const load = new SteadyLoad([
        connectorLoop(alice, `alice ${EXPENSE} receipts/list`, expenseToken, LIST),
        connectorLoop(
          bob,
          `bob ${TRAVEL} receipts/list`,
          await bob.getToken(TRAVEL, ['receipts:read'], 30),
          LIST,
        ),
        connectorLoop(alice, `alice ${TRAVEL} receipts/list`, travelToken, LIST),
        credentialsLoop(alice, `alice credentials for ${EXPENSE}`, EXPENSE),
        credentialsLoop(bob, `bob credentials for ${TRAVEL}`, TRAVEL),
      ]);
      await load.warmUp();
      await sleepUntil(Date.now() + WARM_UP_MS);

      // Act
      const engage = await engageKillSwitch({ ...operatorOptions(EXPENSE), reason });
      const engagedAt = engage.changedAt.getTime();
      const writtenAt = Date.now();
      await sleepUntil(writtenAt + OBSERVE_MS);
      const records = await load.stop();

      // Assess: the sealed workflow refuses everything sent after the write, naming the workflow scope.
      const expense = records.filter((record) => record.label.includes(EXPENSE));
      const travel = records.filter((record) => record.label.includes(TRAVEL));
      const lateExpense = sentFrom(expense, writtenAt);
      expect(lateExpense.length).toBeGreaterThanOrEqual(MIN_CALLS);
      expect(
        lateExpense
          .filter((record) => !wasSealed(record, reason, 'workflow'))
          .map((r) => describeCall(r, engagedAt)),
      ).toEqual([]);

      // Assess: the other workflow never noticed.
      expect(sentFrom(travel, writtenAt).length).toBeGreaterThanOrEqual(MIN_CALLS);
      expect(travel.filter((record) => !wasServed(record)).map((r) => describeCall(r, engagedAt))).toEqual(
        [],
      );
      const health = await alice.request('GET', `/v1/health?workflow=${TRAVEL}`);
      expect(health.json.killSwitch).toMatchObject({ engaged: false });

      // Act: release; the workflow's tokens from before stay dead, the other workflow's were never touched.
      await releaseAndSettle(EXPENSE);
      const expenseOld = await alice.request('POST', LIST.path, { token: expenseToken, body: {} });
      const travelOld = await alice.request('POST', LIST.path, { token: travelToken, body: {} });
      const expenseNew = await alice.request('POST', LIST.path, {
        token: await alice.getToken(EXPENSE, ['receipts:read'], 5),
        body: {},
      });

      // Assess
      expect(expenseOld.status).toBe(401);
      expect(expenseOld.json.error.reasons).toEqual(['issued_before_revocation']);
      expect(travelOld.status).toBe(200);
      expect(expenseNew.status).toBe(200);
    });
  });

  describe('Fault: the parameter store cannot be read', () => {
    it('keeps serving on the copies past the staleness bound (SSM throttling sealed everyone), and an engage still seals at once', async () => {
      // Prepare
      const token = await alice.getToken(EXPENSE, ['receipts:read'], 30);
      const load = new SteadyLoad([
        connectorLoop(alice, 'alice receipts/list', token, LIST),
        credentialsLoop(bob, 'bob POST /v1/credentials', EXPENSE),
        healthLoop(alice, EXPENSE),
      ]);
      await load.warmUp();
      await sleepUntil(Date.now() + WARM_UP_MS);

      // Act: SSM throttled or denied for longer than the staleness bound
      const faultAt = Date.now();
      faults.inject({ port: 'killSwitchSource', method: 'read', mode: 'fail' });
      await sleepUntil(faultAt + STALENESS_MS + BACKSTOP_BOUND_MS + OBSERVE_MS);
      const failedReads = faults.callsOf('killSwitchSource', 'read');
      const reason = 'INC-4712: engaged while SSM is throttled';
      const engage = await engageKillSwitch({ ...operatorOptions(), reason });
      const writtenAt = Date.now();
      await sleepUntil(writtenAt + OBSERVE_MS);
      const records = await load.stop();

      // Assess: reads were attempted (backing off) and failed, and nothing was refused for it.
      expect(failedReads).toBeGreaterThan(0);
      // Answered before the engage was written (a call answered later may rightly say engaged).
      const outage = sentFrom(records, faultAt).filter(
        (record) => record.receivedAt < engage.changedAt.getTime(),
      );
      expect(sentFrom(outage, faultAt + STALENESS_MS).length).toBeGreaterThanOrEqual(MIN_CALLS);
      expect(
        outage
          .filter((record) => !wasServed(record) || record.response.json?.killSwitch?.engaged === true)
          .map((r) => describeCall(r, faultAt)),
      ).toEqual([]);

      // Assess: the engage, written to the copy, sealed every call sent after it, SSM or not.
      const late = sentFrom(records, writtenAt).filter((record) => record.kind !== 'health');
      expect(late.length).toBeGreaterThanOrEqual(MIN_CALLS);
      expect(
        late.filter((record) => !wasSealed(record, reason, 'global')).map((r) => describeCall(r, writtenAt)),
      ).toEqual([]);

      // Assess: once the store answers again, the switch releases as usual.
      faults.clear();
      await releaseAndSettle();
      const fresh = await alice.request('POST', LIST.path, {
        token: await alice.getToken(EXPENSE, ['receipts:read'], 5),
        body: {},
      });
      expect(fresh.status).toBe(200);
    });
  });

  describe('Fault: a garbage parameter value', () => {
    it.each([
      {
        what: 'the global parameter, not JSON',
        workflow: undefined,
        value: 'engaged: maybe',
        reason: /kill switch parameter \/airlock\/pilot\/kill-switch is unreadable \(not JSON\)/,
        scope: 'global' as const,
      },
      {
        what: `the ${EXPENSE} parameter, JSON of the wrong shape`,
        workflow: EXPENSE,
        value: '{"engaged":"no"}',
        reason:
          /kill switch parameter \/airlock\/pilot\/kill-switch\/expense-summary is unreadable \(engaged:/,
        scope: 'workflow' as const,
      },
    ])(
      'refuses every call within the backstop bound when $what (written in SSM alone); health says why',
      async ({ workflow, value, reason, scope }) => {
        // Prepare
        const token = await alice.getToken(EXPENSE, ['receipts:read'], 30);
        const load = new SteadyLoad([
          connectorLoop(alice, 'alice receipts/list', token, LIST),
          credentialsLoop(bob, 'bob POST /v1/credentials', EXPENSE),
        ]);
        await load.warmUp();
        await sleepUntil(Date.now() + WARM_UP_MS);

        // Act
        const writtenAt = Date.now();
        await parameters.write(killSwitchParameterName(prefix, workflow), value);
        await sleepUntil(writtenAt + BACKSTOP_BOUND_MS + OBSERVE_MS);
        const records = await load.stop();
        const health = await alice.request('GET', `/v1/health?workflow=${EXPENSE}`);

        // Assess
        const late = sentFrom(records, writtenAt + BACKSTOP_BOUND_MS);
        expect(late.length).toBeGreaterThanOrEqual(MIN_CALLS);
        expect(
          late.filter((record) => !wasSealed(record, reason, scope)).map((r) => describeCall(r, writtenAt)),
        ).toEqual([]);
        expect(health.json.killSwitch).toMatchObject({
          engaged: true,
          scope,
          reason: expect.stringMatching(reason),
        });

        // Act: the remedy the message names; afterwards a new token works.
        await releaseAndSettle(workflow);
        const restored = await alice.request('POST', LIST.path, {
          token: await alice.getToken(EXPENSE, ['receipts:read'], 5),
          body: {},
        });

        // Assess
        expect(restored.status).toBe(200);
      },
    );
  });

  describe('Class: DynamoDbRevocationStore, on the running pilot’s table', () => {
    describe('Method: revokeToken', () => {
      it('refuses the revoked token on its next call (401 revoked) and leaves the principal’s other tokens working', async () => {
        // Prepare
        const revoked = await alice.getToken(EXPENSE, ['receipts:read'], 30);
        const other = await alice.getToken(EXPENSE, ['receipts:read'], 30);
        const served = await alice.request('POST', LIST.path, { token: revoked, body: {} });
        const dynamo = await openLocalDynamo(home);
        const claims = claimsOf(revoked);

        // Act
        try {
          const store = new DynamoDbRevocationStore({
            client: dynamo.doc,
            tableName: LOCAL_TABLES.revocations,
          });
          await store.revokeToken(claims.jti, new Date(claims.exp * 1000), OPERATOR);
        } finally {
          await dynamo.close();
        }
        const refused = await alice.request('POST', LIST.path, { token: revoked, body: {} });
        const untouched = await alice.request('POST', LIST.path, { token: other, body: {} });

        // Assess: the revocation went through the pilot's own dynalite, as `airlock revoke --jti --local` does.
        expect(dynamo.shared).toBe(true);
        expect(served.status).toBe(200);
        expect(refused.status).toBe(401);
        expect(refused.json.error).toMatchObject({ code: 'unauthenticated', reasons: ['revoked'] });
        expect(untouched.status).toBe(200);
      });
    });
  });

  describe('Command: airlock revoke --principal --local', () => {
    it('refuses all of alice’s earlier tokens, leaves bob’s working, and lets a new token of alice work', async () => {
      // Prepare
      const earlier = [
        await alice.getToken(EXPENSE, ['receipts:read'], 30),
        await alice.getToken(EXPENSE, ['erp:read'], 30),
        await alice.getToken(TRAVEL, ['receipts:read'], 30),
      ];
      const bobs = await bob.getToken(EXPENSE, ['receipts:read'], 30);
      let out = '';
      const stream = (append: (text: string) => void) =>
        ({
          isTTY: false,
          write: (chunk: string | Uint8Array) => {
            append(String(chunk));
            return true;
          },
        }) as unknown as NodeJS.WritableStream;
      const io = {
        stdout: stream((text) => {
          out += text;
        }),
        stderr: stream(() => undefined),
        env: { AIRLOCK_HOME: home, AIRLOCK_OPERATOR: OPERATOR },
        cwd: process.cwd(),
      };

      // Act
      const exitCode = await runCli(
        ['node', 'airlock', '--json', 'revoke', '--principal', 'alice', '--local', '--reason', 'lost laptop'],
        io,
      );
      const result = JSON.parse(out) as { issuedBefore: string; effective: string };
      const calls = await Promise.all(
        earlier.map((token, i) =>
          alice.request('POST', i === 1 ? LOOKUP.path : LIST.path, {
            token,
            body: i === 1 ? LOOKUP.body : LIST.body,
          }),
        ),
      );
      const bobsCall = await bob.request('POST', LIST.path, { token: bobs, body: {} });
      await pastCutOff(new Date(result.issuedBefore));
      const fresh = await alice.request('POST', LIST.path, {
        token: await alice.getToken(EXPENSE, ['receipts:read'], 5),
        body: {},
      });

      // Assess
      expect(exitCode).toBe(0);
      expect(result.effective).toBe('immediately');
      for (const call of calls) {
        expect(call.status).toBe(401);
        expect(call.json.error).toMatchObject({ code: 'unauthenticated', reasons: ['revoked'] });
      }
      expect(bobsCall.status).toBe(200);
      expect(fresh.status).toBe(200);
    });
  });
});
