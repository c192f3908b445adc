/**
 * The OAuth entry point's state in one DynamoDB table (partition key `pk` (S), TTL attribute `ttl`):
 * - `client#<client_id>`: a registered client, or a cached Client ID Metadata Document;
 * - `pending#<id>`: an authorization request waiting for the IdP sign-in (deleted when taken);
 * - `code#<sha256>`: an authorization code, `used` flipped once by a conditional update;
 * - `family#<id>`: a sign-in (refresh-token family), with `revokedAt` once revoked;
 * - `refresh#<sha256>`: a refresh token, `used` flipped once by a conditional update.
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
  putPendingAuthorization: ['dynamodb:PutItem'],
  takePendingAuthorization: ['dynamodb:DeleteItem'],
  putCode: ['dynamodb:PutItem'],
  redeemCode: ['dynamodb:UpdateItem'],
  putFamily: ['dynamodb:UpdateItem'],
  getFamily: ['dynamodb:GetItem'],
  revokeFamily: ['dynamodb:UpdateItem'],
  putRefreshToken: ['dynamodb:PutItem'],
  getRefreshToken: ['dynamodb:GetItem'],
  useRefreshToken: ['dynamodb:UpdateItem'],
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

  async putPendingAuthorization(pending: PendingAuthorization): Promise<void> {
    await this.put({ pk: `pending#${pending.id}`, value: pending, ttl: pending.expiresAt });
  }

  async takePendingAuthorization(id: string): Promise<PendingAuthorization | undefined> {
    const result = await this.send('DeleteItem', () =>
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: `pending#${id}` },
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    const item = result.Attributes;
    return item && !this.expired(item) ? (item.value as PendingAuthorization) : undefined;
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

  async putRefreshToken(token: Omit<RefreshTokenRecord, 'used'>): Promise<void> {
    await this.put({ pk: `refresh#${token.tokenHash}`, value: token, used: false, ttl: token.expiresAt });
  }

  async getRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    const item = await this.get(`refresh#${tokenHash}`);
    return item ? { ...(item.value as RefreshTokenRecord), used: item.used === true } : undefined;
  }

  async useRefreshToken(tokenHash: string): Promise<Redemption<RefreshTokenRecord> | undefined> {
    return this.markUsed<RefreshTokenRecord>(`refresh#${tokenHash}`);
  }

  /** Flips `used` in one conditional update; the old value tells whether this call was the first. */
  private async markUsed<T>(pk: string): Promise<Redemption<T> | undefined> {
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk },
          UpdateExpression: 'SET used = :true',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':true': true },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const old = result.Attributes;
      if (!old) return undefined;
      return { record: { ...(old.value as T), used: true } as T, firstUse: old.used !== true };
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
