/**
 * Per-request metering: what finance reads on the per-workflow cost dashboard. Core decides the
 * figures; a {@link MetricsSink} writes them as CloudWatch EMF (stdout in Lambda, a file locally).
 *
 * A **run** is one access token's work for a workflow: every request made with the same token
 * (its `jti`) belongs to the same run, so runs = distinct token ids. The meter carries the id as
 * `runId` (an EMF property, never a dimension: a dimension per token would create a metric per
 * token) and flags the first request of a run it has seen as `firstOfRun` (the `Runs` metric).
 * The local report counts distinct `runId`s exactly; CloudWatch only sums `Runs`, which counts a
 * run once per process that served it (in Lambda: at most once per execution environment).
 */
import type { Prices } from '../../lib/config/schema';
import type { UsageMetricName } from '../../lib/contracts/metrics';
import { type CostBreakdown, estimateCost, type ResourceUsage } from './cost-estimate';

export type RequestOutcome =
  | 'allowed'
  | 'denied'
  | 'approval_requested'
  | 'failed'
  | 'refused'
  | 'usage_reported'
  | 'credential_issued'
  | 'credential_denied';

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
  /** The run the request belongs to: the access token's `jti`. */
  readonly runId?: string;
  /** True for the first request of `runId` this meter has seen (counted in the `Runs` metric). */
  readonly firstOfRun?: boolean;
  /**
   * Decisions of the request that shadow (log-only) policies would have refused (the `ShadowRefusals`
   * metric); only on points that have any.
   */
  readonly shadowRefusals?: number;
  /**
   * Calls of the request refused because an upstream MCP tool's definition changed since it was pinned
   * (the `ToolDefinitionChanges` metric); only on points that have any.
   */
  readonly toolDefinitionChanges?: number;
  /**
   * Read-log writes or lookups of the request that failed (the `ReadLogFailures` metric); only on points
   * that have any.
   */
  readonly readLogFailures?: number;
}

const NOT_CALLS: ReadonlySet<RequestOutcome> = new Set([
  'usage_reported',
  'credential_issued',
  'credential_denied',
]);

/**
 * The metric values of one usage point. LLM token counts appear only on points that report LLM
 * usage, so a request without them does not publish a zero that would dilute averages.
 */
export function usageMetricValues(point: UsagePoint): Partial<Record<UsageMetricName, number>> {
  return {
    // Connector calls; token requests and usage reports are priced but are not calls.
    Invocations: NOT_CALLS.has(point.outcome) ? 0 : 1,
    Runs: point.firstOfRun ? 1 : 0,
    Denials: point.outcome === 'denied' || point.outcome === 'credential_denied' ? 1 : 0,
    ApprovalsRequested: point.outcome === 'approval_requested' ? 1 : 0,
    Failures: point.outcome === 'failed' ? 1 : 0,
    BytesOut: point.bytesOut,
    Duration: point.durationMs,
    EstimatedCostUsd: point.cost.total,
    CostApiGatewayUsd: point.cost.apiGateway,
    CostWafUsd: point.cost.waf,
    CostLambdaUsd: point.cost.lambda,
    CostDynamoDbUsd: point.cost.dynamodb,
    CostKmsUsd: point.cost.kms,
    CostSecretsManagerUsd: point.cost.secretsManager,
    CostLogsUsd: point.cost.logs,
    CostXRayUsd: point.cost.xray,
    CostS3Usd: point.cost.s3,
    CostLlmUsd: point.cost.llm,
    ...(point.llmInputTokens !== undefined ? { LlmInputTokens: point.llmInputTokens } : {}),
    ...(point.llmOutputTokens !== undefined ? { LlmOutputTokens: point.llmOutputTokens } : {}),
  };
}

/** Writes usage points as CloudWatch EMF (namespace `Airlock`). Never throws into a request. */
export interface MetricsSink {
  record(point: UsagePoint): void;
}

/** How many run ids the meter remembers; older ones are forgotten first (a long-lived process stays bounded). */
const REMEMBERED_RUNS = 10_000;

/** Turns what a request used into a {@link UsagePoint} and hands it to the sink. */
export class UsageMeter {
  private readonly seenRuns = new Set<string>();

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
    /** The access token's `jti`: requests with the same id make one run. */
    runId?: string;
    /** Decisions shadow policies would have refused. @default - none */
    shadowRefusals?: number;
    /** Calls refused for a changed upstream tool definition. @default - none */
    toolDefinitionChanges?: number;
    /** Read-log writes or lookups that failed. @default - none */
    readLogFailures?: number;
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
      ...(input.runId !== undefined ? { runId: input.runId, firstOfRun: this.rememberRun(input.runId) } : {}),
      ...(input.shadowRefusals ? { shadowRefusals: input.shadowRefusals } : {}),
      ...(input.toolDefinitionChanges ? { toolDefinitionChanges: input.toolDefinitionChanges } : {}),
      ...(input.readLogFailures ? { readLogFailures: input.readLogFailures } : {}),
    };
    this.sink.record(point);
    return point;
  }

  /** True when the run is new to this meter. */
  private rememberRun(runId: string): boolean {
    if (this.seenRuns.has(runId)) return false;
    if (this.seenRuns.size >= REMEMBERED_RUNS) {
      const oldest = this.seenRuns.values().next().value;
      if (oldest !== undefined) this.seenRuns.delete(oldest);
    }
    this.seenRuns.add(runId);
    return true;
  }
}
