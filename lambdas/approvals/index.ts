/** Lambda entry of the approvals API: list and decide held calls (lambdas/composition). */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { awsServices } from '../adapters/aws/aws-runtime';
import { composeApprovals } from '../composition/compose-approvals';
import { APPROVALS_AWS_PORTS } from './approvals-aws-ports';

const { handler: route, remind } = composeApprovals(awsServices(APPROVALS_AWS_PORTS));

/** EventBridge's scheduled event: the reminder run (the Api stack's ApprovalReminders rule). */
interface ScheduledEvent {
  readonly source: 'aws.events';
  readonly 'detail-type': 'Scheduled Event';
}

export async function handler(
  event: APIGatewayProxyEvent | ScheduledEvent,
): Promise<APIGatewayProxyResult | { reminded: number }> {
  if ('source' in event && event.source === 'aws.events' && event['detail-type'] === 'Scheduled Event') {
    return { reminded: await remind() };
  }
  return route(event as APIGatewayProxyEvent);
}
