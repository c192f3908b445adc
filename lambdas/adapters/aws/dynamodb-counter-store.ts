/**
 * Shared counters in the counters table (key schema in lib/contracts/tables.ts): one item per counter,
 * changed only by `UpdateItem ... ADD`, which DynamoDB applies atomically however many writers race.
 * A bounded addition is a conditional update (`n <= bound - delta`), so a bound is never overshot by
 * concurrent writers either. DynamoDB's TTL deletes a counter after `ttl` (epoch seconds). The same
 * code runs against dynalite in the local pilot.
 */
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { COUNTERS_TABLE } from '../../../lib/contracts/tables';
import type { CounterAddOptions, CounterStore } from '../../core/counter-store';
import { DependencyError } from '../../core/errors';
import { describeAwsError } from './aws-permission-error';
import {
  type AwsScope,
  type DeclaresIamPermissions,
  dynamoDbTableArn,
  type IamActions,
  type IamPermission,
  permissionsOf,
} from './iam-permissions';

export interface DynamoDbCounterStoreProps {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** The dependency named in a {@link DependencyError} (the API answers 503 `unavailable`). */
const DEPENDENCY = 'counter store';

/** The IAM action each method sends: one UpdateItem, on the counters table only. */
export const COUNTER_STORE_ACTIONS = {
  add: ['dynamodb:UpdateItem'],
} as const satisfies IamActions<keyof CounterStore>;

/** {@link CounterStore} over a DynamoDB table with the {@link COUNTERS_TABLE} key schema. */
export class DynamoDbCounterStore implements CounterStore, DeclaresIamPermissions<keyof CounterStore> {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(props: DynamoDbCounterStoreProps) {
    this.client = props.client;
    this.tableName = props.tableName;
  }

  iamPermissions(methods: readonly (keyof CounterStore)[], scope: AwsScope): IamPermission[] {
    return permissionsOf('DynamoDbCounterStore', COUNTER_STORE_ACTIONS, methods, () => [
      { resource: dynamoDbTableArn(scope, this.tableName) },
    ]);
  }

  async add(key: string, delta: number, options: CounterAddOptions): Promise<number | undefined> {
    if (!Number.isSafeInteger(delta)) {
      throw new TypeError(`DynamoDbCounterStore.add: delta must be a safe integer, got ${delta}`);
    }
    const expiresAtMs = options.expiresAt.getTime();
    if (Number.isNaN(expiresAtMs)) throw new TypeError('DynamoDbCounterStore.add: expiresAt is not a date');
    const { atMost } = options;
    // A counter that does not exist yet becomes `delta`: refused here when that alone passes the bound.
    if (atMost !== undefined && delta > atMost) return undefined;
    const names = { '#n': COUNTERS_TABLE.valueAttribute, '#ttl': COUNTERS_TABLE.ttlAttribute };
    const values: Record<string, number> = { ':d': delta, ':ttl': Math.ceil(expiresAtMs / 1000) };
    if (atMost !== undefined) values[':max'] = atMost - delta;
    let output: { Attributes?: Record<string, unknown> };
    try {
      output = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [COUNTERS_TABLE.partitionKey]: key },
          UpdateExpression: 'ADD #n :d SET #ttl = :ttl',
          ...(atMost !== undefined ? { ConditionExpression: 'attribute_not_exists(#n) OR #n <= :max' } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
        }),
      );
    } catch (error) {
      if ((error as Error | undefined)?.name === 'ConditionalCheckFailedException') return undefined;
      throw new DependencyError(
        DEPENDENCY,
        describeAwsError(error, { action: 'dynamodb:UpdateItem', resource: `table ${this.tableName}` }),
        { cause: error },
      );
    }
    const value = output.Attributes?.[COUNTERS_TABLE.valueAttribute];
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      // A counter someone wrote by hand, or past 2^53: it cannot be compared with a bound, so nothing passes.
      throw new DependencyError(
        DEPENDENCY,
        `counter ${key} in table ${this.tableName} holds ${JSON.stringify(value)}, not an integer`,
      );
    }
    return value;
  }
}
