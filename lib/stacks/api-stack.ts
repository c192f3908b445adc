import { CfnOutput, Duration, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import type { AirlockConfig } from '../config/schema';
import { AirlockFunction } from '../constructs/airlock-function';
import { KillSwitch } from '../constructs/kill-switch';
import { MutualTlsApi } from '../constructs/mutual-tls-api';
import { OperatorRole } from '../constructs/operator-role';
import type { FoundationStack } from './foundation-stack';

export interface ApiStackProps extends StackProps {
  /** The validated pilot config. */
  readonly config: AirlockConfig;
  /** The stateful resources the functions use. */
  readonly foundation: FoundationStack;
}

/**
 * `Airlock-<stage>-Api`: the kill switch, the four functions with exactly the access they need,
 * the mutual-TLS API with its WAF, the anchor schedule and the operator role.
 */
export class ApiStack extends Stack {
  public readonly killSwitch: KillSwitch;
  public readonly broker: AirlockFunction;
  public readonly connector: AirlockFunction;
  public readonly approvals: AirlockFunction;
  public readonly anchor: AirlockFunction;
  public readonly api: MutualTlsApi;
  public readonly operatorRole: OperatorRole;
  /** Runs the anchor every `audit.anchorEveryMinutes`. */
  public readonly anchorSchedule: events.Rule;
  /** Sends kill-switch changes to the alerts topic and the anchor. */
  public readonly killSwitchChanges: events.Rule;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config, foundation } = props;
    // Declared before any grant: KMS and Secrets Manager grants then go to the functions' roles here
    // instead of into Foundation's key policy (which would make Foundation depend on this stack).
    this.addStackDependency(foundation);
    Tags.of(this).add('airlock:stage', config.stage);
    const concurrency = config.functions.reservedConcurrency;
    const common = {
      config,
      encryptionKey: foundation.keys.dataKey,
      logRetentionDays: config.functions.logRetentionDays,
    };

    this.killSwitch = new KillSwitch(this, 'KillSwitch', {
      stage: config.stage,
      workflows: Object.keys(config.workflows),
    });

    this.broker = new AirlockFunction(this, 'Broker', {
      ...common,
      name: 'broker',
      reservedConcurrency: concurrency.broker,
    });
    this.connector = new AirlockFunction(this, 'Connector', {
      ...common,
      name: 'connector',
      reservedConcurrency: concurrency.connector,
      // Upstream calls may take up to connectors.*.timeoutMs; API Gateway gives up at 29 s.
      timeout: Duration.seconds(28),
    });
    this.approvals = new AirlockFunction(this, 'Approvals', {
      ...common,
      name: 'approvals',
      reservedConcurrency: concurrency.approvals,
    });
    this.anchor = new AirlockFunction(this, 'Anchor', {
      ...common,
      name: 'anchor',
      reservedConcurrency: concurrency.anchor,
      timeout: Duration.seconds(60),
      deadLetterQueue: true,
    });

    // Every function: its stage, the kill switch, and append-only access to the audit ledger.
    for (const fn of [this.broker, this.connector, this.approvals]) {
      this.killSwitch.bindReader(fn);
      foundation.auditLedger.bindWriter(fn);
    }
    this.killSwitch.bindReader(this.anchor);
    foundation.auditLedger.bindAnchor(this.anchor);

    foundation.keys.bindSigner(this.broker);
    foundation.keys.bindVerifier(this.connector);
    foundation.revocationList.bindChecker(this.connector);
    foundation.approvalStore.bindReadWrite(this.connector);
    foundation.approvalsTopic.bindPublisher(this.connector, 'AIRLOCK_APPROVALS_TOPIC_ARN');
    foundation.connectorData.bindConnector(this.connector);
    foundation.connectorSecrets.bindConnector(this.connector);
    foundation.approvalStore.bindReadWrite(this.approvals);
    foundation.keys.bindSigner(this.anchor);

    this.api = new MutualTlsApi(this, 'Api', {
      domainName: config.domain.name,
      certificateArn: config.domain.certificateArn,
      truststore: config.domain.truststore,
      hostedZone: config.domain.hostedZone,
      functions: {
        broker: this.broker.function,
        connector: this.connector.function,
        approvals: this.approvals.function,
      },
      encryptionKey: foundation.keys.dataKey,
      throttleRatePerSecond: config.api.throttleRatePerSecond,
      throttleBurst: config.api.throttleBurst,
      wafRateLimitPer5Minutes: config.api.wafRateLimitPer5Minutes,
      maxBodyBytes: config.api.maxBodyBytes,
      logRetentionDays: config.functions.logRetentionDays,
    });

    this.anchorSchedule = new events.Rule(this, 'AnchorSchedule', {
      description: 'Signs the audit chain heads and stores the digest under Object Lock',
      schedule: events.Schedule.rate(Duration.minutes(config.audit.anchorEveryMinutes)),
    });
    this.anchorSchedule.addTarget(
      new targets.LambdaFunction(this.anchor.function, {
        deadLetterQueue: this.anchor.deadLetterQueue,
        retryAttempts: 2,
      }),
    );
    this.killSwitchChanges = this.killSwitch.onChange('Changes', {
      alerts: foundation.alertsTopic,
      recorder: this.anchor,
    });

    this.operatorRole = new OperatorRole(this, 'OperatorRole', {
      killSwitch: this.killSwitch,
      functions: [this.broker, this.connector],
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'The URL desktop agents use (mTLS)' });
    new CfnOutput(this, 'RegionalDomainName', {
      value: this.api.domain.domainNameAliasDomainName,
      description: 'Point your DNS name at this (CNAME or alias) when no hosted zone is configured',
    });
    new CfnOutput(this, 'OperatorRoleArn', {
      value: this.operatorRole.roleArn,
      description: 'Role IT assumes (with MFA) to flip the kill switch',
    });
  }
}
