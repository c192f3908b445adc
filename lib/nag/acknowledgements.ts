/**
 * Every cdk-nag finding Airlock accepts, in one place, one finding at a time, each with the reason
 * a reviewer accepted. Anything not listed here fails `cdk synth` (and test/infra/nag.test.ts).
 *
 * cdk-nag 3 reads CDK's native acknowledgements (`Validations.of(construct).acknowledge`); an
 * acknowledgement covers the construct it is recorded on and its children, so each one below is
 * recorded on the narrowest construct that carries the finding.
 */
import { ArnFormat, Aws, Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
// Not re-exported by the package index; it is how cdk-nag names a wildcard resource in a finding id.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';
import type { NagAcknowledger } from '../../lambdas/connectors/connector-infrastructure';
import type { AirlockFunction } from '../constructs/airlock-function';
import { DIGEST_PREFIX } from '../contracts/storage';
import type { AirlockStacks } from '../stacks/airlock-stacks';

/** One reviewed finding. */
export interface NagAcknowledgement {
  /** cdk-nag rule id, with the finding in brackets for rules that report several per resource. */
  readonly id: string;
  /** Why the finding is accepted. */
  readonly reason: string;
}

function acknowledge(scope: IConstruct, ...acknowledgements: NagAcknowledgement[]): void {
  Validations.of(scope).acknowledge(...acknowledgements);
}

/**
 * Acknowledges `AwsSolutions-IAM5[Resource::<arn>]` for a resource ARN that ends in a key-prefix
 * wildcard. The finding id contains the ARN as CloudFormation will see it, which for a cross-stack
 * ARN is an import of a generated export name known only once references are resolved; so the
 * id is computed in a validation hook, which CDK runs after resolving references and before
 * the nag packs run.
 */
function acknowledgeWildcardResource(policy: IConstruct, resourceArn: string, reason: string): void {
  policy.node.addValidation({
    validate: () => {
      const flat = flattenCfnReference(Stack.of(policy).resolve(resourceArn));
      acknowledge(policy, { id: `AwsSolutions-IAM5[Resource::${flat}]`, reason });
      return [];
    },
  });
}

/** How the connector kinds record the findings they accept (lambdas/connectors/connector-infrastructure.ts). */
export const connectorNag: NagAcknowledger = {
  acknowledge: (construct, ...findings) => acknowledge(construct, ...findings),
  acknowledgeWildcardResource: (grantee, resourceArn, reason) =>
    acknowledgeWildcardResource(defaultPolicyOf(grantee.grantPrincipal as iam.IRole), resourceArn, reason),
};

function defaultPolicyOf(role: iam.IRole): IConstruct {
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (!policy) throw new Error(`role ${role.node.path} has no DefaultPolicy to acknowledge findings on`);
  return policy;
}

const XRAY_RESOURCE_STAR: NagAcknowledgement = {
  id: 'AwsSolutions-IAM5[Resource::*]',
  reason:
    'Only xray:PutTraceSegments and xray:PutTelemetryRecords, and on the connector and OAuth functions cloudwatch:GetMetricData (the daily spend cap reads the token counts Bedrock measured for the workflows\' inference profiles), use Resource "*": neither X-Ray nor GetMetricData has resource-level permissions or a narrowing condition key. test/infra/wildcards.test.ts fails if any other action gets "*".',
};

const INLINE_POLICY: NagAcknowledgement = {
  id: 'NIST.800.53.R5-IAMNoInlinePolicy',
  reason:
    'Each role has exactly one policy, generated from grants for that role alone and reviewed in docs/permissions.md; a managed policy would invite reuse by other principals.',
};

const NO_VPC: NagAcknowledgement = {
  id: 'NIST.800.53.R5-LambdaInsideVPC',
  reason:
    'The functions reach only AWS service endpoints and allow-listed upstream HTTPS hosts; no private network resources. A VPC would add NAT and endpoints without narrowing what they can reach beyond IAM and the connector allowedHosts.',
};

const SYNCHRONOUS_NO_DLQ: NagAcknowledgement[] = [
  {
    id: 'Serverless-LambdaDLQ',
    reason:
      'Invoked synchronously by API Gateway only: a failure goes back to the caller as an error-contract response and into the audit ledger; a DLQ applies only to asynchronous invocations.',
  },
  {
    id: 'NIST.800.53.R5-LambdaDLQ',
    reason:
      'Invoked synchronously by API Gateway only: a failure goes back to the caller as an error-contract response and into the audit ledger; a DLQ applies only to asynchronous invocations.',
  },
];

/** The approvals function: API Gateway calls it synchronously, and its reminder schedule asynchronously. */
const REMINDERS_NO_DLQ =
  'API Gateway invokes the approvals function synchronously (a failure goes back to the approver and into the audit ledger); the only asynchronous invocation is the 15-minute reminder run, which EventBridge retries twice and the next run repeats: each approval is reminded once (remindedAt), so a lost run only delays a reminder and a dead-letter queue would hold nothing to replay.';

const NO_RESERVED_CONCURRENCY: NagAcknowledgement = {
  id: 'NIST.800.53.R5-LambdaConcurrency',
  reason:
    'No reserved concurrency unless functions.reservedConcurrency sets one: a new account’s Lambda concurrency quota can be 10 and Lambda keeps 100 unreserved, so a default reservation would fail the first deploy. The API stage throttles every route and the WAF rate-limits each source; the kill switch’s hard mode sets reserved concurrency 0 either way.',
};

/** Why the network-interface policy of a function in a VPC (ConnectorNetwork) holds what it holds. */
const NETWORK_INTERFACE_REASONS = {
  networkInterfaces:
    'The Lambda service creates, deletes and re-addresses the function’s VPC network interfaces with its execution role (AWSLambdaVPCAccessExecutionRole’s actions); their ids are made by Lambda, so the policy names any network interface of this account and region, and ec2:CreateNetworkInterface is further bound to the configured subnets and security groups.',
  describe:
    'ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets, which Lambda needs to attach the function to the VPC, support only Resource "*" (EC2 Describe actions have no resource-level permissions); they read, they change nothing. test/infra/wildcards.test.ts lists them.',
  inline:
    'A policy of its own, for this function alone, so the function can depend on it (Lambda checks the role when it creates a function in a VPC); a managed policy would invite reuse by other principals.',
};

function acknowledgeFunction(
  fn: AirlockFunction,
  synchronous: boolean,
  resourceStar: NagAcknowledgement = XRAY_RESOURCE_STAR,
): void {
  const networkPolicy = fn.networkPolicy;
  if (networkPolicy) {
    acknowledgeWildcardResource(
      networkPolicy,
      `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:network-interface/*`,
      NETWORK_INTERFACE_REASONS.networkInterfaces,
    );
    acknowledge(
      networkPolicy,
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: NETWORK_INTERFACE_REASONS.describe },
      { id: INLINE_POLICY.id, reason: NETWORK_INTERFACE_REASONS.inline },
    );
  } else {
    acknowledge(fn.function, NO_VPC);
  }
  if (!hasReservedConcurrency(fn)) acknowledge(fn.function, NO_RESERVED_CONCURRENCY);
  if (synchronous) acknowledge(fn.function, ...SYNCHRONOUS_NO_DLQ);
  acknowledge(defaultPolicyOf(fn.role), resourceStar, INLINE_POLICY);
}

function hasReservedConcurrency(fn: AirlockFunction): boolean {
  const resource = fn.function.node.defaultChild as { reservedConcurrentExecutions?: number } | undefined;
  return resource?.reservedConcurrentExecutions !== undefined;
}

/** Records every reviewed cdk-nag acknowledgement on Airlock's stacks. */
export function acknowledgeNagFindings({ foundation, api, monitoring }: AirlockStacks): void {
  // Foundation
  const buckets = [foundation.accessLogs.bucket, foundation.auditLedger.digestBucket];
  for (const bucket of buckets) {
    acknowledge(bucket, {
      id: 'NIST.800.53.R5-S3BucketReplicationEnabled',
      reason:
        'A single-region pilot: objects are versioned (digests also under Object Lock COMPLIANCE); cross-region replication is a production decision for the deploying organisation.',
    });
  }
  acknowledge(foundation.accessLogs.bucket, {
    id: 'NIST.800.53.R5-S3DefaultEncryptionKMS',
    reason:
      'S3 server access log delivery supports only SSE-S3 on the target bucket, so this bucket cannot use the CMK.',
  });
  for (const topic of [foundation.alertsTopic, foundation.approvalsTopic, foundation.costReportsTopic]) {
    if (!topic.deliveryFailures) continue;
    const reason =
      'This queue is itself the dead-letter queue of the topic’s e-mail and HTTPS subscriptions (SNS redrive policy); it is the end of the line, and cdk-nag only recognises SQS and Lambda redrive targets as dead-letter queues.';
    acknowledge(
      topic.deliveryFailures,
      { id: 'AwsSolutions-SQS3', reason },
      { id: 'Serverless-SQSRedrivePolicy', reason },
    );
  }
  for (const table of [
    foundation.auditLedger.table,
    foundation.approvalStore.table,
    foundation.revocationList.table,
    foundation.sharedCounters.table,
  ]) {
    acknowledge(table, {
      id: 'NIST.800.53.R5-DynamoDBInBackupPlan',
      reason:
        'Point-in-time recovery (35 days of continuous backups) and deletion protection are on; enrolling tables in an AWS Backup plan is an organisation-wide policy, not this kit’s.',
    });
  }

  // Api: functions
  acknowledgeFunction(api.broker, true);
  acknowledgeFunction(api.connector, true);
  acknowledgeFunction(api.approvals, false);
  acknowledge(
    api.approvals.function,
    ...SYNCHRONOUS_NO_DLQ.map(({ id }) => ({ id, reason: REMINDERS_NO_DLQ })),
  );
  if (api.approvalReminders) {
    acknowledge(api.approvalReminders, { id: 'Serverless-EventBusDLQ', reason: REMINDERS_NO_DLQ });
  }
  acknowledgeFunction(api.anchor, false);
  acknowledge(api.anchor.deadLetterQueue!, {
    id: 'Serverless-SQSRedrivePolicy',
    reason:
      'This queue is itself the dead-letter queue of the anchor function and its event rules; it is the end of the line.',
  });
  // Monitoring: the cost-report function (EventBridge schedules, with a dead-letter queue).
  acknowledgeFunction(monitoring.costReport.function, false, {
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'Only xray:PutTraceSegments, xray:PutTelemetryRecords and cloudwatch:GetMetricData (the month\'s Airlock usage metrics and the token counts Bedrock measured for the workflows\' inference profiles, for the monthly report and the month to date) use Resource "*": none of them has resource-level permissions or a narrowing condition key. test/infra/wildcards.test.ts fails if any other action gets "*".',
  });
  acknowledge(monitoring.costReport.function.deadLetterQueue!, {
    id: 'Serverless-SQSRedrivePolicy',
    reason:
      'This queue is itself the dead-letter queue of the cost-report function and its two schedules; it is the end of the line.',
  });
  acknowledge(defaultPolicyOf(api.operatorRole.role), INLINE_POLICY);
  if (api.killSwitch.alertsPublisher)
    acknowledge(defaultPolicyOf(api.killSwitch.alertsPublisher), INLINE_POLICY);
  acknowledge(defaultPolicyOf(api.auditorRole.role), INLINE_POLICY, {
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'Only cloudwatch:GetMetricData (airlock cost report) and lambda:GetAccountSettings (airlock doctor) use Resource "*": neither has resource-level permissions or a narrowing condition key. They read metric values and the account\'s concurrency numbers only. test/infra/wildcards.test.ts fails if any other action gets "*".',
  });
  // airlock doctor: stacks by name (their ARNs end in a generated id) and the Monitoring stack's alarms.
  for (const name of [foundation.stackName, api.stackName, monitoring.stackName]) {
    acknowledgeWildcardResource(
      defaultPolicyOf(api.auditorRole.role),
      Stack.of(api).formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${name}/*` }),
      `airlock doctor reads the ${name} stack (outputs, resource list); a stack ARN ends in an id CloudFormation generates, so "/*" names that one stack.`,
    );
  }
  acknowledgeWildcardResource(
    defaultPolicyOf(api.auditorRole.role),
    Stack.of(api).formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: `${monitoring.stackName}-*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
    "airlock doctor reads the state of the Monitoring stack's alarms (cloudwatch:DescribeAlarms only); CloudFormation names them <stack>-<logical id>-<suffix>, so the prefix names that stack's alarms and no others.",
  );
  acknowledgeWildcardResource(
    defaultPolicyOf(api.auditorRole.role),
    foundation.auditLedger.digestBucket.arnForObjects(`${DIGEST_PREFIX}*`),
    'The auditor reads the signed digests below digests/ (s3:GetObject only) to verify the ledger; nothing else in the bucket.',
  );

  acknowledgeWildcardResource(
    defaultPolicyOf(api.anchor.role),
    foundation.auditLedger.digestBucket.arnForObjects(`${DIGEST_PREFIX}*`),
    'The anchor reads the digests below digests/ it wrote before and writes one new digest object per run there (s3:GetObject and s3:PutObject with If-None-Match); Object Lock keeps every version.',
  );
  if (api.oauth && api.oauthApi) acknowledgeOAuth(foundation, api as OAuthApiStack);

  // Api: the REST API
  const authorization =
    'Authentication is mutual TLS at the custom domain (device certificates from the enterprise CA; the execute-api endpoint is disabled) and each call carries a certificate-bound access token that the function verifies against the client certificate; an API Gateway authorizer could not check that binding.';
  for (const method of api.api.methods) {
    acknowledge(
      method,
      { id: 'AwsSolutions-APIG4', reason: authorization },
      {
        id: 'AwsSolutions-COG4',
        reason: `${authorization} Users are enterprise devices, not Cognito users.`,
      },
    );
  }
  acknowledgeStage(
    api.api.api.deploymentStage,
    'The rule asks for a backend client certificate for HTTP integrations; every integration here is a Lambda proxy inside AWS. Client-side mutual TLS is enforced on the custom domain.',
  );
}

/** An Api stack built with the `oauth` config section. */
type OAuthApiStack = AirlockStacks['api'] & {
  readonly oauth: AirlockFunction;
  readonly oauthApi: NonNullable<AirlockStacks['api']['oauthApi']>;
};

/** The OAuth entry point's findings: its function, table, IdP secret and certificate-less API. */
function acknowledgeOAuth(foundation: AirlockStacks['foundation'], api: OAuthApiStack): void {
  acknowledgeFunction(api.oauth, true);
  if (foundation.identityProviderSecret) {
    const reason =
      'The OIDC client secret is issued by the corporate identity provider, so rotating it needs that IdP; its owner rotates it there and puts the new value into this secret (docs/oauth.md).';
    acknowledge(
      foundation.identityProviderSecret.secret,
      { id: 'AwsSolutions-SMG4', reason },
      { id: 'NIST.800.53.R5-SecretsManagerRotationEnabled', reason },
    );
  }
  if (foundation.oauthState) {
    acknowledge(foundation.oauthState.table, {
      id: 'NIST.800.53.R5-DynamoDBInBackupPlan',
      reason:
        'Point-in-time recovery and deletion protection are on; the items are short-lived sign-in state (codes, refresh-token families) that age out by TTL, and enrolling tables in AWS Backup is an organisation-wide policy.',
    });
  }
  const authorization =
    'The OAuth 2.1 authorization server endpoints and their discovery documents are public by the OAuth and MCP specifications (clients and browsers call them before they hold a token); POST /v1/mcp is authenticated in the function by an OAuth access token verified for issuer, audience (the MCP resource), client, family revocation, the revocation list and the kill switch, which an API Gateway authorizer could not check. The server-to-server routes are limited to the vendor egress ranges by WAF when oauth.allowedSourceCidrs is set.';
  for (const method of api.oauthApi.methods) {
    acknowledge(
      method,
      { id: 'AwsSolutions-APIG4', reason: authorization },
      {
        id: 'AwsSolutions-COG4',
        reason: `${authorization} Users sign in at the corporate IdP, not Cognito.`,
      },
    );
  }
  acknowledgeStage(
    api.oauthApi.api.deploymentStage,
    'The rule asks for a backend client certificate for HTTP integrations; every integration here is a Lambda proxy inside AWS.',
  );
}

function acknowledgeStage(stage: IConstruct, backendCertificate: string): void {
  acknowledge(
    stage,
    {
      id: 'NIST.800.53.R5-APIGWCacheEnabledAndEncrypted',
      reason:
        'Caching is off on purpose: every response depends on the caller, the kill switch and the policy at that moment, and must never be served to another caller.',
    },
    { id: 'NIST.800.53.R5-APIGWSSLEnabled', reason: backendCertificate },
  );
}
