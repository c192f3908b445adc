import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { FUNCTION_ENV } from '../contracts/environment';
import { DIGEST_PREFIX } from '../contracts/storage';
import type { AirlockFunction } from './airlock-function';
import type { AirlockKeys } from './airlock-keys';
import { secureTable } from './secure-table';

/** Key schema of the audit table; the same names as lambdas/adapters/aws/table-schemas.ts (a test checks). */
export const AUDIT_TABLE_KEYS = { partitionKey: 'chainId', sortKey: 'seq' } as const;

/** Where the anchor function writes signed chain-head digests inside the digest bucket. */

export interface AuditLedgerProps {
  /** The keys: the data key encrypts the table and the bucket. */
  readonly keys: AirlockKeys;
  /** Days each digest stays immutable under S3 Object Lock in COMPLIANCE mode (nobody, not even root, can shorten it). */
  readonly objectLockRetentionDays: number;
  /** Bucket that receives the digest bucket's server access logs. */
  readonly accessLogsBucket: s3.IBucket;
}

/**
 * The tamper-evident audit ledger: a DynamoDB table of hash chains (append-only for writers) and
 * an S3 bucket with Object Lock in COMPLIANCE mode for the KMS-signed digests of chain heads.
 */
export class AuditLedger extends Construct {
  /** The ledger table (construct id `Resource`). */
  public readonly table: dynamodb.Table;
  /** Object Lock bucket for signed digests. */
  public readonly digestBucket: s3.Bucket;
  private readonly keys: AirlockKeys;

  constructor(scope: Construct, id: string, props: AuditLedgerProps) {
    super(scope, id);
    const days = props.objectLockRetentionDays;
    if (!Number.isInteger(days) || days < 1 || days > 36500) {
      throw new Error(
        `AuditLedger: objectLockRetentionDays must be a whole number of days from 1 to 36500 (got ${days})`,
      );
    }
    this.keys = props.keys;
    this.table = secureTable(this, 'Resource', {
      partitionKey: { name: AUDIT_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: AUDIT_TABLE_KEYS.sortKey, type: dynamodb.AttributeType.NUMBER },
      encryptionKey: props.keys.dataKey,
    });
    this.digestBucket = new s3.Bucket(this, 'DigestBucket', {
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(days)),
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.keys.dataKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'audit-digests/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** Allows `dynamodb:PutItem` only: writers append records, they never read, change or delete them. */
  public grantAppend(grantee: iam.IGrantable): iam.Grant {
    const grant = this.table.grant(grantee, 'dynamodb:PutItem');
    this.keys.grantEncryptDecrypt(grantee, 'dynamodb');
    return grant;
  }

  /** Allows reading the ledger (`dynamodb:Query`, `dynamodb:Scan`) to find chain heads. */
  public grantReadRecords(grantee: iam.IGrantable): iam.Grant {
    const grant = this.table.grant(grantee, 'dynamodb:Query', 'dynamodb:Scan');
    this.keys.grantDecrypt(grantee, 'dynamodb');
    return grant;
  }

  /** Allows `dynamodb:Scan` only: listing every chain's head (what the anchor signs). */
  public grantListChainHeads(grantee: iam.IGrantable): iam.Grant {
    const grant = this.table.grant(grantee, 'dynamodb:Scan');
    this.keys.grantDecrypt(grantee, 'dynamodb');
    return grant;
  }

  /**
   * Allows reading the digests: `s3:ListBucket` limited by `s3:prefix` to `digests/`, and
   * `s3:GetObject` below it, with `kms:Decrypt` for the SSE-KMS objects.
   */
  public grantReadDigests(grantee: iam.IGrantable): iam.Grant {
    // ListBucket is a bucket-level action: the prefix condition keeps the listing to the digests.
    const list = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:ListBucket'],
      resourceArns: [this.digestBucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${DIGEST_PREFIX}*`] } },
    });
    const read = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject'],
      resourceArns: [this.digestBucket.arnForObjects(`${DIGEST_PREFIX}*`)],
    });
    this.keys.grantDecrypt(grantee, 's3');
    return list.combine(read);
  }

  /**
   * Allows `s3:PutObject` on the digests only, with the data key's `kms:Encrypt`/`kms:GenerateDataKey`
   * that SSE-KMS needs for a new object (no overwrite protection is needed here: the store writes
   * with `If-None-Match` and Object Lock keeps every version).
   */
  public grantPutDigests(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:PutObject'],
      resourceArns: [this.digestBucket.arnForObjects(`${DIGEST_PREFIX}*`)],
    });
    this.keys.grantEncryptDecrypt(grantee, 's3');
    return grant;
  }

  /** Binds a ledger writer: `AIRLOCK_AUDIT_TABLE` with `dynamodb:PutItem` only. */
  public bindWriter(fn: AirlockFunction): void {
    fn.addEnvironment(FUNCTION_ENV.auditTable, this.table.tableName);
    this.grantAppend(fn);
  }

  /**
   * Binds the anchor: the ledger (append for `kill_switch_changed`, scan for chain heads) and
   * `AIRLOCK_DIGEST_BUCKET` with list, read and put on the digests. The anchor lists and reads the
   * digests it wrote before (to anchor only chains that moved on and to detect a conflicting
   * digest) before it puts new ones, so put alone would fail every run with AccessDenied.
   */
  public bindAnchor(fn: AirlockFunction): void {
    this.bindWriter(fn);
    this.grantListChainHeads(fn);
    fn.addEnvironment(FUNCTION_ENV.digestBucket, this.digestBucket.bucketName);
    this.grantReadDigests(fn);
    this.grantPutDigests(fn);
  }
}
