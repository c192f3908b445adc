/**
 * The audit store over DynamoDB (and dynalite in the local pilot: same code). A record is one item
 * keyed (chainId, seq) whose attributes are the record's fields.
 */
import type { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  paginateScan,
} from '@aws-sdk/lib-dynamodb';
import { AUDIT_TABLE } from '../../../lib/contracts/tables';
import {
  AuditConflictError,
  type AuditStore,
  type ChainHead,
  type ReadChainOptions,
} from '../../core/audit-ledger';
import type { AuditRecord } from '../../core/audit-record';
import type { CredentialRecordQuery, CredentialRecords } from '../../core/credential-records';
import {
  type AwsScope,
  type DeclaresIamPermissions,
  dynamoDbTableArn,
  type IamActions,
  type IamPermission,
  permissionsOf,
} from './iam-permissions';

export interface DynamoDbAuditStoreProps {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

const PK = AUDIT_TABLE.partitionKey;
const SK = AUDIT_TABLE.sortKey;

type AuditStoreMethod = keyof AuditStore | keyof CredentialRecords;

/**
 * The IAM actions each method sends, all on the audit table. The functions append (PutItem only:
 * a refused write carries the existing item back, so they never need to read); the anchor lists the
 * chain heads; auditors read chains; `airlock revoke` finds the credential records of its target.
 */
export const AUDIT_STORE_ACTIONS = {
  append: ['dynamodb:PutItem'],
  readRecord: ['dynamodb:GetItem'],
  listChainHeads: ['dynamodb:Scan'],
  readChain: ['dynamodb:Query'],
  findCredentialRecords: ['dynamodb:Scan'],
} as const satisfies IamActions<AuditStoreMethod>;

/** {@link AuditStore} over a DynamoDB table with the {@link AUDIT_TABLE} key schema. */
export class DynamoDbAuditStore
  implements AuditStore, CredentialRecords, DeclaresIamPermissions<AuditStoreMethod>
{
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(props: DynamoDbAuditStoreProps) {
    this.client = props.client;
    this.tableName = props.tableName;
  }

  iamPermissions(methods: readonly AuditStoreMethod[], scope: AwsScope): IamPermission[] {
    return permissionsOf('DynamoDbAuditStore', AUDIT_STORE_ACTIONS, methods, () => [
      { resource: dynamoDbTableArn(scope, this.tableName) },
    ]);
  }

  /** Conditional PutItem: written only if no item has this (chainId, seq). */
  async append(record: AuditRecord): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...record },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
          // The existing item comes back with the refusal, so a writer (granted PutItem only) can tell
          // whether its own earlier, seemingly failed write landed.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if ((error as Error)?.name === 'ConditionalCheckFailedException') {
        // The document client does not unmarshall errors: read the raw string attribute.
        const existingHash = (error as ConditionalCheckFailedException).Item?.hash?.S;
        throw new AuditConflictError(record.chainId, record.seq, { cause: error, existingHash });
      }
      throw error;
    }
  }

  async readRecord(chainId: string, seq: number): Promise<AuditRecord | undefined> {
    const output = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { [PK]: chainId, [SK]: seq }, ConsistentRead: true }),
    );
    return output.Item as AuditRecord | undefined;
  }

  /**
   * A consistent Scan projecting only the key, hash and ts, keeping the highest seq per chain.
   * It reads the whole table, which is fine at pilot scale (the anchor runs every few minutes over
   * thousands of records). At production scale, keep a head item per chain or feed the anchor from
   * the table's stream instead.
   */
  async listChainHeads(): Promise<ChainHead[]> {
    const heads = new Map<string, ChainHead>();
    const pages = paginateScan(
      { client: this.client },
      {
        TableName: this.tableName,
        ConsistentRead: true,
        ProjectionExpression: '#pk, #sk, #hash, #ts',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK, '#hash': 'hash', '#ts': 'ts' },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const head = item as ChainHead;
        const known = heads.get(head.chainId);
        if (!known || head.seq > known.seq)
          heads.set(head.chainId, { chainId: head.chainId, seq: head.seq, hash: head.hash, ts: head.ts });
      }
    }
    return [...heads.values()];
  }

  /**
   * A Scan filtered to the credential records naming the query's token or certificate. Like
   * {@link listChainHeads} it reads the whole table (DynamoDB filters after reading): fine for the rare
   * `airlock revoke` at pilot scale; `--force` skips it.
   */
  async findCredentialRecords(query: CredentialRecordQuery): Promise<AuditRecord[]> {
    // DynamoDB refuses names and values an expression does not use: only the asked fields go in.
    const names: Record<string, string> = { '#type': 'type', '#details': 'details' };
    const values: Record<string, string> = { ':issued': 'credential_issued', ':denied': 'credential_denied' };
    const matches: string[] = [];
    const match = (fields: readonly string[], value: string | undefined, placeholder: string) => {
      if (value === undefined) return;
      values[placeholder] = value;
      for (const field of fields) {
        names[`#${field}`] = field;
        matches.push(`#details.#${field} = ${placeholder}`);
      }
    };
    match(['jti', 'familyId'], query.jti, ':jti');
    match(['certificateThumbprint'], query.certificateThumbprint, ':thumbprint');
    match(['certificateSerial'], query.certificateSerial, ':serial');
    if (matches.length === 0) return [];
    const found: AuditRecord[] = [];
    const pages = paginateScan(
      { client: this.client },
      {
        TableName: this.tableName,
        FilterExpression: `#type IN (:issued, :denied) AND (${matches.join(' OR ')})`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) found.push(item as AuditRecord);
    }
    return found;
  }

  /** A consistent Query in seq order, page by page, so a long chain never sits in memory at once. */
  async *readChain(chainId: string, options: ReadChainOptions = {}): AsyncIterable<AuditRecord> {
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        ConsistentRead: true,
        KeyConditionExpression: '#pk = :chainId AND #sk >= :fromSeq',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
        ExpressionAttributeValues: { ':chainId': chainId, ':fromSeq': options.fromSeq ?? 1 },
        ScanIndexForward: true,
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) yield item as AuditRecord;
    }
  }
}
