/**
 * What each workflow spent today (UTC) on LLM tokens the provider measured: the tokens Bedrock counted
 * for the workflow's application inference profile, priced from the config. The daily spend cap adds
 * it to Airlock's own metered spend, so an agent that never reports its usage still reaches the cap.
 *
 * The provider's figures arrive late (CloudWatch publishes Bedrock's metrics within minutes) and cost a
 * call to read, so they are read at most once per `maxAgeMs` per execution environment. A source that
 * cannot answer with no figures younger than `staleAfterMs` fails the check: a cap that cannot be read
 * cannot be checked.
 */
import type { Prices } from '../../lib/config/schema';
import { llmCost } from './cost-estimate';
import type { LlmUsageSource } from './cost-report';
import { DependencyError } from './errors';
import type { Clock } from './ports';

export interface MeasuredLlmSpendDeps {
  readonly source: LlmUsageSource;
  readonly prices: Pick<Prices, 'models'>;
  readonly clock: Clock;
  /** How long one reading is reused. @default 60 s */
  readonly maxAgeMs?: number;
  /** How long a reading still counts when the source fails. @default 5 min */
  readonly staleAfterMs?: number;
}

/** Today's measured LLM spend per workflow, read from the provider's metrics. */
export class MeasuredLlmSpend {
  private reading?: { day: string; at: number; byWorkflow: Map<string, number> };

  constructor(private readonly deps: MeasuredLlmSpendDeps) {}

  /**
   * USD the workflow's inference profile spent today (UTC), as far as the provider has published it.
   * @throws DependencyError when the source fails and no reading of today is younger than `staleAfterMs`
   */
  async spentToday(workflow: string): Promise<number> {
    const now = this.deps.clock.now();
    const day = now.toISOString().slice(0, 10);
    const fresh =
      this.reading?.day === day && now.getTime() - this.reading.at < (this.deps.maxAgeMs ?? 60_000);
    if (!fresh) {
      try {
        const usage = await this.deps.source.dailyUsage({ from: day, to: day });
        const byWorkflow = new Map<string, number>();
        for (const u of usage) {
          if (u.day !== day) continue;
          byWorkflow.set(u.workflow, (byWorkflow.get(u.workflow) ?? 0) + llmCost(this.deps.prices, u));
        }
        this.reading = { day, at: now.getTime(), byWorkflow };
      } catch (error) {
        const usable =
          this.reading?.day === day && now.getTime() - this.reading.at < (this.deps.staleAfterMs ?? 300_000);
        if (!usable) {
          throw error instanceof DependencyError
            ? error
            : new DependencyError(
                'llm usage',
                `The provider's LLM usage could not be read: ${String(error)}`,
                {
                  cause: error,
                },
              );
        }
      }
    }
    return this.reading?.byWorkflow.get(workflow) ?? 0;
  }
}
