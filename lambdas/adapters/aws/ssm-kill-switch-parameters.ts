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

/** GetParameters answers at most 10 names per call. */
const MAX_NAMES_PER_CALL = 10;

export interface SsmKillSwitchParametersProps {
  /** Created once per execution environment and shared (the SDK keeps connections alive). */
  readonly client: SSMClient;
}

export class SsmKillSwitchParameters implements KillSwitchParameterSource, KillSwitchParameterWriter {
  private readonly client: SSMClient;

  constructor(props: SsmKillSwitchParametersProps) {
    this.client = props.client;
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
