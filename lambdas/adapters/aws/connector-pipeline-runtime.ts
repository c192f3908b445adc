/**
 * The connector pipeline as the connector and OAuth functions both run it: one ConnectorProxy over
 * the bundled config, with S3 file stores, Secrets Manager connector secrets, the revocation list,
 * the approvals desk with its SNS notifier, the daily spend cap and the EMF usage meter. Built once
 * per execution environment from the environment variables the CDK bindings set with their grants.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AirlockConfig } from '../../../lib/config/schema';
import { createConnectors } from '../../connectors/connector-registry';
import type { AccessTokenVerifier } from '../../core/access-token';
import { ApprovalDesk } from '../../core/approval-desk';
import type { AuditLedger } from '../../core/audit-ledger';
import { ConnectorProxy } from '../../core/connector-proxy';
import { withDependencyDeadlines } from '../../core/dependency-deadline';
import type { KillSwitch } from '../../core/kill-switch';
import type { PolicyEngine } from '../../core/policy-engine';
import { type RevocationStore, systemClock, type TokenSigner } from '../../core/ports';
import { RateLimiter } from '../../core/rate-limiter';
import { SpendCap } from '../../core/spend-cap';
import { UsageMeter } from '../../core/usage-meter';
import { DynamoDbApprovalStore } from './dynamodb-approval-store';
import { DynamoDbRevocationStore } from './dynamodb-revocation-store';
import { EmfMetricsSink } from './emf-metrics-sink';
import { KmsTokenSigner } from './kms-token-signer';
import {
  createDocumentClient,
  createKillSwitch,
  createLedger,
  jsonEnv,
  loadBundledPolicyEngine,
  logger,
  requiredEnv,
} from './lambda-runtime';
import { S3FileStore } from './s3-file-store';
import { SecretsManagerSecretSource } from './secrets-manager-secret-source';
import { SnsApprovalNotifier } from './sns-approval-notifier';

export interface ConnectorPipelineRuntimeOptions {
  /** The validated pilot config bundled with the function (see `loadBundledConfig`). */
  readonly config: AirlockConfig;
  /**
   * How the proxy verifies the caller's access token, given the KMS signer (whose public key checks
   * the signature). The connector function verifies certificate-bound tokens; the OAuth function
   * authenticates its callers before the proxy and gives one that refuses everything.
   */
  readonly createVerifier: (signer: TokenSigner) => AccessTokenVerifier;
}

/** What the pipeline is made of, for the entry's handler and whatever else it serves. */
export interface ConnectorPipelineRuntime {
  readonly proxy: ConnectorProxy;
  readonly ledger: AuditLedger;
  readonly meter: UsageMeter;
  readonly spendCap: SpendCap;
  readonly killSwitch: KillSwitch;
  readonly policy: PolicyEngine;
  /** Under its dependency deadline. */
  readonly signer: TokenSigner;
  /** Under its dependency deadline. */
  readonly revocations: RevocationStore;
  /** The function's DynamoDB document client, for any further table the entry uses. */
  readonly doc: DynamoDBDocumentClient;
  /** The function's Secrets Manager client, for any further secret the entry reads. */
  readonly secretsClient: SecretsManagerClient;
}

/**
 * Builds the connector pipeline from the bundled config and the environment: reads
 * `AIRLOCK_AUDIT_TABLE`, `AIRLOCK_CONNECTOR_SECRETS`, `AIRLOCK_SIGNING_KEY_ID`,
 * `AIRLOCK_REVOCATIONS_TABLE`, `AIRLOCK_APPROVALS_TABLE`, `AIRLOCK_CONNECTOR_BUCKETS`,
 * `AIRLOCK_KILL_SWITCH_PREFIX`, `AIRLOCK_APPROVALS_TOPIC_ARN`, the bundled policies and the
 * function's memory size (for the cost metric). Makes no AWS call.
 * @throws Error naming the variable when a required environment variable is not set
 */
export function createConnectorPipelineRuntime(
  options: ConnectorPipelineRuntimeOptions,
): ConnectorPipelineRuntime {
  const { config } = options;
  const doc = createDocumentClient();
  const ledger = createLedger(doc);
  const secretArns = jsonEnv('AIRLOCK_CONNECTOR_SECRETS');
  const secretsClient = new SecretsManagerClient({});
  const unbounded = {
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
      client: secretsClient,
      // Config secret names to the ARNs the stack granted: the grant names the full ARN exactly.
      secretIds: Object.fromEntries(
        Object.entries(config.connectors).flatMap(([name, c]) =>
          c.kind === 'http-api' && secretArns[name] ? [[c.auth.secretName, secretArns[name]]] : [],
        ),
      ),
    }),
  };
  const ports = withDependencyDeadlines(unbounded);
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
  const verifier = options.createVerifier(ports.signer);
  const killSwitch = createKillSwitch(config);
  const policy = loadBundledPolicyEngine(config);
  const proxy = new ConnectorProxy({
    config,
    verifier,
    killSwitch,
    revocations: ports.revocations,
    connectors: new Map(registry.names.map((name) => [name, registry.get(name)])),
    policy,
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
  return {
    proxy,
    ledger,
    meter,
    spendCap,
    killSwitch,
    policy,
    signer: ports.signer,
    revocations: ports.revocations,
    doc,
    secretsClient,
  };
}
