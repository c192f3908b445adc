import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
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
}

/**
 * The role IT and security assume to check Airlock without changing it: what `npx airlock audit
 * verify|export` and `npx airlock cost report` read, and nothing that writes. Only principals of
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
  }

  /** The role's ARN, for `aws sts assume-role` and the CLI. */
  public get roleArn(): string {
    return this.role.roleArn;
  }
}
