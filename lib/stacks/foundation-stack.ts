import { CfnOutput, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { ConfigError } from '../config/load-config';
import type { AirlockConfig } from '../config/schema';
import { AccessLogsBucket } from '../constructs/access-logs-bucket';
import type { AirlockFunction } from '../constructs/airlock-function';
import { AirlockKeys } from '../constructs/airlock-keys';
import { ApiGatewayAccountRole } from '../constructs/api-gateway-account-role';
import { ApprovalStore } from '../constructs/approval-store';
import { ApprovalsChatChannel } from '../constructs/approvals-chat-channel';
import { AuditLedger } from '../constructs/audit-ledger';
import { ConnectorResourceSet, connectorSecretNames } from '../constructs/connector-resources';
import { IdentityProviderSecret } from '../constructs/identity-provider-secret';
import { NotificationTopic, type TopicSubscriber } from '../constructs/notification-topic';
import { OAuthState } from '../constructs/oauth-state';
import { RevocationList } from '../constructs/revocation-list';
import { SharedCounters } from '../constructs/shared-counters';
import { WorkflowInferenceProfile } from '../constructs/workflow-inference-profile';
import { CLI_ENV, FUNCTION_ENV } from '../contracts/environment';
import { NOTICE_ATTRIBUTES, NOTICE_KINDS } from '../contracts/notices';
import { connectorNag } from '../nag/acknowledgements';

export interface FoundationStackProps extends StackProps {
  /** The validated pilot config. */
  readonly config: AirlockConfig;
}

/**
 * `Airlock-<stage>-Foundation`: what holds state and outlives deployments of the API: keys,
 * upstream secrets, the audit ledger, approvals, revocations, shared counters, connector data and topics
 * (approvals, alerts, cost reports); with the
 * `oauth` config section also the OAuth table and the corporate IdP's client secret.
 */
export class FoundationStack extends Stack {
  public readonly keys: AirlockKeys;
  public readonly accessLogs: AccessLogsBucket;
  public readonly auditLedger: AuditLedger;
  public readonly approvalStore: ApprovalStore;
  public readonly revocationList: RevocationList;
  /** Every connector's resources, created by its kind (buckets, secrets, ...). */
  public readonly connectors: ConnectorResourceSet;
  /** Counters every execution environment shares (daily spend cap, usage shares, daily amounts). */
  public readonly sharedCounters: SharedCounters;
  /** Approver notifications about calls waiting for a decision. */
  public readonly approvalsTopic: NotificationTopic;
  /** Pending notices for the approvers' chat channel (config `approvals.chat`). */
  public readonly approvalsChatTopic?: NotificationTopic;
  /** The approvers' chat channel (config `approvals.chat`). */
  public readonly approvalsChatChannel?: ApprovalsChatChannel;
  /**
   * Operator alerts (kill switch changes, anchor failures, alarms, budgets), to `alerts.email` and
   * `alerts.subscriptions`.
   */
  public readonly alertsTopic: NotificationTopic;
  /** Last month's cost report, on the 1st, to `cost.reportRecipients` (finance). */
  public readonly costReportsTopic: NotificationTopic;
  /** The OAuth entry point's table, when the config has an `oauth` section. */
  public readonly oauthState?: OAuthState;
  /** The corporate IdP's client secret, when the config has an `oauth` section. */
  public readonly identityProviderSecret?: IdentityProviderSecret;
  /** API Gateway's account-wide CloudWatch Logs role, when `api.createCloudWatchRole` is set. */
  public readonly apiGatewayAccountRole?: ApiGatewayAccountRole;
  /** Workflow → its Bedrock application inference profile (workflows with an `llm`). */
  public readonly inferenceProfiles: ReadonlyMap<string, WorkflowInferenceProfile>;

  constructor(scope: Construct, id: string, props: FoundationStackProps) {
    super(scope, id, props);
    const { config } = props;
    Tags.of(this).add('airlock:stage', config.stage);

    this.keys = new AirlockKeys(this, 'Keys', { stage: config.stage });
    this.accessLogs = new AccessLogsBucket(this, 'AccessLogs');
    this.auditLedger = new AuditLedger(this, 'AuditLedger', {
      keys: this.keys,
      objectLockRetentionDays: config.audit.objectLockRetentionDays,
      accessLogsBucket: this.accessLogs.bucket,
    });
    this.approvalStore = new ApprovalStore(this, 'Approvals', { keys: this.keys });
    this.revocationList = new RevocationList(this, 'Revocations', { keys: this.keys });
    this.sharedCounters = new SharedCounters(this, 'Counters', { keys: this.keys });
    const secretNames = connectorSecretNames(config.connectors);
    this.connectors = new ConnectorResourceSet(this, {
      connectors: config.connectors,
      keys: this.keys,
      accessLogsBucket: this.accessLogs.bucket,
      nag: connectorNag,
    });
    this.approvalsTopic = new NotificationTopic(this, 'ApprovalsTopic', {
      displayName: `Airlock ${config.stage}: approvals waiting`,
      encryptionKey: this.keys.dataKey,
      subscriptions: approvalsTopicSubscribers(config),
    });
    const chat = config.approvals.chat;
    if (chat) {
      // Pending notices and reminders for the approvers' channel, never decisions: a topic of its own,
      // since the chat integration's subscription cannot carry a filter policy.
      this.approvalsChatTopic = new NotificationTopic(this, 'ApprovalsChatTopic', {
        displayName: `Airlock ${config.stage}: approvals waiting (chat)`,
        encryptionKey: this.keys.dataKey,
      });
      this.approvalsChatChannel = new ApprovalsChatChannel(this, 'ApprovalsChatChannel', {
        topic: this.approvalsChatTopic.topic,
        configurationName: `airlock-${config.stage}-approvals`,
        slack: chat.slack,
        teams: chat.teams,
      });
    }
    this.alertsTopic = new NotificationTopic(this, 'AlertsTopic', {
      displayName: `Airlock ${config.stage}: alerts`,
      encryptionKey: this.keys.dataKey,
      email: config.alerts.email,
      subscriptions: config.alerts.subscriptions,
    });
    this.costReportsTopic = new NotificationTopic(this, 'CostReportsTopic', {
      displayName: `Airlock ${config.stage}: cost reports`,
      encryptionKey: this.keys.dataKey,
      subscriptions: config.cost.reportRecipients.map((email) => ({ email })),
    });
    // The Monitoring stack's alarms and per-workflow budgets notify the alerts topic.
    this.alertsTopic.allowCloudWatchAlarms();
    this.alertsTopic.allowBudgets();

    // In Foundation, which the Api stack depends on: its stages cannot be created before the role is set.
    if (config.api.createCloudWatchRole) {
      this.apiGatewayAccountRole = new ApiGatewayAccountRole(this, 'ApiGatewayAccountRole');
    }

    if (config.oauth) {
      const secretName = config.oauth.identityProvider.clientSecretName;
      const taken = secretNames.get(secretName);
      if (taken) {
        throw new ConfigError(
          `oauth.identityProvider.clientSecretName: "${secretName}" is the secret of connector ${taken}; give the IdP client secret a name of its own`,
        );
      }
      this.oauthState = new OAuthState(this, 'OAuthState', { keys: this.keys });
      this.identityProviderSecret = new IdentityProviderSecret(this, 'IdentityProviderSecret', {
        secretName: config.oauth.identityProvider.clientSecretName,
        issuer: config.oauth.identityProvider.issuer,
        encryptionKey: this.keys.dataKey,
      });
    }

    const profiles = new Map<string, WorkflowInferenceProfile>();
    for (const [workflow, w] of Object.entries(config.workflows)) {
      if (!w.llm) continue;
      const profile = new WorkflowInferenceProfile(this, `InferenceProfile-${workflow}`, {
        stage: config.stage,
        workflow,
        bedrockModelId: w.llm.bedrockModelId,
      });
      profiles.set(workflow, profile);
      new CfnOutput(this, `InferenceProfileArn${pascalCase(workflow)}`, {
        value: profile.profileArn,
        description: `The ${workflow} workflow's model: clients call Bedrock with this ARN, so its tokens are measured per workflow`,
      });
    }
    this.inferenceProfiles = profiles;
    if (profiles.size > 0) {
      new CfnOutput(this, 'InferenceProfileArns', {
        value: this.toJsonString(Object.fromEntries([...profiles].map(([w, p]) => [w, p.profileArn]))),
        description: `For the airlock CLI: export as ${CLI_ENV.inferenceProfiles} (cost report reads the measured LLM usage of these profiles)`,
      });
    }
  }
}

/**
 * Binds a function whose spend cap counts the measured LLM usage: `AIRLOCK_INFERENCE_PROFILES` (the
 * profiles' ARNs by workflow) with `cloudwatch:GetMetricData`, nothing when no workflow has an `llm`.
 */
export function bindInferenceProfileReader(foundation: FoundationStack, fn: AirlockFunction): void {
  if (foundation.inferenceProfiles.size === 0) return;
  fn.addEnvironment(
    FUNCTION_ENV.inferenceProfiles,
    Stack.of(fn).toJsonString(
      Object.fromEntries([...foundation.inferenceProfiles].map(([w, p]) => [w, p.profileArn])),
    ),
  );
  fn.function.addToRolePolicy(
    new iam.PolicyStatement({
      // GetMetricData has no resource-level permissions and no narrowing condition key: AWS accepts only
      // "*" (test/infra/wildcard-allowlist.json). It reads the profiles' token counts for the spend cap.
      actions: ['cloudwatch:GetMetricData'],
      resources: ['*'],
    }),
  );
}

/** `expense-summary` → `ExpenseSummary` (an output id). */
function pascalCase(name: string): string {
  return name.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
}

/**
 * The approvals topic's subscribers: the approvers' addresses receive what waits for them (pending
 * notices and reminders), each requester with an e-mail the decisions on their own requests only.
 */
export function approvalsTopicSubscribers(config: AirlockConfig): TopicSubscriber[] {
  const approvers = config.approvals.subscriptions.map((s) => ({
    ...s,
    filter: { [NOTICE_ATTRIBUTES.kind]: [NOTICE_KINDS.pending] },
  }));
  const requesters = config.approvals.notifyRequesters
    ? Object.entries(config.principals).flatMap(([principal, p]) =>
        p.email
          ? [
              {
                email: p.email,
                filter: {
                  [NOTICE_ATTRIBUTES.kind]: [NOTICE_KINDS.decision],
                  [NOTICE_ATTRIBUTES.requester]: [principal],
                },
              },
            ]
          : [],
      )
    : [];
  return [...approvers, ...requesters];
}
