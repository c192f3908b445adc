/**
 * Reads what a deployment's CloudFormation stacks say about themselves: an API stack's outputs
 * (the names the operator CLI uses) and the physical ids of a stack's resources (the alarm names of
 * the Monitoring stack, the topic ARNs of the Foundation stack). `airlock doctor` finds the
 * deployment this way instead of asking the operator to export every name. Read-only.
 */
import {
  type CloudFormationClient,
  DescribeStacksCommand,
  ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import { describeAwsError } from './aws-permission-error';
import {
  type AwsScope,
  type DeclaresIamPermissions,
  type IamActions,
  type IamPermission,
  permissionsOf,
} from './iam-permissions';

type StackReaderMethod = 'describeStack' | 'listResources';

/** The IAM actions each method sends, on the stack it reads. */
export const CLOUDFORMATION_STACK_READER_ACTIONS = {
  describeStack: ['cloudformation:DescribeStacks'],
  listResources: ['cloudformation:ListStackResources'],
} as const satisfies IamActions<StackReaderMethod>;

export interface CloudFormationStackReaderProps {
  readonly client: CloudFormationClient;
  /**
   * The stacks each method may read (by name); others are refused, so the IAM declaration holds.
   * E.g. the API stack's outputs, and the resources of every stack of the stage.
   */
  readonly stackNames: { readonly [M in StackReaderMethod]: readonly string[] };
}

/** A stack's state and outputs. */
export interface StackDescription {
  readonly stackName: string;
  /** E.g. `CREATE_COMPLETE`, `UPDATE_ROLLBACK_COMPLETE`. */
  readonly status: string;
  /** Output key → value. */
  readonly outputs: Readonly<Record<string, string>>;
}

/** One resource of a stack. */
export interface StackResource {
  readonly logicalId: string;
  /** E.g. `AWS::CloudWatch::Alarm`. */
  readonly type: string;
  /** The alarm name, topic ARN, API id, ... (absent while the resource is being created). */
  readonly physicalId?: string;
  readonly status: string;
}

/** The stack does not exist in this account and region (CloudFormation's ValidationError). */
export class StackNotFoundError extends Error {
  public readonly name = 'StackNotFoundError';
  constructor(
    public readonly stackName: string,
    options?: { cause?: unknown },
  ) {
    super(`no stack ${stackName} in this account and region`, options);
  }
}

/** A call CloudFormation refused or could not answer, in one sentence naming the IAM action. */
export class StackReadError extends Error {
  public readonly name = 'StackReadError';
}

/** `arn:<partition>:cloudformation:<region>:<account>:stack/<name>/*` (the trailing id is the stack's UUID). */
export function cloudFormationStackArn(scope: AwsScope, stackName: string): string {
  return `arn:${scope.partition}:cloudformation:${scope.region}:${scope.account}:stack/${stackName}/*`;
}

export class CloudFormationStackReader implements DeclaresIamPermissions<StackReaderMethod> {
  private readonly client: CloudFormationClient;
  private readonly stackNames: CloudFormationStackReaderProps['stackNames'];

  constructor(props: CloudFormationStackReaderProps) {
    this.client = props.client;
    this.stackNames = props.stackNames;
  }

  iamPermissions(methods: readonly StackReaderMethod[], scope: AwsScope): IamPermission[] {
    return permissionsOf(
      'CloudFormationStackReader',
      CLOUDFORMATION_STACK_READER_ACTIONS,
      methods,
      (_, method) =>
        this.stackNames[method].map((name) => ({ resource: cloudFormationStackArn(scope, name) })),
    );
  }

  /**
   * The stack's status and outputs.
   * @throws StackNotFoundError when there is no such stack; StackReadError for any other failure
   */
  async describeStack(stackName: string): Promise<StackDescription> {
    this.requireKnown('describeStack', stackName);
    const action = 'cloudformation:DescribeStacks';
    try {
      const output = await this.client.send(new DescribeStacksCommand({ StackName: stackName }));
      const stack = output.Stacks?.[0];
      if (!stack) throw new StackNotFoundError(stackName);
      const outputs: Record<string, string> = {};
      for (const o of stack.Outputs ?? []) {
        if (o.OutputKey && o.OutputValue !== undefined) outputs[o.OutputKey] = o.OutputValue;
      }
      return { stackName, status: stack.StackStatus ?? 'UNKNOWN', outputs };
    } catch (error) {
      throw this.failure(error, stackName, action);
    }
  }

  /**
   * Every resource of the stack (all pages).
   * @throws StackNotFoundError when there is no such stack; StackReadError for any other failure
   */
  async listResources(stackName: string): Promise<StackResource[]> {
    this.requireKnown('listResources', stackName);
    const action = 'cloudformation:ListStackResources';
    const resources: StackResource[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListStackResourcesCommand({ StackName: stackName, NextToken: token }),
        );
        for (const r of page.StackResourceSummaries ?? []) {
          resources.push({
            logicalId: r.LogicalResourceId ?? '',
            type: r.ResourceType ?? '',
            ...(r.PhysicalResourceId ? { physicalId: r.PhysicalResourceId } : {}),
            status: r.ResourceStatus ?? 'UNKNOWN',
          });
        }
        token = page.NextToken;
      } while (token);
      return resources;
    } catch (error) {
      throw this.failure(error, stackName, action);
    }
  }

  private requireKnown(method: StackReaderMethod, stackName: string): void {
    if (!this.stackNames[method].includes(stackName)) {
      throw new RangeError(
        `CloudFormationStackReader: ${method} was not given ${stackName} (only ${this.stackNames[method].join(', ')})`,
      );
    }
  }

  private failure(error: unknown, stackName: string, action: string): Error {
    if (error instanceof StackNotFoundError) return error;
    const name = (error as { name?: unknown }).name;
    const message = (error as { message?: unknown }).message;
    // CloudFormation says "Stack with id X does not exist" as a ValidationError.
    if (name === 'ValidationError' && typeof message === 'string' && /does not exist/.test(message)) {
      return new StackNotFoundError(stackName, { cause: error });
    }
    return new StackReadError(
      describeAwsError(error, { action, resource: `stack ${stackName}`, role: 'auditor' }),
      {
        cause: error,
      },
    );
  }
}
