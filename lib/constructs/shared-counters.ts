import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { FUNCTION_ENV } from '../contracts/environment';
import { COUNTERS_TABLE } from '../contracts/tables';
import type { AirlockFunction } from './airlock-function';
import type { AirlockKeys } from './airlock-keys';
import { secureTable } from './secure-table';

export interface SharedCountersProps {
  /** The keys: the data key encrypts the table. */
  readonly keys: AirlockKeys;
}

/**
 * Counters every Lambda execution environment shares: a workflow's spend today (the daily spend cap),
 * each principal's self-reported usage today (its share of the cap) and each principal's amounts today
 * (the split-entry approval rule). Items change only by atomic `ADD` and age out by TTL a day after the
 * day they count.
 */
export class SharedCounters extends Construct {
  /** The counters table (construct id `Resource`). */
  public readonly table: dynamodb.Table;
  private readonly keys: AirlockKeys;

  constructor(scope: Construct, id: string, props: SharedCountersProps) {
    super(scope, id);
    this.keys = props.keys;
    this.table = secureTable(this, 'Resource', {
      partitionKey: { name: COUNTERS_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: COUNTERS_TABLE.ttlAttribute,
      encryptionKey: props.keys.dataKey,
    });
  }

  /**
   * Allows `dynamodb:UpdateItem` only: an atomic addition that returns the new value (every read of a
   * counter is an addition, of 0 when nothing is added), so a function can neither delete nor set one.
   */
  public grantCount(grantee: iam.IGrantable): iam.Grant {
    const grant = this.table.grant(grantee, 'dynamodb:UpdateItem');
    this.keys.grantEncryptDecrypt(grantee, 'dynamodb');
    return grant;
  }

  /** Binds a counting function: `AIRLOCK_COUNTERS_TABLE` with `dynamodb:UpdateItem` only. */
  public bindCounter(fn: AirlockFunction): void {
    fn.addEnvironment(FUNCTION_ENV.countersTable, this.table.tableName);
    this.grantCount(fn);
  }
}
