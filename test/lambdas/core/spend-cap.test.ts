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
  return { lambda: 0, apiGateway: 0, kms: 0, secretsManager: 0, dynamodb: 0, llm: total, total };
}

function refusalOf(call: () => void): AirlockError {
  try {
    call();
  } catch (error) {
    if (error instanceof AirlockError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('Class: SpendCap', () => {
  describe('Method: check', () => {
    it('lets calls through while today’s spend is below the cap', () => {
      // Prepare
      const clock = new FakeClock(new Date('2026-10-01T12:00:00Z'));
      const cap = new SpendCap(WORKFLOWS, clock);
      cap.add(WORKFLOW, 24.99);

      // Act & Assess
      expect(() => cap.check(WORKFLOW)).not.toThrow();
      expect(cap.spentToday(WORKFLOW)).toBeCloseTo(24.99, 9);
    });

    it('refuses as rate_limited once the cap is reached, with the sentence the owner acts on', () => {
      // Prepare
      const clock = new FakeClock(new Date('2026-10-01T12:00:00Z'));
      const cap = new SpendCap(WORKFLOWS, clock);
      cap.add(WORKFLOW, 20);
      cap.add(WORKFLOW, 5.001);

      // Act
      const refusal = refusalOf(() => cap.check(WORKFLOW));

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

    it('refuses at exactly the cap', () => {
      // Prepare
      const cap = new SpendCap(WORKFLOWS, new FakeClock(new Date('2026-10-01T12:00:00Z')));
      cap.add('month-end', 5);

      // Act & Assess
      expect(() => cap.check('month-end')).toThrow(
        /reached its daily spend cap of \$5\.00 \(spent \$5\.00 today/,
      );
    });

    it('names a cap below one cent as configured, not rounded up to a cent', () => {
      // Prepare
      const cap = new SpendCap(
        { tiny: { dailySpendCapUsd: 0.00002 } },
        new FakeClock(new Date('2026-10-01T12:00:00Z')),
      );
      cap.add('tiny', 0.0000123);
      cap.add('tiny', 0.0000091);

      // Act
      const refusal = refusalOf(() => cap.check('tiny'));

      // Assess
      expect(refusal.message).toMatch(/daily spend cap of \$0\.00002 \(spent \$0\.000022 today, UTC\)/);
    });

    it('counts each workflow separately', () => {
      // Prepare
      const cap = new SpendCap(WORKFLOWS, new FakeClock(new Date('2026-10-01T12:00:00Z')));
      cap.add('month-end', 6);

      // Act & Assess
      expect(() => cap.check('month-end')).toThrow(AirlockError);
      expect(() => cap.check(WORKFLOW)).not.toThrow();
    });

    it('starts again at 00:00 UTC', () => {
      // Prepare
      const clock = new FakeClock(new Date('2026-10-01T23:59:59.999Z'));
      const cap = new SpendCap(WORKFLOWS, clock);
      cap.add(WORKFLOW, 30);
      expect(() => cap.check(WORKFLOW)).toThrow(/daily spend cap/);

      // Act
      clock.at = new Date('2026-10-02T00:00:00.000Z');

      // Assess
      expect(() => cap.check(WORKFLOW)).not.toThrow();
      expect(cap.spentToday(WORKFLOW)).toBe(0);
    });

    it('refuses a workflow the config does not know (fail closed)', () => {
      // Prepare
      const cap = new SpendCap(WORKFLOWS, new FakeClock(new Date('2026-10-01T12:00:00Z')));

      // Act
      const refusal = refusalOf(() => cap.check('toString'));

      // Assess
      expect(refusal.code).toBe('forbidden');
      expect(refusal.message).toMatch(/Workflow "toString" has no daily spend cap in the config/);
    });
  });

  describe('Method: record', () => {
    it('counts every metered request’s estimated cost of today, and ignores a point from another day', () => {
      // Prepare
      const clock = new FakeClock(new Date('2026-10-01T12:00:00Z'));
      const cap = new SpendCap(WORKFLOWS, clock);
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
      expect(cap.spentToday(WORKFLOW)).toBe(25);
      expect(() => cap.check(WORKFLOW)).toThrow(/spent \$25\.00 today/);
    });

    it('ignores amounts that are not a positive number', () => {
      // Prepare
      const cap = new SpendCap(WORKFLOWS, new FakeClock(new Date('2026-10-01T12:00:00Z')));

      // Act
      cap.add(WORKFLOW, Number.NaN);
      cap.add(WORKFLOW, -5);
      cap.add(WORKFLOW, 1);

      // Assess
      expect(cap.spentToday(WORKFLOW)).toBe(1);
    });
  });
});
