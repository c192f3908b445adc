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

/** A device certificate as the revocation list knows it: its RFC 8705 thumbprint, and its serial when known. */
export interface CertificateIdentity {
  /** `x5t#S256`: base64url SHA-256 of the DER certificate (what a device token's `cnf` names). */
  readonly thumbprint: string;
  /** Upper-case hex without leading zeros or colons (see `normalizeSerialNumber`). */
  readonly serialNumber?: string;
}

/** The entries one request is judged by; each is read only when its field is given. */
export interface RevocationQuery {
  /** The token's own revocation (`airlock revoke --jti`). */
  readonly jti?: string;
  /** The principal's revocation (`--principal`) and suspension (`--principal --suspend`). */
  readonly principal?: string;
  /** A blocked device certificate (`--certificate`), by thumbprint and by serial. */
  readonly certificate?: CertificateIdentity;
  /** The DynamoDB copies of these kill-switch parameters (by full parameter name). */
  readonly killSwitch?: readonly string[];
}

/** One revocation entry, as the check needs it. */
export interface RevocationMark {
  /** Refuses everything while set: a revoked token, a blocked certificate, a suspended principal. */
  readonly blocked: boolean;
  /**
   * Tokens issued before this instant (epoch milliseconds) stay dead, blocked or not; `null` when the
   * entry holds no usable time (then every token it covers counts as revoked: undecidable is refused).
   */
  readonly issuedBeforeMs: number | null;
}

/** What {@link RevocationStore.readEntries} found: absent fields have no entry. */
export interface RevocationEntries {
  readonly token?: RevocationMark;
  readonly principal?: RevocationMark;
  readonly suspension?: RevocationMark;
  readonly certificate?: RevocationMark;
  readonly certificateSerial?: RevocationMark;
  /** The raw JSON value of each kill-switch copy found, by parameter name (absent: no copy). */
  readonly killSwitch: Readonly<Record<string, string | undefined>>;
}

/** Revoked tokens (by `jti`) and principals, blocked certificates, suspended principals, and the kill switch's copies. */
export interface RevocationStore {
  /** Revokes one token until it would have expired anyway. */
  revokeToken(jti: string, expiresAt: Date, revokedBy: string, reason?: string): Promise<void>;
  /** Revokes every token of a principal issued before `issuedBefore`; kept until `keepUntil`. */
  revokePrincipal(
    principal: string,
    issuedBefore: Date,
    keepUntil: Date,
    revokedBy: string,
    reason?: string,
  ): Promise<void>;
  /**
   * Every entry of `query`, read in one consistent read (shared with the other requests of the same
   * moment). Throws when unreadable: the caller refuses the request.
   */
  readEntries(query: RevocationQuery): Promise<RevocationEntries>;
}
/** What an operator blocks (a device certificate, by thumbprint or serial) or suspends (a principal). */
export type BlockTarget =
  | { readonly kind: 'certificate'; readonly thumbprint: string }
  | { readonly kind: 'certificate-serial'; readonly serialNumber: string }
  | { readonly kind: 'suspension'; readonly principal: string };

/** Who changed an entry, when and why (all three are kept with the entry and in the audit record). */
export interface RevocationChange {
  readonly by: string;
  readonly reason: string;
  readonly at: Date;
}

/** One entry of the revocation list, as `airlock revoke list` shows it. */
export interface RevocationListEntry {
  readonly kind: 'token' | 'principal' | 'certificate' | 'certificate-serial' | 'suspension';
  /** The jti, principal, thumbprint or serial. */
  readonly id: string;
  /** `revoked` (tokens, principals), `blocked` (certificates, suspensions) or `lifted`. */
  readonly state: 'revoked' | 'blocked' | 'lifted' | 'unreadable';
  readonly by?: string;
  readonly at?: string;
  readonly reason?: string;
  /** Tokens issued before this instant stay dead (ISO). */
  readonly issuedBefore?: string;
  /** The entry is kept (and enforced) until then (ISO); absent while blocked: until lifted. */
  readonly until?: string;
  readonly lifted?: { readonly by?: string; readonly at?: string; readonly reason?: string };
  /** What the operator knew of a certificate (subject, serial, thumbprint, file), for people. */
  readonly details?: Readonly<Record<string, string>>;
}

/**
 * The operator's side of the revocation list besides revoking tokens: blocking certificates,
 * suspending principals, lifting both, listing, and the kill switch's DynamoDB copies. The functions
 * never write (they read with {@link RevocationStore.readEntries}).
 */
export interface RevocationListEditor {
  /** Blocks a certificate or suspends a principal until lifted (again, if it was lifted). */
  block(
    target: BlockTarget,
    change: RevocationChange,
    details?: Readonly<Record<string, string>>,
  ): Promise<void>;
  /**
   * Lifts a block: new tokens are issued again, tokens issued before `change.at` stay dead until
   * `keepUntil`. Resolves `false` when there is no block to lift (none, or already lifted).
   */
  lift(target: BlockTarget, change: RevocationChange, keepUntil: Date): Promise<boolean>;
  /** Every entry of the list, kill-switch copies excepted. */
  listEntries(): Promise<RevocationListEntry[]>;
  /** The DynamoDB copy of kill-switch parameters, by name (absent: no copy). */
  readKillSwitchCopies(names: readonly string[]): Promise<Record<string, string | undefined>>;
  /** Writes the DynamoDB copy of one kill-switch parameter (the CLI writes it with the parameter). */
  writeKillSwitchCopy(name: string, value: string): Promise<void>;
}

/** Upstream credentials (Secrets Manager in AWS, a file or the sample ERP's own values locally). */
export interface SecretSource {
  /** The secret's JSON value. Adapters cache; values are never logged. */
  getJson(name: string): Promise<Record<string, string>>;
}

/**
 * An HMAC-SHA-256 key that never leaves its keeper: KMS (`GenerateMac`/`VerifyMac` on an HMAC_256 key)
 * in AWS, a key file under AIRLOCK_HOME locally. Seals the approvals page's browser cookies.
 */
export interface MacKey {
  /** HMAC-SHA-256 of `message` (32 bytes). */
  generateMac(message: Uint8Array): Promise<Uint8Array>;
  /** True only when `mac` is the HMAC of `message` under this key. */
  verifyMac(message: Uint8Array, mac: Uint8Array): Promise<boolean>;
}
