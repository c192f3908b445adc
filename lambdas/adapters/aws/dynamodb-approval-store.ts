/**
 * The approvals table over DynamoDB (and dynalite in the local pilot: same code). One item per
 * approval keyed by `id`; the `byStatus` index (status, createdAt) lists approvers' queues. Every
 * state change is a conditional update on the current status, which is what makes an approval run
 * at most once however many re-sends race for it.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { APPROVALS_TABLE } from '../../../lib/contracts/tables';
import type {
  ApprovalPosition,
  ApprovalRecord,
  ApprovalStatus,
  ApprovalStore,
} from '../../core/approval-desk';
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

export interface DynamoDbApprovalStoreProps {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** Decided approvals stay listable (and showable) this long after they expire, then TTL deletes them. */
export const APPROVAL_RETENTION_SECONDS = 7 * 24 * 3600;

/** The dependency named in a {@link DependencyError} (the API answers 503 `unavailable`). */
const DEPENDENCY = 'approvals-store';

const PK = APPROVALS_TABLE.partitionKey;
const INDEX = APPROVALS_TABLE.statusIndex;
const STATUSES: ReadonlySet<string> = new Set<ApprovalStatus>([
  'pending',
  'approved',
  'rejected',
  'executed',
]);
const REQUIRED_TEXT = [
  'id',
  'principal',
  'workflow',
  'connector',
  'operation',
  'argumentsHash',
  'policyVersion',
  'approverGroup',
  'requestId',
  'createdAt',
  'expiresAt',
] as const;

/**
 * The IAM actions each method sends: item actions on the approvals table, the listing on its
 * `byStatus` index (a Query on an index is authorized on the index's ARN only).
 */
export const APPROVAL_STORE_ACTIONS = {
  create: ['dynamodb:PutItem'],
  get: ['dynamodb:GetItem'],
  listByStatus: ['dynamodb:Query'],
  transition: ['dynamodb:UpdateItem'],
} as const satisfies IamActions<keyof ApprovalStore>;

/** {@link ApprovalStore} over a DynamoDB table with the {@link APPROVALS_TABLE} key schema. */
export class DynamoDbApprovalStore implements ApprovalStore, DeclaresIamPermissions<keyof ApprovalStore> {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(props: DynamoDbApprovalStoreProps) {
    this.client = props.client;
    this.tableName = props.tableName;
  }

  iamPermissions(methods: readonly (keyof ApprovalStore)[], scope: AwsScope): IamPermission[] {
    const table = dynamoDbTableArn(scope, this.tableName);
    return permissionsOf('DynamoDbApprovalStore', APPROVAL_STORE_ACTIONS, methods, (_action, method) => [
      { resource: method === 'listByStatus' ? `${table}/index/${INDEX.name}` : table },
    ]);
  }

  /** Conditional PutItem: refused (DependencyError) if an approval with this id exists. */
  async create(record: ApprovalRecord): Promise<void> {
    const expiresAtMs = Date.parse(record.expiresAt);
    if (Number.isNaN(expiresAtMs)) {
      throw new DependencyError(
        DEPENDENCY,
        `approval ${record.id} has no valid expiresAt ("${record.expiresAt}")`,
      );
    }
    const item = {
      ...withoutUndefined(record),
      [APPROVALS_TABLE.ttlAttribute]: Math.ceil(expiresAtMs / 1000) + APPROVAL_RETENTION_SECONDS,
    };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#id)',
          ExpressionAttributeNames: { '#id': PK },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        // Ids are random 128-bit values: a collision means a replayed write, never something to overwrite.
        throw new DependencyError(
          DEPENDENCY,
          `approval ${record.id} already exists; approvals are never overwritten`,
          {
            cause: error,
          },
        );
      }
      throw this.failure(error, 'dynamodb:PutItem');
    }
  }

  /** Strongly consistent GetItem, so a decision made a moment ago is seen. */
  async get(id: string): Promise<ApprovalRecord | undefined> {
    let item: Record<string, unknown> | undefined;
    try {
      const output = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { [PK]: id }, ConsistentRead: true }),
      );
      item = output.Item;
    } catch (error) {
      throw this.failure(error, 'dynamodb:GetItem');
    }
    return item ? this.toRecord(item) : undefined;
  }

  /**
   * Newest first, at most `limit`, read from the `byStatus` index. The index is eventually consistent:
   * a list may lag a decision by a moment, which is why deciding and consuming read the item itself.
   * With `after`, the listing continues after that approval: its key on the index is exactly the
   * `LastEvaluatedKey` DynamoDB would have returned there.
   */
  async listByStatus(
    status: ApprovalStatus,
    limit: number,
    after?: ApprovalPosition,
  ): Promise<ApprovalRecord[]> {
    const records: ApprovalRecord[] = [];
    // DynamoDB refuses a Limit below 1; asking for nothing gets nothing.
    if (!(limit >= 1)) return records;
    let startKey: Record<string, unknown> | undefined = after
      ? { [PK]: after.id, [INDEX.partitionKey]: status, [INDEX.sortKey]: after.createdAt }
      : undefined;
    try {
      // A page stops at 1 MB, so fewer than `limit` items may come back with more to read.
      do {
        const output = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: INDEX.name,
            KeyConditionExpression: '#status = :status',
            ExpressionAttributeNames: { '#status': INDEX.partitionKey },
            ExpressionAttributeValues: { ':status': status },
            ScanIndexForward: false,
            Limit: limit - records.length,
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of output.Items ?? []) records.push(this.toRecord(item));
        startKey = output.LastEvaluatedKey;
      } while (startKey && records.length < limit);
    } catch (error) {
      if (error instanceof DependencyError) throw error;
      throw this.failure(error, 'dynamodb:Query');
    }
    return records;
  }

  /**
   * UpdateItem conditioned on `status = from`: of any number of concurrent transitions from the same
   * state, DynamoDB applies exactly one. Returns false when the status was not `from` (or no such item).
   */
  async transition(
    id: string,
    from: ApprovalStatus,
    changes: Partial<ApprovalRecord> & { status: ApprovalStatus },
  ): Promise<boolean> {
    const fields = Object.entries(withoutUndefined(changes));
    if (fields.some(([name]) => name === PK || name === APPROVALS_TABLE.ttlAttribute)) {
      throw new DependencyError(DEPENDENCY, `a transition of approval ${id} may not change its id or ttl`);
    }
    const names: Record<string, string> = { '#status': INDEX.partitionKey };
    const values: Record<string, unknown> = { ':from': from };
    const assignments = fields.map(([name, value], index) => {
      names[`#f${index}`] = name;
      values[`:f${index}`] = value;
      return `#f${index} = :f${index}`;
    });
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: id },
          UpdateExpression: `SET ${assignments.join(', ')}`,
          // A missing item has no status, so this also keeps UpdateItem from creating one.
          ConditionExpression: '#status = :from',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw this.failure(error, 'dynamodb:UpdateItem');
    }
  }

  /**
   * Checks an item's shape before core trusts it: an item that is not an approval (hand-edited, or
   * written by another version) fails closed instead of being half-read.
   */
  private toRecord(item: Record<string, unknown>): ApprovalRecord {
    // `ttl` is the table's housekeeping, not part of the approval.
    const rest = Object.fromEntries(
      Object.entries(item).filter(([name]) => name !== APPROVALS_TABLE.ttlAttribute),
    );
    const label = typeof item[PK] === 'string' ? `approval ${item[PK]}` : 'an approval item';
    const missing: string[] = REQUIRED_TEXT.filter((field) => typeof rest[field] !== 'string');
    const preview = rest.preview as { call?: unknown; sha256?: unknown } | undefined;
    if (
      typeof preview !== 'object' ||
      preview === null ||
      typeof preview.call !== 'object' ||
      preview.call === null ||
      typeof preview.sha256 !== 'string'
    ) {
      missing.push('preview');
    }
    if (!Array.isArray(rest.reasons)) missing.push('reasons');
    if (!STATUSES.has(rest.status as string)) missing.push('status');
    if (missing.length > 0) {
      throw new DependencyError(
        DEPENDENCY,
        `${label} in table ${this.tableName} is malformed (${missing.join(', ')}); it cannot be decided or run`,
      );
    }
    return rest as unknown as ApprovalRecord;
  }

  private failure(error: unknown, action: string): DependencyError {
    return new DependencyError(
      DEPENDENCY,
      describeAwsError(error, { action, resource: `table ${this.tableName}` }),
      {
        cause: error,
      },
    );
  }
}

function isConditionFailure(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'ConditionalCheckFailedException';
}

/**
 * JSON has no `undefined` and the document client refuses it unless configured to drop it; optional
 * fields (an `UpstreamCall` without `url`) are dropped here, as canonical JSON drops them for the hash.
 */
function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutUndefined) as T;
  if (typeof value !== 'object' || value === null) return value;
  const result: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    if (member !== undefined) result[key] = withoutUndefined(member);
  }
  return result as T;
}
