/**
 * Lambda entry of the connector: `POST /v1/connectors/{connector}/{operation}`, `POST /v1/mcp`
 * and `POST /v1/usage`, all through one ConnectorProxy.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { DynamoDbApprovalStore } from '../adapters/aws/dynamodb-approval-store';
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
  tokenIdentifiers,
} from '../adapters/aws/lambda-runtime';
import { S3FileStore } from '../adapters/aws/s3-file-store';
import { SecretsManagerSecretSource } from '../adapters/aws/secrets-manager-secret-source';
import { SnsApprovalNotifier } from '../adapters/aws/sns-approval-notifier';
import { createConnectors } from '../connectors/connector-registry';
import { createAccessTokenVerifier } from '../core/access-token';
import { ApprovalDesk } from '../core/approval-desk';
import { ConnectorProxy } from '../core/connector-proxy';
import { withDependencyDeadlines } from '../core/dependency-deadline';
import { systemClock } from '../core/ports';
import { RateLimiter } from '../core/rate-limiter';
import { SpendCap } from '../core/spend-cap';
import { UsageMeter } from '../core/usage-meter';
import { createConnectorHandler } from './connector-handler';
import { createMcpHandler } from './mcp-endpoint';

const config = loadBundledConfig();
const doc = createDocumentClient();
const ledger = createLedger(doc);
const secretArns = jsonEnv('AIRLOCK_CONNECTOR_SECRETS');
// Verification needs only the public key (kms:GetPublicKey once per environment), never kms:Sign.
const ports = withDependencyDeadlines({
  signer: new KmsTokenSigner({ client: new KMSClient({}), keyId: requiredEnv('AIRLOCK_SIGNING_KEY_ID') }),
  revocations: new DynamoDbRevocationStore({
    client: doc,
    tableName: requiredEnv('AIRLOCK_REVOCATIONS_TABLE'),
  }),
  approvalStore: new DynamoDbApprovalStore({
    client: doc,
    tableName: requiredEnv('AIRLOCK_APPROVALS_TABLE'),
  }),
  secretSource: new SecretsManagerSecretSource({
    client: new SecretsManagerClient({}),
    secretIds: Object.fromEntries(
      Object.entries(config.connectors).flatMap(([name, c]) =>
        c.kind === 'http-api' && secretArns[name] ? [[c.auth.secretName, secretArns[name]]] : [],
      ),
    ),
  }),
});
const keys = ports.signer;
const buckets = jsonEnv('AIRLOCK_CONNECTOR_BUCKETS');
const s3 = new S3Client({});
const registry = createConnectors(config, {
  fileStore: (name, connector) =>
    new S3FileStore({
      client: s3,
      bucket: connector.aws.bucketName ?? buckets[name],
      prefix: connector.aws.prefix,
    }),
  secretSource: ports.secretSource,
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
const proxy = new ConnectorProxy({
  config,
  verifier: createAccessTokenVerifier({
    ...tokenIdentifiers(config),
    clockSkewSeconds: config.tokens.clockSkewSeconds,
    keys: async (kid) => (kid === keys.keyId ? keys.getPublicKey() : undefined),
  }),
  killSwitch: createKillSwitch(config),
  revocations: ports.revocations,
  connectors: new Map(registry.names.map((name) => [name, registry.get(name)])),
  policy: loadBundledPolicyEngine(config),
  ledger,
  approvals: new ApprovalDesk({
    store: ports.approvalStore,
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
