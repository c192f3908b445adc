/**
 * The documents each principal read, in the approvals table (one item per principal and read window, `run#principal#...`, outside the
 * `byStatus` index since it has no status): the connector appends what a read returned, and reads the
 * lists back when a write of the same principal is held for approval (see core/run-read-log.ts).
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { APPROVALS_TABLE } from '../../../lib/contracts/tables';
import type { RunDocument } from '../../core/approval-desk';
import { DependencyError } from '../../core/errors';
import { MAX_RUN_DOCUMENTS, type RunReadLog, type RunReads } from '../../core/run-read-log';
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

  /**
   * One conditional UpdateItem: appends while the list is shorter than {@link MAX_RUN_DOCUMENTS}; once it
   * is full, a second one counts what the list could not take (`notShown`).
   */
  async append(runId: string, documents: readonly RunDocument[], keepUntil: Date): Promise<void> {
    if (documents.length === 0) return;
    const beyond = Math.max(0, documents.length - MAX_RUN_DOCUMENTS);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [APPROVALS_TABLE.partitionKey]: runReadKey(runId) },
          UpdateExpression: `SET #docs = list_append(if_not_exists(#docs, :none), :new), #ttl = :ttl${beyond > 0 ? ' ADD #more :beyond' : ''}`,
          ConditionExpression: 'attribute_not_exists(#docs) OR size(#docs) <= :room',
          ExpressionAttributeNames: {
            '#docs': 'documents',
            '#ttl': APPROVALS_TABLE.ttlAttribute,
            ...(beyond > 0 ? { '#more': 'notShown' } : {}),
          },
          ExpressionAttributeValues: {
            ':none': [],
            ':new': documents.slice(0, MAX_RUN_DOCUMENTS).map((d) => ({ ...d })),
            ':ttl': Math.ceil(keepUntil.getTime() / 1000),
            ':room': MAX_RUN_DOCUMENTS - documents.length,
            ...(beyond > 0 ? { ':beyond': beyond } : {}),
          },
        }),
      );
      return;
    } catch (error) {
      if ((error as Error | undefined)?.name !== 'ConditionalCheckFailedException') {
        throw this.failure(error, 'dynamodb:UpdateItem');
      }
    }
    // A full list keeps its first documents, and counts the rest so the approver knows they exist.
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [APPROVALS_TABLE.partitionKey]: runReadKey(runId) },
          UpdateExpression: 'ADD #more :count SET #ttl = :ttl',
          ExpressionAttributeNames: { '#more': 'notShown', '#ttl': APPROVALS_TABLE.ttlAttribute },
          ExpressionAttributeValues: {
            ':count': documents.length,
            ':ttl': Math.ceil(keepUntil.getTime() / 1000),
          },
        }),
      );
    } catch (error) {
      throw this.failure(error, 'dynamodb:UpdateItem');
    }
  }

  async list(runId: string): Promise<RunReads> {
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
    const listed = documents.filter(isRunDocument).slice(0, MAX_RUN_DOCUMENTS);
    const counted = typeof item?.notShown === 'number' && item.notShown > 0 ? item.notShown : 0;
    return { documents: listed, notShown: counted + (documents.length - listed.length) };
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
    ['connector', 'operation', 'id', 'sha256', 'readAt'].every((field) => typeof d[field] === 'string') &&
    (d.classification === undefined || typeof d.classification === 'string') &&
    (d.idRedacted === undefined || typeof d.idRedacted === 'string')
  );
}
