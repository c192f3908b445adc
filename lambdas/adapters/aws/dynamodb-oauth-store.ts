/**
 * The OAuth entry point's state in one DynamoDB table (partition key `pk` (S), TTL attribute `ttl`):
 * - `client#<client_id>`: a registered client, or a cached Client ID Metadata Document;
 * - `pending#<id>`: an authorization request waiting for the IdP sign-in (deleted when taken);
 * - `code#<sha256>`: an authorization code, `used` flipped once by a conditional update;
 * - `family#<id>`: a sign-in (refresh-token family), with `revokedAt` once revoked;
 * - `refresh#<sha256>`: a refresh token, `used` flipped once by a conditional update;
 * - `ticket#<id>`: a consent form waiting for the user's answer (deleted when answered);
 * - `consent#<principal>#<client_id>`: a user's remembered consent to a client;
 * - `counter#<name>`: a registration counter of one hour, incremented atomically;
 * - `assertion#<sha256>`: an ID-JAG's issuer and `jti`, put once by a conditional put, kept until it expires.
 * DynamoDB's TTL removes items lazily, so every read also checks expiry. The same code runs against
 * dynalite in the local pilot.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { DependencyError } from '../../core/errors';
import type { RegisteredClient } from '../../core/oauth/oauth-client';
import type {
  AuthorizationCodeRecord,
  ConsentRecord,
  ConsentTicket,
  OAuthStore,
  PendingAuthorization,
  Redemption,
  RefreshTokenRecord,
  TokenFamily,
} from '../../core/oauth/oauth-store';
import { familyTombstone } from '../../core/oauth/oauth-store';
import { type Clock, systemClock } from '../../core/ports';
import { describeAwsError } from './aws-permission-error';
import {
  type AwsScope,
  type DeclaresIamPermissions,
  dynamoDbTableArn,
  type IamActions,
  type IamPermission,
  permissionsOf,
} from './iam-permissions';

/** Key schema of the OAuth table (the CDK construct declares the same). */
export const OAUTH_TABLE = {
  partitionKey: 'pk', // S: "<kind>#<id>"
  ttlAttribute: 'ttl', // N, epoch seconds
} as const;

/** Used markers outlive their codes this long, so a late replay is still recognised as one. */
const REPLAY_MEMORY_SECONDS = 24 * 60 * 60;

export interface DynamoDbOAuthStoreProps {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** @default the system clock */
  readonly clock?: Clock;
}

/** The IAM actions each method sends, all on the OAuth table. */
export const OAUTH_STORE_ACTIONS = {
  putClient: ['dynamodb:PutItem'],
  getClient: ['dynamodb:GetItem'],
  touchClient: ['dynamodb:UpdateItem'],
  increment: ['dynamodb:UpdateItem'],
  putPendingAuthorization: ['dynamodb:PutItem'],
  takePendingAuthorization: ['dynamodb:DeleteItem'],
  putConsentTicket: ['dynamodb:PutItem'],
  takeConsentTicket: ['dynamodb:DeleteItem'],
  putConsent: ['dynamodb:PutItem'],
  getConsent: ['dynamodb:GetItem'],
  putCode: ['dynamodb:PutItem'],
  redeemCode: ['dynamodb:UpdateItem'],
  putFamily: ['dynamodb:UpdateItem'],
  getFamily: ['dynamodb:GetItem'],
  revokeFamily: ['dynamodb:UpdateItem'],
  putRefreshToken: ['dynamodb:PutItem'],
  getRefreshToken: ['dynamodb:GetItem'],
  useRefreshToken: ['dynamodb:UpdateItem'],
  setRefreshSuccessor: ['dynamodb:UpdateItem'],
  takeRefreshGrace: ['dynamodb:UpdateItem'],
  claimAssertion: ['dynamodb:PutItem'],
} as const satisfies IamActions<keyof OAuthStore>;

export class DynamoDbOAuthStore implements OAuthStore, DeclaresIamPermissions<keyof OAuthStore> {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;

  constructor(props: DynamoDbOAuthStoreProps) {
    this.client = props.client;
    this.tableName = props.tableName;
    this.clock = props.clock ?? systemClock;
  }

  iamPermissions(methods: readonly (keyof OAuthStore)[], scope: AwsScope): IamPermission[] {
    return permissionsOf('DynamoDbOAuthStore', OAUTH_STORE_ACTIONS, methods, () => [
      { resource: dynamoDbTableArn(scope, this.tableName) },
    ]);
  }

  async putClient(client: RegisteredClient, expiresAt?: number): Promise<void> {
    await this.put({
      pk: `client#${client.clientId}`,
      value: client,
      ...(expiresAt ? { ttl: expiresAt } : {}),
    });
  }

  async getClient(clientId: string): Promise<RegisteredClient | undefined> {
    const item = await this.get(`client#${clientId}`);
    return item?.value as RegisteredClient | undefined;
  }

  async touchClient(clientId: string, expiresAt: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `client#${clientId}` },
          UpdateExpression: 'SET #ttl = :ttl',
          // Only an expiring client, only later: a client without TTL stays without one.
          ConditionExpression: 'attribute_exists(pk) AND #ttl < :ttl',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':ttl': expiresAt },
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return;
      throw this.dependencyError('UpdateItem', error);
    }
  }

  async increment(counters: readonly string[], expiresAt: number): Promise<number[]> {
    return Promise.all(
      counters.map(async (name) => {
        const result = await this.send('UpdateItem', () =>
          this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { pk: `counter#${name}` },
              UpdateExpression: 'ADD #count :one SET #ttl = :ttl',
              ExpressionAttributeNames: { '#count': 'count', '#ttl': 'ttl' },
              ExpressionAttributeValues: { ':one': 1, ':ttl': expiresAt },
              ReturnValues: 'UPDATED_NEW',
            }),
          ),
        );
        return Number(result.Attributes?.count ?? 0);
      }),
    );
  }

  async putPendingAuthorization(pending: PendingAuthorization): Promise<void> {
    await this.put({ pk: `pending#${pending.id}`, value: pending, ttl: pending.expiresAt });
  }

  async takePendingAuthorization(id: string): Promise<PendingAuthorization | undefined> {
    return this.take<PendingAuthorization>(`pending#${id}`);
  }

  async putConsentTicket(ticket: ConsentTicket): Promise<void> {
    await this.put({ pk: `ticket#${ticket.id}`, value: ticket, ttl: ticket.expiresAt });
  }

  async takeConsentTicket(id: string): Promise<ConsentTicket | undefined> {
    return this.take<ConsentTicket>(`ticket#${id}`);
  }

  async putConsent(consent: ConsentRecord): Promise<void> {
    await this.put({
      pk: `consent#${consent.principal}#${consent.clientId}`,
      value: consent,
      ttl: consent.expiresAt,
    });
  }

  async getConsent(principal: string, clientId: string): Promise<ConsentRecord | undefined> {
    const item = await this.get(`consent#${principal}#${clientId}`);
    return item?.value as ConsentRecord | undefined;
  }

  /** Deletes an item and returns what it held (unless expired): single use by a delete. */
  private async take<T>(pk: string): Promise<T | undefined> {
    const result = await this.send('DeleteItem', () =>
      this.client.send(
        new DeleteCommand({ TableName: this.tableName, Key: { pk }, ReturnValues: 'ALL_OLD' }),
      ),
    );
    const item = result.Attributes;
    return item && !this.expired(item) ? (item.value as T) : undefined;
  }

  async putCode(code: AuthorizationCodeRecord): Promise<void> {
    await this.put({
      pk: `code#${code.codeHash}`,
      value: code,
      used: false,
      ttl: code.expiresAt + REPLAY_MEMORY_SECONDS,
    });
  }

  async redeemCode(codeHash: string): Promise<Redemption<AuthorizationCodeRecord> | undefined> {
    return this.markUsed<AuthorizationCodeRecord>(`code#${codeHash}`);
  }

  async putFamily(family: TokenFamily): Promise<void> {
    // An update, not a put: a revocation that raced ahead of the family's creation must survive.
    await this.send('UpdateItem', () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `family#${family.familyId}` },
          UpdateExpression: 'SET #family = :family, #ttl = :ttl',
          ExpressionAttributeNames: { '#family': 'family', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':family': family, ':ttl': family.expiresAt + REPLAY_MEMORY_SECONDS },
        }),
      ),
    );
  }

  async getFamily(familyId: string): Promise<TokenFamily | undefined> {
    const item = await this.get(`family#${familyId}`, { ignoreTtl: true });
    if (!item) return undefined;
    const family = (item.family as TokenFamily | undefined) ?? familyTombstone(familyId);
    return item.revokedAt === undefined
      ? family
      : { ...family, revokedAt: item.revokedAt as string, revokedReason: item.revokedReason as string };
  }

  async revokeFamily(familyId: string, reason: string, at: Date): Promise<void> {
    await this.send('UpdateItem', () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `family#${familyId}` },
          UpdateExpression:
            'SET revokedAt = if_not_exists(revokedAt, :at), revokedReason = if_not_exists(revokedReason, :reason), #ttl = if_not_exists(#ttl, :ttl)',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':at': at.toISOString(),
            ':reason': reason,
            ':ttl': Math.floor(at.getTime() / 1000) + 31 * REPLAY_MEMORY_SECONDS,
          },
        }),
      ),
    );
  }

  async putRefreshToken(token: Omit<RefreshTokenRecord, 'used' | 'usedAt' | 'successorHash'>): Promise<void> {
    await this.put({ pk: `refresh#${token.tokenHash}`, value: token, used: false, ttl: token.expiresAt });
  }

  async getRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    const item = await this.get(`refresh#${tokenHash}`);
    return item ? refreshTokenOf(item, item.used === true) : undefined;
  }

  async useRefreshToken(tokenHash: string, at: Date): Promise<Redemption<RefreshTokenRecord> | undefined> {
    const redemption = await this.markUsed<RefreshTokenRecord>(`refresh#${tokenHash}`, at);
    return redemption;
  }

  async setRefreshSuccessor(tokenHash: string, successorHash: string): Promise<void> {
    await this.send('UpdateItem', () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `refresh#${tokenHash}` },
          UpdateExpression: 'SET successorHash = :successor',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':successor': successorHash },
        }),
      ),
    ).catch((error: unknown) => {
      if ((error as { cause?: { name?: string } }).cause?.name !== 'ConditionalCheckFailedException')
        throw error;
    });
  }

  async takeRefreshGrace(tokenHash: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `refresh#${tokenHash}` },
          UpdateExpression: 'SET graceTaken = :true',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(graceTaken)',
          ExpressionAttributeValues: { ':true': true },
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw this.dependencyError('UpdateItem', error);
    }
  }

  async claimAssertion(key: string, expiresAt: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `assertion#${key}`, ttl: expiresAt },
          // TTL removes items lazily: an expired marker no longer counts, as on every read here.
          ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':now': Math.floor(this.clock.now().getTime() / 1000) },
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw this.dependencyError('PutItem', error);
    }
  }

  /**
   * Flips `used` in one conditional update (stamping `usedAt` the first time); the old value tells
   * whether this call was the first.
   */
  private async markUsed<T>(pk: string, at?: Date): Promise<Redemption<T> | undefined> {
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk },
          UpdateExpression: at ? 'SET used = :true, usedAt = if_not_exists(usedAt, :at)' : 'SET used = :true',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':true': true, ...(at ? { ':at': at.toISOString() } : {}) },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const old = result.Attributes;
      if (!old) return undefined;
      const record = pk.startsWith('refresh#')
        ? refreshTokenOf(old, true)
        : { ...(old.value as object), used: true };
      return { record: record as T, firstUse: old.used !== true };
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return undefined;
      throw this.dependencyError('UpdateItem', error);
    }
  }

  private async put(item: Record<string, unknown>): Promise<void> {
    await this.send('PutItem', () =>
      this.client.send(new PutCommand({ TableName: this.tableName, Item: item })),
    );
  }

  private async get(pk: string, { ignoreTtl = false } = {}): Promise<Record<string, unknown> | undefined> {
    const result = await this.send('GetItem', () =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk }, ConsistentRead: true })),
    );
    const item = result.Item;
    if (!item || (!ignoreTtl && this.expired(item))) return undefined;
    return item;
  }

  private expired(item: Record<string, unknown>): boolean {
    return typeof item.ttl === 'number' && item.ttl < Math.floor(this.clock.now().getTime() / 1000);
  }

  private async send<T>(action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw this.dependencyError(action, error);
    }
  }

  private dependencyError(action: string, error: unknown): DependencyError {
    return new DependencyError(
      'oauth-store',
      `The OAuth table could not be used: ${describeAwsError(error, { action: `dynamodb:${action}`, resource: this.tableName })}.`,
      { cause: error },
    );
  }
}

/** A refresh-token item as the port's record: the stored value plus the fields updates added. */
function refreshTokenOf(item: Record<string, unknown>, used: boolean): RefreshTokenRecord {
  return {
    ...(item.value as RefreshTokenRecord),
    used,
    ...(typeof item.usedAt === 'string' ? { usedAt: item.usedAt } : {}),
    ...(typeof item.successorHash === 'string' ? { successorHash: item.successorHash } : {}),
  };
}
