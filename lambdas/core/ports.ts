/**
 * Ports: what core needs from the outside world. `lambdas/adapters/aws` implements them over the
 * AWS SDK v3, `lambdas/adapters/local` for the local pilot. Core never imports an adapter.
 */
import type { KeyObject } from 'node:crypto';

/** Time source, so tests and the benchmark can move the clock. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * Signs access tokens with an ES256 (P-256) key.
 * AWS: KMS `Sign` (DER converted to r||s); local: a P-256 key under AIRLOCK_HOME.
 */
export interface TokenSigner {
  /** The `kid` header of every token this signer signs. */
  readonly keyId: string;
  /** ECDSA P-256 / SHA-256 signature over `data`, as JOSE wants it: raw r||s, 64 bytes. */
  sign(data: Uint8Array): Promise<Uint8Array>;
  /** The public key (fetched once and cached by the adapter). */
  getPublicKey(): Promise<KeyObject>;
}

/** Raw kill-switch parameters by full name (`/airlock/{stage}/kill-switch[/{workflow}]`). */
export interface KillSwitchParameterSource {
  /** Values of the named parameters; a parameter that does not exist maps to `undefined`. Throws when unreadable. */
  read(names: readonly string[]): Promise<Record<string, string | undefined>>;
}

/** Writes a kill-switch parameter (the CLI; never the functions). */
export interface KillSwitchParameterWriter {
  write(name: string, value: string): Promise<void>;
}

/** Revoked tokens (by `jti`) and principals (all tokens issued before a time). */
export interface RevocationStore {
  /** Revokes one token until it would have expired anyway. */
  revokeToken(jti: string, expiresAt: Date, revokedBy: string): Promise<void>;
  /** Revokes every token of a principal issued before `issuedBefore`; kept until `keepUntil`. */
  revokePrincipal(principal: string, issuedBefore: Date, keepUntil: Date, revokedBy: string): Promise<void>;
  /** True when the token (or every token of its principal issued at `issuedAt`) is revoked. Throws when unreadable. */
  isRevoked(token: { jti: string; principal: string; issuedAt: Date }): Promise<boolean>;
}

/** Upstream credentials (Secrets Manager in AWS, a file or the sample ERP's own values locally). */
export interface SecretSource {
  /** The secret's JSON value. Adapters cache; values are never logged. */
  getJson(name: string): Promise<Record<string, string>>;
}
