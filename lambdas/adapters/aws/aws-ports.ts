/**
 * Airlock's ports over the AWS SDK v3, for the Lambda functions. Every port is built on first read
 * from the environment variables the CDK bindings set with their grants (lib/contracts/environment),
 * so a function builds only the adapters (and SDK clients) its composition reads, and a missing
 * variable names itself at init. Building makes no AWS call.
 *
 * How each port is built is a builder in a module per AWS service (`kms-ports.ts`, `dynamodb-ports.ts`,
 * ...), and each Lambda entry hands AwsPorts the builders of the ports its composition reads
 * (`lambdas/<fn>/<fn>-aws-ports.ts`): a function's bundle then carries the SDK clients and adapters it
 * uses and no others. Reading a port the entry did not hand over is a wiring bug, named at init.
 *
 * Each port exposes exactly the adapter methods {@link AWS_PORT_METHODS} lists for it (a view of the
 * adapter with those methods and nothing else), and `wiredAdapters` records each adapter a
 * composition's ports were built on. With the adapters' IAM declarations, {@link AwsPorts.iamPermissions}
 * is then every (action, resource) the function can send: the permission proof
 * (test/infra/permission-proof.test.ts) checks each function's role allows exactly that.
 */
import type { AirlockConfig } from '../../../lib/config/schema';
import type { FunctionEnvName } from '../../../lib/contracts/environment';
import type { AirlockPorts } from '../../composition/airlock-ports';
import { systemClock } from '../../core/ports';
import type { BedrockUsageSource } from './bedrock-usage-source';
import type { CloudWatchCostSource } from './cloudwatch-cost-source';
import type { DynamoDbApprovalStore } from './dynamodb-approval-store';
import type { DynamoDbAuditStore } from './dynamodb-audit-store';
import type { DynamoDbCounterStore } from './dynamodb-counter-store';
import type { DynamoDbOAuthStore } from './dynamodb-oauth-store';
import type { DynamoDbRevocationStore } from './dynamodb-revocation-store';
import type { DynamoDbRunReadLog } from './dynamodb-run-read-log';
import type { EmfMetricsSink } from './emf-metrics-sink';
import type { EmfMonthToDateSink } from './emf-month-to-date-sink';
import type { AdapterMethod, AwsScope, DeclaresIamPermissions, IamPermission } from './iam-permissions';
import type { KmsMacKey } from './kms-mac-key';
import type { KmsTokenSigner } from './kms-token-signer';
import type { S3DigestStore } from './s3-digest-store';
import type { SecretsManagerSecretSource } from './secrets-manager-secret-source';
import type { SnsApprovalNotifier } from './sns-approval-notifier';
import type { SnsCostReportPublisher } from './sns-cost-report-publisher';
import type { SsmKillSwitchParameters } from './ssm-kill-switch-parameters';

/** Where the environment variables come from (the process environment in Lambda). */
export type AwsEnvironment = Readonly<Record<string, string | undefined>>;

/** One port a composition read, and what it returned. */
export interface WiredPort {
  readonly port: keyof AirlockPorts;
  readonly adapter: unknown;
}

/** The AWS adapters behind the ports, by class name. */
export interface AwsAdapters {
  readonly BedrockUsageSource: BedrockUsageSource;
  readonly KmsTokenSigner: KmsTokenSigner;
  readonly SsmKillSwitchParameters: SsmKillSwitchParameters;
  readonly DynamoDbRevocationStore: DynamoDbRevocationStore;
  readonly DynamoDbAuditStore: DynamoDbAuditStore;
  readonly DynamoDbApprovalStore: DynamoDbApprovalStore;
  readonly DynamoDbRunReadLog: DynamoDbRunReadLog;
  readonly DynamoDbCounterStore: DynamoDbCounterStore;
  readonly SnsApprovalNotifier: SnsApprovalNotifier;
  readonly EmfMetricsSink: EmfMetricsSink;
  readonly SecretsManagerSecretSource: SecretsManagerSecretSource;
  readonly S3DigestStore: S3DigestStore;
  readonly DynamoDbOAuthStore: DynamoDbOAuthStore;
  readonly KmsMacKey: KmsMacKey;
  readonly CloudWatchCostSource: CloudWatchCostSource;
  readonly SnsCostReportPublisher: SnsCostReportPublisher;
  readonly EmfMonthToDateSink: EmfMonthToDateSink;
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
  approvalNotifier: { SnsApprovalNotifier: ['notify', 'notifyDecision'] },
  runReadLog: { DynamoDbRunReadLog: ['append', 'list'] },
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
  // The connector's spend cap: today's tokens of each workflow's inference profile.
  llmUsageSource: { BedrockUsageSource: ['dailyUsage'] },
  sessionMacKey: { KmsMacKey: ['generateMac', 'verifyMac'] },
  // The cost-report function: the month's metrics, the report's topic, the month-to-date metrics.
  costSource: { CloudWatchCostSource: ['dailyTotals'] },
  costReportPublisher: { SnsCostReportPublisher: ['publish'] },
  monthToDateSink: { EmfMonthToDateSink: ['record'] },
} as const satisfies Record<keyof AirlockPorts, PortMethods>;

/** An AWS adapter a port was built on, and the methods of it that the port exposes. */
export interface WiredAdapter {
  readonly port: keyof AirlockPorts;
  readonly adapter: DeclaresIamPermissions;
  readonly methods: readonly string[];
}

/** What a port builder builds with: the function's config and environment, and the shared SDK clients. */
export interface AwsPortContext {
  readonly config: AirlockConfig;
  readonly env: AwsEnvironment;
  /** Reports a metric that could not be written. */
  readonly onMetricsError?: (error: unknown) => void;
  /** A required environment variable; a missing one is a deployment bug, reported by name at init. */
  required(name: FunctionEnvName): string;
  /** A JSON object environment variable; absent means empty. */
  jsonObject(name: FunctionEnvName): Record<string, unknown>;
  /** One SDK client per service for the whole function (the SDK keeps connections alive). */
  client<T>(service: string, create: () => T): T;
  /**
   * A view of `adapter` with exactly the methods {@link AWS_PORT_METHODS} lists for it under `port`
   * (bound to it) and the given read-only fields, recorded in {@link AwsPorts.wiredAdapters}.
   */
  expose<
    P extends keyof AirlockPorts,
    A extends keyof AwsAdapters & keyof (typeof AWS_PORT_METHODS)[P],
    F extends keyof AwsAdapters[A] = never,
  >(
    port: P,
    kind: A,
    adapter: AwsAdapters[A],
    fields?: readonly F[],
  ): Pick<AwsAdapters[A], Exposed<P, A> | F>;
  /** A connector kind's AWS adapter as the connectors see it: the methods the kind names, recorded. */
  exposeKindAdapter(adapter: unknown, methods: readonly string[]): unknown;
}

/** Builds one port from the function's environment (see the module comment). */
export type AwsPortBuilder<P extends keyof AirlockPorts> = (context: AwsPortContext) => AirlockPorts[P];

/** Builders of the ports a function's composition reads; the clock needs none. */
export type AwsPortBuilders = { readonly [P in Exclude<keyof AirlockPorts, 'clock'>]?: AwsPortBuilder<P> };

export interface AwsPortsOptions {
  readonly config: AirlockConfig;
  /** The builders of the ports this function's composition reads (`lambdas/<fn>/<fn>-aws-ports.ts`). */
  readonly builders: AwsPortBuilders;
  /** @default process.env */
  readonly env?: AwsEnvironment;
  /** Reports a metric that could not be written. */
  readonly onMetricsError?: (error: unknown) => void;
}

export class AwsPorts implements AirlockPorts, AwsPortContext {
  /** The ports read so far, in the order they were first read. */
  public readonly wired: WiredPort[] = [];
  /** The AWS adapters those ports were built on (a file store per connector once the registry asks). */
  public readonly wiredAdapters: WiredAdapter[] = [];
  public readonly env: AwsEnvironment;
  public readonly config: AirlockConfig;
  public readonly onMetricsError?: (error: unknown) => void;
  private readonly builders: AwsPortBuilders;
  private readonly memo = new Map<string, unknown>();

  constructor(options: AwsPortsOptions) {
    this.env = options.env ?? process.env;
    this.config = options.config;
    this.builders = options.builders;
    this.onMetricsError = options.onMetricsError;
  }

  get clock() {
    return systemClock;
  }

  get tokenSigner() {
    return this.port('tokenSigner');
  }

  /** The same key as {@link tokenSigner}: a function that verifies is granted kms:GetPublicKey only. */
  get tokenVerificationKey() {
    return this.port('tokenVerificationKey');
  }

  get killSwitchSource() {
    return this.port('killSwitchSource');
  }

  get revocations() {
    return this.port('revocations');
  }

  get auditStore() {
    return this.port('auditStore');
  }

  get auditChainHeads() {
    return this.port('auditChainHeads');
  }

  get approvalStore() {
    return this.port('approvalStore');
  }

  get counterStore() {
    return this.port('counterStore');
  }

  get approvalNotifier() {
    return this.port('approvalNotifier');
  }

  get metricsSink() {
    return this.port('metricsSink');
  }

  get connectorAdapters() {
    return this.port('connectorAdapters');
  }

  get digestStore() {
    return this.port('digestStore');
  }

  get digestSigner() {
    return this.port('digestSigner');
  }

  get oauthStore() {
    return this.port('oauthStore');
  }

  get identityProvider() {
    return this.port('identityProvider');
  }

  get fetchClientMetadata() {
    return this.port('fetchClientMetadata');
  }

  get runReadLog() {
    return this.port('runReadLog');
  }

  get llmUsageSource() {
    return this.port('llmUsageSource');
  }

  get sessionMacKey() {
    return this.port('sessionMacKey');
  }

  get costSource() {
    return this.port('costSource');
  }

  get costReportPublisher() {
    return this.port('costReportPublisher');
  }

  get monthToDateSink() {
    return this.port('monthToDateSink');
  }

  /**
   * Every IAM permission the ports read so far need: each wired adapter's declaration for the methods
   * its port exposes, in the account and region `scope` names.
   */
  iamPermissions(scope: AwsScope): IamPermission[] {
    return this.wiredAdapters.flatMap(({ adapter, methods }) => adapter.iamPermissions(methods, scope));
  }

  expose<
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

  exposeKindAdapter(adapter: unknown, methods: readonly string[]): unknown {
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

  client<T>(service: string, create: () => T): T {
    const key = `client:${service}`;
    if (!this.memo.has(key)) this.memo.set(key, create());
    return this.memo.get(key) as T;
  }

  required(name: FunctionEnvName): string {
    const value = this.env[name];
    if (!value)
      throw new Error(`environment variable ${name} is not set; the CDK construct sets it with its grant`);
    return value;
  }

  jsonObject(name: FunctionEnvName): Record<string, unknown> {
    const raw = this.env[name];
    if (!raw) return {};
    const parsed = JSON.parse(raw) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error(`environment variable ${name} must be a JSON object`);
    }
    return parsed as Record<string, unknown>;
  }

  /** Builds port `name` on first read with the builder the entry handed over. */
  private port<P extends Exclude<keyof AirlockPorts, 'clock'>>(name: P): AirlockPorts[P] {
    const key = `port:${name}`;
    if (!this.memo.has(key)) {
      const build = this.builders[name] as AwsPortBuilder<P> | undefined;
      if (!build) {
        throw new Error(
          `AwsPorts: this function's composition reads the ${name} port, but its Lambda entry hands over no builder for it (lambdas/<fn>/<fn>-aws-ports.ts)`,
        );
      }
      const adapter = build(this);
      this.memo.set(key, adapter);
      this.wired.push({ port: name, adapter });
    }
    return this.memo.get(key) as AirlockPorts[P];
  }
}

/** The methods port `P` exposes of its adapter `A`: the type of the view. */
type Exposed<
  P extends keyof AirlockPorts,
  A extends keyof AwsAdapters,
> = (typeof AWS_PORT_METHODS)[P] extends { readonly [K in A]: readonly (infer M)[] }
  ? M & keyof AwsAdapters[A]
  : never;
