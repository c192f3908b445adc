/**
 * The one place Airlock asks jose to verify a JWS signature: Airlock's own access tokens, the
 * corporate IdP's ID tokens and enterprise identity assertions all go through here, so the rules
 * RFC 8725 leaves to the application (one algorithm list, an explicit `typ`, keys chosen by us, never by
 * the token) are applied in one reviewed spot, and a failure is classified the same way everywhere.
 */
import type { KeyObject } from 'node:crypto';
import { createRemoteJWKSet, type JWTVerifyGetKey, errors as joseErrors, jwtVerify } from 'jose';

/** What the caller requires of a token besides a valid signature. */
export interface SignedJwtRequirements {
  /** The only algorithms accepted (never taken from the token). */
  readonly algorithms: readonly string[];
  /** Required `typ` header (RFC 8725 §3.11), when the token type is explicit. */
  readonly typ?: string;
  /** The issuer, or the spellings of it accepted (e.g. with and without a trailing slash). */
  readonly issuer?: string | readonly string[];
  /** The audience, or the spellings of it accepted. */
  readonly audience?: string | readonly string[];
  /** Seconds of leeway on `exp`, `nbf` and `iat`. */
  readonly clockToleranceSeconds: number;
  readonly now: Date;
  /** Claims that must be present. */
  readonly requiredClaims?: readonly string[];
  /** Refuse a token whose `iat` is older than this many seconds. */
  readonly maxTokenAgeSeconds?: number;
}

/** Why a JWT was not accepted, classified the same way for every kind of token. */
export type JwtFailure =
  | { readonly kind: 'expired' }
  | { readonly kind: 'bad_signature' }
  | { readonly kind: 'alg_not_allowed' }
  | { readonly kind: 'claim_check_failed'; readonly claim: string }
  | { readonly kind: 'claim_invalid'; readonly claim: string }
  | { readonly kind: 'malformed' };

/** A JWT failed verification; `failure` says why, `cause` holds jose's own error. */
export class JwtVerificationError extends Error {
  public readonly name = 'JwtVerificationError';
  constructor(
    public readonly failure: JwtFailure,
    options: { cause?: unknown } = {},
  ) {
    super(
      `JWT verification failed: ${failure.kind}${'claim' in failure ? ` (${failure.claim})` : ''}`,
      options,
    );
  }
}

/** Keys for {@link verifySignedJwt}: one key, or a resolver over a key set (e.g. a remote JWKS). */
export type JwtKeys = KeyObject | JWTVerifyGetKey;

/**
 * Verifies a compact JWS and its standard claims and returns the payload.
 * @throws JwtVerificationError classifying the failure
 */
export async function verifySignedJwt(
  token: string,
  keys: JwtKeys,
  requirements: SignedJwtRequirements,
): Promise<Record<string, unknown>> {
  const options = {
    algorithms: [...requirements.algorithms],
    typ: requirements.typ,
    issuer:
      typeof requirements.issuer === 'string'
        ? requirements.issuer
        : requirements.issuer && [...requirements.issuer],
    audience:
      typeof requirements.audience === 'string'
        ? requirements.audience
        : requirements.audience && [...requirements.audience],
    clockTolerance: requirements.clockToleranceSeconds,
    currentDate: requirements.now,
    requiredClaims: requirements.requiredClaims ? [...requirements.requiredClaims] : undefined,
    maxTokenAge: requirements.maxTokenAgeSeconds,
  };
  try {
    const { payload } =
      typeof keys === 'function'
        ? await jwtVerify(token, keys, options)
        : await jwtVerify(token, keys, options);
    return payload as Record<string, unknown>;
  } catch (cause) {
    throw new JwtVerificationError(classify(cause), { cause });
  }
}

/**
 * A key resolver over a remote JWKS (an IdP's `jwks_uri`), cached and refreshed by jose.
 * @param options.timeoutMs - how long one fetch of the key set may take
 */
export function remoteKeySet(url: URL, options: { readonly timeoutMs: number }): JWTVerifyGetKey {
  return createRemoteJWKSet(url, { timeoutDuration: options.timeoutMs });
}

function classify(cause: unknown): JwtFailure {
  if (cause instanceof joseErrors.JWTExpired) return { kind: 'expired' };
  if (cause instanceof joseErrors.JWSSignatureVerificationFailed) return { kind: 'bad_signature' };
  if (cause instanceof joseErrors.JOSEAlgNotAllowed) return { kind: 'alg_not_allowed' };
  if (cause instanceof joseErrors.JWTClaimValidationFailed) {
    return cause.reason === 'check_failed'
      ? { kind: 'claim_check_failed', claim: cause.claim }
      : { kind: 'claim_invalid', claim: cause.claim };
  }
  // Anything unrecognised (a bad segment, an unknown key in a JWKS, ...) is malformed, never valid.
  return { kind: 'malformed' };
}
