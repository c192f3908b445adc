import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/** Who may assume one of the roles the `airlock` CLI uses (config `roles.operator`, `roles.auditor`). */
export interface CliRoleTrust {
  /**
   * IAM role or user ARNs of this account (`*` allowed) that may assume the role, matched against
   * `aws:PrincipalArn`.
   * @default []
   */
  readonly trustedPrincipalArns?: readonly string[];
  /**
   * IAM Identity Center permission set names whose roles (`AWSReservedSSO_<name>_<suffix>`, created by
   * Identity Center under `/aws-reserved/sso.amazonaws.com/`) may assume the role.
   * @default []
   */
  readonly permissionSets?: readonly string[];
  /**
   * Require `aws:MultiFactorAuthPresent`. Identity Center sessions never carry it (Identity Center
   * enforces MFA at sign-in), so it cannot be combined with `permissionSets`.
   * @default - true without permissionSets, false with them
   */
  readonly requireMfa?: boolean;
}

/**
 * The trust principal of a CLI role: this account, narrowed to the given principals when any are
 * named (without them, any principal of the account whose own policy allows `sts:AssumeRole` on the
 * role), with MFA unless the role is for Identity Center users.
 *
 * Principals are matched with `aws:PrincipalArn` conditions rather than listed as principals: a
 * listed role must exist when the policy is written, and Identity Center's role names carry a random
 * suffix that only a pattern can match.
 * @throws Error when MFA is required of Identity Center sessions, which never carry it
 */
export function cliRolePrincipal(owner: string, trust: CliRoleTrust = {}): iam.IPrincipal {
  const principalArns = [
    ...(trust.trustedPrincipalArns ?? []),
    ...(trust.permissionSets ?? []).map(
      (name) =>
        `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_${name}_*`,
    ),
  ];
  const fromIdentityCenter = (trust.permissionSets ?? []).length > 0;
  const requireMfa = trust.requireMfa ?? !fromIdentityCenter;
  if (requireMfa && fromIdentityCenter) {
    throw new Error(
      `${owner}: requireMfa cannot be combined with permissionSets: IAM Identity Center sessions carry no aws:MultiFactorAuthPresent, so nobody could assume the role`,
    );
  }
  const conditions: Record<string, Record<string, unknown>> = {};
  if (principalArns.length > 0) conditions.ArnLike = { 'aws:PrincipalArn': principalArns };
  if (requireMfa) conditions.Bool = { 'aws:MultiFactorAuthPresent': 'true' };
  return new iam.AccountRootPrincipal().withConditions(conditions);
}
