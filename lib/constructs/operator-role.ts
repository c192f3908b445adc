import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { AirlockFunction } from './airlock-function';
import { type CliRoleTrust, cliRolePrincipal } from './cli-role-trust';
import type { KillSwitch } from './kill-switch';

export interface OperatorRoleProps {
  /** The kill switch the operator flips. */
  readonly killSwitch: KillSwitch;
  /** Functions whose reserved concurrency the kill switch's hard mode sets to 0 (broker, connector). */
  readonly functions: readonly AirlockFunction[];
  /**
   * Who may assume the role.
   * @default - any principal of this account whose own policy allows it, signed in with MFA
   */
  readonly trust?: CliRoleTrust;
}

/**
 * The role IT assumes to seal Airlock: it can read and flip the kill-switch parameters and set
 * the reserved concurrency of the given functions (the stack also lets it revoke tokens). Only
 * principals of this account can assume it: by default any that signed in with MFA, or those named
 * by `trust`. What each operator command needs is listed in cli/aws-command-permissions.ts; the
 * permission proof checks this role against it.
 */
export class OperatorRole extends Construct {
  /** The role (construct id `Resource`). */
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: OperatorRoleProps) {
    super(scope, id);
    if (props.functions.length === 0) {
      throw new Error('OperatorRole: give at least one function whose concurrency the kill switch controls');
    }
    this.role = new iam.Role(this, 'Resource', {
      description: 'Airlock operator (IT): kill switch and function concurrency only',
      assumedBy: cliRolePrincipal('OperatorRole', props.trust),
    });
    props.killSwitch.grantWrite(this.role);
    // The hard mode of the kill switch: reserved concurrency 0 stops new invocations within seconds;
    // the old value is read for the report. Releasing puts the configured reservation back, or
    // removes the reservation of 0 when none is configured (the default).
    iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: [
        'lambda:PutFunctionConcurrency',
        'lambda:DeleteFunctionConcurrency',
        'lambda:GetFunctionConcurrency',
      ],
      resourceArns: props.functions.map((fn) => fn.functionArn),
    });
  }

  /** The role's ARN, for `aws sts assume-role` and the CLI. */
  public get roleArn(): string {
    return this.role.roleArn;
  }
}
