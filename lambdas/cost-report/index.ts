/**
 * Lambda entry of the cost-report function: the monthly report and the month-to-date schedules
 * (EventBridge), over the AWS ports of lambdas/composition.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { awsServices } from '../adapters/aws/aws-runtime';
import { composeCostReport } from '../composition/compose-cost-report';
import { COST_REPORT_AWS_PORTS } from './cost-report-aws-ports';
import type { CostReportOutcome } from './cost-report-handler';

const logger = new Logger({ serviceName: 'airlock-cost-report' });
const { handler: handleEvent } = composeCostReport(awsServices(COST_REPORT_AWS_PORTS), {
  info: (message, extra) => logger.info(message, extra ?? {}),
  warn: (message, extra) => logger.warn(message, extra ?? {}),
});

/** EventBridge target: `{"task":"monthly-report"}` or `{"task":"month-to-date"}`. */
export async function handler(event: unknown): Promise<CostReportOutcome> {
  return handleEvent(event);
}
