import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { FUNCTION_ENV } from '../contracts/environment';
import type { AirlockFunction } from './airlock-function';
import type { AirlockKeys } from './airlock-keys';
import { secureTable } from './secure-table';

/** Key schema of the OAuth table; the same names as OAUTH_TABLE in lambdas/adapters/aws/dynamodb-oauth-store.ts (a test checks). */
export const OAUTH_TABLE_KEYS = { partitionKey: 'pk', ttlAttribute: 'ttl' } as const;

export interface OAuthStateProps {
  /** The keys: the data key encrypts the table. */
  readonly keys: AirlockKeys;
}

/**
 * The OAuth entry point's state: registered clients, pending sign-ins, authorization codes and
 * refresh-token families (codes and refresh tokens only as hashes), in one DynamoDB table whose
 * items age out by TTL.
 */
export class OAuthState extends Construct {
  /** The OAuth table (construct id `Resource`). */
  public readonly table: dynamodb.Table;
  private readonly keys: AirlockKeys;

  constructor(scope: Construct, id: string, props: OAuthStateProps) {
    super(scope, id);
    this.keys = props.keys;
    this.table = secureTable(this, 'Resource', {
      partitionKey: { name: OAUTH_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: OAUTH_TABLE_KEYS.ttlAttribute,
      encryptionKey: props.keys.dataKey,
    });
  }

  /**
   * Allows exactly the item operations DynamoDbOAuthStore uses (get, put, conditional update, delete
   * of a pending sign-in), with exact KMS actions instead of `grantReadWriteData`'s scans, batches
   * and `kms:*` wildcards.
   */
  public grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    const grant = this.table.grant(
      grantee,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    );
    this.keys.grantEncryptDecrypt(grantee, 'dynamodb');
    return grant;
  }

  /** Binds the OAuth function: `AIRLOCK_OAUTH_TABLE` with read/write access to the items. */
  public bindServer(fn: AirlockFunction): void {
    fn.addEnvironment(FUNCTION_ENV.oauthTable, this.table.tableName);
    this.grantReadWrite(fn);
  }
}
