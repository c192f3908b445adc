/**
 * Revoked tokens and principals in the revocations table (key schema in lib/contracts/tables.ts):
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
import { REVOCATIONS_TABLE } from '../../../lib/contracts/tables';
import { AirlockError, DependencyError } from '../../core/errors';
import { type Clock, type RevocationStore, systemClock } from '../../core/ports';
import { describeAwsError } from './aws-permission-error';
import {
  type AwsScope,
  type DeclaresIamPermissions,
  dynamoDbTableArn,
  type IamActions,
  type IamPermission,
  permissionsOf,
} from './iam-permissions';

/** BatchGetItem may leave keys unprocessed under load; retried this often before the check fails closed. */
const MAX_BATCH_ATTEMPTS = 3;

/** The first retry of unprocessed keys waits up to this long; each further one up to twice as long. */
const RETRY_BASE_DELAY_MS = 25;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** DynamoDB's limit of keys in one BatchGetItem; larger lookups are split into requests sent in parallel. */
const MAX_KEYS_PER_BATCH = 100;

/** The stored items of one read, by key (only the keys that have an item). */
type RevocationItems = ReadonlyMap<string, Record<string, unknown>>;

/** The lookups of one event-loop turn, not yet sent: the keys they need and the promise they share. */
interface PendingBatch {
  readonly keys: Set<string>;
  readonly items: Promise<RevocationItems>;
}

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

/**
 * The IAM actions each method sends, all on the revocations table. The functions only check
 * (`isRevoked`); revoking is the operator CLI's.
 */
export const REVOCATION_STORE_ACTIONS = {
  isRevoked: ['dynamodb:BatchGetItem'],
  revokeToken: ['dynamodb:PutItem'],
  // UpdateItem only when a later revocation of the principal already exists (its keep is extended).
  revokePrincipal: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
} as const satisfies IamActions<keyof RevocationStore>;

/**
 * Revocations in DynamoDB (or dynalite locally).
 *
 * `isRevoked` coalesces concurrent lookups: the calls made in one event-loop turn share one consistent
 * BatchGetItem, sent on `setImmediate`, with each key asked once. A long-lived process (the local pilot, a
 * container) serving many requests of the same agent then pays one DynamoDB call per turn instead of one per
 * request; in Lambda (one request per environment at a time) every batch holds one lookup, as before.
 * - Fresh: a call only joins a batch that has not been sent yet, so its read starts after the call did and
 *   sees every revocation completed before it. Results are never kept: a later call gets a new read.
 * - Bounded: a batch waits at most until the end of the current turn, and holds at most 100 keys per request
 *   (larger batches are split and sent in parallel).
 * - Fails closed together: when any part of a batch cannot be read, every call in it rejects with the same error.
 *
 * `setImmediate` rather than `queueMicrotask`: concurrent requests reach the check in separate callbacks of the
 * same I/O phase (socket reads, crypto completions), and a microtask would flush after the first of them alone.
 * `setImmediate` runs right after that phase, so the added wait is the rest of the current turn.
 */
export class DynamoDbRevocationStore
  implements RevocationStore, DeclaresIamPermissions<keyof RevocationStore>
{
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly ttlMarginSeconds: number;
  private readonly clock: Clock;
  /** The batch that the calls of the current turn join; cleared when it is sent. */
  private pendingBatch: PendingBatch | undefined;

  constructor(props: DynamoDbRevocationStoreProps) {
    this.client = props.client;
    this.tableName = props.tableName;
    this.ttlMarginSeconds = props.ttlMarginSeconds ?? 300;
    this.clock = props.clock ?? systemClock;
  }

  iamPermissions(methods: readonly (keyof RevocationStore)[], scope: AwsScope): IamPermission[] {
    return permissionsOf('DynamoDbRevocationStore', REVOCATION_STORE_ACTIONS, methods, () => [
      { resource: dynamoDbTableArn(scope, this.tableName) },
    ]);
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

  /**
   * Reads the token's and the principal's item with a consistent BatchGetItem, shared with the other calls of
   * the same event-loop turn (see the class). Throws when unreadable.
   */
  async isRevoked(token: { jti: string; principal: string; issuedAt: Date }): Promise<boolean> {
    const tokenKey = tokenRevocationKey(token.jti);
    const principalKey = principalRevocationKey(token.principal);
    // The batch may hold other callers' items: decide on this token's two keys only.
    const items = await this.lookUp([tokenKey, principalKey]);
    if (items.has(tokenKey)) return true;
    const principalItem = items.get(principalKey);
    if (principalItem === undefined) return false;
    // A principal item without a usable time cannot be decided: the token counts as revoked.
    const issuedBeforeMs = principalItem.issuedBeforeMs;
    return typeof issuedBeforeMs !== 'number' || token.issuedAt.getTime() < issuedBeforeMs;
  }

  /** Adds the keys to the batch of this turn and waits for its items. */
  private lookUp(keys: readonly string[]): Promise<RevocationItems> {
    const batch = this.pendingBatch ?? this.openBatch();
    for (const key of keys) batch.keys.add(key);
    return batch.items;
  }

  /** A batch that collects keys for the rest of this turn, then reads them once. */
  private openBatch(): PendingBatch {
    const keys = new Set<string>();
    const items = new Promise<RevocationItems>((resolve, reject) => {
      setImmediate(() => {
        // Closed before the read starts: a call from now on opens a new batch, never joins one in flight.
        this.pendingBatch = undefined;
        this.readItems([...keys]).then(resolve, reject);
      });
    });
    this.pendingBatch = { keys, items };
    return this.pendingBatch;
  }

  /** The items of `keys` (distinct), in requests of at most 100 keys sent in parallel; fails if any fails. */
  private async readItems(keys: readonly string[]): Promise<RevocationItems> {
    const chunks: string[][] = [];
    for (let start = 0; start < keys.length; start += MAX_KEYS_PER_BATCH) {
      chunks.push(keys.slice(start, start + MAX_KEYS_PER_BATCH));
    }
    const found = await Promise.all(chunks.map((chunk) => this.readChunk(chunk)));
    const items = new Map<string, Record<string, unknown>>();
    for (const item of found.flat()) {
      if (typeof item.pk === 'string') items.set(item.pk, item);
    }
    return items;
  }

  /** One BatchGetItem of at most 100 keys, retrying the keys DynamoDB left unprocessed. */
  private async readChunk(keys: readonly string[]): Promise<Record<string, unknown>[]> {
    const found: Record<string, unknown>[] = [];
    let pending: Record<string, unknown>[] = keys.map((pk) => ({ pk }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > MAX_BATCH_ATTEMPTS) {
        throw new DependencyError(
          'revocation store',
          `the revocation check of ${this.tableName} stayed unprocessed after ${MAX_BATCH_ATTEMPTS} attempts (throttled)`,
        );
      }
      // Unprocessed keys mean throttling: back off (exponentially, with full jitter) before asking again.
      if (attempt > 1) await sleep(Math.random() * RETRY_BASE_DELAY_MS * 2 ** (attempt - 2));
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
    return found;
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
