import { MemoryCounterStore } from '../../../lambdas/adapters/local/memory-counter-store';
import type { CostBreakdown } from '../../../lambdas/core/cost-estimate';
import { AirlockError } from '../../../lambdas/core/errors';
import type { Clock } from '../../../lambdas/core/ports';
import { SpendCap } from '../../../lambdas/core/spend-cap';

const WORKFLOW = 'expense-summary';
const WORKFLOWS = { [WORKFLOW]: { dailySpendCapUsd: 25 }, 'month-end': { dailySpendCapUsd: 5 } };

class FakeClock implements Clock {
  constructor(public at: Date) {}
  now(): Date {
    return this.at;
  }
}

function cost(total: number): CostBreakdown {
  return {
    lambda: 0,
    apiGateway: 0,
    waf: 0,
    kms: 0,
    secretsManager: 0,
    dynamodb: 0,
    logs: 0,
    xray: 0,
    s3: 0,
    llm: total,
    llmMeasured: 0,
    total,
  };
}

async function refusalOf(call: () => Promise<void>): Promise<AirlockError> {
  try {
    await call();
  } catch (error) {
    if (error instanceof AirlockError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

function spendCap(
  workflows: ConstructorParameters<typeof SpendCap>[0]['workflows'],
  clock: Clock,
  counters = new MemoryCounterStore(clock),
): SpendCap {
  return new SpendCap({ workflows, clock, counters });
}

describe('Class: SpendCap', () => {
  describe('Method: check', () => {
    it('lets calls through while today’s spend is below the cap', async () => {
      // Prepare
      const clock = new FakeClock(new Date('2026-10-01T12:00:00Z'));
      const cap = spendCap(WORKFLOWS, clock);
      cap.add(WORKFLOW, 24.99);

      // Act & Assess
      await expect(cap.check(WORKFLOW)).resolves.toBeUndefined();
      expect(await cap.spentToday(WORKFLOW)).toBeCloseTo(24.99, 9);
    });

    it('refuses as rate_limited once the cap is reached, with the sentence the owner acts on', async () => {
      // Prepare
      const clock = new FakeClock(new Date('2026-10-01T12:00:00Z'));
      const cap = spendCap(WORKFLOWS, clock);
      cap.add(WORKFLOW, 20);
      cap.add(WORKFLOW, 5.001);

      // Act
      const refusal = await refusalOf(() => cap.check(WORKFLOW));

      // Assess
      expect(refusal.code).toBe('rate_limited');
      expect(refusal.status).toBe(429);
      expect(refusal.message).toBe(
        'Workflow "expense-summary" reached its daily spend cap of $25.00 (spent $25.01 today, UTC). It resets at 00:00 UTC; ask the workflow owner to raise dailySpendCapUsd.',
      );
      expect(refusal.details).toMatchObject({
        dailySpendCapUsd: 25,
        resetsAt: '2026-10-02T00:00:00.000Z',
        // 12:00 to midnight: what a client honouring Retry-After waits.
        retryAfterSeconds: 12 * 3600,
      });
    });

    it('refuses at exactly the cap', async () => {
      // Prepare
      const cap = spendCap(WORKFLOWS, new FakeClock(new Date('2026-10-01T12:00:00Z')));
      cap.add('month-end', 5);

      // Act & Assess
      await expect(cap.check('month-end')).rejects.toThrow(
        /reached its daily spend cap of \$5\.00 \(spent \$5\.00 today/,
      );
    });

    it('names a cap below one cent as configured, not rounded up to a cent', async () => {
      // Prepare
      const cap = spendCap(
        { tiny: { dailySpendCapUsd: 0.00002 } },
        new FakeClock(new Date('2026-10-01T12:00:00Z')),
      );
      cap.add('tiny', 0.0000123);
      cap.add('tiny', 0.0000091);

      // Act
      const refusal = await refusalOf(() => cap.check('tiny'));

      // Assess
      expect(refusal.message).toMatch(/daily spend cap of \$0\.00002 \(spent \$0\.000022 today, UTC\)/);
    });

    it('counts each workflow separately', async () => {
      // Prepare
      const cap = spendCap(WORKFLOWS, new FakeClock(new Date('2026-10-01T12:00:00Z')));
      cap.add('month-end', 6);

      // Act & Assess
      await expect(cap.check('month-end')).rejects.toThrow(AirlockError);
      await expect(cap.check(WORKFLOW)).resolves.toBeUndefined();
    });

    it('starts again at 00:00 UTC', async () => {
      // Prepare
      const clock = new FakeClock(new Date('2026-10-01T23:59:59.999Z'));
      const cap = spendCap(WORKFLOWS, clock);
      cap.add(WORKFLOW, 30);
      await expect(cap.check(WORKFLOW)).rejects.toThrow(/daily spend cap/);

      // Act
      clock.at = new Date('2026-10-02T00:00:00.000Z');

      // Assess
      await expect(cap.check(WORKFLOW)).resolves.toBeUndefined();
      expect(await cap.spentToday(WORKFLOW)).toBe(0);
    });

    it('attack: a workflow spent its cap once per execution environment (each counted only its own spend)', async () => {
      // Prepare: three Lambda execution environments serving one workflow, one shared counter store,
      // each taking $5 requests in turn until it refuses.
      const clock = new FakeClock(new Date('2026-10-01T12:00:00Z'));
      const counters = new MemoryCounterStore(clock);
      const environments = [1, 2, 3].map(() => spendCap(WORKFLOWS, clock, counters));
      let allowed = 0;

      // Act
      for (let round = 0; round < 10; round++) {
        for (const environment of environments) {
          try {
            await environment.check(WORKFLOW);
          } catch {
            continue;
          }
          allowed += 1;
          environment.add(WORKFLOW, 5);
        }
      }

      // Assess: $25 of requests, plus at most the one each environment had not added yet; per
      // environment counts let 5 requests through in each (15, $75).
      expect(allowed).toBeLessThanOrEqual(25 / 5 + environments.length);
      const refusals = await Promise.all(environments.map((e) => refusalOf(() => e.check(WORKFLOW))));
      expect(refusals.map((r) => r.code)).toEqual(['rate_limited', 'rate_limited', 'rate_limited']);
    });

    it('keeps counting in an environment that starts later (a recycled environment does not start at zero)', async () => {
      // Prepare
      const clock = new FakeClock(new Date('2026-10-01T12:00:00Z'));
      const counters = new MemoryCounterStore(clock);
      const first = spendCap(WORKFLOWS, clock, counters);
      first.add(WORKFLOW, 25);
      await expect(first.check(WORKFLOW)).rejects.toThrow(/daily spend cap/);

      // Act
      const fresh = spendCap(WORKFLOWS, clock, counters);

      // Assess
      await expect(fresh.check(WORKFLOW)).rejects.toThrow(/spent \$25\.00 today/);
    });

    it('refuses the call when the counter store cannot answer, and loses no spend', async () => {
      // Prepare
      const clock = new FakeClock(new Date('2026-10-01T12:00:00Z'));
      const counters = new MemoryCounterStore(clock);
      const cap = spendCap(WORKFLOWS, clock, counters);
      cap.add(WORKFLOW, 20);
      counters.failAdds = true;

      // Act
      const outcome = cap.check(WORKFLOW);

      // Assess
      await expect(outcome).rejects.toThrow(Error);
      counters.failAdds = false;
      cap.add(WORKFLOW, 5);
      await expect(cap.check(WORKFLOW)).rejects.toThrow(/spent \$25\.00 today/);
    });

    it('refuses a workflow the config does not know (fail closed)', async () => {
      // Prepare
      const cap = spendCap(WORKFLOWS, new FakeClock(new Date('2026-10-01T12:00:00Z')));

      // Act
      const refusal = await refusalOf(() => cap.check('toString'));

      // Assess
      expect(refusal.code).toBe('forbidden');
      expect(refusal.message).toMatch(/Workflow "toString" has no daily spend cap in the config/);
    });
  });

  describe('Method: record', () => {
    it('counts every metered request’s estimated cost of today, and ignores a point from another day', async () => {
      // Prepare
      const clock = new FakeClock(new Date('2026-10-01T12:00:00Z'));
      const cap = spendCap(WORKFLOWS, clock);
      const point = (at: string, total: number) => ({
        workflow: WORKFLOW,
        outcome: 'allowed' as const,
        bytesOut: 0,
        durationMs: 1,
        cost: cost(total),
        timestamp: new Date(at),
      });

      // Act
      cap.record(point('2026-10-01T11:00:00Z', 10));
      cap.record(point('2026-10-01T11:30:00Z', 15));
      cap.record(point('2026-09-30T23:00:00Z', 100));

      // Assess
      expect(await cap.spentToday(WORKFLOW)).toBe(25);
      await expect(cap.check(WORKFLOW)).rejects.toThrow(/spent \$25\.00 today/);
    });

    it('ignores amounts that are not a positive number', async () => {
      // Prepare
      const cap = spendCap(WORKFLOWS, new FakeClock(new Date('2026-10-01T12:00:00Z')));

      // Act
      cap.add(WORKFLOW, Number.NaN);
      cap.add(WORKFLOW, -5);
      cap.add(WORKFLOW, 1);

      // Assess
      expect(await cap.spentToday(WORKFLOW)).toBe(1);
    });
  });
});
