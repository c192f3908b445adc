/** Lambda entry of the broker: `POST /v1/credentials` and `GET /v1/health` (lambdas/composition). */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { awsServices } from '../adapters/aws/aws-runtime';
import { composeBroker } from '../composition/compose-broker';
import { BROKER_AWS_PORTS } from './broker-aws-ports';

const { handler: route } = composeBroker(awsServices(BROKER_AWS_PORTS));

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return route(event);
}
