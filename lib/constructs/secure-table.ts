import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

/** What a table owner chooses: its key schema, its TTL attribute and the customer managed key. */
export interface SecureTableProps {
  /** Partition key of the table. */
  readonly partitionKey: dynamodb.Attribute;
  /**
   * Sort key of the table.
   * @default - none
   */
  readonly sortKey?: dynamodb.Attribute;
  /**
   * Attribute holding each item's expiry (epoch seconds); DynamoDB deletes expired items.
   * @default - no TTL
   */
  readonly timeToLiveAttribute?: string;
  /** Customer managed key that encrypts the table. */
  readonly encryptionKey: kms.IKey;
}

/**
 * Creates a DynamoDB table with Airlock's secure defaults: on-demand billing, encryption with the
 * given customer managed key, point-in-time recovery, deletion protection and a retained table.
 *
 * Merge order: the caller's key schema and TTL attribute first, then the secure defaults, which
 * the caller cannot change (the props type has no field for them), so no table can be created
 * with weaker settings by passing an override.
 */
export function secureTable(scope: Construct, id: string, props: SecureTableProps): dynamodb.Table {
  return new dynamodb.Table(scope, id, {
    partitionKey: props.partitionKey,
    sortKey: props.sortKey,
    timeToLiveAttribute: props.timeToLiveAttribute,
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: props.encryptionKey,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}
