/** The port of usage metrics: CloudWatch EMF lines on stdout (no AWS call, no SDK client). */
import type { AwsPortBuilder } from './aws-ports';
import { EmfMetricsSink } from './emf-metrics-sink';

export const metricsSink: AwsPortBuilder<'metricsSink'> = (context) =>
  context.expose('metricsSink', 'EmfMetricsSink', new EmfMetricsSink({ onError: context.onMetricsError }));
