/**
 * Writes usage points as CloudWatch EMF (namespace `Airlock`), laid out as Powertools Metrics lays them out: one document per
 * point, under the dimension set `workflow` and, for a point with an operation, also under
 * `workflow, connector, operation` (both sets in the one directive, so CloudWatch files the values
 * under each). In Lambda the lines go to stdout, where CloudWatch turns them into metrics; the local
 * pilot appends the same lines to a file. The run id (the token's `jti`) travels as the EMF property `runId`.
 */
import {
  METRICS_NAMESPACE,
  READ_LOG_FAILURES_METRIC,
  SHADOW_REFUSALS_METRIC,
  TOOL_DEFINITION_CHANGES_METRIC,
  type UsageMetricName,
} from '../../../lib/contracts/metrics';
import { type MetricsSink, type UsagePoint, usageMetricValues } from '../../core/usage-meter';
import {
  type DeclaresIamPermissions,
  type IamActions,
  type IamPermission,
  permissionsOf,
} from './iam-permissions';

/** CloudWatch's metric units this sink writes (the names EMF takes). */
const MetricUnit = { Count: 'Count', Bytes: 'Bytes', Milliseconds: 'Milliseconds', NoUnit: 'None' } as const;

const METRIC_UNITS: Record<UsageMetricName, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  Invocations: MetricUnit.Count,
  Runs: MetricUnit.Count,
  Denials: MetricUnit.Count,
  ApprovalsRequested: MetricUnit.Count,
  Failures: MetricUnit.Count,
  BytesOut: MetricUnit.Bytes,
  Duration: MetricUnit.Milliseconds,
  EstimatedCostUsd: MetricUnit.NoUnit,
  CostLambdaUsd: MetricUnit.NoUnit,
  CostApiGatewayUsd: MetricUnit.NoUnit,
  CostWafUsd: MetricUnit.NoUnit,
  CostLogsUsd: MetricUnit.NoUnit,
  CostXRayUsd: MetricUnit.NoUnit,
  CostS3Usd: MetricUnit.NoUnit,
  CostKmsUsd: MetricUnit.NoUnit,
  CostSecretsManagerUsd: MetricUnit.NoUnit,
  CostDynamoDbUsd: MetricUnit.NoUnit,
  CostLlmUsd: MetricUnit.NoUnit,
  LlmInputTokens: MetricUnit.Count,
  LlmOutputTokens: MetricUnit.Count,
};

export interface EmfMetricsSinkOptions {
  /** Where a serialized EMF line goes; default: Powertools' own stdout publishing (Lambda). */
  readonly emit?: (line: string) => void;
  /** Reports a sink failure; a metric is never worth failing a request for. */
  readonly onError?: (error: unknown) => void;
}

/**
 * The IAM actions each method sends: none. EMF lines go to the function's log (stdout), which the
 * Lambda runtime writes with the role's logs permissions on its own log group; CloudWatch makes
 * metrics of them without a PutMetricData call.
 */
export const EMF_METRICS_SINK_ACTIONS = {
  record: [],
} as const satisfies IamActions<keyof MetricsSink>;

/** The {@link MetricsSink} of both the functions and the local pilot: one EMF document per usage point. */
export class EmfMetricsSink implements MetricsSink, DeclaresIamPermissions<keyof MetricsSink> {
  constructor(private readonly options: EmfMetricsSinkOptions = {}) {}

  iamPermissions(methods: readonly (keyof MetricsSink)[]): IamPermission[] {
    return permissionsOf('EmfMetricsSink', EMF_METRICS_SINK_ACTIONS, methods, () => []);
  }

  record(point: UsagePoint): void {
    try {
      const line = JSON.stringify(emfDocument(point));
      if (this.options.emit) this.options.emit(line);
      // Straight to stdout, as Powertools' own Console does: Lambda's patched console would wrap the
      // document in its JSON log format, and CloudWatch would not read it as EMF.
      else process.stdout.write(`${line}\n`);
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}

/**
 * The EMF document of one point, laid out exactly as Powertools Metrics lays it out for the same calls
 * (the test compares the two over a grid of points): `_aws` with the namespace, the dimension sets and the
 * metric units, then the run id, the dimensions and the metric values. Built directly because Powertools'
 * stores, checks and copies were the largest allocation of a connector call (~26 KB of ~113 KB), which
 * is what makes the garbage collector pause.
 *
 * The dashboards query exactly `workflow` and `workflow, connector, operation`: no service dimension.
 * The run id is a property, not a dimension (one metric per token would be unbounded).
 */
export function emfDocument(point: UsagePoint): Record<string, unknown> {
  const definitions: Array<{ Name: string; Unit: string }> = [];
  const values: Record<string, number> = {};
  const add = (name: string, unit: string, value: number) => {
    if (!Object.hasOwn(values, name)) definitions.push({ Name: name, Unit: unit });
    values[name] = value;
  };
  for (const [name, value] of Object.entries(usageMetricValues(point))) {
    if (value !== undefined) add(name, METRIC_UNITS[name as UsageMetricName], value);
  }
  if (point.shadowRefusals) add(SHADOW_REFUSALS_METRIC, MetricUnit.Count, point.shadowRefusals);
  if (point.toolDefinitionChanges) {
    add(TOOL_DEFINITION_CHANGES_METRIC, MetricUnit.Count, point.toolDefinitionChanges);
  }
  if (point.readLogFailures) add(READ_LOG_FAILURES_METRIC, MetricUnit.Count, point.readLogFailures);
  const operation = point.connector && point.operation;
  return {
    _aws: {
      Timestamp: point.timestamp.getTime(),
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: operation ? [['workflow'], ['workflow', 'connector', 'operation']] : [['workflow']],
          Metrics: definitions,
        },
      ],
    },
    ...(point.runId !== undefined ? { runId: point.runId } : {}),
    workflow: point.workflow,
    ...(operation ? { connector: point.connector, operation: point.operation } : {}),
    ...values,
  };
}
