/**
 * Writes usage points as CloudWatch EMF with Powertools Metrics (namespace `Airlock`), under two
 * dimension sets: `workflow`, and `workflow, connector, operation`. In Lambda the lines go to
 * stdout, where CloudWatch turns them into metrics; the local pilot appends the same lines to a file.
 * The run id (the token's `jti`) travels as the EMF property `runId`.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  type MetricsSink,
  type UsageMetricName,
  type UsagePoint,
  usageMetricValues,
} from '../../core/usage-meter';

export const METRICS_NAMESPACE = 'Airlock';

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

export class EmfMetricsSink implements MetricsSink {
  private readonly metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'airlock' });

  constructor(private readonly options: EmfMetricsSinkOptions = {}) {
    // The dashboards query exactly `workflow` (and `workflow, connector, operation`): no service dimension.
    this.metrics.clearDefaultDimensions();
  }

  record(point: UsagePoint): void {
    try {
      this.flush(point, { workflow: point.workflow });
      if (point.connector && point.operation) {
        this.flush(point, {
          workflow: point.workflow,
          connector: point.connector,
          operation: point.operation,
        });
      }
    } catch (error) {
      this.metrics.clearMetrics();
      this.metrics.clearDimensions();
      this.metrics.clearMetadata();
      this.options.onError?.(error);
    }
  }

  private flush(point: UsagePoint, dimensions: Record<string, string>): void {
    const m = this.metrics;
    m.addDimensions(dimensions);
    m.setTimestamp(point.timestamp);
    for (const [name, value] of Object.entries(usageMetricValues(point))) {
      m.addMetric(name, METRIC_UNITS[name as UsageMetricName], value);
    }
    // The run id is a property, not a dimension: one metric per token would be unbounded.
    if (point.runId !== undefined) m.addMetadata('runId', point.runId);
    if (this.options.emit) {
      const line = JSON.stringify(m.serializeMetrics());
      m.clearMetrics();
      m.clearDimensions();
      m.clearMetadata();
      this.options.emit(line);
    } else {
      m.publishStoredMetrics();
    }
  }
}
