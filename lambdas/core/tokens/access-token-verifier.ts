/**
 * Verifying Airlock access tokens, one verifier per profile (device or OAuth, see
 * access-token-claims.ts). Every choice RFC 8725 leaves to the application is made here, before the
 * signature is checked: one algorithm, one type, keys only from our own key set by `kid`, never from
 * the token's header, and nothing in the header we did not put there. Verification is local: no KMS
 * call per request.
 */
import { createHash, createPublicKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import { MAX_ACCESS_TOKEN_LENGTH } from '../../../lib/contracts/limits';
import { DependencyError } from '../errors';
import { type Clock, systemClock } from '../ports';
import {
  ACCESS_TOKEN_ALGORITHM,
  ACCESS_TOKEN_TYPE,
  type AccessTokenClaims,
  type AccessTokenProfile,
  type BaseAccessTokenClaims,
  DEVICE_TOKEN_PROFILE,
  isNonEmptyString,
  MAX_ACCESS_TOKEN_LIFETIME_SECONDS,
  TOKEN_SCOPE_PATTERN,
  TokenRejectedError,
} from './access-token-claims';
import { JwtVerificationError, verifySignedJwt } from './jwt-signature';
import { assertNotRevoked, type RevocationCheck } from './token-revocation';
import { VerifiedTokenCache } from './verified-token-cache';

const BASE64URL_SEGMENT = /^[A-Za-z0-9_-]*$/;
/** An ES256 signature is 64 bytes: 86 base64url characters. */
const ES256_SIGNATURE_LENGTH = 86;
/** The only protected-header parameters our tokens carry. Anything else (jwk, jku, x5u, x5c, crit, b64, ...) is refused. */
const ALLOWED_HEADER_PARAMETERS = new Set(['alg', 'typ', 'kid']);
/** Enough for every token a busy function sees within their lifetime; ≤ 8 MB at the longest token. */
const DEFAULT_VERIFIED_TOKEN_CACHE_SIZE = 1000;

/** The verification keys by `kid`: a fixed set, or a resolver (e.g. a signer's cached public key). */
export type AccessTokenKeys =
  | ReadonlyMap<string, KeyObject>
  | ((kid: string) => Promise<KeyObject | undefined>);

export interface AccessTokenVerifierOptions<C extends BaseAccessTokenClaims = AccessTokenClaims> {
  /**
   * Which tokens this verifier accepts.
   * @default DEVICE_TOKEN_PROFILE
   */
  readonly profile?: AccessTokenProfile<C>;
  /** The only accepted `iss`. */
  readonly issuer: string;
  /** The only accepted `aud`. */
  readonly audience: string;
  readonly keys: AccessTokenKeys;
  /**
   * Leeway for `exp`, `nbf` and `iat` between the issuer's clock and ours.
   * @default 30
   */
  readonly clockSkewSeconds?: number;
  /** @default systemClock */
  readonly clock?: Clock;
  /**
   * How many verified tokens to remember, so that a token presented again skips the ES256 signature
   * check (the largest part of verifying). A remembered token is still checked on every call for
   * `exp`/`nbf`/`iat` against the clock, for its binding and for revocation; only the work that depends
   * on nothing but the token's own bytes (signature, header, claim shapes) is not redone, the way API
   * Gateway caches an authorizer's answer per token. 0 turns the cache off.
   * @default 1000
   */
  readonly verifiedTokenCacheSize?: number;
}

export interface VerifyAccessTokenOptions extends RevocationCheck {
  /**
   * `x5t#S256` of the client certificate the token was presented over. Required by the device
   * profile; the OAuth profile has no certificate and ignores it.
   */
  readonly certificateThumbprint?: string;
}

export interface AccessTokenVerifier<C extends BaseAccessTokenClaims = AccessTokenClaims> {
  /**
   * Verifies a presented token and returns its claims. Throws {@link TokenRejectedError} (401) for any
   * token that is not fully valid, and `DependencyError` when a key resolver or the revocation store
   * cannot answer (refuse the call).
   */
  verify(token: string, options?: VerifyAccessTokenOptions): Promise<C>;
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

/** Compares hashes so neither the length nor the content of the expected value leaks through timing. */
function constantTimeEqual(a: string, b: string): boolean {
  const digestA = createHash('sha256').update(a, 'utf8').digest();
  const digestB = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(digestA, digestB);
}

/** Claims handed to several callers must not be changeable by one of them. */
function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object' && !Object.isFrozen(child)) deepFreeze(child);
  }
  return Object.freeze(value);
}

/**
 * Builds an access-token verifier: ES256 only, `typ: at+jwt`, keys only by `kid` from `keys` (cached),
 * issuer and audience fixed, and the token's binding checked as its profile requires.
 */
export function createAccessTokenVerifier<C extends BaseAccessTokenClaims = AccessTokenClaims>(
  options: AccessTokenVerifierOptions<C>,
): AccessTokenVerifier<C> {
  const profile = (options.profile ?? DEVICE_TOKEN_PROFILE) as AccessTokenProfile<C>;
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
  const verified = new VerifiedTokenCache<C>(cacheSize);
  const again = profile.requestAgain;

  const malformed = (cause?: unknown, what = 'is not a well-formed Airlock access token') =>
    new TokenRejectedError('malformed', `The access token ${what}. ${again}`, { cause });
  const notYetValid = (cause?: unknown) =>
    new TokenRejectedError(
      'not_yet_valid',
      'The access token is not valid yet; check that this device’s clock is correct, then get a new token.',
      { cause },
    );
  const badType = (cause?: unknown) =>
    new TokenRejectedError(
      'bad_type',
      `The token is not an access token (typ must be "${ACCESS_TOKEN_TYPE}"). ${again}`,
      { cause },
    );

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

  /** Maps a signature-layer failure to our reasons; anything unrecognised counts as malformed. */
  function fromJwtFailure(error: unknown): TokenRejectedError {
    if (!(error instanceof JwtVerificationError)) return malformed(error);
    const { failure } = error;
    switch (failure.kind) {
      case 'expired':
        return new TokenRejectedError('expired', `The access token has expired. ${again}`, { cause: error });
      case 'bad_signature':
        return new TokenRejectedError(
          'bad_signature',
          `The access token's signature does not verify; it was altered or not issued by this Airlock. ${again}`,
          { cause: error },
        );
      case 'alg_not_allowed':
        return new TokenRejectedError(
          'alg_not_allowed',
          `The access token is not signed with ES256. ${again}`,
          {
            cause: error,
          },
        );
      case 'claim_check_failed':
        switch (failure.claim) {
          case 'iss':
            return new TokenRejectedError(
              'bad_issuer',
              `The access token was issued by someone else. ${again}`,
              {
                cause: error,
              },
            );
          case 'aud':
            return new TokenRejectedError(
              'bad_audience',
              `The access token is meant for another service. ${again}`,
              { cause: error },
            );
          case 'nbf':
          case 'iat':
            return notYetValid(error);
          case 'typ':
            return badType(error);
        }
        return malformed(error, `lacks a valid "${failure.claim}" claim`);
      case 'claim_invalid':
        return malformed(error, `lacks a valid "${failure.claim}" claim`);
      default:
        return malformed(error);
    }
  }

  /** The signature layer checked signature, iss, aud, exp, nbf and types; this checks what is ours to define. */
  function assertClaims(payload: Record<string, unknown>, nowSeconds: number): C {
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
        `The access token must name exactly one audience. ${again}`,
      );
    }
    const scope = payload.scope;
    if (
      typeof scope !== 'string' ||
      scope.split(' ').some((s) => !TOKEN_SCOPE_PATTERN.test(s)) ||
      new Set(scope.split(' ')).size !== scope.split(' ').length
    ) {
      throw malformed(undefined, 'has a malformed "scope" claim');
    }
    if (payload.resource !== undefined && !isNonEmptyString(payload.resource)) {
      throw malformed(undefined, 'has a malformed "resource" claim');
    }
    return profile.bindingOf(payload);
  }

  /** The checks that depend on the presentation, repeated for a remembered token too. */
  async function assertPresentation(claims: C, verifyOptions: VerifyAccessTokenOptions): Promise<void> {
    if (profile.name === 'device') {
      const bound = (claims as unknown as AccessTokenClaims).cnf['x5t#S256'];
      const presented = verifyOptions.certificateThumbprint;
      if (!isNonEmptyString(presented) || !constantTimeEqual(bound, presented)) {
        throw new TokenRejectedError(
          'certificate_mismatch',
          'The access token was issued to a different client certificate; request a token over the certificate you are using.',
        );
      }
    }
    await assertNotRevoked(claims, verifyOptions);
  }

  return {
    async verify(token, verifyOptions = {}) {
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_ACCESS_TOKEN_LENGTH) {
        throw malformed();
      }
      const known = verified.get(token);
      if (known) {
        const nowSeconds = Math.floor(clock.now().getTime() / 1000);
        // The same checks the signature layer makes of the time claims; a token that fails one is
        // dropped and verified in full below, so it gets exactly the answer an unseen token would.
        if (
          nowSeconds - skew < known.exp &&
          known.nbf <= nowSeconds + skew &&
          known.iat <= nowSeconds + skew
        ) {
          await assertPresentation(known, verifyOptions);
          return known;
        }
        verified.delete(token);
      }
      const segments = token.split('.');
      if (segments.length !== 3) throw malformed();
      const header = decodeHeader(segments[0]);

      // RFC 8725 §3.1: the algorithm is ours to choose, never the token's.
      if (header.alg !== ACCESS_TOKEN_ALGORITHM) {
        throw new TokenRejectedError(
          'alg_not_allowed',
          `The access token is not signed with ES256. ${again}`,
        );
      }
      // A key (or a pointer to one) in the header would let the token vouch for itself.
      const foreign = Object.keys(header).filter((name) => !ALLOWED_HEADER_PARAMETERS.has(name));
      if (foreign.length > 0) {
        throw new TokenRejectedError(
          'header_key_not_allowed',
          `The access token's header carries parameters Airlock does not accept (${foreign
            .map((name) => name.slice(0, 16))
            .join(', ')}). ${again}`,
        );
      }
      // RFC 8725 §3.11 / RFC 9068 §4: an ID token or other JWT must not pass as an access token.
      if (header.typ !== ACCESS_TOKEN_TYPE) throw badType();
      if (!isNonEmptyString(header.kid)) {
        throw new TokenRejectedError(
          'unknown_kid',
          `The access token does not name its signing key. ${again}`,
        );
      }
      const key = await lookup(header.kid);
      if (!key) {
        throw new TokenRejectedError(
          'unknown_kid',
          `The access token was signed with a key this Airlock does not know (it may have been rotated). ${again}`,
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
        payload = await verifySignedJwt(token, key, {
          algorithms: [ACCESS_TOKEN_ALGORITHM],
          typ: ACCESS_TOKEN_TYPE,
          issuer: options.issuer,
          audience: options.audience,
          clockToleranceSeconds: skew,
          now,
          requiredClaims: ['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti', 'scope', 'workflow'],
        });
      } catch (error) {
        throw fromJwtFailure(error);
      }

      const claims = deepFreeze(assertClaims(payload, Math.floor(now.getTime() / 1000)));
      // Signature, header and claims hold for these exact bytes: remembered before the checks that
      // depend on the presentation (certificate, revocation), which every presentation repeats.
      verified.set(token, claims);
      await assertPresentation(claims, verifyOptions);
      return claims;
    },
  };
}
