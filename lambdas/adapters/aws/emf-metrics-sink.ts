/**
 * Writes usage points as CloudWatch EMF with Powertools Metrics (namespace `Airlock`): one document per
 * point, under the dimension set `workflow` and, for a point with an operation, also under
 * `workflow, connector, operation` (both sets in the one directive, so CloudWatch files the values
 * under each). In Lambda the lines go to stdout, where CloudWatch turns them into metrics; the local
 * pilot appends the same lines to a file. The run id (the token's `jti`) travels as the EMF property `runId`.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  METRICS_NAMESPACE,
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
  private readonly metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'airlock' });

  constructor(private readonly options: EmfMetricsSinkOptions = {}) {
    // The dashboards query exactly `workflow` (and `workflow, connector, operation`): no service dimension.
    this.metrics.clearDefaultDimensions();
  }

  iamPermissions(methods: readonly (keyof MetricsSink)[]): IamPermission[] {
    return permissionsOf('EmfMetricsSink', EMF_METRICS_SINK_ACTIONS, methods, () => []);
  }

  record(point: UsagePoint): void {
    const m = this.metrics;
    try {
      // Every dimension set Powertools writes starts with the default dimensions, so `workflow` is
      // the default and each set adds to it: an empty set is `[workflow]`, the operation's set
      // `[workflow, connector, operation]`. Putting `workflow` itself into two sets instead makes
      // Powertools warn of a key collision on stderr for every point (log bytes we would pay for).
      m.setDefaultDimensions({ workflow: point.workflow });
      if (point.connector && point.operation) {
        m.addDimensions({});
        m.addDimensions({ connector: point.connector, operation: point.operation });
      }
      m.setTimestamp(point.timestamp);
      for (const [name, value] of Object.entries(usageMetricValues(point))) {
        m.addMetric(name, METRIC_UNITS[name as UsageMetricName], value);
      }
      if (point.shadowRefusals) m.addMetric(SHADOW_REFUSALS_METRIC, MetricUnit.Count, point.shadowRefusals);
      if (point.toolDefinitionChanges) {
        m.addMetric(TOOL_DEFINITION_CHANGES_METRIC, MetricUnit.Count, point.toolDefinitionChanges);
      }
      // The run id is a property, not a dimension: one metric per token would be unbounded.
      if (point.runId !== undefined) m.addMetadata('runId', point.runId);
      if (this.options.emit) {
        this.options.emit(JSON.stringify(m.serializeMetrics()));
      } else {
        m.publishStoredMetrics();
      }
    } catch (error) {
      this.options.onError?.(error);
    } finally {
      // Nothing of this point may leak into the next one, whether it was written or not.
      m.clearMetrics();
      m.clearDimensions();
      m.clearMetadata();
      m.clearDefaultDimensions();
    }
  }
}
