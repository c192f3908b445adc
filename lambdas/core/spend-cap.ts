/**
 * The daily spend cap (`workflows.<w>.dailySpendCapUsd`): once a workflow's estimated spend for the
 * current UTC day reaches its cap, further connector calls are refused as `rate_limited` until
 * 00:00 UTC. It stops a runaway batch from spending a month's budget in an afternoon.
 *
 * Scope of the count: this process. The local pilot is one process, so its cap is exact. In AWS each
 * Lambda execution environment keeps its own count, so a workflow can spend up to the cap times the
 * number of environments serving it (bounded by the connector function's reserved concurrency,
 * `functions.reservedConcurrency.connector`, default 20) and a recycled environment starts from zero.
 * That bound is what the pilot accepts; the per-workflow AWS Budget is the account-wide backstop.
 */
import type { WorkflowConfig } from '../../lib/config/schema';
import { AirlockError } from './errors';
import type { Clock } from './ports';
import type { MetricsSink, UsagePoint } from './usage-meter';

/** Tracks estimated spend per workflow per UTC day and refuses calls once the cap is reached. */
export class SpendCap implements MetricsSink {
  /** Workflow → spend of the UTC day it was counted on. */
  private readonly spent = new Map<string, { day: string; usd: number }>();

  constructor(
    private readonly workflows: Readonly<Record<string, Pick<WorkflowConfig, 'dailySpendCapUsd'>>>,
    private readonly clock: Clock,
  ) {}

  /**
   * Throws `rate_limited` when the workflow's spend today (UTC) has reached its cap, and
   * `forbidden` for a workflow the config does not know (no cap to check against: fail closed).
   */
  check(workflow: string): void {
    const cap = this.capOf(workflow);
    const spent = this.spentToday(workflow);
    if (spent >= cap) {
      const now = this.clock.now();
      const resetsAt = nextUtcMidnight(now);
      throw new AirlockError(
        'rate_limited',
        `Workflow "${workflow}" reached its daily spend cap of ${formatUsd(cap)} (spent ${formatUsd(spent)} today, UTC). It resets at 00:00 UTC; ask the workflow owner to raise dailySpendCapUsd.`,
        {
          reasons: ['daily-spend-cap'],
          details: {
            dailySpendCapUsd: cap,
            spentTodayUsd: spent,
            resetsAt: resetsAt.toISOString(),
            // The HTTP Retry-After: nothing changes before midnight, so a polite client waits for it.
            retryAfterSeconds: Math.max(1, Math.ceil((resetsAt.getTime() - now.getTime()) / 1000)),
          },
        },
      );
    }
  }

  /** Adds spend to the workflow's count for the UTC day of `at` (default: now); a past day's spend is ignored. */
  add(workflow: string, usd: number, at: Date = this.clock.now()): void {
    if (!Number.isFinite(usd) || usd <= 0) return;
    const day = utcDayOf(at);
    const today = utcDayOf(this.clock.now());
    if (day !== today) return;
    const current = this.spent.get(workflow);
    this.spent.set(workflow, { day, usd: (current?.day === day ? current.usd : 0) + usd });
  }

  /** As a {@link MetricsSink}: counts every metered request's estimated cost. */
  record(point: UsagePoint): void {
    this.add(point.workflow, point.cost.total, point.timestamp);
  }

  /** Estimated spend of the workflow today (UTC), as counted by this process. */
  spentToday(workflow: string): number {
    const current = this.spent.get(workflow);
    return current?.day === utcDayOf(this.clock.now()) ? current.usd : 0;
  }

  private capOf(workflow: string): number {
    const cap = Object.hasOwn(this.workflows, workflow)
      ? this.workflows[workflow]?.dailySpendCapUsd
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
function formatUsd(usd: number): string {
  if (!(usd > 0)) return '$0.00';
  if (usd >= 0.01) return `$${(Math.ceil(usd * 100 - 1e-9) / 100).toFixed(2)}`;
  // The step is one unit in the second significant digit; the epsilon keeps 0.00002 from reading as 0.000021.
  const decimals = 1 - Math.floor(Math.log10(usd));
  const step = 10 ** -decimals;
  const rounded = Math.ceil(usd / step - 1e-9) * step;
  return `$${rounded.toFixed(decimals).replace(/0+$/, '')}`;
}
