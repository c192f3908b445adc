/**
 * The OAuth entry point's state: clients, sign-ins waiting at the IdP, authorization codes, and
 * refresh-token families. The port is here; adapters: DynamoDB (AWS and the local pilot's dynalite)
 * and an in-memory store for tests. Codes and refresh tokens are kept only as SHA-256 hashes.
 *
 * Single use is the store's job: {@link OAuthStore.redeemCode}, {@link OAuthStore.useRefreshToken} and
 * {@link OAuthStore.claimAssertion} must be atomic (a conditional write), so two concurrent redemptions cannot both be the first.
 */
import { createHash } from 'node:crypto';
import type { RegisteredClient } from './oauth-client';

/** An authorization request parked while the user signs in at the corporate IdP. */
export interface PendingAuthorization {
  /** Random id, sent to the IdP as `state`. */
  readonly id: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly resource: string;
  readonly scope: readonly string[];
  /** The client's own `state`, returned to it unchanged. */
  readonly clientState?: string;
  /** `prompt` values of the request that Airlock honours (`consent`, `login`). */
  readonly prompt: readonly string[];
  /** SHA-256 of the random value set as a cookie in the browser that started the sign-in. */
  readonly browserBindingHash: string;
  readonly idpNonce: string;
  readonly idpCodeVerifier: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
}

/**
 * A sign-in waiting for the user's consent: everything needed to issue the code once they allow it.
 * Taken (deleted) by the consent form's answer, so it is answered once.
 */
export interface ConsentTicket {
  /** Random id, carried by the consent form. */
  readonly id: string;
  /** SHA-256 of the form's CSRF token. */
  readonly csrfTokenHash: string;
  /** The pending sign-in's binding: the same browser must answer. */
  readonly pendingId: string;
  readonly browserBindingHash: string;
  readonly clientId: string;
  /** {@link clientFingerprint} of the client as the page showed it. */
  readonly clientFingerprint: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly resource: string;
  readonly scope: readonly string[];
  readonly clientState?: string;
  readonly principal: string;
  readonly workflow: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
}

/** A user's remembered consent to one client, for the client as it was shown and the scopes granted. */
export interface ConsentRecord {
  readonly principal: string;
  readonly clientId: string;
  readonly clientFingerprint: string;
  readonly scope: readonly string[];
  /** ISO 8601. */
  readonly grantedAt: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
}

export interface AuthorizationCodeRecord {
  readonly codeHash: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly resource: string;
  readonly scope: readonly string[];
  readonly principal: string;
  readonly workflow: string;
  /** The family the code's tokens will belong to, fixed now so a replayed code can revoke them. */
  readonly familyId: string;
  readonly expiresAt: number;
}

/** One sign-in: every refresh token rotated from it and every access token issued under it. */
export interface TokenFamily {
  readonly familyId: string;
  readonly clientId: string;
  readonly principal: string;
  readonly workflow: string;
  readonly scope: readonly string[];
  readonly resource: string;
  /** ISO 8601; compared with the kill switch's revokeIssuedBefore. */
  readonly createdAt: string;
  /** Epoch seconds: the absolute end of the sign-in, never extended by rotation. */
  readonly expiresAt: number;
  readonly revokedAt?: string;
  readonly revokedReason?: string;
}

/**
 * The record a revocation leaves for a family the store has not seen (yet): revoked, owned by
 * nobody, so a later put of the same family cannot bring it back to life.
 */
export function familyTombstone(familyId: string): TokenFamily {
  return {
    familyId,
    clientId: '',
    principal: '(unknown)',
    workflow: '(unknown)',
    scope: [],
    resource: '',
    createdAt: new Date(0).toISOString(),
    expiresAt: 0,
  };
}

export interface RefreshTokenRecord {
  readonly tokenHash: string;
  readonly familyId: string;
  readonly clientId: string;
  readonly expiresAt: number;
  /** True once it has been exchanged; a second exchange is a replay (unless within the grace). */
  readonly used: boolean;
  /** ISO 8601: when it was first exchanged. */
  readonly usedAt?: string;
  /** The hash of the refresh token its exchange issued. */
  readonly successorHash?: string;
}

/** The outcome of a single-use redemption: the record, and whether this call was the first. */
export interface Redemption<T> {
  readonly record: T;
  readonly firstUse: boolean;
}

export interface OAuthStore {
  /** Stores a client; it is forgotten after `expiresAt` (epoch seconds) unless touched. */
  putClient(client: RegisteredClient, expiresAt?: number): Promise<void>;
  getClient(clientId: string): Promise<RegisteredClient | undefined>;
  /** Keeps a stored client until at least `expiresAt` (a client in use does not expire). */
  touchClient(clientId: string, expiresAt: number): Promise<void>;
  /**
   * Adds one to each counter (created at 0, forgotten after `expiresAt`) atomically and returns the
   * new values, in order.
   */
  increment(counters: readonly string[], expiresAt: number): Promise<number[]>;
  putPendingAuthorization(pending: PendingAuthorization): Promise<void>;
  /** Returns and deletes it: a sign-in completes once. */
  takePendingAuthorization(id: string): Promise<PendingAuthorization | undefined>;
  putConsentTicket(ticket: ConsentTicket): Promise<void>;
  /** Returns and deletes it: a consent form is answered once. */
  takeConsentTicket(id: string): Promise<ConsentTicket | undefined>;
  putConsent(consent: ConsentRecord): Promise<void>;
  getConsent(principal: string, clientId: string): Promise<ConsentRecord | undefined>;
  putCode(code: AuthorizationCodeRecord): Promise<void>;
  /** Marks the code used, atomically; `undefined` when no such code exists. */
  redeemCode(codeHash: string): Promise<Redemption<AuthorizationCodeRecord> | undefined>;
  putFamily(family: TokenFamily): Promise<void>;
  getFamily(familyId: string): Promise<TokenFamily | undefined>;
  /** Marks the family revoked (creating a tombstone when it does not exist yet). */
  revokeFamily(familyId: string, reason: string, at: Date): Promise<void>;
  putRefreshToken(token: Omit<RefreshTokenRecord, 'used' | 'usedAt' | 'successorHash'>): Promise<void>;
  getRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined>;
  /**
   * Marks the refresh token used at `at` (kept from the first use), atomically; the record returned is
   * the one before this call. `undefined` when no such token exists.
   */
  useRefreshToken(tokenHash: string, at: Date): Promise<Redemption<RefreshTokenRecord> | undefined>;
  /** Notes which refresh token the exchange of `tokenHash` issued. */
  setRefreshSuccessor(tokenHash: string, successorHash: string): Promise<void>;
  /**
   * Claims the one grace exchange of a used refresh token, atomically: true for the first caller
   * only.
   */
  takeRefreshGrace(tokenHash: string): Promise<boolean>;
  /**
   * Remembers an assertion (an ID-JAG's issuer and `jti`, as {@link assertionKey}) as used until
   * `expiresAt` (epoch seconds), atomically: true for the first caller only, false for a replay.
   */
  claimAssertion(key: string, expiresAt: number): Promise<boolean>;
}

/** The key an assertion is remembered by: its issuer and `jti`, hashed (bounded, no raw claim in a key). */
export function assertionKey(issuer: string, jti: string): string {
  return createHash('sha256').update(`${issuer}\n${jti}`, 'utf8').digest('base64url');
}

/** How codes and refresh tokens are keyed: base64url SHA-256, so a store leak yields no usable token. */
export function opaqueTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}
