import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbApprovalStore } from '../lambdas/adapters/aws/dynamodb-approval-store';
import { DynamoDbAuditStore } from '../lambdas/adapters/aws/dynamodb-audit-store';
import { DynamoDbCounterStore } from '../lambdas/adapters/aws/dynamodb-counter-store';
import { DynamoDbOAuthStore } from '../lambdas/adapters/aws/dynamodb-oauth-store';
import { DynamoDbRevocationStore } from '../lambdas/adapters/aws/dynamodb-revocation-store';
import { DynamoDbRunReadLog } from '../lambdas/adapters/aws/dynamodb-run-read-log';
import type { EmfMetricsSink } from '../lambdas/adapters/aws/emf-metrics-sink';
import { ConsoleApprovalNotifier } from '../lambdas/adapters/local/console-approval-notifier';
import { FileSecretSource } from '../lambdas/adapters/local/file-secret-source';
import { FolderDigestStore } from '../lambdas/adapters/local/folder-digest-store';
/**
 * Airlock's ports for the local pilot: a P-256 key under AIRLOCK_HOME instead of KMS, kill-switch
 * parameters as files, the DynamoDB tables in dynalite (the same DynamoDB adapters as in AWS), folders
 * instead of S3, secret files instead of Secrets Manager, the console instead of SNS, and the metrics
 * log instead of CloudWatch. The composition in lambdas/composition builds the same graph over them as
 * over the AWS ports.
 */
import {
  localInferenceProfiles,
  PROVIDER_METRICS_LOG_FILE,
  ProviderMetricsLogUsageSource,
} from '../lambdas/adapters/local/provider-metrics-usage-source';
import type { AirlockPorts } from '../lambdas/composition/airlock-ports';
import type { ApprovalStore } from '../lambdas/core/approval-desk';
import type { AuditStore } from '../lambdas/core/audit-ledger';
import type { CounterStore } from '../lambdas/core/counter-store';
import type {
  ClientMetadataFetcher,
  CorporateIdentityProvider,
} from '../lambdas/core/oauth/authorization-server';
import type {
  Clock,
  KillSwitchParameterSource,
  MacKey,
  RevocationStore,
  SecretSource,
  TokenSigner,
} from '../lambdas/core/ports';
import { createClientMetadataFetcher } from '../lambdas/oauth/client-metadata-fetcher';
import { createOidcIdentityProvider } from '../lambdas/oauth/oidc-identity-provider';
import type { AirlockConfig } from '../lib/config/schema';
import { LOCAL_TABLES } from './local-state';

/** The local pilot's dependencies that can fail: what fault injection wraps (`wrapPorts`). */
export interface LocalPilotPorts {
  readonly signer: TokenSigner;
  readonly killSwitchSource: KillSwitchParameterSource;
  readonly revocations: RevocationStore;
  readonly auditStore: AuditStore;
  readonly approvalStore: ApprovalStore;
  readonly secretSource: SecretSource;
  readonly counterStore: CounterStore;
}

export interface LocalPortsOptions {
  readonly home: string;
  readonly config: AirlockConfig;
  readonly doc: DynamoDBDocumentClient;
  readonly signer: TokenSigner;
  readonly killSwitchSource: KillSwitchParameterSource;
  readonly metrics: EmfMetricsSink;
  /** The local CA (PEM) HTTP connectors trust: the sample ERP's certificate is issued by it. */
  readonly ca: string;
  readonly clock: Clock;
  /** Where approval notices are written. */
  readonly notice: (text: string) => void;
  /**
   * Where the approvers' chat notices go when the config has `approvals.chat` (the JSON the chat
   * integration would post). @default - dropped
   */
  readonly chatNotice?: (json: string) => void;
  /** Replaces or decorates the failing dependencies (fault-injection tests). */
  readonly wrapPorts?: (ports: LocalPilotPorts) => LocalPilotPorts;
  /** @default the OIDC relying party for `oauth.identityProvider` */
  readonly identityProvider?: CorporateIdentityProvider;
  /** Seals the approvals page's cookies. */
  readonly sessionMacKey: MacKey;
  /** @default https fetch of the document */
  readonly fetchClientMetadata?: ClientMetadataFetcher;
  /** Collects the starts of the connectors' stand-ins (LocalConnectorContext.startWithPilot). @default - started on first use */
  readonly startWithPilot?: (started: Promise<void>) => void;
}

/** The local pilot's ports. */
export function createLocalPorts(options: LocalPortsOptions): AirlockPorts {
  const { home, config, doc, clock } = options;
  const built: LocalPilotPorts = {
    signer: options.signer,
    killSwitchSource: options.killSwitchSource,
    revocations: new DynamoDbRevocationStore({ client: doc, tableName: LOCAL_TABLES.revocations, clock }),
    auditStore: new DynamoDbAuditStore({ client: doc, tableName: LOCAL_TABLES.audit }),
    approvalStore: new DynamoDbApprovalStore({ client: doc, tableName: LOCAL_TABLES.approvals }),
    secretSource: new FileSecretSource(home),
    counterStore: new DynamoDbCounterStore({ client: doc, tableName: LOCAL_TABLES.counters }),
  };
  const failing = options.wrapPorts ? options.wrapPorts(built) : built;
  let identityProvider = options.identityProvider;
  let fetchClientMetadata = options.fetchClientMetadata;
  return {
    clock,
    tokenSigner: failing.signer,
    tokenVerificationKey: failing.signer,
    digestSigner: failing.signer,
    killSwitchSource: failing.killSwitchSource,
    revocations: failing.revocations,
    auditStore: failing.auditStore,
    auditChainHeads: failing.auditStore,
    approvalStore: failing.approvalStore,
    runReadLog: new DynamoDbRunReadLog({ client: doc, tableName: LOCAL_TABLES.approvals }),
    counterStore: failing.counterStore,
    approvalNotifier: new ConsoleApprovalNotifier({
      write: options.notice,
      ...(config.approvals.chat && options.chatNotice
        ? { chat: (notice) => options.chatNotice?.(JSON.stringify(notice)) }
        : {}),
      // The local pilot's notice names the page on its certificate-less listener and `--local --principal`.
      target: (approval) => ({
        ...(config.oauth ? { pageUrl: config.oauth.publicUrl } : {}),
        cli: { kind: 'local' },
        approvers: Object.entries(config.principals)
          .filter(([, p]) => p.groups.includes(approval.approverGroup))
          .map(([name]) => name),
      }),
    }),
    metricsSink: options.metrics,
    llmUsageSource: new ProviderMetricsLogUsageSource(
      join(home, PROVIDER_METRICS_LOG_FILE),
      localInferenceProfiles(config),
    ),
    connectorAdapters: {
      adaptersFor: (kind, name, connectorConfig) =>
        kind.local.adapters({
          name,
          config: connectorConfig,
          home,
          ...(options.startWithPilot ? { startWithPilot: options.startWithPilot } : {}),
        }),
      secretSource: failing.secretSource,
      ca: options.ca,
      clock,
    },
    digestStore: new FolderDigestStore(home),
    oauthStore: new DynamoDbOAuthStore({ client: doc, tableName: LOCAL_TABLES.oauth, clock }),
    get identityProvider() {
      const oauth = config.oauth;
      if (!oauth)
        throw new Error('the config has no oauth section; there is no identity provider to sign in with');
      identityProvider ??= createOidcIdentityProvider({
        config: oauth.identityProvider,
        secrets: failing.secretSource,
      });
      return identityProvider;
    },
    sessionMacKey: options.sessionMacKey,
    get fetchClientMetadata() {
      fetchClientMetadata ??= createClientMetadataFetcher();
      return fetchClientMetadata;
    },
  };
}
