/**
 * The ports of the cost-report function: Airlock's usage metrics read back from CloudWatch, the
 * cost-reports topic the monthly report is published to, and the month-to-date metrics (EMF).
 */
import { FUNCTION_ENV } from '../../../lib/contracts/environment';
import type { AwsPortBuilder } from './aws-ports';
import { CloudWatchCostSource } from './cloudwatch-cost-source';
import { EmfMonthToDateSink } from './emf-month-to-date-sink';
import { cloudWatchClientOnDemand, snsClientOnDemand } from './sdk-on-demand';
import { SnsCostReportPublisher } from './sns-cost-report-publisher';

export const costSource: AwsPortBuilder<'costSource'> = (context) =>
  context.expose(
    'costSource',
    'CloudWatchCostSource',
    new CloudWatchCostSource({
      client: context.client('cloudwatch', cloudWatchClientOnDemand),
      config: context.config,
    }),
  );

export const costReportPublisher: AwsPortBuilder<'costReportPublisher'> = (context) =>
  context.expose(
    'costReportPublisher',
    'SnsCostReportPublisher',
    new SnsCostReportPublisher({
      client: context.client('sns', snsClientOnDemand),
      topicArn: context.required(FUNCTION_ENV.costReportsTopicArn),
    }),
  );

export const monthToDateSink: AwsPortBuilder<'monthToDateSink'> = (context) =>
  context.expose('monthToDateSink', 'EmfMonthToDateSink', new EmfMonthToDateSink());
