/**
 * Airlock's ports over the AWS SDK v3, for the Lambda functions. Every port is built on first read
 * from the environment variables the CDK bindings set with their grants (lib/contracts/environment),
 * so a function builds only the adapters (and SDK clients) its composition reads, and a missing
 * variable names itself at init. Building makes no AWS call.
 *
 * Each port exposes exactly the adapter methods {@link AWS_PORT_METHODS} lists for it (a view of the
 * adapter with those methods and nothing else), and `wiredAdapters` records each adapter a
 * composition's ports were built on. With the adapters' IAM declarations, {@link AwsPorts.iamPermissions}
 * is then every (action, resource) the function can send: the permission proof
 * (test/infra/permission-proof.test.ts) checks each function's role allows exactly that.
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
import { CONNECTOR_SECRET_RESOURCES } from '../../connectors/connector-infrastructure';
import type { ConnectorDependencies } from '../../connectors/connector-registry';
import { killSwitchParameterName, killSwitchPrefix } from '../../core/kill-switch';
import { systemClock } from '../../core/ports';
import type { MetricsSink } from '../../core/usage-meter';
import { createClientMetadataFetcher } from '../../oauth/client-metadata-fetcher';
import { createOidcIdentityProvider } from '../../oauth/oidc-identity-provider';
import { DynamoDbApprovalStore } from './dynamodb-approval-store';
import { DynamoDbAuditStore } from './dynamodb-audit-store';
import { DynamoDbCounterStore } from './dynamodb-counter-store';
import { DynamoDbOAuthStore } from './dynamodb-oauth-store';
import { DynamoDbRevocationStore } from './dynamodb-revocation-store';
import { EmfMetricsSink } from './emf-metrics-sink';
import type { AdapterMethod, AwsScope, DeclaresIamPermissions, IamPermission } from './iam-permissions';
import { KmsTokenSigner } from './kms-token-signer';
import { S3DigestStore } from './s3-digest-store';
import { SecretsManagerSecretSource } from './secrets-manager-secret-source';
import { SnsApprovalNotifier } from './sns-approval-notifier';
import { SsmKillSwitchParameters } from './ssm-kill-switch-parameters';

/** Where the environment variables come from (the process environment in Lambda). */
export type AwsEnvironment = Readonly<Record<string, string | undefined>>;

/** One port a composition read, and what it returned. */
export interface WiredPort {
  readonly port: keyof AirlockPorts;
  readonly adapter: unknown;
}

/** The AWS adapters behind the ports, by class name. */
interface AwsAdapters {
  readonly KmsTokenSigner: KmsTokenSigner;
  readonly SsmKillSwitchParameters: SsmKillSwitchParameters;
  readonly DynamoDbRevocationStore: DynamoDbRevocationStore;
  readonly DynamoDbAuditStore: DynamoDbAuditStore;
  readonly DynamoDbApprovalStore: DynamoDbApprovalStore;
  readonly DynamoDbCounterStore: DynamoDbCounterStore;
  readonly SnsApprovalNotifier: SnsApprovalNotifier;
  readonly EmfMetricsSink: EmfMetricsSink;
  readonly SecretsManagerSecretSource: SecretsManagerSecretSource;
  readonly S3DigestStore: S3DigestStore;
  readonly DynamoDbOAuthStore: DynamoDbOAuthStore;
}

type PortMethods = {
  readonly [A in keyof AwsAdapters]?: readonly Exclude<AdapterMethod<AwsAdapters[A]>, 'iamPermissions'>[];
};

/**
 * Which methods of which AWS adapter each port exposes: all that a function whose composition reads
 * the port can call. The ports are views with exactly these methods, so this is a fact about the
 * code, not a promise; a port without AWS adapters (the clock, the client metadata fetcher) is empty.
 */
export const AWS_PORT_METHODS = {
  clock: {},
  tokenSigner: { KmsTokenSigner: ['sign', 'getPublicKey'] },
  tokenVerificationKey: { KmsTokenSigner: ['getPublicKey'] },
  killSwitchSource: { SsmKillSwitchParameters: ['read'] },
  revocations: { DynamoDbRevocationStore: ['readEntries'] },
  // Append only: the functions are granted PutItem alone, and a refused write brings the existing
  // item back with it, so the ledger never needs `readRecord` here.
  auditStore: { DynamoDbAuditStore: ['append'] },
  auditChainHeads: { DynamoDbAuditStore: ['listChainHeads'] },
  approvalStore: { DynamoDbApprovalStore: ['create', 'get', 'listByStatus', 'transition'] },
  approvalNotifier: { SnsApprovalNotifier: ['notify'] },
  counterStore: { DynamoDbCounterStore: ['add'] },
  metricsSink: { EmfMetricsSink: ['record'] },
  // The kinds' own adapters are exposed by the methods each kind names (ConnectorKind.aws.adapterMethods).
  connectorAdapters: { SecretsManagerSecretSource: ['getJson'] },
  digestStore: { S3DigestStore: ['put', 'list'] },
  digestSigner: { KmsTokenSigner: ['sign', 'getPublicKey'] },
  oauthStore: {
    DynamoDbOAuthStore: [
      'putClient',
      'getClient',
      'touchClient',
      'increment',
      'putPendingAuthorization',
      'takePendingAuthorization',
      'putConsentTicket',
      'takeConsentTicket',
      'putConsent',
      'getConsent',
      'putCode',
      'redeemCode',
      'putFamily',
      'getFamily',
      'revokeFamily',
      'putRefreshToken',
      'getRefreshToken',
      'useRefreshToken',
      'setRefreshSuccessor',
      'takeRefreshGrace',
    ],
  },
  identityProvider: { SecretsManagerSecretSource: ['getJson'] },
  fetchClientMetadata: {},
} as const satisfies Record<keyof AirlockPorts, PortMethods>;

/** An AWS adapter a port was built on, and the methods of it that the port exposes. */
export interface WiredAdapter {
  readonly port: keyof AirlockPorts;
  readonly adapter: DeclaresIamPermissions;
  readonly methods: readonly string[];
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
  /** The AWS adapters those ports were built on (a file store per connector once the registry asks). */
  public readonly wiredAdapters: WiredAdapter[] = [];
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
    return this.port('tokenSigner', () =>
      this.expose('tokenSigner', 'KmsTokenSigner', this.signer(), ['keyId']),
    );
  }

  /** The same key as {@link tokenSigner}: a function that verifies is granted kms:GetPublicKey only. */
  get tokenVerificationKey() {
    return this.port('tokenVerificationKey', () =>
      this.expose('tokenVerificationKey', 'KmsTokenSigner', this.signer(), ['keyId']),
    );
  }

  get killSwitchSource() {
    return this.port('killSwitchSource', () => {
      const prefix = this.env[FUNCTION_ENV.killSwitchPrefix] ?? killSwitchPrefix(this.config.stage);
      const parameters = new SsmKillSwitchParameters({
        client: this.client('ssm', () => new SSMClient({})),
        // What the kill switch reads: the global switch and each workflow's.
        parameterNames: [
          killSwitchParameterName(prefix),
          ...Object.keys(this.config.workflows).map((workflow) => killSwitchParameterName(prefix, workflow)),
        ],
      });
      return this.expose('killSwitchSource', 'SsmKillSwitchParameters', parameters);
    });
  }

  get revocations() {
    return this.port('revocations', () =>
      this.expose(
        'revocations',
        'DynamoDbRevocationStore',
        new DynamoDbRevocationStore({
          client: this.documents,
          tableName: this.required(FUNCTION_ENV.revocationsTable),
        }),
      ),
    );
  }

  get auditStore() {
    return this.port('auditStore', () => this.expose('auditStore', 'DynamoDbAuditStore', this.auditTable()));
  }

  get auditChainHeads() {
    return this.port('auditChainHeads', () =>
      this.expose('auditChainHeads', 'DynamoDbAuditStore', this.auditTable()),
    );
  }

  get approvalStore() {
    return this.port('approvalStore', () =>
      this.expose(
        'approvalStore',
        'DynamoDbApprovalStore',
        new DynamoDbApprovalStore({
          client: this.documents,
          tableName: this.required(FUNCTION_ENV.approvalsTable),
        }),
      ),
    );
  }

  get counterStore() {
    return this.port('counterStore', () =>
      this.expose(
        'counterStore',
        'DynamoDbCounterStore',
        new DynamoDbCounterStore({
          client: this.documents,
          tableName: this.required(FUNCTION_ENV.countersTable),
        }),
      ),
    );
  }

  get approvalNotifier() {
    return this.port('approvalNotifier', () =>
      this.expose(
        'approvalNotifier',
        'SnsApprovalNotifier',
        new SnsApprovalNotifier({
          client: this.client('sns', () => new SNSClient({})),
          topicArn: this.required(FUNCTION_ENV.approvalsTopicArn),
        }),
      ),
    );
  }

  get metricsSink(): MetricsSink {
    return this.port('metricsSink', () =>
      this.expose(
        'metricsSink',
        'EmfMetricsSink',
        new EmfMetricsSink({ onError: this.options.onMetricsError }),
      ),
    );
  }

  get connectorAdapters(): ConnectorDependencies {
    return this.port('connectorAdapters', () => {
      const resources = this.connectorResources();
      const secretSource = new SecretsManagerSecretSource({
        client: this.secretsClient,
        // Config secret names to the ARNs the stack granted: the grant names the full ARN exactly.
        secretIds: Object.fromEntries(
          Object.values(resources).flatMap((bound) => {
            const name = bound[CONNECTOR_SECRET_RESOURCES.name];
            const arn = bound[CONNECTOR_SECRET_RESOURCES.arn];
            return name && arn ? [[name, arn]] : [];
          }),
        ),
      });
      return {
        adaptersFor: (kind, name, config) => {
          const adapter = kind.aws.adapters({
            name,
            config,
            resources: resources[name] ?? {},
            client: (service, create) => this.client(service, create),
          });
          // Each kind names the methods of its adapter its connectors call (what the proof checks).
          return adapter === undefined
            ? undefined
            : this.exposeKindAdapter(adapter, kind.aws.adapterMethods ?? []);
        },
        secretSource: this.expose('connectorAdapters', 'SecretsManagerSecretSource', secretSource),
      };
    });
  }

  get digestStore() {
    return this.port('digestStore', () =>
      this.expose(
        'digestStore',
        'S3DigestStore',
        new S3DigestStore({
          client: this.client('s3', () => new S3Client({})),
          bucket: this.required(FUNCTION_ENV.digestBucket),
        }),
      ),
    );
  }

  get digestSigner() {
    return this.port('digestSigner', () =>
      this.expose('digestSigner', 'KmsTokenSigner', this.signer(), ['keyId']),
    );
  }

  get oauthStore() {
    return this.port('oauthStore', () =>
      this.expose(
        'oauthStore',
        'DynamoDbOAuthStore',
        new DynamoDbOAuthStore({ client: this.documents, tableName: this.required(FUNCTION_ENV.oauthTable) }),
      ),
    );
  }

  get identityProvider() {
    return this.port('identityProvider', () => {
      const oauth = this.config.oauth;
      if (!oauth)
        throw new Error('the config has no oauth section; there is no identity provider to sign in with');
      const name = oauth.identityProvider.clientSecretName;
      const secrets = new SecretsManagerSecretSource({
        client: this.secretsClient,
        // The stack passes the full ARN, which the grant names exactly.
        secretIds: { [name]: this.required(FUNCTION_ENV.idpClientSecretArn) },
      });
      return createOidcIdentityProvider({
        config: oauth.identityProvider,
        secrets: this.expose('identityProvider', 'SecretsManagerSecretSource', secrets),
      });
    });
  }

  get fetchClientMetadata() {
    return this.port('fetchClientMetadata', () => createClientMetadataFetcher());
  }

  /**
   * Every IAM permission the ports read so far need: each wired adapter's declaration for the methods
   * its port exposes, in the account and region `scope` names.
   */
  iamPermissions(scope: AwsScope): IamPermission[] {
    return this.wiredAdapters.flatMap(({ adapter, methods }) => adapter.iamPermissions(methods, scope));
  }

  /**
   * A view of `adapter` with exactly the methods {@link AWS_PORT_METHODS} lists for it under `port`
   * (bound to it) and the given read-only fields, recorded in {@link wiredAdapters}.
   */
  private expose<
    P extends keyof AirlockPorts,
    A extends keyof AwsAdapters & keyof (typeof AWS_PORT_METHODS)[P],
    F extends keyof AwsAdapters[A] = never,
  >(
    port: P,
    kind: A,
    adapter: AwsAdapters[A],
    fields: readonly F[] = [],
  ): Pick<AwsAdapters[A], Exposed<P, A> | F> {
    const methods = ((AWS_PORT_METHODS[port] as PortMethods)[kind] ?? []) as readonly string[];
    if (methods.length === 0) throw new Error(`AwsPorts: port ${port} exposes no method of ${kind}`);
    this.wiredAdapters.push({ port, adapter, methods });
    const target = adapter as unknown as Record<string, unknown>;
    const view: Record<string, unknown> = {};
    for (const method of methods)
      view[method] = (target[method] as (...args: unknown[]) => unknown).bind(adapter);
    for (const field of fields) {
      Object.defineProperty(view, field, { get: () => target[field as string], enumerable: true });
    }
    return view as Pick<AwsAdapters[A], Exposed<P, A> | F>;
  }

  /** A connector kind's AWS adapter as the connectors see it: the methods the kind names, recorded. */
  private exposeKindAdapter(adapter: unknown, methods: readonly string[]): unknown {
    const declares = adapter as Partial<DeclaresIamPermissions>;
    if (typeof declares.iamPermissions !== 'function' || methods.length === 0) {
      throw new Error(
        "AwsPorts: a connector kind's AWS adapter must declare its IAM permissions and its methods",
      );
    }
    this.wiredAdapters.push({
      port: 'connectorAdapters',
      adapter: declares as DeclaresIamPermissions,
      methods,
    });
    const target = adapter as Record<string, unknown>;
    const view: Record<string, unknown> = {};
    for (const method of methods)
      view[method] = (target[method] as (...args: unknown[]) => unknown).bind(adapter);
    return view;
  }

  /** One KMS signer over the signing key per port that needs it (each caches its public key). */
  private signer(): KmsTokenSigner {
    return new KmsTokenSigner({ client: this.kms, keyId: this.required(FUNCTION_ENV.signingKeyId) });
  }

  /** The audit table's adapter: each port gets its own view (and its own entry in `wiredAdapters`). */
  private auditTable(): DynamoDbAuditStore {
    return new DynamoDbAuditStore({
      client: this.documents,
      tableName: this.required(FUNCTION_ENV.auditTable),
    });
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

  /** What the stack bound for each connector (`FUNCTION_ENV.connectorResources`); absent means none. */
  private connectorResources(): Record<string, Record<string, string>> {
    const all = this.jsonObject(FUNCTION_ENV.connectorResources) as unknown as Record<string, unknown>;
    for (const [name, bound] of Object.entries(all)) {
      if (bound === null || typeof bound !== 'object' || Array.isArray(bound)) {
        throw new Error(
          `environment variable ${FUNCTION_ENV.connectorResources}: connector ${name} must map to an object`,
        );
      }
    }
    return all as Record<string, Record<string, string>>;
  }

  /** A JSON object environment variable; absent means empty. */
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

/** The methods port `P` exposes of its adapter `A`: the type of the view. */
type Exposed<
  P extends keyof AirlockPorts,
  A extends keyof AwsAdapters,
> = (typeof AWS_PORT_METHODS)[P] extends { readonly [K in A]: readonly (infer M)[] }
  ? M & keyof AwsAdapters[A]
  : never;
