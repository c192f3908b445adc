import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { FUNCTION_ENV } from '../contracts/environment';
import type { AirlockFunction } from './airlock-function';
import type { AirlockKeys } from './airlock-keys';
import { secureTable } from './secure-table';

/** Key schema of the approvals table; the same names as lambdas/adapters/aws/table-schemas.ts (a test checks). */
export const APPROVALS_TABLE_KEYS = {
  partitionKey: 'id',
  statusIndex: { name: 'byStatus', partitionKey: 'status', sortKey: 'createdAt' },
  ttlAttribute: 'ttl',
} as const;

export interface ApprovalStoreProps {
  /** The keys: the data key encrypts the table. */
  readonly keys: AirlockKeys;
}

/** Calls held for a human's approval: a DynamoDB table with a status index; expired approvals age out by TTL. */
export class ApprovalStore extends Construct {
  /** The approvals table (construct id `Resource`). */
  public readonly table: dynamodb.Table;
  private readonly keys: AirlockKeys;

  constructor(scope: Construct, id: string, props: ApprovalStoreProps) {
    super(scope, id);
    this.keys = props.keys;
    this.table = secureTable(this, 'Resource', {
      partitionKey: { name: APPROVALS_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: APPROVALS_TABLE_KEYS.ttlAttribute,
      encryptionKey: props.keys.dataKey,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: APPROVALS_TABLE_KEYS.statusIndex.name,
      partitionKey: {
        name: APPROVALS_TABLE_KEYS.statusIndex.partitionKey,
        type: dynamodb.AttributeType.STRING,
      },
      sortKey: { name: APPROVALS_TABLE_KEYS.statusIndex.sortKey, type: dynamodb.AttributeType.STRING },
    });
  }

  /**
   * Allows reading and writing approvals, with exact KMS actions: the item actions on the table, and
   * `dynamodb:Query` on the status index only (a Query with an index is authorized on the index's ARN).
   */
  public grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    const items = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      resourceArns: [this.table.tableArn],
    });
    // Named index ARN rather than `table.grant`'s `<table>/index/*`.
    const listing = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:Query'],
      resourceArns: [`${this.table.tableArn}/index/${APPROVALS_TABLE_KEYS.statusIndex.name}`],
    });
    this.keys.grantEncryptDecrypt(grantee, 'dynamodb');
    return items.combine(listing);
  }

  /** Binds an approvals user: `AIRLOCK_APPROVALS_TABLE` with read/write access. */
  public bindReadWrite(fn: AirlockFunction): void {
    fn.addEnvironment(FUNCTION_ENV.approvalsTable, this.table.tableName);
    this.grantReadWrite(fn);
  }
}
