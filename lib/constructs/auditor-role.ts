import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { AirlockStackNames } from '../contracts/stack-names';
import type { AirlockKeys } from './airlock-keys';
import type { AuditLedger } from './audit-ledger';
import { type CliRoleTrust, cliRolePrincipal } from './cli-role-trust';

export interface AuditorRoleProps {
  /** The ledger whose records and digests the auditor reads. */
  readonly auditLedger: AuditLedger;
  /** The keys: the data key decrypts records and digests, the digest key's public half verifies digests. */
  readonly keys: AirlockKeys;
  /**
   * Who may assume the role.
   * @default - any principal of this account whose own policy allows it, signed in with MFA
   */
  readonly trust?: CliRoleTrust;
  /**
   * What `airlock doctor` reads of the deployment under this role: the stage's stacks (the Api
   * stack's outputs, the alarm names and topic ARNs CloudFormation generated), the alarms' states,
   * the topics' subscriptions.
   * @default - none: doctor's deployment checks are refused under this role
   */
  readonly doctor?: AuditorDoctorReads;
}

/** The deployment `airlock doctor` reads. */
export interface AuditorDoctorReads {
  /** The stage's stacks. */
  readonly stackNames: AirlockStackNames;
  /** The topics whose subscriptions doctor checks (alerts, approvals). */
  readonly topics: readonly sns.ITopic[];
}

/**
 * The role IT and security assume to check Airlock without changing it: what `npx airlock audit
 * verify|export`, `npx airlock cost report` and `npx airlock doctor` read, and nothing that writes. Only principals of
 * this account can assume it: by default any that signed in with MFA, or those named by `trust`.
 */
export class AuditorRole extends Construct {
  /** The role (construct id `Resource`). */
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: AuditorRoleProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Resource', {
      description: 'Airlock auditor (IT/security): reads the audit ledger, its digests and the cost metrics',
      assumedBy: cliRolePrincipal('AuditorRole', props.trust),
    });
    // audit verify/export: Scan for the chain heads, Query for each chain (DynamoDbAuditStore).
    props.auditLedger.grantReadRecords(this.role);
    // audit verify: lists and reads the signed digests (S3DigestStore).
    props.auditLedger.grantReadDigests(this.role);
    // audit verify: checks each digest's ES256 signature locally against the digest key's public half.
    props.keys.grantGetDigestPublicKey(this.role);
    // cost report (CloudWatchCostSource). GetMetricData has no resource-level permissions and no
    // condition key that narrows it (cloudwatch:namespace applies to PutMetricData only), so AWS
    // accepts only Resource "*"; it reads metric values, never logs or data.
    iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: ['cloudwatch:GetMetricData'],
      resourceArns: ['*'],
    });
    if (props.doctor) this.grantDoctorReads(props.doctor, props.keys);
  }

  /**
   * What `airlock doctor` reads (cli/aws-command-permissions.ts, entry `doctor`), each grant on the
   * narrowest resource AWS accepts for it.
   */
  private grantDoctorReads(reads: AuditorDoctorReads, keys: AirlockKeys): void {
    const stack = Stack.of(this);
    const stackArn = (name: string) =>
      stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${name}/*` });
    const { foundation, api, monitoring } = reads.stackNames;
    // The Api stack's outputs (the names audit verify and the signature check use). A stack's ARN
    // ends in an id CloudFormation generates, hence `<name>/*`: that stack name only.
    iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: ['cloudformation:DescribeStacks'],
      resourceArns: [stackArn(api)],
    });
    // The resources of the three stacks: the REST APIs (execute-api check), topics and alarms.
    iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: ['cloudformation:ListStackResources'],
      resourceArns: [foundation, api, monitoring].map(stackArn),
    });
    // Alarm states. The alarms belong to the Monitoring stack, deployed after this one, and
    // CloudFormation names them `<stack>-<logical id>-<suffix>`: the prefix names that stack's alarms only.
    iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: ['cloudwatch:DescribeAlarms'],
      resourceArns: [
        stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: `${monitoring}-*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    });
    // Who the alerts and approval notices reach (pending confirmations).
    iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: ['sns:ListSubscriptionsByTopic'],
      resourceArns: reads.topics.map((topic) => topic.topicArn),
    });
    // Checks an issued access token's signature with the token key's public half.
    keys.grantGetPublicKey(this.role);
    // The account's Lambda concurrency quota and what is unreserved. GetAccountSettings is about the
    // account and has no resource type: IAM accepts only Resource "*". It reads two numbers.
    iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: ['lambda:GetAccountSettings'],
      resourceArns: ['*'],
    });
  }

  /** The role's ARN, for `aws sts assume-role` and the CLI. */
  public get roleArn(): string {
    return this.role.roleArn;
  }
}
