/**
 * What a deployment target supplies to the composition: the adapters behind core's ports
 * ({@link AirlockPorts}) and the facts of the place it runs in ({@link AirlockSettings}).
 *
 * Lambda supplies AWS SDK adapters (built lazily: a function builds only the ports its composition
 * reads), the local pilot supplies local adapters over `.airlock/`, tests supply fakes. Nothing else
 * differs between them: the composition in this folder builds the same object graph from both.
 */

import type { AirlockConfig } from '../../lib/config/schema';
import type { ConnectorDependencies } from '../connectors/connector-registry';
import type { ApprovalNotifier, ApprovalStore } from '../core/approval-desk';
import type { DigestStore } from '../core/audit-anchor';
import type { AuditLogStore, AuditStore } from '../core/audit-ledger';
import type { CompiledPolicies } from '../core/compiled-policies';
import type { CostSource, LlmUsageSource } from '../core/cost-report';
import type { CounterStore } from '../core/counter-store';
import type { DependencyName } from '../core/dependency-deadline';
import type { CostReportPublisher, MonthToDateSink } from '../core/monthly-cost-report';
import type { ClientMetadataFetcher, CorporateIdentityProvider } from '../core/oauth/authorization-server';
import type { OAuthStore } from '../core/oauth/oauth-store';
import type { PolicySources } from '../core/policy-validation';
import type { Clock, KillSwitchParameterSource, MacKey, RevocationStore, TokenSigner } from '../core/ports';
import type { RunReadLog } from '../core/run-read-log';
import type { MetricsSink } from '../core/usage-meter';

/**
 * The adapters behind core's ports, by capability: each port is typed with the methods the functions
 * call on it and no more (the functions check revocations but never revoke; they append to the audit
 * ledger, and only the anchor lists its chain heads). A composition reads each port it needs once,
 * while it builds: what a function's composition reads, and the methods those ports expose, are
 * exactly what that function needs (and what the permission proof checks its role allows).
 */
export interface AirlockPorts {
  readonly clock: Clock;
  /** Signs access tokens (broker, OAuth server) and gives the public key that verifies them. */
  readonly tokenSigner: TokenSigner;
  /** The token key's public half only: what a function that verifies but never issues is given. */
  readonly tokenVerificationKey: Pick<TokenSigner, 'keyId' | 'getPublicKey'>;
  readonly killSwitchSource: KillSwitchParameterSource;
  /** The revocation list as requests read it (revoking, blocking and lifting are the operator CLI's). */
  readonly revocations: Pick<RevocationStore, 'readEntries'>;
  /** Where this process appends its audit records (every function). */
  readonly auditStore: AuditLogStore;
  /** The last record of every audit chain (the anchor, which signs them). */
  readonly auditChainHeads: Pick<AuditStore, 'listChainHeads'>;
  readonly approvalStore: ApprovalStore;
  readonly approvalNotifier: ApprovalNotifier;
  /**
   * The documents each principal read recently, shown to the approver of the principal's held write.
   * @default - approvals show no documents
   */
  readonly runReadLog?: RunReadLog;
  /**
   * Counters every execution environment shares: the daily spend cap, each principal's share of it
   * and each principal's daily amounts (DynamoDB in AWS, the same table in dynalite locally).
   */
  readonly counterStore: CounterStore;
  /** Where usage points go (CloudWatch EMF in AWS, the metrics log locally). */
  readonly metricsSink: MetricsSink;
  /**
   * The LLM usage the provider measured per workflow (Bedrock's metrics in AWS, the local stand-in's
   * log locally), which the daily spend cap counts. @default - only metered and reported spend counts
   */
  readonly llmUsageSource?: LlmUsageSource;
  /**
   * Airlock's own usage metrics read back per workflow and day (CloudWatch in AWS): what the cost-report
   * function builds the monthly report and the month to date from. @default - none (only it reads them)
   */
  readonly costSource?: CostSource;
  /** Where the monthly cost report goes (an SNS topic finance subscribes to). @default - none */
  readonly costReportPublisher?: CostReportPublisher;
  /** Where each workflow's month to date is written as metrics (EMF in AWS). @default - none */
  readonly monthToDateSink?: MonthToDateSink;
  /** What the connector kinds need to reach their upstreams. */
  readonly connectorAdapters: ConnectorDependencies;
  /** Where signed audit digests are stored (S3 Object Lock in AWS, a folder locally). */
  readonly digestStore: DigestStore;
  /** Signs audit digests. */
  readonly digestSigner: TokenSigner;
  /** State of the OAuth authorization server. */
  readonly oauthStore: OAuthStore;
  /** The corporate IdP the OAuth entry point signs users in with. */
  readonly identityProvider: CorporateIdentityProvider;
  /** Fetches OAuth Client ID Metadata Documents. */
  readonly fetchClientMetadata: ClientMetadataFetcher;
  /** Seals the approvals page's cookies (KMS HMAC in AWS, a key file locally). */
  readonly sessionMacKey: MacKey;
}

/** How the composition reports what it cannot return to a caller. */
export interface CompositionLog {
  /** Something degraded but the request went on (a metric or a notice not delivered). */
  warn(message: string, error?: unknown): void;
  /** A bug: an error no contract covers (the caller got a generic refusal). */
  unexpected(message: string, error: unknown): void;
}

/** The facts of the place Airlock runs in. */
export interface AirlockSettings {
  /** The validated pilot config, as this target runs it. */
  readonly config: AirlockConfig;
  /**
   * The Cedar schema and policies: as written (validated when the engine is built), or compiled when
   * the Lambda function was bundled (validated then). Read only by the functions that decide.
   */
  readonly policies: PolicySources | CompiledPolicies;
  /** `iss` and `aud` of the device channel's access tokens. */
  readonly tokens: { readonly issuer: string; readonly audience: string };
  /** The audit chains this process appends to: one per Lambda execution environment, a few locally. */
  readonly auditChainIds: readonly string[];
  /** Memory of the function that serves the requests, for the Lambda part of the cost estimate. */
  readonly functionMemoryMb: number;
  /** SSM path of the global kill-switch parameter (its DynamoDB copy is keyed by the same name). */
  readonly killSwitchPrefix: string;
  /**
   * Host names the MCP endpoints answer to (DNS rebinding: another `Host` or `Origin` is refused).
   * @default - the entry point's own name: `domain.name`, or the host of `oauth.publicUrl`
   */
  readonly publicHosts?: readonly string[];
  /** Time budget per dependency call, in ms. @default DEFAULT_DEADLINES */
  readonly deadlines?: Partial<Record<DependencyName, number>>;
  readonly log: CompositionLog;
}
