/**
 * Lambda entry for the anchor function. Placeholder until its handler lands: it answers the error
 * contract (503) so the bundle, the API wiring and cdk-nag can be proven first.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';

export async function handler(): Promise<APIGatewayProxyResult> {
  return {
    statusCode: 503,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      error: {
        code: 'unavailable',
        message: 'The anchor function is not implemented yet.',
        requestId: 'none',
      },
    }),
  };
}
