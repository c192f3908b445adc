import { CfnOutput, Duration, Stack, type StackProps, Tags, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import { ConfigError } from '../config/load-config';
import { type AirlockConfig, certificateRegion, connectorsOfWorkflows } from '../config/schema';
import { AirlockFunction } from '../constructs/airlock-function';
import { AuditorRole } from '../constructs/auditor-role';
import { CertificateRegionRule, type RegionBoundCertificate } from '../constructs/certificate-region-rule';
import { KillSwitch } from '../constructs/kill-switch';
import { MutualTlsApi } from '../constructs/mutual-tls-api';
import { OAuthApi } from '../constructs/oauth-api';
import { OperatorRole } from '../constructs/operator-role';
import { SessionMacKey } from '../constructs/session-mac-key';
import { CLI_ENV, FUNCTION_ENV } from '../contracts/environment';
import { APPROVAL_REMINDER_MINUTES } from '../contracts/limits';
import { airlockStackNames } from '../contracts/stack-names';
import { bindInferenceProfileReader, type FoundationStack } from './foundation-stack';
import { consumeWeakReferences } from './weak-references';

export interface ApiStackProps extends StackProps {
  /** The validated pilot config. */
  readonly config: AirlockConfig;
  /** The stateful resources the functions use. */
  readonly foundation: FoundationStack;
}

/**
 * `Airlock-<stage>-Api`: the kill switch, the four functions with exactly the access they need,
 * the mutual-TLS API with its WAF, the anchor schedule, the operator and auditor roles, and, with
 * the `oauth` config section, the OAuth function behind its own certificate-less API.
 */
export class ApiStack extends Stack {
  public readonly killSwitch: KillSwitch;
  public readonly broker: AirlockFunction;
  public readonly connector: AirlockFunction;
  public readonly approvals: AirlockFunction;
  public readonly anchor: AirlockFunction;
  public readonly api: MutualTlsApi;
  public readonly operatorRole: OperatorRole;
  /** Read-only role for `airlock audit verify|export` and `airlock cost report`. */
  public readonly auditorRole: AuditorRole;
  /** The OAuth function, when the config has an `oauth` section. */
  public readonly oauth?: AirlockFunction;
  /** The certificate-less entry point for remote MCP connectors, when the config has an `oauth` section. */
  public readonly oauthApi?: OAuthApi;
  /** Runs the approvals function's reminders before expiry, unless `approvals.reminderHoursBeforeExpiry` is 0. */
  public readonly approvalReminders?: events.Rule;
  /** Seals the approvals page's session cookies, when the config has an `oauth` section. */
  public readonly sessionMacKey?: SessionMacKey;
  /** Runs the anchor every `audit.anchorEveryMinutes`. */
  public readonly anchorSchedule: events.Rule;
  /** Sends kill-switch changes to the alerts topic and the anchor. */
  public readonly killSwitchChanges: events.Rule;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config, foundation } = props;
    consumeWeakReferences(this);
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

    // Every function appends to the audit ledger. The approvals function reads the kill switch too:
    // nothing is decided for a sealed workflow.
    for (const fn of [this.broker, this.connector, this.approvals]) foundation.auditLedger.bindWriter(fn);
    for (const fn of [this.broker, this.connector, this.approvals, this.anchor])
      this.killSwitch.bindReader(fn);
    foundation.auditLedger.bindAnchor(this.anchor);

    foundation.keys.bindSigner(this.broker);
    foundation.keys.bindVerifier(this.connector);
    // All three read the revocation list on every request: the broker for blocked certificates, suspended
    // principals and the kill switch's copies before it issues; the connector for all of those and
    // revoked tokens before it serves; the approvals function for the kill switch's copies, so a
    // workflow sealed with the CLI has nothing decided from the next request on.
    foundation.revocationList.bindChecker(this.broker);
    foundation.revocationList.bindChecker(this.connector);
    foundation.revocationList.bindChecker(this.approvals);
    foundation.approvalStore.bindReadWrite(this.connector);
    foundation.sharedCounters.bindCounter(this.connector);
    // The spend cap adds the tokens Bedrock measured for each workflow's inference profile today.
    bindInferenceProfileReader(foundation, this.connector);
    foundation.approvalsTopic.bindPublisher(this.connector, FUNCTION_ENV.approvalsTopicArn);
    foundation.connectors.bindConnectors(this.connector);
    foundation.approvalStore.bindReadWrite(this.approvals);
    // The approvals function tells the requester what was decided, through the same topic.
    foundation.approvalsTopic.bindPublisher(this.approvals, FUNCTION_ENV.approvalsTopicArn);
    // The anchor signs digests with a key of their own: it cannot mint access tokens.
    foundation.keys.bindDigestSigner(this.anchor);

    const certificates: RegionBoundCertificate[] = [
      { field: 'domain.certificateArn', arn: config.domain.certificateArn },
      ...(config.domain.ownershipVerificationCertificateArn
        ? [
            {
              field: 'domain.ownershipVerificationCertificateArn',
              arn: config.domain.ownershipVerificationCertificateArn,
            },
          ]
        : []),
      ...(config.oauth?.certificateArn
        ? [{ field: 'oauth.certificateArn', arn: config.oauth.certificateArn }]
        : []),
    ];
    checkCertificateRegions(this.region, certificates);
    new CertificateRegionRule(this, 'CertificateRegion', { certificates });

    this.api = new MutualTlsApi(this, 'Api', {
      domainName: config.domain.name,
      certificateArn: config.domain.certificateArn,
      ownershipVerificationCertificateArn: config.domain.ownershipVerificationCertificateArn,
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
    if (config.approvals.reminderHoursBeforeExpiry > 0) {
      // Reminds approver groups of approvals about to expire, through the approvals topic.
      this.approvalReminders = new events.Rule(this, 'ApprovalReminders', {
        description: 'Reminds approver groups of pending approvals that are about to expire',
        schedule: events.Schedule.rate(Duration.minutes(APPROVAL_REMINDER_MINUTES)),
      });
      this.approvalReminders.addTarget(
        new targets.LambdaFunction(this.approvals.function, { retryAttempts: 2 }),
      );
    }
    this.killSwitchChanges = this.killSwitch.onChange('Changes', {
      alerts: foundation.alertsTopic,
      recorder: this.anchor,
    });

    if (config.oauth) {
      const oauthDomain = oauthDomainOf(config);
      const oauthState = foundation.oauthState;
      const identityProviderSecret = foundation.identityProviderSecret;
      if (!oauthState || !identityProviderSecret) {
        throw new Error('ApiStack: the Foundation stack was built without the oauth section of this config');
      }
      const oauth = new AirlockFunction(this, 'OAuth', {
        ...common,
        name: 'oauth',
        reservedConcurrency: config.oauth.reservedConcurrency,
        // The IdP's token endpoint and the upstream connectors may each take seconds; API Gateway gives up at 29 s.
        timeout: Duration.seconds(28),
      });
      // The authorization server: its table, the signing key (it issues tokens), the IdP client secret.
      oauthState.bindServer(oauth);
      foundation.keys.bindSigner(oauth);
      identityProviderSecret.bindReader(oauth);
      // What every entry point checks and records.
      this.killSwitch.bindReader(oauth);
      foundation.revocationList.bindChecker(oauth);
      foundation.auditLedger.bindWriter(oauth);
      // The MCP tools run through the same connector pipeline as the connector function's.
      foundation.approvalStore.bindReadWrite(oauth);
      foundation.sharedCounters.bindCounter(oauth);
      bindInferenceProfileReader(foundation, oauth);
      foundation.approvalsTopic.bindPublisher(oauth, FUNCTION_ENV.approvalsTopicArn);
      // The entry point without client certificates serves one workflow: it holds the grants of that
      // workflow's connectors only (an OAuth token names no other workflow).
      foundation.connectors.bindConnectors(oauth, connectorsOfWorkflows(config, [config.oauth.workflow]));
      this.oauth = oauth;
      // The approvals page on the same entry point, served by the approvals function: approvers sign in
      // at the same IdP (its client secret), their session sealed with a KMS HMAC key.
      identityProviderSecret.bindReader(this.approvals);
      this.sessionMacKey = new SessionMacKey(this, 'ApprovalsSessionKey', { stage: config.stage });
      this.sessionMacKey.bindSealer(this.approvals);
      this.oauthApi = new OAuthApi(this, 'OAuthApi', {
        domainName: oauthDomain.domainName,
        certificateArn: oauthDomain.certificateArn,
        hostedZone: oauthDomain.hostedZone,
        handler: oauth.function,
        approvalsHandler: this.approvals.function,
        encryptionKey: foundation.keys.dataKey,
        allowedSourceCidrs: config.oauth.allowedSourceCidrs,
        throttleRatePerSecond: config.api.throttleRatePerSecond,
        throttleBurst: config.api.throttleBurst,
        wafRateLimitPer5Minutes: config.api.wafRateLimitPer5Minutes,
        maxBodyBytes: config.api.maxBodyBytes,
        logRetentionDays: config.functions.logRetentionDays,
      });
    }

    this.operatorRole = new OperatorRole(this, 'OperatorRole', {
      killSwitch: this.killSwitch,
      // Every function that serves agents: the hard mode stops all of them.
      functions: [this.broker, this.connector, ...(this.oauth ? [this.oauth] : [])],
      trust: config.roles.operator,
    });
    // `airlock revoke` and `kill-switch`: the operator writes revocations, blocks, suspensions and the
    // kill switch's copies, reads the copies and lists the entries, records each change on an audit
    // chain of its own, and checks what it revokes against the ledger's credential records (a Scan).
    foundation.revocationList.grantRevoke(this.operatorRole.role);
    foundation.revocationList.grantCheck(this.operatorRole.role);
    foundation.revocationList.grantList(this.operatorRole.role);
    foundation.auditLedger.grantAppend(this.operatorRole.role);
    foundation.auditLedger.grantListChainHeads(this.operatorRole.role);
    this.auditorRole = new AuditorRole(this, 'AuditorRole', {
      auditLedger: foundation.auditLedger,
      keys: foundation.keys,
      trust: config.roles.auditor,
      doctor: {
        stackNames: airlockStackNames(config.stage),
        topics: [foundation.alertsTopic.topic, foundation.approvalsTopic.topic],
      },
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'The URL desktop agents use (mTLS)' });
    new CfnOutput(this, 'RegionalDomainName', {
      value: this.api.domain.domainNameAliasDomainName,
      description: 'Point your DNS name at this (CNAME or alias) when no hosted zone is configured',
    });
    new CfnOutput(this, 'OperatorRoleArn', {
      value: this.operatorRole.roleArn,
      description: 'Role IT assumes to flip the kill switch (config roles.operator says who may)',
    });
    new CfnOutput(this, 'AuditorRoleArn', {
      value: this.auditorRole.roleArn,
      description:
        'Role IT/security assumes for airlock audit verify|export and airlock cost report (config roles.auditor says who may)',
    });
    new CfnOutput(this, 'TokenSigningKeyId', {
      value: foundation.keys.signingKey.keyArn,
      description:
        'The key that signs access tokens; airlock doctor checks an issued token with its public key',
    });
    // What the operator CLI reads from its environment (docs/runbooks): export each as the variable named.
    const cliOutputs: [id: string, value: string, variable: string][] = [
      ['AuditTableName', foundation.auditLedger.table.tableName, FUNCTION_ENV.auditTable],
      ['DigestBucketName', foundation.auditLedger.digestBucket.bucketName, FUNCTION_ENV.digestBucket],
      // audit verify checks the digests with the digest key (the anchor's), not the token key.
      ['DigestSigningKeyId', foundation.keys.digestSigningKey.keyArn, FUNCTION_ENV.signingKeyId],
      ['RevocationsTableName', foundation.revocationList.table.tableName, FUNCTION_ENV.revocationsTable],
      ['BrokerFunctionName', this.broker.function.functionName, CLI_ENV.brokerFunction],
      ['ConnectorFunctionName', this.connector.function.functionName, CLI_ENV.connectorFunction],
    ];
    for (const [outputId, value, variable] of cliOutputs) {
      new CfnOutput(this, outputId, { value, description: `For the airlock CLI: export as ${variable}` });
    }
    if (this.oauth && this.oauthApi) {
      new CfnOutput(this, 'OAuthUrl', {
        value: this.oauthApi.url,
        description: 'The URL of the MCP resource is this plus /v1/mcp; add it as a custom connector (OAuth)',
      });
      new CfnOutput(this, 'OAuthRegionalDomainName', {
        value: this.oauthApi.domain.domainNameAliasDomainName,
        description: 'Point the OAuth entry point’s DNS name at this when no hosted zone is configured',
      });
      new CfnOutput(this, 'OAuthFunctionName', {
        value: this.oauth.function.functionName,
        description:
          'The OAuth function, whose concurrency the kill switch’s hard mode also sets to 0 (airlock kill-switch --oauth-function)',
      });
    }
  }
}

/**
 * Where the OAuth entry point is published: the host of `oauth.publicUrl`, its certificate and, when
 * the host lies in the configured hosted zone, that zone.
 * @throws ConfigError when the section cannot be deployed (names the field and what to put there)
 */
function oauthDomainOf(config: AirlockConfig): {
  domainName: string;
  certificateArn: string;
  hostedZone?: { id: string; name: string };
} {
  const oauth = config.oauth;
  if (!oauth) throw new Error('oauthDomainOf: the config has no oauth section');
  const url = new URL(oauth.publicUrl);
  if (url.protocol !== 'https:' || url.port !== '') {
    throw new ConfigError(
      `oauth.publicUrl: "${oauth.publicUrl}" is for the local pilot; in AWS it must be https on the default port, e.g. https://mcp.airlock.example.com`,
    );
  }
  const domainName = url.hostname;
  if (domainName === config.domain.name) {
    throw new ConfigError(
      `oauth.publicUrl: "${domainName}" is the mutual-TLS domain; the OAuth entry point needs a name of its own, e.g. mcp.${config.domain.name}`,
    );
  }
  if (!oauth.certificateArn) {
    throw new ConfigError(
      `oauth.certificateArn: required to deploy the OAuth entry point; give an ACM certificate for ${domainName} in the deployment region`,
    );
  }
  const zone = config.domain.hostedZone;
  const zoneName = zone?.name.replace(/\.$/, '');
  const inZone = zoneName !== undefined && (domainName === zoneName || domainName.endsWith(`.${zoneName}`));
  return { domainName, certificateArn: oauth.certificateArn, hostedZone: inZone ? zone : undefined };
}

/**
 * Refuses certificates outside the stack's region when the region is known at synth (a stack given
 * an explicit `env`); for environment-agnostic stacks the CertificateRegionRule checks at deploy time.
 * @throws ConfigError naming the field
 */
function checkCertificateRegions(stackRegion: string, certificates: readonly RegionBoundCertificate[]): void {
  if (Token.isUnresolved(stackRegion)) return;
  for (const { field, arn } of certificates) {
    const region = certificateRegion(arn);
    if (region !== stackRegion) {
      throw new ConfigError(
        `${field}: the certificate is in ${region} but the stack deploys to ${stackRegion}; API Gateway uses certificates of the stack's region only`,
      );
    }
  }
}
