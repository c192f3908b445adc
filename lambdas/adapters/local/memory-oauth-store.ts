/**
 * An {@link OAuthStore} in memory: for unit tests and a throw-away local run. Single use is exact
 * because Node runs one callback at a time and no method awaits between its read and its write.
 */
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

export class MemoryOAuthStore implements OAuthStore {
  private readonly clients = new Map<string, RegisteredClient>();
  private readonly pending = new Map<string, PendingAuthorization>();
  private readonly codes = new Map<string, AuthorizationCodeRecord & { used: boolean }>();
  private readonly families = new Map<string, TokenFamily>();
  private readonly refreshTokens = new Map<string, RefreshTokenRecord>();

  async putClient(client: RegisteredClient): Promise<void> {
    this.clients.set(client.clientId, client);
  }

  async getClient(clientId: string): Promise<RegisteredClient | undefined> {
    return this.clients.get(clientId);
  }

  async putPendingAuthorization(pending: PendingAuthorization): Promise<void> {
    this.pending.set(pending.id, pending);
  }

  async takePendingAuthorization(id: string): Promise<PendingAuthorization | undefined> {
    const found = this.pending.get(id);
    this.pending.delete(id);
    return found;
  }

  async putCode(code: AuthorizationCodeRecord): Promise<void> {
    this.codes.set(code.codeHash, { ...code, used: false });
  }

  async redeemCode(codeHash: string): Promise<Redemption<AuthorizationCodeRecord> | undefined> {
    const found = this.codes.get(codeHash);
    if (!found) return undefined;
    const { used, ...record } = found;
    found.used = true;
    return { record, firstUse: !used };
  }

  async putFamily(family: TokenFamily): Promise<void> {
    const existing = this.families.get(family.familyId);
    // A tombstone written by an earlier revocation wins over a later put.
    this.families.set(family.familyId, existing?.revokedAt ? { ...family, ...pick(existing) } : family);
  }

  async getFamily(familyId: string): Promise<TokenFamily | undefined> {
    return this.families.get(familyId);
  }

  async revokeFamily(familyId: string, reason: string, at: Date): Promise<void> {
    const existing = this.families.get(familyId);
    if (existing?.revokedAt) return;
    this.families.set(familyId, {
      ...(existing ?? familyTombstone(familyId)),
      revokedAt: at.toISOString(),
      revokedReason: reason,
    });
  }

  async putRefreshToken(token: Omit<RefreshTokenRecord, 'used'>): Promise<void> {
    this.refreshTokens.set(token.tokenHash, { ...token, used: false });
  }

  async getRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    return this.refreshTokens.get(tokenHash);
  }

  async useRefreshToken(tokenHash: string): Promise<Redemption<RefreshTokenRecord> | undefined> {
    const found = this.refreshTokens.get(tokenHash);
    if (!found) return undefined;
    this.refreshTokens.set(tokenHash, { ...found, used: true });
    return { record: found, firstUse: !found.used };
  }
}

function pick(family: TokenFamily): Pick<TokenFamily, 'revokedAt' | 'revokedReason'> {
  return { revokedAt: family.revokedAt, revokedReason: family.revokedReason };
}
