/**
 * An {@link OAuthStore} in memory: for unit tests and a throw-away local run. Single use is exact
 * because Node runs one callback at a time and no method awaits between its read and its write.
 * Expiry is checked against the clock on read, as the DynamoDB adapter does for items TTL has not
 * removed yet.
 */
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

interface Expiring<T> {
  value: T;
  expiresAt?: number;
}

export class MemoryOAuthStore implements OAuthStore {
  private readonly clients = new Map<string, Expiring<RegisteredClient>>();
  private readonly counters = new Map<string, Expiring<number>>();
  private readonly pending = new Map<string, PendingAuthorization>();
  private readonly tickets = new Map<string, ConsentTicket>();
  private readonly consents = new Map<string, ConsentRecord>();
  private readonly codes = new Map<string, AuthorizationCodeRecord & { used: boolean }>();
  private readonly families = new Map<string, TokenFamily>();
  private readonly refreshTokens = new Map<string, RefreshTokenRecord & { graceTaken?: boolean }>();

  private readonly assertions = new Map<string, number>();

  constructor(private readonly clock: Clock = systemClock) {}

  async claimAssertion(key: string, expiresAt: number): Promise<boolean> {
    const until = this.assertions.get(key);
    if (until !== undefined && !this.expired(until)) return false;
    this.assertions.set(key, expiresAt);
    return true;
  }

  async putClient(client: RegisteredClient, expiresAt?: number): Promise<void> {
    this.clients.set(client.clientId, { value: client, expiresAt });
  }

  async getClient(clientId: string): Promise<RegisteredClient | undefined> {
    const found = this.clients.get(clientId);
    return found && !this.expired(found.expiresAt) ? found.value : undefined;
  }

  async touchClient(clientId: string, expiresAt: number): Promise<void> {
    const found = this.clients.get(clientId);
    if (found?.expiresAt !== undefined && found.expiresAt < expiresAt) found.expiresAt = expiresAt;
  }

  async increment(counters: readonly string[], expiresAt: number): Promise<number[]> {
    return counters.map((name) => {
      const found = this.counters.get(name);
      const value = found && !this.expired(found.expiresAt) ? found.value + 1 : 1;
      this.counters.set(name, { value, expiresAt });
      return value;
    });
  }

  async putPendingAuthorization(pending: PendingAuthorization): Promise<void> {
    this.pending.set(pending.id, pending);
  }

  async takePendingAuthorization(id: string): Promise<PendingAuthorization | undefined> {
    const found = this.pending.get(id);
    this.pending.delete(id);
    return found;
  }

  async putConsentTicket(ticket: ConsentTicket): Promise<void> {
    this.tickets.set(ticket.id, ticket);
  }

  async takeConsentTicket(id: string): Promise<ConsentTicket | undefined> {
    const found = this.tickets.get(id);
    this.tickets.delete(id);
    return found;
  }

  async putConsent(consent: ConsentRecord): Promise<void> {
    this.consents.set(`${consent.principal}#${consent.clientId}`, consent);
  }

  async getConsent(principal: string, clientId: string): Promise<ConsentRecord | undefined> {
    return this.consents.get(`${principal}#${clientId}`);
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

  async putRefreshToken(token: Omit<RefreshTokenRecord, 'used' | 'usedAt' | 'successorHash'>): Promise<void> {
    this.refreshTokens.set(token.tokenHash, { ...token, used: false });
  }

  async getRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    const found = this.refreshTokens.get(tokenHash);
    if (!found) return undefined;
    const { graceTaken: _, ...record } = found;
    return record;
  }

  async useRefreshToken(tokenHash: string, at: Date): Promise<Redemption<RefreshTokenRecord> | undefined> {
    const found = this.refreshTokens.get(tokenHash);
    if (!found) return undefined;
    this.refreshTokens.set(tokenHash, { ...found, used: true, usedAt: found.usedAt ?? at.toISOString() });
    const { graceTaken: _, ...record } = found;
    return { record, firstUse: !found.used };
  }

  async setRefreshSuccessor(tokenHash: string, successorHash: string): Promise<void> {
    const found = this.refreshTokens.get(tokenHash);
    if (found) this.refreshTokens.set(tokenHash, { ...found, successorHash });
  }

  async takeRefreshGrace(tokenHash: string): Promise<boolean> {
    const found = this.refreshTokens.get(tokenHash);
    if (!found || found.graceTaken) return false;
    found.graceTaken = true;
    return true;
  }

  private expired(expiresAt: number | undefined): boolean {
    return expiresAt !== undefined && expiresAt < Math.floor(this.clock.now().getTime() / 1000);
  }
}

function pick(family: TokenFamily): Pick<TokenFamily, 'revokedAt' | 'revokedReason'> {
  return { revokedAt: family.revokedAt, revokedReason: family.revokedReason };
}
