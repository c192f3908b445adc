/**
 * Revoked tokens and principals in the revocations table (key schema in table-schemas.ts):
 * - `jti#<jti>`: one token, kept until it would have expired anyway;
 * - `principal#<name>`: every token of the principal issued before `issuedBefore`, kept until `keepUntil`.
 * DynamoDB's TTL deletes items after `ttl` (epoch seconds). The same code runs against dynalite locally.
 */
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { AirlockError, DependencyError } from '../../core/errors';
import { type Clock, type RevocationStore, systemClock } from '../../core/ports';
import { describeAwsError } from './aws-permission-error';
import { REVOCATIONS_TABLE } from './table-schemas';

/** BatchGetItem may leave keys unprocessed under load; retried this often before the check fails closed. */
const MAX_BATCH_ATTEMPTS = 3;

export interface DynamoDbRevocationStoreProps {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /**
   * Kept this long past a token's expiry, because verifiers accept a token up to the clock skew after `exp`
   * (config `tokens.clockSkewSeconds`, at most 300).
   * @default 300
   */
  readonly ttlMarginSeconds?: number;
  /** Stamps `revokedAt`. @default the system clock */
  readonly clock?: Clock;
}

/** The table item of a revoked token or principal, as stored. */
export interface RevocationItem {
  readonly pk: string;
  readonly kind: 'token' | 'principal';
  readonly revokedBy: string;
  readonly revokedAt: string;
  /** Token: its expiry (ISO). */
  readonly expiresAt?: string;
  /** Principal: tokens issued before this instant (epoch milliseconds, comparable in a condition). */
  readonly issuedBeforeMs?: number;
  /** Principal: `issuedBeforeMs` as ISO, for people reading the table. */
  readonly issuedBefore?: string;
  readonly keepUntil?: string;
  /** Epoch seconds after which DynamoDB may delete the item. */
  readonly ttl: number;
}

export function tokenRevocationKey(jti: string): string {
  return `jti#${jti}`;
}

export function principalRevocationKey(principal: string): string {
  return `principal#${principal}`;
}

export class DynamoDbRevocationStore implements RevocationStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly ttlMarginSeconds: number;
  private readonly clock: Clock;

  constructor(props: DynamoDbRevocationStoreProps) {
    this.client = props.client;
    this.tableName = props.tableName;
    this.ttlMarginSeconds = props.ttlMarginSeconds ?? 300;
    this.clock = props.clock ?? systemClock;
  }

  async revokeToken(jti: string, expiresAt: Date, revokedBy: string): Promise<void> {
    requireText(jti, 'the token id (jti)');
    requireDate(expiresAt, 'expiresAt');
    const item: RevocationItem = {
      pk: tokenRevocationKey(jti),
      kind: 'token',
      revokedBy,
      revokedAt: this.clock.now().toISOString(),
      expiresAt: expiresAt.toISOString(),
      ttl: this.ttlOf(expiresAt),
    };
    await this.call('dynamodb:PutItem', () =>
      this.client.send(new PutCommand({ TableName: this.tableName, Item: item })),
    );
  }

  /**
   * Never moves a principal's `issuedBefore` back: a second, earlier revocation leaves the later one in
   * place (and only extends how long it is kept).
   */
  async revokePrincipal(
    principal: string,
    issuedBefore: Date,
    keepUntil: Date,
    revokedBy: string,
  ): Promise<void> {
    requireText(principal, 'the principal');
    requireDate(issuedBefore, 'issuedBefore');
    requireDate(keepUntil, 'keepUntil');
    const item: RevocationItem = {
      pk: principalRevocationKey(principal),
      kind: 'principal',
      revokedBy,
      revokedAt: this.clock.now().toISOString(),
      issuedBeforeMs: issuedBefore.getTime(),
      issuedBefore: issuedBefore.toISOString(),
      keepUntil: keepUntil.toISOString(),
      ttl: this.ttlOf(keepUntil),
    };
    try {
      await this.call('dynamodb:PutItem', () =>
        this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(pk) OR issuedBeforeMs <= :issuedBeforeMs',
            ExpressionAttributeValues: { ':issuedBeforeMs': item.issuedBeforeMs },
          }),
        ),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      await this.extendKeep(item);
    }
  }

  /** One consistent BatchGetItem for the token's and the principal's item. Throws when unreadable. */
  async isRevoked(token: { jti: string; principal: string; issuedAt: Date }): Promise<boolean> {
    const keys = [{ pk: tokenRevocationKey(token.jti) }, { pk: principalRevocationKey(token.principal) }];
    const found: Record<string, unknown>[] = [];
    let pending: Record<string, unknown>[] = keys;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > MAX_BATCH_ATTEMPTS) {
        throw new DependencyError(
          'revocation store',
          `the revocation check of ${this.tableName} stayed unprocessed after ${MAX_BATCH_ATTEMPTS} attempts (throttled)`,
        );
      }
      const output = await this.call('dynamodb:BatchGetItem', () =>
        this.client.send(
          new BatchGetCommand({
            RequestItems: {
              [this.tableName]: {
                Keys: pending,
                ConsistentRead: true,
                ProjectionExpression: 'pk, issuedBeforeMs',
              },
            },
          }),
        ),
      );
      found.push(...(output.Responses?.[this.tableName] ?? []));
      pending = output.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    return found.some((item) => {
      if (item.pk === keys[0].pk) return true;
      // A principal item without a usable time cannot be decided: the token counts as revoked.
      const issuedBeforeMs = item.issuedBeforeMs;
      return typeof issuedBeforeMs !== 'number' || token.issuedAt.getTime() < issuedBeforeMs;
    });
  }

  private async extendKeep(item: RevocationItem): Promise<void> {
    try {
      await this.call('dynamodb:UpdateItem', () =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: item.pk },
            UpdateExpression: 'SET #ttl = :ttl, keepUntil = :keepUntil',
            ConditionExpression: '#ttl < :ttl',
            ExpressionAttributeNames: { '#ttl': REVOCATIONS_TABLE.ttlAttribute },
            ExpressionAttributeValues: { ':ttl': item.ttl, ':keepUntil': item.keepUntil },
          }),
        ),
      );
    } catch (error) {
      // Already kept at least as long: nothing to do.
      if (!isConditionFailure(error)) throw error;
    }
  }

  private ttlOf(until: Date): number {
    return Math.ceil(until.getTime() / 1000) + this.ttlMarginSeconds;
  }

  private async call<T>(action: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw new DependencyError(
        'revocation store',
        describeAwsError(error, { action, resource: `table ${this.tableName}` }),
        { cause: error },
      );
    }
  }
}

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof DependencyError &&
    (error.cause as Error | undefined)?.name === 'ConditionalCheckFailedException'
  );
}

function requireText(value: string, what: string): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new AirlockError('invalid_request', `${what} is required to revoke`);
  }
}

function requireDate(value: Date, what: string): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new AirlockError('invalid_request', `${what} is not a valid date`);
  }
}
