/**
 * The cost-report function: last month's report to the cost-reports topic on the 1st, each workflow's
 * month to date as metrics every six hours. It reads Airlock's usage metrics and, for workflows with an
 * `llm`, the token counts Bedrock measured for their inference profiles; it decides nothing, so it
 * carries no policy engine and appends no audit record.
 */

import { withMeasuredLlm } from '../core/cost-report';
import {
  type CostReportHandler,
  type CostReportLogger,
  createCostReportHandler,
} from '../cost-report/cost-report-handler';
import type { AirlockPorts } from './airlock-ports';
import type { SharedServices } from './shared-services';

export interface CostReportComposition {
  readonly handler: CostReportHandler;
}

export function composeCostReport(services: SharedServices, logger: CostReportLogger): CostReportComposition {
  const { ports } = services;
  const airlock = required(ports, 'costSource');
  const llm = ports.llmUsageSource;
  const handler = createCostReportHandler({
    config: services.config,
    source: llm ? withMeasuredLlm(airlock, llm) : airlock,
    sourceLabel: 'CloudWatch (namespace Airlock)',
    publisher: required(ports, 'costReportPublisher'),
    sink: required(ports, 'monthToDateSink'),
    clock: services.clock,
    logger,
  });
  return { handler };
}

function required<P extends 'costSource' | 'costReportPublisher' | 'monthToDateSink'>(
  ports: AirlockPorts,
  name: P,
): NonNullable<AirlockPorts[P]> {
  const port = ports[name];
  if (!port)
    throw new Error(`composeCostReport: the ${name} port is missing; the cost-report function needs it`);
  return port as NonNullable<AirlockPorts[P]>;
}
