/**
 * Writes usage points as CloudWatch EMF with Powertools Metrics (namespace `Airlock`), under two
 * dimension sets: `workflow`, and `workflow, connector, operation`. In Lambda the lines go to
 * stdout, where CloudWatch turns them into metrics; the local pilot appends the same lines to a file.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricsSink, UsagePoint } from '../../core/usage-meter';

export const METRICS_NAMESPACE = 'Airlock';

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
      this.options.onError?.(error);
    }
  }

  private flush(point: UsagePoint, dimensions: Record<string, string>): void {
    const m = this.metrics;
    m.addDimensions(dimensions);
    m.setTimestamp(point.timestamp);
    m.addMetric('Invocations', MetricUnit.Count, point.outcome === 'usage_reported' ? 0 : 1);
    m.addMetric('Denials', MetricUnit.Count, point.outcome === 'denied' ? 1 : 0);
    m.addMetric('ApprovalsRequested', MetricUnit.Count, point.outcome === 'approval_requested' ? 1 : 0);
    m.addMetric('Failures', MetricUnit.Count, point.outcome === 'failed' ? 1 : 0);
    m.addMetric('BytesOut', MetricUnit.Bytes, point.bytesOut);
    m.addMetric('Duration', MetricUnit.Milliseconds, point.durationMs);
    m.addMetric('EstimatedCostUsd', MetricUnit.NoUnit, point.cost.total);
    m.addMetric('CostLambdaUsd', MetricUnit.NoUnit, point.cost.lambda);
    m.addMetric('CostApiGatewayUsd', MetricUnit.NoUnit, point.cost.apiGateway);
    m.addMetric('CostKmsUsd', MetricUnit.NoUnit, point.cost.kms);
    m.addMetric('CostSecretsManagerUsd', MetricUnit.NoUnit, point.cost.secretsManager);
    m.addMetric('CostDynamoDbUsd', MetricUnit.NoUnit, point.cost.dynamodb);
    m.addMetric('CostLlmUsd', MetricUnit.NoUnit, point.cost.llm);
    if (point.llmInputTokens !== undefined)
      m.addMetric('LlmInputTokens', MetricUnit.Count, point.llmInputTokens);
    if (point.llmOutputTokens !== undefined)
      m.addMetric('LlmOutputTokens', MetricUnit.Count, point.llmOutputTokens);
    if (this.options.emit) {
      const line = JSON.stringify(m.serializeMetrics());
      m.clearMetrics();
      m.clearDimensions();
      this.options.emit(line);
    } else {
      m.publishStoredMetrics();
    }
  }
}
