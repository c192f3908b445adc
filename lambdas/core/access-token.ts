/**
 * Certificate-bound access tokens: RFC 9068 JWTs (`typ: at+jwt`, `alg: ES256` only) whose `cnf`
 * claim carries the RFC 8705 `x5t#S256` thumbprint of the client certificate that asked for them.
 *
 * Issuing builds the compact JWS by hand so the only thing a {@link TokenSigner} ever does is sign
 * bytes (KMS in AWS, a local key in the pilot). Verifying uses jose, but every choice that RFC 8725
 * leaves to the application is made here, explicitly and before jose sees the token: one algorithm,
 * one type, keys only from our own key set, never from the token's header.
 */
import { createHash, createPublicKey, type KeyObject, randomUUID, timingSafeEqual } from 'node:crypto';
import { errors as joseErrors, jwtVerify } from 'jose';
import { AirlockError, DependencyError } from './errors';
import { type Clock, type RevocationStore, systemClock, type TokenSigner } from './ports';

/** One scope of an access token: `<connector>:<read|write|export>`. */
export const ACCESS_SCOPE_PATTERN = /^[a-z][a-z0-9-]{0,62}:(read|write|export)$/;

/** The longest lifetime the config schema allows any workflow (12 hours); a longer token was not issued by us. */
export const MAX_ACCESS_TOKEN_LIFETIME_SECONDS = 12 * 60 * 60;

/** The claims of an Airlock access token (RFC 9068 plus `workflow`, `resource` and RFC 8705 `cnf`). */
export interface AccessTokenClaims {
  readonly iss: string;
  /** The principal: the CN of the client certificate that asked for the token. */
  readonly sub: string;
  readonly aud: string;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  readonly jti: string;
  /** Space-separated `<connector>:<access>` scopes (RFC 9068 §2.2.3). */
  readonly scope: string;
  readonly workflow: string;
  readonly resource?: string;
  readonly cnf: { readonly 'x5t#S256': string };
}

/** What the broker decided to grant, and to whom. */
export interface AccessTokenRequest {
  readonly issuer: string;
  readonly audience: string;
  readonly subject: string;
  readonly workflow: string;
  readonly resource?: string;
  readonly scope: readonly string[];
  readonly lifetimeSeconds: number;
  /** `x5t#S256` of the client certificate the request came over (see `certificateThumbprint`). */
  readonly certificateThumbprint: string;
  readonly now: Date;
  /** Defaults to a random UUID; given only by tests that need a known id. */
  readonly jti?: string;
}

export interface IssuedAccessToken {
  /** The compact JWS. Never log it. */
  readonly token: string;
  readonly claims: AccessTokenClaims;
  readonly expiresAt: Date;
}

/** Machine-readable reason a token was refused; clients and the audit ledger see it. */
export type TokenRejectionReason =
  | 'malformed'
  | 'alg_not_allowed'
  | 'unknown_kid'
  | 'header_key_not_allowed'
  | 'bad_type'
  | 'bad_signature'
  | 'bad_issuer'
  | 'bad_audience'
  | 'expired'
  | 'not_yet_valid'
  | 'certificate_mismatch'
  | 'revoked'
  | 'issued_before_revocation';

/**
 * An access token was refused (HTTP 401). The message says what to do next and never contains the
 * token; `reason` is the machine-readable cause (also in `reasons`, for the error contract).
 */
export class TokenRejectedError extends AirlockError {
  constructor(
    public readonly reason: TokenRejectionReason,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super('unauthenticated', message, { reasons: [reason], cause: options.cause });
  }
}

const THUMBPRINT_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const BASE64URL_SEGMENT = /^[A-Za-z0-9_-]*$/;
/** An ES256 signature is 64 bytes: 86 base64url characters. */
const ES256_SIGNATURE_LENGTH = 86;
/** Far above any token we issue; stops an attacker making us parse megabytes. */
const MAX_TOKEN_LENGTH = 8192;
/** The only protected-header parameters our tokens carry. Anything else (jwk, jku, x5u, x5c, crit, b64, ...) is refused. */
const ALLOWED_HEADER_PARAMETERS = new Set(['alg', 'typ', 'kid']);
/** Enough for every token a busy connector function sees within their lifetime; ≤ 8 MB at MAX_TOKEN_LENGTH. */
const DEFAULT_VERIFIED_TOKEN_CACHE_SIZE = 1000;
const TOKEN_TYPE = 'at+jwt';

const REQUEST_AGAIN = 'Request a new token from POST /v1/credentials.';

function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function assertRequest(request: AccessTokenRequest): void {
  for (const field of ['issuer', 'audience', 'subject', 'workflow'] as const) {
    if (typeof request[field] !== 'string' || request[field].length === 0) {
      throw new TypeError(`issueAccessToken: ${field} must be a non-empty string`);
    }
  }
  if (request.resource !== undefined && (typeof request.resource !== 'string' || request.resource === '')) {
    throw new TypeError('issueAccessToken: resource must be a non-empty string when given');
  }
  if (request.scope.length === 0 || new Set(request.scope).size !== request.scope.length) {
    throw new TypeError('issueAccessToken: scope must list at least one scope, each once');
  }
  for (const scope of request.scope) {
    if (!ACCESS_SCOPE_PATTERN.test(scope)) {
      throw new TypeError(`issueAccessToken: scope "${scope}" is not <connector>:<read|write|export>`);
    }
  }
  if (
    !Number.isInteger(request.lifetimeSeconds) ||
    request.lifetimeSeconds < 1 ||
    request.lifetimeSeconds > MAX_ACCESS_TOKEN_LIFETIME_SECONDS
  ) {
    throw new RangeError(
      `issueAccessToken: lifetimeSeconds must be an integer from 1 to ${MAX_ACCESS_TOKEN_LIFETIME_SECONDS}`,
    );
  }
  if (!THUMBPRINT_PATTERN.test(request.certificateThumbprint)) {
    throw new TypeError('issueAccessToken: certificateThumbprint must be a base64url SHA-256 thumbprint');
  }
  if (!(request.now instanceof Date) || Number.isNaN(request.now.getTime())) {
    throw new TypeError('issueAccessToken: now must be a valid Date');
  }
}

/**
 * Issues an ES256 access token bound to a client certificate.
 *
 * `iat` and `nbf` are `now` (whole seconds), `exp` is `iat + lifetimeSeconds`. The header is exactly
 * `{alg: 'ES256', typ: 'at+jwt', kid: signer.keyId}`. Throws `DependencyError('signer')` when the
 * signer fails or returns anything but a 64-byte r||s signature.
 */
export async function issueAccessToken(
  signer: TokenSigner,
  request: AccessTokenRequest,
): Promise<IssuedAccessToken> {
  assertRequest(request);
  const iat = Math.floor(request.now.getTime() / 1000);
  const claims: AccessTokenClaims = {
    iss: request.issuer,
    sub: request.subject,
    aud: request.audience,
    iat,
    nbf: iat,
    exp: iat + request.lifetimeSeconds,
    jti: request.jti ?? randomUUID(),
    scope: request.scope.join(' '),
    workflow: request.workflow,
    ...(request.resource === undefined ? {} : { resource: request.resource }),
    cnf: { 'x5t#S256': request.certificateThumbprint },
  };
  const signingInput = `${base64urlJson({ alg: 'ES256', typ: TOKEN_TYPE, kid: signer.keyId })}.${base64urlJson(claims)}`;
  let signature: Uint8Array;
  try {
    signature = await signer.sign(Buffer.from(signingInput, 'ascii'));
  } catch (cause) {
    if (cause instanceof DependencyError) throw cause;
    throw new DependencyError('signer', 'The token signer failed to sign an access token.', { cause });
  }
  if (signature.length !== 64) {
    throw new DependencyError(
      'signer',
      `The token signer returned a ${signature.length}-byte signature; ES256 needs 64 bytes (r||s).`,
    );
  }
  return {
    token: `${signingInput}.${Buffer.from(signature).toString('base64url')}`,
    claims,
    expiresAt: new Date(claims.exp * 1000),
  };
}

/** The verification keys by `kid`: a fixed set, or a resolver (e.g. a signer's cached public key). */
export type AccessTokenKeys =
  | ReadonlyMap<string, KeyObject>
  | ((kid: string) => Promise<KeyObject | undefined>);

export interface AccessTokenVerifierOptions {
  /** The only accepted `iss`. */
  readonly issuer: string;
  /** The only accepted `aud`. */
  readonly audience: string;
  readonly keys: AccessTokenKeys;
  /**
   * Leeway for `exp`, `nbf` and `iat` between the broker's clock and ours.
   * @default 30
   */
  readonly clockSkewSeconds?: number;
  /** @default systemClock */
  readonly clock?: Clock;
  /**
   * How many verified tokens to remember, so that a token presented again skips the ES256 signature
   * check (the largest part of verifying). A remembered token is still checked on every call for
   * `exp`/`nbf`/`iat` against the clock, for its certificate binding and for revocation; only the work
   * that depends on nothing but the token's own bytes (signature, header, claim shapes) is not redone,
   * the way API Gateway caches an authorizer's answer per token. 0 turns the cache off.
   * @default 1000
   */
  readonly verifiedTokenCacheSize?: number;
}

/** Revocation state the caller already holds (the kill switch's `revokeIssuedBefore`) or can ask for. */
export interface RevocationCheck {
  /** The revocation store's lookup; when absent, individual revocations are not checked. */
  readonly isRevoked?: RevocationStore['isRevoked'];
  /** Tokens issued before this instant are dead (kill switch); `null`/absent means no such cut-off. */
  readonly revokeIssuedBefore?: Date | null;
}

export interface VerifyAccessTokenOptions extends RevocationCheck {
  /** `x5t#S256` of the client certificate the token was presented over. */
  readonly certificateThumbprint: string;
}

export interface AccessTokenVerifier {
  /**
   * Verifies a token presented over a client certificate and returns its claims.
   * Throws {@link TokenRejectedError} (401) for any token that is not fully valid, and
   * `DependencyError` when a key resolver or the revocation store cannot answer (refuse the call).
   */
  verify(token: string, options: VerifyAccessTokenOptions): Promise<AccessTokenClaims>;
}

function assertVerificationKey(key: KeyObject, kid: string): KeyObject {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  if (
    publicKey.type !== 'public' ||
    publicKey.asymmetricKeyType !== 'ec' ||
    publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
  ) {
    throw new TypeError(`The verification key "${kid}" is not a P-256 public key; ES256 needs one.`);
  }
  return publicKey;
}

/** Looks keys up by kid, caching each key found so a hot Lambda never asks twice. */
function keyLookup(keys: AccessTokenKeys): (kid: string) => Promise<KeyObject | undefined> {
  if (typeof keys !== 'function') {
    const checked = new Map([...keys].map(([kid, key]) => [kid, assertVerificationKey(key, kid)]));
    return async (kid) => checked.get(kid);
  }
  const cache = new Map<string, Promise<KeyObject | undefined>>();
  return (kid) => {
    let pending = cache.get(kid);
    if (!pending) {
      pending = keys(kid).then(
        (key) => (key ? assertVerificationKey(key, kid) : undefined),
        (cause: unknown) => {
          throw cause instanceof DependencyError
            ? cause
            : new DependencyError('token-keys', 'The access-token verification key could not be loaded.', {
                cause,
              });
        },
      );
      cache.set(kid, pending);
      // Only keys that exist stay cached: an attacker's invented kids must not fill memory.
      pending.then(
        (key) => {
          if (!key) cache.delete(kid);
        },
        () => cache.delete(kid),
      );
    }
    return pending;
  };
}

function decodeHeader(segment: string): Record<string, unknown> {
  if (!BASE64URL_SEGMENT.test(segment)) throw malformed();
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch (cause) {
    throw malformed(cause);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw malformed();
  return header as Record<string, unknown>;
}

function malformed(cause?: unknown, what = 'is not a well-formed Airlock access token'): TokenRejectedError {
  return new TokenRejectedError('malformed', `The access token ${what}. ${REQUEST_AGAIN}`, { cause });
}

/** Compares hashes so neither the length nor the content of the expected value leaks through timing. */
function constantTimeEqual(a: string, b: string): boolean {
  const digestA = createHash('sha256').update(a, 'utf8').digest();
  const digestB = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(digestA, digestB);
}

/** Maps a jose failure to our reasons; anything unrecognised counts as malformed, never as valid. */
function fromJoseError(cause: unknown): TokenRejectedError {
  if (cause instanceof joseErrors.JWTExpired) {
    return new TokenRejectedError('expired', `The access token has expired. ${REQUEST_AGAIN}`, { cause });
  }
  if (cause instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new TokenRejectedError(
      'bad_signature',
      `The access token's signature does not verify; it was altered or not issued by this Airlock. ${REQUEST_AGAIN}`,
      { cause },
    );
  }
  if (cause instanceof joseErrors.JOSEAlgNotAllowed) {
    return new TokenRejectedError(
      'alg_not_allowed',
      `The access token is not signed with ES256. ${REQUEST_AGAIN}`,
      {
        cause,
      },
    );
  }
  if (cause instanceof joseErrors.JWTClaimValidationFailed && cause.reason === 'check_failed') {
    switch (cause.claim) {
      case 'iss':
        return new TokenRejectedError(
          'bad_issuer',
          `The access token was issued by someone else. ${REQUEST_AGAIN}`,
          {
            cause,
          },
        );
      case 'aud':
        return new TokenRejectedError(
          'bad_audience',
          `The access token is meant for another service. ${REQUEST_AGAIN}`,
          { cause },
        );
      case 'nbf':
      case 'iat':
        return notYetValid(cause);
      case 'typ':
        return badType(cause);
    }
  }
  if (cause instanceof joseErrors.JWTClaimValidationFailed) {
    return malformed(cause, `lacks a valid "${cause.claim}" claim`);
  }
  return malformed(cause);
}

function notYetValid(cause?: unknown): TokenRejectedError {
  return new TokenRejectedError(
    'not_yet_valid',
    'The access token is not valid yet; check that this device’s clock is correct, then request a new token.',
    { cause },
  );
}

function badType(cause?: unknown): TokenRejectedError {
  return new TokenRejectedError(
    'bad_type',
    `The token is not an access token (typ must be "${TOKEN_TYPE}"). ${REQUEST_AGAIN}`,
    { cause },
  );
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** jose checked signature, iss, aud, exp, nbf and types; this checks what is ours to define. */
function assertClaims(payload: Record<string, unknown>, nowSeconds: number, skew: number): AccessTokenClaims {
  for (const claim of ['sub', 'jti', 'workflow'] as const) {
    if (!isNonEmptyString(payload[claim])) throw malformed(undefined, `lacks a valid "${claim}" claim`);
  }
  for (const claim of ['iat', 'nbf', 'exp'] as const) {
    if (!Number.isInteger(payload[claim])) throw malformed(undefined, `lacks a valid "${claim}" claim`);
  }
  const { iat, nbf, exp } = payload as { iat: number; nbf: number; exp: number };
  if (iat > nowSeconds + skew) throw notYetValid();
  if (exp <= iat || nbf < iat || exp - iat > MAX_ACCESS_TOKEN_LIFETIME_SECONDS) {
    throw malformed(undefined, 'has an impossible lifetime');
  }
  if (typeof payload.aud !== 'string') {
    throw new TokenRejectedError(
      'bad_audience',
      `The access token must name exactly one audience. ${REQUEST_AGAIN}`,
    );
  }
  const scope = payload.scope;
  if (
    typeof scope !== 'string' ||
    scope.split(' ').some((s) => !ACCESS_SCOPE_PATTERN.test(s)) ||
    new Set(scope.split(' ')).size !== scope.split(' ').length
  ) {
    throw malformed(undefined, 'has a malformed "scope" claim');
  }
  if (payload.resource !== undefined && !isNonEmptyString(payload.resource)) {
    throw malformed(undefined, 'has a malformed "resource" claim');
  }
  return payload as unknown as AccessTokenClaims;
}

function assertBoundTo(claims: AccessTokenClaims, certificateThumbprint: string): void {
  const cnf: unknown = (claims as { cnf?: unknown }).cnf;
  const bound =
    cnf !== null && typeof cnf === 'object' ? (cnf as Record<string, unknown>)['x5t#S256'] : undefined;
  if (!isNonEmptyString(bound)) {
    throw new TokenRejectedError(
      'certificate_mismatch',
      `The access token is not bound to a client certificate. ${REQUEST_AGAIN}`,
    );
  }
  if (!isNonEmptyString(certificateThumbprint) || !constantTimeEqual(bound, certificateThumbprint)) {
    throw new TokenRejectedError(
      'certificate_mismatch',
      'The access token was issued to a different client certificate; request a token over the certificate you are using.',
    );
  }
}

/**
 * Refuses a token that was revoked: by `jti` (or its principal) in the revocation store, or issued
 * before the kill switch's `revokeIssuedBefore`. The one place both rules live.
 * Throws {@link TokenRejectedError} (`revoked` / `issued_before_revocation`), or `DependencyError`
 * when the store cannot answer: an undecidable token is refused.
 */
export async function assertNotRevoked(claims: AccessTokenClaims, check: RevocationCheck): Promise<void> {
  const issuedAt = new Date(claims.iat * 1000);
  if (check.revokeIssuedBefore && issuedAt.getTime() < check.revokeIssuedBefore.getTime()) {
    throw new TokenRejectedError(
      'issued_before_revocation',
      `The access token was issued before an incident cut-off and no longer counts. ${REQUEST_AGAIN}`,
    );
  }
  if (!check.isRevoked) return;
  let revoked: boolean;
  try {
    revoked = await check.isRevoked({ jti: claims.jti, principal: claims.sub, issuedAt });
  } catch (cause) {
    throw cause instanceof DependencyError
      ? cause
      : new DependencyError('revocations', 'The revocation list could not be read.', { cause });
  }
  if (revoked !== false) {
    throw new TokenRejectedError(
      'revoked',
      'The access token has been revoked. Ask IT/security why before requesting a new one.',
    );
  }
}

/**
 * Builds the access-token verifier the connector and MCP functions use: ES256 only, `typ: at+jwt`,
 * keys only by `kid` from `keys` (cached), issuer and audience fixed, and the token bound to the
 * presented certificate. Verification is local; no KMS call per request.
 */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const skew = options.clockSkewSeconds ?? 30;
  if (!Number.isInteger(skew) || skew < 0 || skew > 300) {
    throw new RangeError('clockSkewSeconds must be an integer from 0 to 300');
  }
  if (!isNonEmptyString(options.issuer) || !isNonEmptyString(options.audience)) {
    throw new TypeError('createAccessTokenVerifier: issuer and audience must be non-empty strings');
  }
  const clock = options.clock ?? systemClock;
  const lookup = keyLookup(options.keys);
  const cacheSize = options.verifiedTokenCacheSize ?? DEFAULT_VERIFIED_TOKEN_CACHE_SIZE;
  if (!Number.isInteger(cacheSize) || cacheSize < 0) {
    throw new RangeError('verifiedTokenCacheSize must be an integer of 0 or more');
  }
  const verified = new VerifiedTokens(cacheSize);

  return {
    async verify(token, verifyOptions) {
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
        throw malformed();
      }
      const known = verified.get(token);
      if (known) {
        const nowSeconds = Math.floor(clock.now().getTime() / 1000);
        // The same checks jose makes of the time claims; a token that fails one is dropped and verified
        // in full below, so it gets exactly the answer an unseen token would.
        if (
          nowSeconds - skew < known.exp &&
          known.nbf <= nowSeconds + skew &&
          known.iat <= nowSeconds + skew
        ) {
          assertBoundTo(known, verifyOptions.certificateThumbprint);
          await assertNotRevoked(known, verifyOptions);
          return known;
        }
        verified.delete(token);
      }
      const segments = token.split('.');
      if (segments.length !== 3) throw malformed();
      const header = decodeHeader(segments[0]);

      // RFC 8725 §3.1: the algorithm is ours to choose, never the token's.
      if (header.alg !== 'ES256') {
        throw new TokenRejectedError(
          'alg_not_allowed',
          `The access token is not signed with ES256. ${REQUEST_AGAIN}`,
        );
      }
      // A key (or a pointer to one) in the header would let the token vouch for itself.
      const foreign = Object.keys(header).filter((name) => !ALLOWED_HEADER_PARAMETERS.has(name));
      if (foreign.length > 0) {
        throw new TokenRejectedError(
          'header_key_not_allowed',
          `The access token's header carries parameters Airlock does not accept (${foreign
            .map((name) => name.slice(0, 16))
            .join(', ')}). ${REQUEST_AGAIN}`,
        );
      }
      // RFC 8725 §3.11 / RFC 9068 §4: an ID token or other JWT must not pass as an access token.
      if (header.typ !== TOKEN_TYPE) throw badType();
      if (!isNonEmptyString(header.kid)) {
        throw new TokenRejectedError(
          'unknown_kid',
          `The access token does not name its signing key. ${REQUEST_AGAIN}`,
        );
      }
      const key = await lookup(header.kid);
      if (!key) {
        throw new TokenRejectedError(
          'unknown_kid',
          `The access token was signed with a key this Airlock does not know (it may have been rotated). ${REQUEST_AGAIN}`,
        );
      }
      if (
        segments[2].length !== ES256_SIGNATURE_LENGTH ||
        !BASE64URL_SEGMENT.test(segments[1]) ||
        !BASE64URL_SEGMENT.test(segments[2])
      ) {
        throw malformed();
      }

      const now = clock.now();
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: ['ES256'],
          typ: TOKEN_TYPE,
          issuer: options.issuer,
          audience: options.audience,
          clockTolerance: skew,
          currentDate: now,
          requiredClaims: ['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti', 'scope', 'workflow'],
        }));
      } catch (cause) {
        throw fromJoseError(cause);
      }

      const claims = deepFreeze(assertClaims(payload, Math.floor(now.getTime() / 1000), skew));
      // Signature, header and claims hold for these exact bytes: remembered before the checks that
      // depend on the call (certificate, revocation), which every presentation repeats.
      verified.set(token, claims);
      assertBoundTo(claims, verifyOptions.certificateThumbprint);
      await assertNotRevoked(claims, verifyOptions);
      return claims;
    },
  };
}

/**
 * Tokens whose signature, header and claims were verified, by their exact compact serialization. Bounded:
 * the least recently used entry goes first. Only tokens that passed verification get in, so an attacker cannot fill it
 * without valid signatures.
 */
class VerifiedTokens {
  private readonly claims = new Map<string, AccessTokenClaims>();

  constructor(private readonly capacity: number) {}

  /** The claims of a remembered token, which becomes the most recently used. */
  get(token: string): AccessTokenClaims | undefined {
    const claims = this.claims.get(token);
    if (claims !== undefined) {
      this.claims.delete(token);
      this.claims.set(token, claims);
    }
    return claims;
  }

  set(token: string, claims: AccessTokenClaims): void {
    if (this.capacity === 0) return;
    if (this.claims.size >= this.capacity) {
      const oldest = this.claims.keys().next().value;
      if (oldest !== undefined) this.claims.delete(oldest);
    }
    this.claims.set(token, claims);
  }

  delete(token: string): void {
    this.claims.delete(token);
  }
}

/** Claims handed to several callers must not be changeable by one of them. */
function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object' && !Object.isFrozen(child)) deepFreeze(child);
  }
  return Object.freeze(value);
}
