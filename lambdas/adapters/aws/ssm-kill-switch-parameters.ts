/**
 * Kill-switch parameters in SSM Parameter Store (String parameters, see lambdas/core/kill-switch.ts).
 * The functions only read (ssm:GetParameters); the operator CLI also writes (ssm:PutParameter).
 */
import {
  GetParametersCommand,
  type GetParametersCommandOutput,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { DependencyError } from '../../core/errors';
import type { KillSwitchParameterSource, KillSwitchParameterWriter } from '../../core/ports';
import { describeAwsError } from './aws-permission-error';
import {
  type AwsScope,
  type DeclaresIamPermissions,
  type IamActions,
  type IamPermission,
  permissionsOf,
  ssmParameterArn,
} from './iam-permissions';

type KillSwitchParameterMethod = 'read' | 'write';

/** The IAM actions each method sends, on each kill-switch parameter. */
export const SSM_KILL_SWITCH_ACTIONS = {
  read: ['ssm:GetParameters'],
  write: ['ssm:PutParameter'],
} as const satisfies IamActions<KillSwitchParameterMethod>;

/** GetParameters answers at most 10 names per call. */
const MAX_NAMES_PER_CALL = 10;

export interface SsmKillSwitchParametersProps {
  /** Created once per execution environment and shared (the SDK keeps connections alive). */
  readonly client: SSMClient;
  /**
   * The parameters this adapter is used on (the global switch and each workflow's), for its IAM
   * declaration; the names read or written are the callers'.
   * @default none
   */
  readonly parameterNames?: readonly string[];
}

export class SsmKillSwitchParameters
  implements
    KillSwitchParameterSource,
    KillSwitchParameterWriter,
    DeclaresIamPermissions<KillSwitchParameterMethod>
{
  private readonly client: SSMClient;
  private readonly parameterNames: readonly string[];

  constructor(props: SsmKillSwitchParametersProps) {
    this.client = props.client;
    this.parameterNames = props.parameterNames ?? [];
  }

  iamPermissions(methods: readonly KillSwitchParameterMethod[], scope: AwsScope): IamPermission[] {
    return permissionsOf('SsmKillSwitchParameters', SSM_KILL_SWITCH_ACTIONS, methods, () =>
      this.parameterNames.map((name) => ({ resource: ssmParameterArn(scope, name) })),
    );
  }

  /** Values by name; a name SSM reports as invalid (it does not exist) maps to `undefined`. */
  async read(names: readonly string[]): Promise<Record<string, string | undefined>> {
    const unique = [...new Set(names)];
    const batches: string[][] = [];
    for (let i = 0; i < unique.length; i += MAX_NAMES_PER_CALL) {
      batches.push(unique.slice(i, i + MAX_NAMES_PER_CALL));
    }
    const values: Record<string, string | undefined> = {};
    for (const name of unique) values[name] = undefined;
    await Promise.all(
      batches.map(async (batch) => {
        let output: GetParametersCommandOutput;
        try {
          output = await this.client.send(new GetParametersCommand({ Names: batch }));
        } catch (error) {
          throw new DependencyError(
            'kill switch parameters',
            describeAwsError(error, { action: 'ssm:GetParameters', resource: batch.join(', ') }),
            { cause: error },
          );
        }
        // Names in InvalidParameters do not exist: they stay undefined (the core counts them as engaged).
        for (const parameter of output.Parameters ?? []) {
          if (parameter.Name !== undefined && parameter.Name in values)
            values[parameter.Name] = parameter.Value;
        }
      }),
    );
    return values;
  }

  /** Overwrites (or creates) the parameter as a plain String: the value is not secret and must be auditable. */
  async write(name: string, value: string): Promise<void> {
    try {
      await this.client.send(
        new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }),
      );
    } catch (error) {
      throw new DependencyError(
        'kill switch parameters',
        describeAwsError(error, { action: 'ssm:PutParameter', resource: name }),
        { cause: error },
      );
    }
  }
}
