/**
 * Airlock's ports over the AWS SDK v3, for the Lambda functions. Every port is built on first read
 * from the environment variables the CDK bindings set with their grants (lib/contracts/environment),
 * so a function builds only the adapters (and SDK clients) its composition reads, and a missing
 * variable names itself at init. Building makes no AWS call.
 *
 * `wired` lists the ports a composition read, in order: the permission proof
 * (test/infra/permission-proof.test.ts) checks that each function's role allows exactly what those
 * adapters call.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AirlockConfig } from '../../../lib/config/schema';
import { FUNCTION_ENV, type FunctionEnvName } from '../../../lib/contracts/environment';
import type { AirlockPorts } from '../../composition/airlock-ports';
import type { ConnectorDependencies } from '../../connectors/connector-registry';
import { FILE_STORE_BUCKET_RESOURCE } from '../../connectors/file-store/file-store-kind';
import { systemClock } from '../../core/ports';
import type { MetricsSink } from '../../core/usage-meter';
import { createClientMetadataFetcher } from '../../oauth/client-metadata-fetcher';
import { createOidcIdentityProvider } from '../../oauth/oidc-identity-provider';
import { DynamoDbApprovalStore } from './dynamodb-approval-store';
import { DynamoDbAuditStore } from './dynamodb-audit-store';
import { DynamoDbOAuthStore } from './dynamodb-oauth-store';
import { DynamoDbRevocationStore } from './dynamodb-revocation-store';
import { EmfMetricsSink } from './emf-metrics-sink';
import { KmsTokenSigner } from './kms-token-signer';
import { S3DigestStore } from './s3-digest-store';
import { SecretsManagerSecretSource } from './secrets-manager-secret-source';
import { SnsApprovalNotifier } from './sns-approval-notifier';
import { SsmKillSwitchParameters } from './ssm-kill-switch-parameters';

/** Where the environment variables come from (the process environment in Lambda). */
export type AwsEnvironment = Readonly<Record<string, string | undefined>>;

/** One port a composition read, and the adapter behind it. */
export interface WiredPort {
  readonly port: keyof AirlockPorts;
  readonly adapter: unknown;
}

export interface AwsPortsOptions {
  readonly config: AirlockConfig;
  /** @default process.env */
  readonly env?: AwsEnvironment;
  /** Reports a metric that could not be written. */
  readonly onMetricsError?: (error: unknown) => void;
}

export class AwsPorts implements AirlockPorts {
  /** The ports read so far, in the order they were first read. */
  public readonly wired: WiredPort[] = [];
  private readonly env: AwsEnvironment;
  private readonly config: AirlockConfig;
  private readonly memo = new Map<string, unknown>();

  constructor(private readonly options: AwsPortsOptions) {
    this.env = options.env ?? process.env;
    this.config = options.config;
  }

  get clock() {
    return systemClock;
  }

  get tokenSigner() {
    return this.port(
      'tokenSigner',
      () => new KmsTokenSigner({ client: this.kms, keyId: this.required(FUNCTION_ENV.signingKeyId) }),
    );
  }

  /** The same key as {@link tokenSigner}: a function that verifies is granted kms:GetPublicKey only. */
  get tokenVerificationKey() {
    return this.port(
      'tokenVerificationKey',
      () => new KmsTokenSigner({ client: this.kms, keyId: this.required(FUNCTION_ENV.signingKeyId) }),
    );
  }

  get killSwitchSource() {
    return this.port(
      'killSwitchSource',
      () => new SsmKillSwitchParameters({ client: this.client('ssm', () => new SSMClient({})) }),
    );
  }

  get revocations() {
    return this.port(
      'revocations',
      () =>
        new DynamoDbRevocationStore({
          client: this.documents,
          tableName: this.required(FUNCTION_ENV.revocationsTable),
        }),
    );
  }

  get auditStore() {
    return this.port(
      'auditStore',
      () =>
        new DynamoDbAuditStore({ client: this.documents, tableName: this.required(FUNCTION_ENV.auditTable) }),
    );
  }

  get approvalStore() {
    return this.port(
      'approvalStore',
      () =>
        new DynamoDbApprovalStore({
          client: this.documents,
          tableName: this.required(FUNCTION_ENV.approvalsTable),
        }),
    );
  }

  get approvalNotifier() {
    return this.port(
      'approvalNotifier',
      () =>
        new SnsApprovalNotifier({
          client: this.client('sns', () => new SNSClient({})),
          topicArn: this.required(FUNCTION_ENV.approvalsTopicArn),
        }),
    );
  }

  get metricsSink(): MetricsSink {
    return this.port('metricsSink', () => new EmfMetricsSink({ onError: this.options.onMetricsError }));
  }

  get connectorAdapters(): ConnectorDependencies {
    return this.port('connectorAdapters', () => {
      const buckets = this.jsonObject(FUNCTION_ENV.connectorBuckets);
      const secretArns = this.jsonObject(FUNCTION_ENV.connectorSecrets);
      return {
        adaptersFor: (kind, name, config) =>
          kind.aws.adapters({
            name,
            config,
            resources: buckets[name] ? { [FILE_STORE_BUCKET_RESOURCE]: buckets[name] } : {},
            client: (service, create) => this.client(service, create),
          }),
        secretSource: new SecretsManagerSecretSource({
          client: this.secretsClient,
          // Config secret names to the ARNs the stack granted: the grant names the full ARN exactly.
          secretIds: Object.fromEntries(
            Object.entries(this.config.connectors).flatMap(([name, c]) =>
              c.kind === 'http-api' && secretArns[name] ? [[c.auth.secretName, secretArns[name]]] : [],
            ),
          ),
        }),
      };
    });
  }

  get digestStore() {
    return this.port(
      'digestStore',
      () =>
        new S3DigestStore({
          client: this.client('s3', () => new S3Client({})),
          bucket: this.required(FUNCTION_ENV.digestBucket),
        }),
    );
  }

  get digestSigner() {
    return this.port(
      'digestSigner',
      () => new KmsTokenSigner({ client: this.kms, keyId: this.required(FUNCTION_ENV.signingKeyId) }),
    );
  }

  get oauthStore() {
    return this.port(
      'oauthStore',
      () =>
        new DynamoDbOAuthStore({ client: this.documents, tableName: this.required(FUNCTION_ENV.oauthTable) }),
    );
  }

  get identityProvider() {
    return this.port('identityProvider', () => {
      const oauth = this.config.oauth;
      if (!oauth)
        throw new Error('the config has no oauth section; there is no identity provider to sign in with');
      const name = oauth.identityProvider.clientSecretName;
      return createOidcIdentityProvider({
        config: oauth.identityProvider,
        secrets: new SecretsManagerSecretSource({
          client: this.secretsClient,
          // The stack passes the full ARN, which the grant names exactly.
          secretIds: { [name]: this.required(FUNCTION_ENV.idpClientSecretArn) },
        }),
      });
    });
  }

  get fetchClientMetadata() {
    return this.port('fetchClientMetadata', () => createClientMetadataFetcher());
  }

  private get kms(): KMSClient {
    return this.client('kms', () => new KMSClient({}));
  }

  private get documents(): DynamoDBDocumentClient {
    return this.client('dynamodb', () =>
      DynamoDBDocumentClient.from(new DynamoDBClient({}), {
        marshallOptions: { removeUndefinedValues: true },
      }),
    );
  }

  private get secretsClient(): SecretsManagerClient {
    return this.client('secretsmanager', () => new SecretsManagerClient({}));
  }

  private port<T>(name: keyof AirlockPorts, build: () => T): T {
    const key = `port:${name}`;
    if (!this.memo.has(key)) {
      const adapter = build();
      this.memo.set(key, adapter);
      this.wired.push({ port: name, adapter });
    }
    return this.memo.get(key) as T;
  }

  /** One SDK client per service, shared by the adapters (the SDK keeps connections alive). */
  private client<T>(service: string, build: () => T): T {
    const key = `client:${service}`;
    if (!this.memo.has(key)) this.memo.set(key, build());
    return this.memo.get(key) as T;
  }

  /** A required environment variable; a missing one is a deployment bug, reported by name at init. */
  private required(name: FunctionEnvName): string {
    const value = this.env[name];
    if (!value)
      throw new Error(`environment variable ${name} is not set; the CDK construct sets it with its grant`);
    return value;
  }

  /** A JSON object environment variable (e.g. connector name → bucket); absent means empty. */
  private jsonObject(name: FunctionEnvName): Record<string, string> {
    const raw = this.env[name];
    if (!raw) return {};
    const parsed = JSON.parse(raw) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error(`environment variable ${name} must be a JSON object`);
    }
    return parsed as Record<string, string>;
  }
}
