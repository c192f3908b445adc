/** Lambda entry of the approvals API: list and decide held calls (lambdas/composition). */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { awsServices } from '../adapters/aws/aws-runtime';
import { composeApprovals } from '../composition/compose-approvals';
import { APPROVALS_AWS_PORTS } from './approvals-aws-ports';

const { handler: route } = composeApprovals(awsServices(APPROVALS_AWS_PORTS));

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return route(event);
}
