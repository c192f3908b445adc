import { MemoryCounterStore } from '../../../lambdas/adapters/local/memory-counter-store';
import { AuditLedgerPool } from '../../../lambdas/core/audit-ledger';
import type { Caller } from '../../../lambdas/core/caller';
import { DependencyError } from '../../../lambdas/core/errors';
import { RateLimiter } from '../../../lambdas/core/rate-limiter';
import { SpendCap } from '../../../lambdas/core/spend-cap';
import { UsageMeter, type UsagePoint } from '../../../lambdas/core/usage-meter';
import { UsageReporter } from '../../../lambdas/core/usage-reporter';
import { loadConfig } from '../../../lib/config/load-config';
import { MemoryAuditStore } from '../support/audit-fixtures';
import { FakeClock } from '../support/fake-clock';
import { refusalAsync } from '../support/refusal';

const WORKFLOW = 'expense-summary';
const MODEL = 'claude-sonnet-4-5';

function setup(counters?: MemoryCounterStore, shared?: { clock: FakeClock }) {
  const config = loadConfig();
  const clock = shared?.clock ?? new FakeClock(Date.parse('2026-11-02T09:00:00.000Z'));
  const store = counters ?? new MemoryCounterStore(clock);
  const audit = new MemoryAuditStore();
  const points: UsagePoint[] = [];
  const spendCap = new SpendCap({ workflows: config.workflows, counters: store, clock });
  const meter = new UsageMeter(
    config.prices,
    {
      record: (point) => {
        points.push(point);
        spendCap.record(point);
      },
    },
    512,
  );
  const reporter = new UsageReporter({
    config,
    ledger: new AuditLedgerPool({ store: audit, chainIds: ['usage-test'], clock }),
    meter,
    spendCap,
    counters: store,
    rateLimiter: new RateLimiter(clock),
    clock,
  });
  let tokens = 0;
  const caller = (principal = 'alice', scopes = ['receipts:read', 'usage:report']): Caller => ({
    principal,
    workflow: WORKFLOW,
    scopes: new Set(scopes),
    tokenId: `token-${++tokens}`,
    channel: 'device',
    issuedAt: clock.now(),
  });
  const report = (who: Caller, inputTokens: number, outputTokens = 0) =>
    reporter.report(who, { workflow: WORKFLOW, model: MODEL, inputTokens, outputTokens }, 'req-usage');
  return { config, clock, audit, points, spendCap, counters: store, reporter, caller, report };
}

describe('Class: UsageReporter', () => {
  describe('Method: report', () => {
    it('accepts a report, records it as self-reported and counts it against the cap at once', async () => {
      // Prepare: $3 per million input tokens.
      const { audit, points, spendCap, caller, report } = setup();

      // Act
      const accepted = await report(caller(), 1_000_000);

      // Assess
      expect(accepted).toEqual({ estimatedCostUsd: 3, reportedTodayUsd: 3, principalLimitUsd: 12.5 });
      expect(audit.records()).toEqual([
        expect.objectContaining({
          type: 'usage_reported',
          decision: 'recorded',
          details: expect.objectContaining({ selfReported: true, inputTokens: 1_000_000, model: MODEL }),
        }),
      ]);
      expect(points.map((p) => p.cost.llm)).toEqual([3]);
      expect(await spendCap.spentToday(WORKFLOW)).toBeGreaterThanOrEqual(3);
    });

    it('attack: one usage report of 100 million tokens sealed the workflow for the day', async () => {
      // Prepare
      const { audit, spendCap, caller, report } = setup();

      // Act
      const error = await refusalAsync(report(caller(), 100_000_000));

      // Assess: refused as too large for one report, recorded, and nothing counted.
      expect(error).toMatchObject({
        code: 'invalid_request',
        message: expect.stringMatching(/^inputTokens: at most 1000000/),
      });
      expect(audit.records()).toEqual([
        expect.objectContaining({ decision: 'deny', reasons: ['invalid_request', 'usage-report-too-large'] }),
      ]);
      await expect(spendCap.check(WORKFLOW)).resolves.toBeUndefined();
    });

    it('attack: any token could report usage, without asking for a reporting scope', async () => {
      // Prepare
      const { audit, caller, report } = setup();

      // Act
      const error = await refusalAsync(report(caller('alice', ['receipts:read']), 10));

      // Assess
      expect(error).toMatchObject({ code: 'forbidden', reasons: ['missing-scope:usage:report'] });
      expect(audit.records()[0]).toMatchObject({
        decision: 'deny',
        reasons: ['forbidden', 'missing-scope:usage:report'],
      });
    });

    it('attack: one principal sealed the workflow for everyone with many bounded reports', async () => {
      // Prepare: cap $25, alice's share 50%; each report $3.
      const { caller, report, spendCap } = setup();
      let accepted = 0;

      // Act
      let refusal: unknown;
      for (let i = 0; i < 10 && !refusal; i++) {
        try {
          await report(caller('alice'), 1_000_000);
          accepted += 1;
        } catch (error) {
          refusal = error;
        }
      }

      // Assess: four reports ($12) fit her share; the fifth would pass $12.50. The workflow stays open
      // for bob, whose own reports still count.
      expect(accepted).toBe(4);
      expect(refusal).toMatchObject({ code: 'rate_limited', reasons: ['principal-share-of-spend-cap'] });
      await expect(spendCap.check(WORKFLOW)).resolves.toBeUndefined();
      await expect(report(caller('bob'), 1_000_000)).resolves.toMatchObject({ reportedTodayUsd: 3 });
    });

    it('holds the share across execution environments (one counters table)', async () => {
      // Prepare
      const clock = new FakeClock(Date.parse('2026-11-02T09:00:00.000Z'));
      const counters = new MemoryCounterStore(clock);
      const one = setup(counters, { clock });
      const two = setup(counters, { clock });
      for (let i = 0; i < 4; i++) await one.report(one.caller('alice'), 1_000_000);

      // Act
      const error = await refusalAsync(two.report(two.caller('alice'), 1_000_000));

      // Assess
      expect(error.reasons).toEqual(['principal-share-of-spend-cap']);
    });

    it('rate-limits a token’s reports', async () => {
      // Prepare: 30 reports a minute per token.
      const { caller, report } = setup();
      const token = caller();
      for (let i = 0; i < 30; i++) await report(token, 10);

      // Act
      const error = await refusalAsync(report(token, 10));

      // Assess
      expect(error).toMatchObject({
        code: 'rate_limited',
        message: expect.stringMatching(/usage reports of this token/),
      });
    });

    it('refuses reports for another workflow, of an unknown model, and malformed ones, naming the field', async () => {
      // Prepare
      const { reporter, caller } = setup();
      const send = (body: unknown) => refusalAsync(reporter.report(caller(), body, 'req-raw'));

      // Act
      const refusals = [
        await send({ workflow: 'other', model: MODEL, inputTokens: 1, outputTokens: 1 }),
        await send({ workflow: WORKFLOW, model: 'gpt-x', inputTokens: 1, outputTokens: 1 }),
        await send({ workflow: WORKFLOW, model: MODEL, inputTokens: -1, outputTokens: 1 }),
        await send({ workflow: WORKFLOW, model: MODEL, inputTokens: 1, outputTokens: 1, extra: true }),
      ];

      // Assess
      expect(refusals.map((r) => [r.code, r.message.split(':')[0]])).toEqual([
        ['forbidden', 'Your token is for workflow "expense-summary", not "other".'],
        ['invalid_request', 'model'],
        ['invalid_request', 'inputTokens'],
        ['invalid_request', 'extra'],
      ]);
    });

    it('refuses while the counters cannot answer, and records nothing as accepted (fail closed)', async () => {
      // Prepare
      const { audit, counters, caller, report } = setup();
      counters.failAdds = true;

      // Act
      const outcome = report(caller(), 10);

      // Assess
      await expect(outcome).rejects.toThrow(DependencyError);
      expect(audit.records().filter((r) => r.decision === 'recorded')).toEqual([]);
    });
  });
});
