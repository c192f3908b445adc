/**
 * The documents each run read, in the approvals table (one item per run, `run#<token id>`, outside the
 * `byStatus` index since it has no status): the connector appends what a read returned, and reads the
 * list back when the same run's write is held for approval.
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { APPROVALS_TABLE } from '../../../lib/contracts/tables';
import type { RunDocument } from '../../core/approval-desk';
import { DependencyError } from '../../core/errors';
import { MAX_RUN_DOCUMENTS, type RunReadLog } from '../../core/run-read-log';
import { describeAwsError } from './aws-permission-error';
import {
  type AwsScope,
  type DeclaresIamPermissions,
  dynamoDbTableArn,
  type IamActions,
  type IamPermission,
  permissionsOf,
} from './iam-permissions';

export const RUN_READ_LOG_ACTIONS = {
  append: ['dynamodb:UpdateItem'],
  list: ['dynamodb:GetItem'],
} as const satisfies IamActions<keyof RunReadLog>;

/** The key of a run's item: approval ids are `apr_...`, so the two never meet. */
export function runReadKey(runId: string): string {
  return `run#${runId}`;
}

export interface DynamoDbRunReadLogProps {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

export class DynamoDbRunReadLog implements RunReadLog, DeclaresIamPermissions<keyof RunReadLog> {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(props: DynamoDbRunReadLogProps) {
    this.client = props.client;
    this.tableName = props.tableName;
  }

  iamPermissions(methods: readonly (keyof RunReadLog)[], scope: AwsScope): IamPermission[] {
    const table = dynamoDbTableArn(scope, this.tableName);
    return permissionsOf('DynamoDbRunReadLog', RUN_READ_LOG_ACTIONS, methods, () => [{ resource: table }]);
  }

  /** One conditional UpdateItem: appends while the list is shorter than {@link MAX_RUN_DOCUMENTS}. */
  async append(runId: string, documents: readonly RunDocument[], keepUntil: Date): Promise<void> {
    if (documents.length === 0) return;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [APPROVALS_TABLE.partitionKey]: runReadKey(runId) },
          UpdateExpression: 'SET #docs = list_append(if_not_exists(#docs, :none), :new), #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#docs) OR size(#docs) <= :room',
          ExpressionAttributeNames: { '#docs': 'documents', '#ttl': APPROVALS_TABLE.ttlAttribute },
          ExpressionAttributeValues: {
            ':none': [],
            ':new': documents.slice(0, MAX_RUN_DOCUMENTS).map((d) => ({ ...d })),
            ':ttl': Math.ceil(keepUntil.getTime() / 1000),
            ':room': MAX_RUN_DOCUMENTS - documents.length,
          },
        }),
      );
    } catch (error) {
      // A full list keeps its first documents: what the run read first stays what the approver sees.
      if ((error as Error | undefined)?.name === 'ConditionalCheckFailedException') return;
      throw this.failure(error, 'dynamodb:UpdateItem');
    }
  }

  async list(runId: string): Promise<RunDocument[]> {
    let item: Record<string, unknown> | undefined;
    try {
      const out = await this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { [APPROVALS_TABLE.partitionKey]: runReadKey(runId) },
          ConsistentRead: true,
        }),
      );
      item = out.Item;
    } catch (error) {
      throw this.failure(error, 'dynamodb:GetItem');
    }
    const documents = Array.isArray(item?.documents) ? item.documents : [];
    return documents.filter(isRunDocument).slice(0, MAX_RUN_DOCUMENTS);
  }

  private failure(error: unknown, action: string): DependencyError {
    return new DependencyError(
      'run-read-log',
      describeAwsError(error, { action, resource: `table ${this.tableName}` }),
      {
        cause: error,
      },
    );
  }
}

function isRunDocument(value: unknown): value is RunDocument {
  const d = value as Record<string, unknown> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    ['connector', 'operation', 'id', 'sha256', 'readAt'].every((field) => typeof d[field] === 'string')
  );
}
