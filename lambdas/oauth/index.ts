/**
 * Lambda entry of the OAuth entry point for remote MCP connectors (docs/oauth.md): the OAuth routes
 * and `POST /v1/mcp` behind the second, certificate-less custom domain (lambdas/composition).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { awsServices } from '../adapters/aws/aws-runtime';
import { composeOAuth } from '../composition/compose-oauth';
import { OAUTH_AWS_PORTS } from './oauth-aws-ports';

const { handler: route } = composeOAuth(awsServices(OAUTH_AWS_PORTS));

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return route(event);
}
