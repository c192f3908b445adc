/**
 * The kill switch's hard mode: reserved concurrency 0 stops a function from running at all, so API
 * Gateway answers with an error without our code (or its dependencies) being involved. Restoring puts
 * back the configured reserved concurrency (config `functions.reservedConcurrency`), or removes the
 * reservation of a function that has none configured (the default).
 */
import {
  DeleteFunctionConcurrencyCommand,
  GetFunctionConcurrencyCommand,
  type LambdaClient,
  PutFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import { describeAwsError } from './aws-permission-error';
import {
  type AwsScope,
  type DeclaresIamPermissions,
  type IamActions,
  type IamPermission,
  lambdaFunctionArn,
  permissionsOf,
} from './iam-permissions';

type ConcurrencyMethod = 'freeze' | 'restore';

/**
 * The IAM actions each method sends, on each function: the old value is read for the report (a
 * refused read does not stop the change), then the new one is put.
 */
export const LAMBDA_CONCURRENCY_ACTIONS = {
  freeze: ['lambda:GetFunctionConcurrency', 'lambda:PutFunctionConcurrency'],
  // A function with no configured reservation gets its reservation of 0 removed (DeleteFunctionConcurrency).
  restore: [
    'lambda:GetFunctionConcurrency',
    'lambda:PutFunctionConcurrency',
    'lambda:DeleteFunctionConcurrency',
  ],
} as const satisfies IamActions<ConcurrencyMethod>;

export interface LambdaConcurrencyControllerProps {
  readonly client: LambdaClient;
  /**
   * The functions this controller is used on, for its IAM declaration; the names changed are the
   * callers'.
   * @default none
   */
  readonly functionNames?: readonly string[];
}

/** One function's change. */
export interface ConcurrencyChange {
  readonly functionName: string;
  /** Reserved concurrency before the change; null when none was reserved; undefined when it could not be read. */
  readonly before?: number | null;
  /** Reserved concurrency after the change; null when the reservation was removed (the function draws on the unreserved pool). */
  readonly reservedConcurrency: number | null;
}

/** Some functions changed and some did not: the operator must know exactly which. */
export class ConcurrencyChangeError extends Error {
  public readonly name = 'ConcurrencyChangeError';
  constructor(
    message: string,
    /** The functions that were changed. */
    public readonly changed: readonly ConcurrencyChange[],
    /** Each function that was not changed, with why. */
    public readonly failed: readonly { readonly functionName: string; readonly problem: string }[],
  ) {
    super(message);
  }
}

export class LambdaConcurrencyController implements DeclaresIamPermissions<ConcurrencyMethod> {
  private readonly client: LambdaClient;
  private readonly functionNames: readonly string[];

  constructor(props: LambdaConcurrencyControllerProps) {
    this.client = props.client;
    this.functionNames = props.functionNames ?? [];
  }

  iamPermissions(methods: readonly ConcurrencyMethod[], scope: AwsScope): IamPermission[] {
    return permissionsOf('LambdaConcurrencyController', LAMBDA_CONCURRENCY_ACTIONS, methods, () =>
      this.functionNames.map((name) => ({ resource: lambdaFunctionArn(scope, name) })),
    );
  }

  /** Sets reserved concurrency 0 on every function (all attempted even when one fails). */
  async freeze(functionNames: readonly string[]): Promise<ConcurrencyChange[]> {
    const targets = Object.fromEntries(functionNames.map((name) => [requireFunctionName(name), 0]));
    return this.apply(targets, 'freeze');
  }

  /**
   * Puts back the configured reserved concurrency, e.g. `{ 'airlock-pilot-broker': 10 }`; null removes
   * the reservation (`lambda:DeleteFunctionConcurrency`) of a function that has none configured.
   */
  async restore(reserved: Readonly<Record<string, number | null>>): Promise<ConcurrencyChange[]> {
    for (const [name, value] of Object.entries(reserved)) {
      requireFunctionName(name);
      if (value !== null && (!Number.isInteger(value) || value < 1)) {
        throw new RangeError(
          `Cannot restore ${name} to reserved concurrency ${value}: expected a whole number of 1 or more (config functions.reservedConcurrency)`,
        );
      }
    }
    return this.apply(reserved, 'restore');
  }

  private async apply(
    targets: Readonly<Record<string, number | null>>,
    what: 'freeze' | 'restore',
  ): Promise<ConcurrencyChange[]> {
    const names = Object.keys(targets);
    const outcomes = await Promise.allSettled(names.map((name) => this.put(name, targets[name])));
    const changed: ConcurrencyChange[] = [];
    const failed: { functionName: string; problem: string }[] = [];
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') changed.push(outcome.value);
      else
        failed.push({
          functionName: names[i],
          problem: describeAwsError(outcome.reason, {
            action:
              targets[names[i]] === null
                ? 'lambda:DeleteFunctionConcurrency'
                : 'lambda:PutFunctionConcurrency',
            resource: names[i],
          }),
        });
    });
    if (failed.length > 0) {
      const done = changed.length === 0 ? 'none' : changed.map((c) => c.functionName).join(', ');
      throw new ConcurrencyChangeError(
        `Could not ${what} ${failed.length} of ${names.length} functions (${what === 'freeze' ? 'frozen' : 'restored'}: ${done}): ${failed.map((f) => f.problem).join('; ')}`,
        changed,
        failed,
      );
    }
    return changed;
  }

  private async put(functionName: string, reservedConcurrency: number | null): Promise<ConcurrencyChange> {
    // Reading the old value only informs the report; a failure to read it must not stop the change.
    let before: number | null | undefined;
    try {
      const output = await this.client.send(
        new GetFunctionConcurrencyCommand({ FunctionName: functionName }),
      );
      before = output.ReservedConcurrentExecutions ?? null;
    } catch {
      before = undefined;
    }
    if (reservedConcurrency === null) {
      await this.client.send(new DeleteFunctionConcurrencyCommand({ FunctionName: functionName }));
    } else {
      await this.client.send(
        new PutFunctionConcurrencyCommand({
          FunctionName: functionName,
          ReservedConcurrentExecutions: reservedConcurrency,
        }),
      );
    }
    return { functionName, before, reservedConcurrency };
  }
}

function requireFunctionName(name: string): string {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new RangeError('A function name is required (the deployed broker, connector, ... function names)');
  }
  return name;
}
