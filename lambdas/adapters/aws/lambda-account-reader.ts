/**
 * Reads the account's Lambda concurrency, for `airlock doctor`: Lambda keeps at least 100 of the
 * account's concurrency unreserved, and a new account's quota can be as low as 10, so reservations
 * that do not fit fail the deploy and a crowded account throttles Airlock.
 */
import { GetAccountSettingsCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { describeAwsError } from './aws-permission-error';
import {
  type DeclaresIamPermissions,
  type IamActions,
  type IamPermission,
  permissionsOf,
} from './iam-permissions';

type LambdaAccountMethod = 'concurrency';

/** GetAccountSettings is about the account, not a resource: IAM authorizes it on `*` only. */
export const LAMBDA_ACCOUNT_READER_ACTIONS = {
  concurrency: ['lambda:GetAccountSettings'],
} as const satisfies IamActions<LambdaAccountMethod>;

export interface LambdaAccountReaderProps {
  readonly client: LambdaClient;
}

/** The account's concurrency in this region. */
export interface AccountConcurrency {
  /** The "Concurrent executions" quota. */
  readonly limit: number;
  /** What no function has reserved. */
  readonly unreserved: number;
}

export class LambdaAccountReader implements DeclaresIamPermissions<LambdaAccountMethod> {
  constructor(private readonly props: LambdaAccountReaderProps) {}

  iamPermissions(methods: readonly LambdaAccountMethod[]): IamPermission[] {
    return permissionsOf('LambdaAccountReader', LAMBDA_ACCOUNT_READER_ACTIONS, methods, () => [
      { resource: '*' },
    ]);
  }

  /** @throws Error naming the IAM action when Lambda refuses */
  async concurrency(): Promise<AccountConcurrency> {
    try {
      const settings = await this.props.client.send(new GetAccountSettingsCommand({}));
      return {
        limit: settings.AccountLimit?.ConcurrentExecutions ?? 0,
        unreserved: settings.AccountLimit?.UnreservedConcurrentExecutions ?? 0,
      };
    } catch (error) {
      throw new Error(
        describeAwsError(error, {
          action: 'lambda:GetAccountSettings',
          resource: 'the account',
          role: 'auditor',
        }),
        { cause: error },
      );
    }
  }
}
