/**
 * The revocation list in the revocations table (key schema in lib/contracts/tables.ts):
 * - `jti#<jti>`: one token, kept until it would have expired anyway;
 * - `principal#<name>`: every token of the principal issued before `issuedBefore`, kept until `keepUntil`;
 * - `certificate#<x5t#S256>` / `certificate-serial#<hex>`: a blocked device certificate, by thumbprint or
 *   by serial, until lifted (then kept until no token it covers can still be valid);
 * - `suspension#<name>`: a suspended principal, likewise;
 * - `kill-switch#<parameter name>`: the copy of one kill-switch parameter (the same JSON), written by
 *   the CLI with the parameter and read by every request with the entries above.
 * DynamoDB's TTL deletes items after `ttl` (epoch seconds). The same code runs against dynalite locally.
 */
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  paginateScan,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { REVOCATIONS_TABLE } from '../../../lib/contracts/tables';
import { AirlockError, DependencyError } from '../../core/errors';
import {
  type BlockTarget,
  type Clock,
  type RevocationChange,
  type RevocationEntries,
  type RevocationListEditor,
  type RevocationListEntry,
  type RevocationMark,
  type RevocationQuery,
  type RevocationStore,
  systemClock,
} from '../../core/ports';
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
  /** Why, as the operator gave it (also in the audit record). */
  readonly reason?: string;
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

/** The table item of a blocked certificate or a suspended principal, as stored. */
export interface BlockItem {
  readonly pk: string;
  readonly kind: BlockTarget['kind'];
  /** The thumbprint, serial or principal. */
  readonly id: string;
  /** `blocked` refuses everything; `lifted` only tokens issued before `issuedBeforeMs`. */
  readonly state: 'blocked' | 'lifted';
  /** Tokens issued before this instant stay dead (epoch milliseconds): the block, then the lift. */
  readonly issuedBeforeMs: number;
  readonly issuedBefore: string;
  readonly revokedBy: string;
  readonly revokedAt: string;
  readonly reason: string;
  /** What the operator knew of the certificate (subject, serial, thumbprint), for people. */
  readonly details?: Readonly<Record<string, string>>;
  readonly liftedBy?: string;
  readonly liftedAt?: string;
  readonly liftReason?: string;
  readonly keepUntil?: string;
  /** Only once lifted: a block in force is never deleted. */
  readonly ttl?: number;
}

/** The prefix of each kind of key; the part after it is the id. */
const KEY_PREFIXES = {
  token: 'jti#',
  principal: 'principal#',
  certificate: 'certificate#',
  'certificate-serial': 'certificate-serial#',
  suspension: 'suspension#',
  'kill-switch': 'kill-switch#',
} as const;

export function tokenRevocationKey(jti: string): string {
  return `${KEY_PREFIXES.token}${jti}`;
}

export function principalRevocationKey(principal: string): string {
  return `${KEY_PREFIXES.principal}${principal}`;
}

/** The key of a blocked certificate (by thumbprint or serial) or a suspended principal. */
export function blockKey(target: BlockTarget): string {
  switch (target.kind) {
    case 'certificate':
      return `${KEY_PREFIXES.certificate}${target.thumbprint}`;
    case 'certificate-serial':
      return `${KEY_PREFIXES['certificate-serial']}${target.serialNumber}`;
    case 'suspension':
      return `${KEY_PREFIXES.suspension}${target.principal}`;
  }
}

/** The key of the DynamoDB copy of a kill-switch parameter. */
export function killSwitchCopyKey(parameter: string): string {
  return `${KEY_PREFIXES['kill-switch']}${parameter}`;
}

type RevocationStoreMethod = keyof RevocationStore | keyof RevocationListEditor;

/**
 * The IAM actions each method sends, all on the revocations table. The functions only read
 * (`readEntries`); everything else is the operator CLI's.
 */
export const REVOCATION_STORE_ACTIONS = {
  readEntries: ['dynamodb:BatchGetItem'],
  revokeToken: ['dynamodb:PutItem'],
  // UpdateItem only when a later revocation of the principal already exists (its keep is extended).
  revokePrincipal: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
  block: ['dynamodb:PutItem'],
  lift: ['dynamodb:UpdateItem'],
  listEntries: ['dynamodb:Scan'],
  readKillSwitchCopies: ['dynamodb:BatchGetItem'],
  writeKillSwitchCopy: ['dynamodb:PutItem'],
} as const satisfies IamActions<RevocationStoreMethod>;

/**
 * The revocation list in DynamoDB (or dynalite locally).
 *
 * `readEntries` coalesces concurrent lookups: the calls made in one event-loop turn share one consistent
 * BatchGetItem, sent on `setImmediate`, with each key asked once. A long-lived process (the local pilot, a
 * container) serving many requests of the same agent then pays one DynamoDB call per turn instead of one per
 * request; in Lambda (one request per environment at a time) every batch holds one request's lookup: its
 * token, principal, certificate, suspension and kill-switch copies, at most seven keys.
 * - Fresh: a call only joins a batch that has not been sent yet, so its read starts after the call did and
 *   sees every change completed before it. Results are never kept: a later call gets a new read.
 * - Bounded: a batch waits at most until the end of the current turn, and holds at most 100 keys per request
 *   (larger batches are split and sent in parallel).
 * - Fails closed together: when any part of a batch cannot be read, every call in it rejects with the same error.
 *
 * `setImmediate` rather than `queueMicrotask`: concurrent requests reach the check in separate callbacks of the
 * same I/O phase (socket reads, crypto completions), and a microtask would flush after the first of them alone.
 * `setImmediate` runs right after that phase, so the added wait is the rest of the current turn.
 */
export class DynamoDbRevocationStore
  implements RevocationStore, RevocationListEditor, DeclaresIamPermissions<RevocationStoreMethod>
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

  iamPermissions(methods: readonly RevocationStoreMethod[], scope: AwsScope): IamPermission[] {
    return permissionsOf('DynamoDbRevocationStore', REVOCATION_STORE_ACTIONS, methods, () => [
      { resource: dynamoDbTableArn(scope, this.tableName) },
    ]);
  }

  async revokeToken(jti: string, expiresAt: Date, revokedBy: string, reason?: string): Promise<void> {
    requireText(jti, 'the token id (jti)');
    requireDate(expiresAt, 'expiresAt');
    const item: RevocationItem = {
      pk: tokenRevocationKey(jti),
      kind: 'token',
      revokedBy,
      revokedAt: this.clock.now().toISOString(),
      ...(reason === undefined ? {} : { reason }),
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
    reason?: string,
  ): Promise<void> {
    requireText(principal, 'the principal');
    requireDate(issuedBefore, 'issuedBefore');
    requireDate(keepUntil, 'keepUntil');
    const item: RevocationItem = {
      pk: principalRevocationKey(principal),
      kind: 'principal',
      revokedBy,
      revokedAt: this.clock.now().toISOString(),
      ...(reason === undefined ? {} : { reason }),
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
   * Reads every entry of `query` with one consistent BatchGetItem, shared with the other calls of the same
   * event-loop turn (see the class). Throws when unreadable.
   */
  async readEntries(query: RevocationQuery): Promise<RevocationEntries> {
    const keys = {
      token: query.jti === undefined ? undefined : tokenRevocationKey(query.jti),
      principal: query.principal === undefined ? undefined : principalRevocationKey(query.principal),
      suspension:
        query.principal === undefined
          ? undefined
          : blockKey({ kind: 'suspension', principal: query.principal }),
      certificate:
        query.certificate === undefined
          ? undefined
          : blockKey({ kind: 'certificate', thumbprint: query.certificate.thumbprint }),
      certificateSerial:
        query.certificate?.serialNumber === undefined
          ? undefined
          : blockKey({ kind: 'certificate-serial', serialNumber: query.certificate.serialNumber }),
    };
    const switchKeys = (query.killSwitch ?? []).map((name) => [name, killSwitchCopyKey(name)] as const);
    const wanted = [
      ...Object.values(keys).filter((key): key is string => key !== undefined),
      ...switchKeys.map(([, key]) => key),
    ];
    // The batch may hold other callers' items: decide on this query's keys only.
    const items = await this.lookUp(wanted);
    const killSwitch: Record<string, string | undefined> = {};
    for (const [name, key] of switchKeys) {
      const item = items.get(key);
      // A copy without a string value cannot be read: '' is unreadable JSON, so it counts as engaged.
      if (item !== undefined) killSwitch[name] = typeof item.value === 'string' ? item.value : '';
    }
    const entries: { -readonly [K in keyof RevocationEntries]: RevocationEntries[K] } = { killSwitch };
    const token = keys.token === undefined ? undefined : items.get(keys.token);
    if (token !== undefined) entries.token = { blocked: true, issuedBeforeMs: null };
    const principal = keys.principal === undefined ? undefined : items.get(keys.principal);
    if (principal !== undefined) entries.principal = { blocked: false, issuedBeforeMs: timeOf(principal) };
    for (const field of ['suspension', 'certificate', 'certificateSerial'] as const) {
      const key = keys[field];
      const item = key === undefined ? undefined : items.get(key);
      if (item !== undefined) entries[field] = blockMarkOf(item);
    }
    return entries;
  }

  async block(
    target: BlockTarget,
    change: RevocationChange,
    details?: Readonly<Record<string, string>>,
  ): Promise<void> {
    requireText(idOf(target), 'what to block');
    requireText(change.reason, 'the reason');
    requireDate(change.at, 'the time of the change');
    const item: BlockItem = {
      pk: blockKey(target),
      kind: target.kind,
      id: idOf(target),
      state: 'blocked',
      issuedBeforeMs: change.at.getTime(),
      issuedBefore: change.at.toISOString(),
      revokedBy: change.by,
      revokedAt: change.at.toISOString(),
      reason: change.reason,
      ...(details === undefined || Object.keys(details).length === 0 ? {} : { details }),
    };
    // A block replaces whatever was there (a lifted block, or the same block with an older reason).
    await this.call('dynamodb:PutItem', () =>
      this.client.send(new PutCommand({ TableName: this.tableName, Item: item })),
    );
  }

  async lift(target: BlockTarget, change: RevocationChange, keepUntil: Date): Promise<boolean> {
    requireText(change.reason, 'the reason');
    requireDate(change.at, 'the time of the change');
    requireDate(keepUntil, 'keepUntil');
    try {
      await this.call('dynamodb:UpdateItem', () =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: blockKey(target) },
            // Tokens issued before the lift stay dead: a token issued in the moment a block was being
            // written (its read started before it) is no more trusted than one issued before it.
            UpdateExpression:
              'SET #state = :lifted, issuedBeforeMs = :at, issuedBefore = :atIso, liftedBy = :by, liftedAt = :atIso, liftReason = :reason, keepUntil = :keepUntil, #ttl = :ttl',
            ConditionExpression: '#state = :blocked',
            ExpressionAttributeNames: { '#state': 'state', '#ttl': REVOCATIONS_TABLE.ttlAttribute },
            ExpressionAttributeValues: {
              ':lifted': 'lifted',
              ':blocked': 'blocked',
              ':at': change.at.getTime(),
              ':atIso': change.at.toISOString(),
              ':by': change.by,
              ':reason': change.reason,
              ':keepUntil': keepUntil.toISOString(),
              ':ttl': this.ttlOf(keepUntil),
            },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async listEntries(): Promise<RevocationListEntry[]> {
    const now = this.clock.now().getTime();
    const entries: RevocationListEntry[] = [];
    await this.call('dynamodb:Scan', async () => {
      for await (const page of paginateScan(
        { client: this.client },
        { TableName: this.tableName, ConsistentRead: true },
      )) {
        for (const item of page.Items ?? []) {
          const entry = listEntryOf(item);
          // Expired entries wait for DynamoDB's TTL sweep (up to days): they no longer refuse anything.
          const ttl = item[REVOCATIONS_TABLE.ttlAttribute];
          if (entry !== undefined && !(typeof ttl === 'number' && ttl * 1000 <= now)) entries.push(entry);
        }
      }
    });
    return entries.sort((a, b) => (a.at ?? '').localeCompare(b.at ?? '') || a.id.localeCompare(b.id));
  }

  async readKillSwitchCopies(names: readonly string[]): Promise<Record<string, string | undefined>> {
    const { killSwitch } = await this.readEntries({ killSwitch: names });
    return Object.fromEntries(names.map((name) => [name, killSwitch[name]]));
  }

  async writeKillSwitchCopy(name: string, value: string): Promise<void> {
    requireText(name, 'the kill-switch parameter');
    await this.call('dynamodb:PutItem', () =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: killSwitchCopyKey(name),
            kind: 'kill-switch',
            parameter: name,
            value,
            writtenAt: this.clock.now().toISOString(),
          },
        }),
      ),
    );
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
                ProjectionExpression: 'pk, issuedBeforeMs, #state, #value',
                ExpressionAttributeNames: { '#state': 'state', '#value': 'value' },
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

function idOf(target: BlockTarget): string {
  switch (target.kind) {
    case 'certificate':
      return target.thumbprint;
    case 'certificate-serial':
      return target.serialNumber;
    case 'suspension':
      return target.principal;
  }
}

/** `issuedBeforeMs` when it is a usable time; `null` makes every token the entry covers count as revoked. */
function timeOf(item: Record<string, unknown>): number | null {
  const ms = item.issuedBeforeMs;
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : null;
}

/** A block or suspension: lifted only when the item says so in full; anything else refuses everything. */
function blockMarkOf(item: Record<string, unknown>): RevocationMark {
  const issuedBeforeMs = timeOf(item);
  return item.state === 'lifted' && issuedBeforeMs !== null
    ? { blocked: false, issuedBeforeMs }
    : { blocked: true, issuedBeforeMs };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** One stored item as `airlock revoke list` shows it; kill-switch copies and unknown kinds are not entries. */
function listEntryOf(item: Record<string, unknown>): RevocationListEntry | undefined {
  const pk = text(item.pk) ?? '';
  const kinds = ['token', 'principal', 'certificate-serial', 'certificate', 'suspension'] as const;
  const kind = kinds.find((k) => pk.startsWith(KEY_PREFIXES[k]));
  if (kind === undefined) return undefined;
  const id = pk.slice(KEY_PREFIXES[kind].length);
  const common = {
    kind,
    id,
    ...optional('by', text(item.revokedBy)),
    ...optional('at', text(item.revokedAt)),
    ...optional('reason', text(item.reason)),
  };
  if (kind === 'token') return { ...common, state: 'revoked', ...optional('until', text(item.expiresAt)) };
  if (kind === 'principal') {
    return {
      ...common,
      state: 'revoked',
      ...optional('issuedBefore', text(item.issuedBefore)),
      ...optional('until', text(item.keepUntil)),
    };
  }
  const state = item.state === 'blocked' || item.state === 'lifted' ? item.state : 'unreadable';
  const details = item.details;
  return {
    ...common,
    state,
    ...optional('issuedBefore', text(item.issuedBefore)),
    ...optional('until', state === 'lifted' ? text(item.keepUntil) : undefined),
    ...(state === 'lifted'
      ? {
          lifted: {
            ...optional('by', text(item.liftedBy)),
            ...optional('at', text(item.liftedAt)),
            ...optional('reason', text(item.liftReason)),
          },
        }
      : {}),
    ...(details !== null && typeof details === 'object'
      ? {
          details: Object.fromEntries(
            Object.entries(details as Record<string, unknown>).filter(
              (entry): entry is [string, string] => typeof entry[1] === 'string',
            ),
          ),
        }
      : {}),
  };
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
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
