import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { FUNCTION_ENV } from '../contracts/environment';
import type { AirlockFunction } from './airlock-function';
import type { AirlockKeys } from './airlock-keys';
import { secureTable } from './secure-table';

/** Key schema of the revocations table; the same names as lambdas/adapters/aws/table-schemas.ts (a test checks). */
export const REVOCATIONS_TABLE_KEYS = { partitionKey: 'pk', ttlAttribute: 'ttl' } as const;

export interface RevocationListProps {
  /** The keys: the data key encrypts the table. */
  readonly keys: AirlockKeys;
}

/**
 * The revocation list: revoked token ids and principals, blocked device certificates, suspended
 * principals and the kill switch's copies. Revocations age out by TTL once the tokens they kill have
 * expired; a block or suspension is kept until lifted.
 */
export class RevocationList extends Construct {
  /** The revocations table (construct id `Resource`). */
  public readonly table: dynamodb.Table;
  private readonly keys: AirlockKeys;

  constructor(scope: Construct, id: string, props: RevocationListProps) {
    super(scope, id);
    this.keys = props.keys;
    this.table = secureTable(this, 'Resource', {
      partitionKey: { name: REVOCATIONS_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: REVOCATIONS_TABLE_KEYS.ttlAttribute,
      encryptionKey: props.keys.dataKey,
    });
  }

  /**
   * Allows `dynamodb:BatchGetItem` only: the check every request makes (its token, principal,
   * certificate, suspension and the kill switch's copies, in one consistent batch).
   */
  public grantCheck(grantee: iam.IGrantable): iam.Grant {
    const grant = this.table.grant(grantee, 'dynamodb:BatchGetItem');
    this.keys.grantDecrypt(grantee, 'dynamodb');
    return grant;
  }

  /**
   * Allows changing the list (`airlock revoke`, `kill-switch`): `dynamodb:PutItem`, and
   * `dynamodb:UpdateItem` to extend how long a revocation of a principal is kept and to lift a block.
   */
  public grantRevoke(grantee: iam.IGrantable): iam.Grant {
    const grant = this.table.grant(grantee, 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    this.keys.grantEncryptDecrypt(grantee, 'dynamodb');
    return grant;
  }

  /** Allows `dynamodb:Scan` only: listing the entries (`airlock revoke list`). */
  public grantList(grantee: iam.IGrantable): iam.Grant {
    const grant = this.table.grant(grantee, 'dynamodb:Scan');
    this.keys.grantDecrypt(grantee, 'dynamodb');
    return grant;
  }

  /** Binds a checker: `AIRLOCK_REVOCATIONS_TABLE` with `dynamodb:BatchGetItem` only. */
  public bindChecker(fn: AirlockFunction): void {
    fn.addEnvironment(FUNCTION_ENV.revocationsTable, this.table.tableName);
    this.grantCheck(fn);
  }
}
