/**
 * Lambda entry of the connector: `POST /v1/connectors/{connector}/{operation}`, `POST /v1/mcp` and
 * `POST /v1/usage`, all through one ConnectorProxy (lambdas/composition).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { awsServices } from '../adapters/aws/aws-runtime';
import { composeConnector } from '../composition/compose-connector';
import { CONNECTOR_AWS_PORTS } from './connector-aws-ports';

const { handler: route } = composeConnector(awsServices(CONNECTOR_AWS_PORTS));

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return route(event);
}
