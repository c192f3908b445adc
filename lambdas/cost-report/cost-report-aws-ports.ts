/**
 * The AWS ports the cost-report function's composition reads (compose-cost-report.ts): Airlock's usage
 * metrics, the Bedrock token counts of the workflows' inference profiles, the cost-reports topic and the
 * month-to-date metrics. Its Lambda entry hands these to AwsPorts; the permission proof composes the
 * function over the same list.
 */
import type { AwsPortBuilders } from '../adapters/aws/aws-ports';
import { costReportPublisher, costSource, monthToDateSink } from '../adapters/aws/cost-report-ports';
import { llmUsageSource } from '../adapters/aws/metrics-ports';

export const COST_REPORT_AWS_PORTS: AwsPortBuilders = {
  costSource,
  llmUsageSource,
  costReportPublisher,
  monthToDateSink,
};
