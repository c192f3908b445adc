/**
 * Lambda entry of the connector: `POST /v1/connectors/{connector}/{operation}`, `POST /v1/mcp` and
 * `POST /v1/usage`, all through one ConnectorProxy (lambdas/composition).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { awsServices } from '../adapters/aws/aws-runtime';
import { composeConnector } from '../composition/compose-connector';

const { handler: route } = composeConnector(awsServices());

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return route(event);
}
