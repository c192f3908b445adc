/**
 * Lambda entry of the OAuth entry point for remote MCP connectors (docs/oauth.md): the OAuth routes
 * and `POST /v1/mcp` behind the second, certificate-less custom domain. The authorization server
 * issues tokens with the KMS signing key and keeps its state in the OAuth table; the MCP tools run
 * through the same ConnectorProxy as the connector function's, with callers authenticated by OAuth
 * access token instead of by client certificate.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createConnectorPipelineRuntime } from '../adapters/aws/connector-pipeline-runtime';
import { DynamoDbOAuthStore } from '../adapters/aws/dynamodb-oauth-store';
import { loadBundledConfig, logUnexpected, requiredEnv } from '../adapters/aws/lambda-runtime';
import { SecretsManagerSecretSource } from '../adapters/aws/secrets-manager-secret-source';
import { createMcpHandler } from '../connector/mcp-endpoint';
import { TokenRejectedError } from '../core/access-token';
import { OAuthAuthorizationServer } from '../core/oauth/authorization-server';
import { systemClock } from '../core/ports';
import { createClientMetadataFetcher } from './client-metadata-fetcher';
import { createOAuthHandler, oauthMcpProxy } from './oauth-handler';
import { createOidcIdentityProvider } from './oidc-identity-provider';

const config = loadBundledConfig();
const oauth = config.oauth;
if (!oauth) {
  // The stack deploys this function only with the oauth section; without it there is nothing to serve.
  throw new Error('the bundled config has no oauth section; the OAuth function is deployed only with one');
}
// The authorization server issues access tokens with the pipeline's signer: kms:Sign, and
// kms:GetPublicKey to verify them.
const { proxy, ledger, killSwitch, revocations, policy, signer, doc, secretsClient } =
  createConnectorPipelineRuntime({
    config,
    // As this entry has always been wired: its ports carry no dependency deadlines.
    // Callers on this entry point are authenticated by oauthMcpProxy (OAuth access tokens) and never
    // reach the proxy's certificate-bound verification; should anything call it, it refuses.
    createVerifier: () => ({
      verify: async () => {
        throw new TokenRejectedError(
          'certificate_mismatch',
          'The OAuth entry point accepts only OAuth access tokens.',
        );
      },
    }),
  });
const idpSecretName = oauth.identityProvider.clientSecretName;
const server = new OAuthAuthorizationServer({
  config,
  oauth,
  store: new DynamoDbOAuthStore({ client: doc, tableName: requiredEnv('AIRLOCK_OAUTH_TABLE') }),
  identityProvider: createOidcIdentityProvider({
    config: oauth.identityProvider,
    secrets: new SecretsManagerSecretSource({
      client: secretsClient,
      // The stack passes the full ARN, which the grant names exactly.
      secretIds: { [idpSecretName]: requiredEnv('AIRLOCK_IDP_CLIENT_SECRET_ARN') },
    }),
  }),
  fetchClientMetadata: createClientMetadataFetcher(),
  signer,
  policy,
  killSwitch,
  revocations,
  ledger,
  clock: systemClock,
  clockSkewSeconds: config.tokens.clockSkewSeconds,
});
const route = createOAuthHandler({
  server,
  mcp: createMcpHandler({
    proxy: oauthMcpProxy(server, proxy),
    config,
    maxBodyBytes: config.api.maxBodyBytes,
    logUnexpected,
  }),
  maxBodyBytes: config.api.maxBodyBytes,
  logUnexpected,
});

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return route(event);
}
