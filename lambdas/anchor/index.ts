/**
 * Lambda entry of the anchor function: the anchor schedule and kill-switch parameter changes
 * (EventBridge), over the AWS ports of lambdas/composition.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { awsServices } from '../adapters/aws/aws-runtime';
import { composeAnchor } from '../composition/compose-anchor';
import { ANCHOR_AWS_PORTS } from './anchor-aws-ports';
import type { AnchorOutcome } from './anchor-handler';

const { handler: handleEvent } = composeAnchor(
  awsServices(ANCHOR_AWS_PORTS),
  new Logger({ serviceName: 'airlock-anchor' }),
);

/** EventBridge target: the anchor schedule and kill-switch parameter changes. */
export async function handler(event: unknown): Promise<AnchorOutcome> {
  return handleEvent(event);
}
