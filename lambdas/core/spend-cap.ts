/**
 * The daily spend cap (`workflows.<w>.dailySpendCapUsd`): once a workflow's estimated spend for the
 * current UTC day reaches its cap, further connector calls are refused as `rate_limited` until
 * 00:00 UTC. It stops a runaway batch from spending a month's budget in an afternoon.
 *
 * Scope of the count: every execution environment. The spend is kept in a shared counter
 * ({@link CounterStore}: a DynamoDB item per workflow and day, changed only by atomic ADD), so ten
 * Lambda environments serving one workflow stop at one cap, not ten, and a recycled environment does
 * not start from zero. Each environment adds what it metered since its last check when it checks
 * (one UpdateItem per connector call, which also returns the total), so the check sees every
 * environment's spend up to that moment. What an environment metered after its last check is added
 * at its next one; an environment Lambda reclaims loses at most the cost of its last request (well
 * under a cent). Reported LLM usage is added at once (see usage-reporter.ts). A counter store that
 * cannot answer refuses the call: a cap that cannot be read cannot be checked.
 *
 * What counts: connector calls (refused ones included), reported LLM usage, and the LLM usage the
 * provider measured for the workflow's inference profile today (see measured-llm-spend.ts), when a
 * source of it is given. Token requests are
 * priced in the cost report but not counted here: the broker has no access to the counters.
 */
import type { WorkflowConfig } from '../../lib/config/schema';
import { type CounterStore, counterExpiryOf, dailyCounterKey } from './counter-store';
import { AirlockError } from './errors';
import type { Clock } from './ports';
import type { MetricsSink, RequestOutcome, UsagePoint } from './usage-meter';

/** Spend is counted in nano-dollars: integers, so atomic additions are exact. */
const NANOS_PER_USD = 1e9;

/** The counter kind of a workflow's daily spend. */
export const SPEND_COUNTER = 'spend';

/** Outcomes the cap does not count (the broker's: it never checks the cap). */
const NOT_COUNTED: ReadonlySet<RequestOutcome> = new Set(['credential_issued', 'credential_denied']);

export interface SpendCapDeps {
  readonly workflows: Readonly<Record<string, Pick<WorkflowConfig, 'dailySpendCapUsd'>>>;
  /** Where the spend of every execution environment is added up. */
  readonly counters: CounterStore;
  readonly clock: Clock;
  /** Today's LLM spend the provider measured per workflow. @default - none counted */
  readonly measuredLlm?: { spentToday(workflow: string): Promise<number> };
}

/** Tracks estimated spend per workflow per UTC day and refuses calls once the cap is reached. */
export class SpendCap implements MetricsSink {
  /** Workflow → spend this environment metered but has not added to the shared counter yet. */
  private readonly pending = new Map<string, { day: string; nanos: number }>();

  constructor(private readonly deps: SpendCapDeps) {}

  /**
   * Adds this environment's pending spend to the workflow's shared counter and compares the total
   * with the cap.
   * @throws AirlockError `rate_limited` when the workflow's spend today (UTC), in every environment,
   *   has reached its cap; `forbidden` for a workflow the config does not know (fail closed)
   * @throws DependencyError when the counter store cannot answer (the call is refused)
   */
  async check(workflow: string): Promise<void> {
    const cap = this.capOf(workflow);
    const [metered, measured] = await Promise.all([
      this.flush(workflow),
      this.deps.measuredLlm?.spentToday(workflow) ?? 0,
    ]);
    const spent = metered + measured;
    if (spent >= cap) throw this.capReached(workflow, cap, spent, measured);
  }

  /** Notes spend of the UTC day of `at` (default: now) for the next check; a past day's spend is ignored. */
  add(workflow: string, usd: number, at: Date = this.deps.clock.now()): void {
    if (!Number.isFinite(usd) || usd <= 0 || !Object.hasOwn(this.deps.workflows, workflow)) return;
    const day = utcDayOf(at);
    if (day !== utcDayOf(this.deps.clock.now())) return;
    const current = this.pending.get(workflow);
    // Rounded up: many small requests never add up to less than they cost.
    const nanos = Math.ceil(usd * NANOS_PER_USD);
    this.pending.set(workflow, { day, nanos: (current?.day === day ? current.nanos : 0) + nanos });
  }

  /** As a {@link MetricsSink}: notes every metered request's estimated cost (token requests aside). */
  record(point: UsagePoint): void {
    if (NOT_COUNTED.has(point.outcome)) return;
    this.add(point.workflow, point.cost.total, point.timestamp);
  }

  /** Estimated spend of the workflow today (UTC) in every environment, this one's pending spend included. */
  async spentToday(workflow: string): Promise<number> {
    const [metered, measured] = await Promise.all([
      this.flush(workflow),
      this.deps.measuredLlm?.spentToday(workflow) ?? 0,
    ]);
    return metered + measured;
  }

  /**
   * Adds this environment's pending spend of today to the shared counter now, not at the next check
   * (reported LLM usage: its cost is known only after the fact and may be large). Resolves to the
   * workflow's spend today, in USD.
   */
  async flush(workflow: string): Promise<number> {
    const now = this.deps.clock.now();
    const today = utcDayOf(now);
    const pending = this.pending.get(workflow);
    this.pending.delete(workflow);
    const nanos = pending?.day === today ? pending.nanos : 0;
    let total: number | undefined;
    try {
      total = await this.deps.counters.add(dailyCounterKey(SPEND_COUNTER, [workflow], now), nanos, {
        expiresAt: counterExpiryOf(now),
      });
    } catch (error) {
      // Not counted yet: kept for the next check, so a store outage loses no spend.
      if (nanos > 0) this.add(workflow, nanos / NANOS_PER_USD, now);
      throw error;
    }
    return (total ?? 0) / NANOS_PER_USD;
  }

  private capReached(workflow: string, cap: number, spent: number, measuredLlmUsd: number): AirlockError {
    const now = this.deps.clock.now();
    const resetsAt = nextUtcMidnight(now);
    return new AirlockError(
      'rate_limited',
      `Workflow "${workflow}" reached its daily spend cap of ${formatCapUsd(cap)} (spent ${formatCapUsd(spent)} today, UTC). It resets at 00:00 UTC; ask the workflow owner to raise dailySpendCapUsd.`,
      {
        reasons: ['daily-spend-cap'],
        details: {
          dailySpendCapUsd: cap,
          spentTodayUsd: spent,
          measuredLlmTodayUsd: measuredLlmUsd,
          resetsAt: resetsAt.toISOString(),
          // The HTTP Retry-After: nothing changes before midnight, so a polite client waits for it.
          retryAfterSeconds: Math.max(1, Math.ceil((resetsAt.getTime() - now.getTime()) / 1000)),
        },
      },
    );
  }

  /** The workflow's cap in USD. @throws AirlockError `forbidden` for a workflow without one */
  capOf(workflow: string): number {
    const cap = Object.hasOwn(this.deps.workflows, workflow)
      ? this.deps.workflows[workflow]?.dailySpendCapUsd
      : undefined;
    if (cap === undefined || !Number.isFinite(cap)) {
      throw new AirlockError(
        'forbidden',
        `Workflow "${workflow}" has no daily spend cap in the config; add it under workflows.`,
        { reasons: ['unknown-workflow'] },
      );
    }
    return cap;
  }
}

function nextUtcMidnight(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1));
}

function utcDayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * Dollars rounded up, so a spend just over the cap never reads as less than it: cents from one cent
 * up (`$25.01`), two significant digits below (`$0.000021`), so a sub-cent cap reads as configured
 * instead of as `$0.01`.
 */
export function formatCapUsd(usd: number): string {
  if (!(usd > 0)) return '$0.00';
  if (usd >= 0.01) return `$${(Math.ceil(usd * 100 - 1e-9) / 100).toFixed(2)}`;
  // The step is one unit in the second significant digit; the epsilon keeps 0.00002 from reading as 0.000021.
  const decimals = 1 - Math.floor(Math.log10(usd));
  const step = 10 ** -decimals;
  const rounded = Math.ceil(usd / step - 1e-9) * step;
  return `$${rounded.toFixed(decimals).replace(/0+$/, '')}`;
}
