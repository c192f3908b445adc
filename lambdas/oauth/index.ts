/**
 * Lambda entry of the OAuth entry point for remote MCP connectors (docs/oauth.md): the OAuth routes
 * and `POST /v1/mcp` behind the second, certificate-less custom domain. The authorization server
 * issues tokens with the KMS signing key and keeps its state in the OAuth table; the MCP tools run
 * through the same ConnectorProxy as the connector function's, with callers authenticated by OAuth
 * access token instead of by client certificate.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { DynamoDbApprovalStore } from '../adapters/aws/dynamodb-approval-store';
import { DynamoDbOAuthStore } from '../adapters/aws/dynamodb-oauth-store';
import { DynamoDbRevocationStore } from '../adapters/aws/dynamodb-revocation-store';
import { EmfMetricsSink } from '../adapters/aws/emf-metrics-sink';
import { KmsTokenSigner } from '../adapters/aws/kms-token-signer';
import {
  createDocumentClient,
  createKillSwitch,
  createLedger,
  jsonEnv,
  loadBundledConfig,
  loadBundledPolicyEngine,
  logger,
  logUnexpected,
  requiredEnv,
} from '../adapters/aws/lambda-runtime';
import { S3FileStore } from '../adapters/aws/s3-file-store';
import { SecretsManagerSecretSource } from '../adapters/aws/secrets-manager-secret-source';
import { SnsApprovalNotifier } from '../adapters/aws/sns-approval-notifier';
import { createMcpHandler } from '../connector/mcp-endpoint';
import { createConnectors } from '../connectors/connector-registry';
import { TokenRejectedError } from '../core/access-token';
import { ApprovalDesk } from '../core/approval-desk';
import { ConnectorProxy } from '../core/connector-proxy';
import { OAuthAuthorizationServer } from '../core/oauth/authorization-server';
import { systemClock } from '../core/ports';
import { RateLimiter } from '../core/rate-limiter';
import { SpendCap } from '../core/spend-cap';
import { UsageMeter } from '../core/usage-meter';
import { createClientMetadataFetcher } from './client-metadata-fetcher';
import { createOAuthHandler, oauthMcpProxy } from './oauth-handler';
import { createOidcIdentityProvider } from './oidc-identity-provider';

const config = loadBundledConfig();
const oauth = config.oauth;
if (!oauth) {
  // The stack deploys this function only with the oauth section; without it there is nothing to serve.
  throw new Error('the bundled config has no oauth section; the OAuth function is deployed only with one');
}
const doc = createDocumentClient();
const ledger = createLedger(doc);
const killSwitch = createKillSwitch(config);
const revocations = new DynamoDbRevocationStore({
  client: doc,
  tableName: requiredEnv('AIRLOCK_REVOCATIONS_TABLE'),
});
// The authorization server issues access tokens: kms:Sign, and kms:GetPublicKey to verify them.
const signer = new KmsTokenSigner({
  client: new KMSClient({}),
  keyId: requiredEnv('AIRLOCK_SIGNING_KEY_ID'),
});
const secretsClient = new SecretsManagerClient({});
const buckets = jsonEnv('AIRLOCK_CONNECTOR_BUCKETS');
const secretArns = jsonEnv('AIRLOCK_CONNECTOR_SECRETS');
const s3 = new S3Client({});
const registry = createConnectors(config, {
  fileStore: (name, connector) =>
    new S3FileStore({
      client: s3,
      bucket: connector.aws.bucketName ?? buckets[name],
      prefix: connector.aws.prefix,
    }),
  secretSource: new SecretsManagerSecretSource({
    client: secretsClient,
    secretIds: Object.fromEntries(
      Object.entries(config.connectors).flatMap(([name, c]) =>
        c.kind === 'http-api' && secretArns[name] ? [[c.auth.secretName, secretArns[name]]] : [],
      ),
    ),
  }),
});
const emf = new EmfMetricsSink({ onError: (error) => logger.warn('metrics not recorded', error as Error) });
// Per execution environment: see spend-cap.ts for the bound this gives in AWS.
const spendCap = new SpendCap(config.workflows, systemClock);
const meter = new UsageMeter(
  config.prices,
  {
    record: (point) => {
      emf.record(point);
      spendCap.record(point);
    },
  },
  Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? 512),
);
const policy = loadBundledPolicyEngine(config);
const proxy = new ConnectorProxy({
  config,
  // Callers on this entry point are authenticated by oauthMcpProxy (OAuth access tokens) and never
  // reach the proxy's certificate-bound verification; should anything call it, it refuses.
  verifier: {
    verify: async () => {
      throw new TokenRejectedError(
        'certificate_mismatch',
        'The OAuth entry point accepts only OAuth access tokens.',
      );
    },
  },
  killSwitch,
  revocations,
  connectors: new Map(registry.names.map((name) => [name, registry.get(name)])),
  policy,
  ledger,
  approvals: new ApprovalDesk({
    store: new DynamoDbApprovalStore({ client: doc, tableName: requiredEnv('AIRLOCK_APPROVALS_TABLE') }),
    notifier: new SnsApprovalNotifier({
      client: new SNSClient({}),
      topicArn: requiredEnv('AIRLOCK_APPROVALS_TOPIC_ARN'),
    }),
    config,
    clock: systemClock,
    onNotifyError: (error) => logger.warn('approval notification failed', error as Error),
  }),
  rateLimiter: new RateLimiter(systemClock),
  meter,
  spendCap,
  clock: systemClock,
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
