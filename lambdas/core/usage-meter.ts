/**
 * Per-request metering: what finance reads on the per-workflow cost dashboard. Core decides the
 * figures; a {@link MetricsSink} writes them as CloudWatch EMF (stdout in Lambda, a file locally).
 */
import type { Prices } from '../../lib/config/schema';
import { type CostBreakdown, estimateCost, type ResourceUsage } from './cost-estimate';

export type RequestOutcome =
  | 'allowed'
  | 'denied'
  | 'approval_requested'
  | 'failed'
  | 'refused'
  | 'usage_reported';

/** One request's figures, with the dimensions they are reported under. */
export interface UsagePoint {
  readonly workflow: string;
  readonly connector?: string;
  readonly operation?: string;
  readonly outcome: RequestOutcome;
  readonly bytesOut: number;
  readonly durationMs: number;
  readonly cost: CostBreakdown;
  readonly llmInputTokens?: number;
  readonly llmOutputTokens?: number;
  readonly timestamp: Date;
}

/** Writes usage points as CloudWatch EMF (namespace `Airlock`). Never throws into a request. */
export interface MetricsSink {
  record(point: UsagePoint): void;
}

/** Turns what a request used into a {@link UsagePoint} and hands it to the sink. */
export class UsageMeter {
  constructor(
    private readonly prices: Prices,
    private readonly sink: MetricsSink,
    private readonly lambdaMemoryMb: number,
  ) {}

  record(input: {
    workflow: string;
    connector?: string;
    operation?: string;
    outcome: RequestOutcome;
    bytesOut: number;
    durationMs: number;
    usage: Omit<ResourceUsage, 'lambdaMemoryMb' | 'lambdaMs'>;
    timestamp: Date;
  }): UsagePoint {
    const cost = estimateCost(this.prices, {
      ...input.usage,
      lambdaMs: Math.max(1, Math.ceil(input.durationMs)),
      lambdaMemoryMb: this.lambdaMemoryMb,
    });
    const point: UsagePoint = {
      workflow: input.workflow,
      connector: input.connector,
      operation: input.operation,
      outcome: input.outcome,
      bytesOut: input.bytesOut,
      durationMs: input.durationMs,
      cost,
      llmInputTokens: input.usage.llm?.inputTokens,
      llmOutputTokens: input.usage.llm?.outputTokens,
      timestamp: input.timestamp,
    };
    this.sink.record(point);
    return point;
  }
}
