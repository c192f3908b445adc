/**
 * Lambda entry of the connector: `POST /v1/connectors/{connector}/{operation}`, `POST /v1/mcp`
 * and `POST /v1/usage`, all through one ConnectorProxy.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createConnectorPipelineRuntime } from '../adapters/aws/connector-pipeline-runtime';
import { loadBundledConfig, logUnexpected, tokenIdentifiers } from '../adapters/aws/lambda-runtime';
import { createAccessTokenVerifier } from '../core/access-token';
import { systemClock } from '../core/ports';
import { createConnectorHandler } from './connector-handler';
import { createMcpHandler } from './mcp-endpoint';

const config = loadBundledConfig();
const { proxy, ledger, meter } = createConnectorPipelineRuntime({
  config,
  // Verification needs only the public key (kms:GetPublicKey once per environment), never kms:Sign.
  createVerifier: (keys) =>
    createAccessTokenVerifier({
      ...tokenIdentifiers(config),
      clockSkewSeconds: config.tokens.clockSkewSeconds,
      keys: async (kid) => (kid === keys.keyId ? keys.getPublicKey() : undefined),
    }),
});
const route = createConnectorHandler({
  proxy,
  config,
  ledger,
  meter,
  clock: systemClock,
  maxBodyBytes: config.api.maxBodyBytes,
  mcp: createMcpHandler({ proxy, config, logUnexpected }),
  logUnexpected,
});

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return route(event);
}
