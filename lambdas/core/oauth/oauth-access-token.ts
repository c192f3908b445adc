/**
 * Access tokens of the certificate-less OAuth entry point. They are Airlock access tokens (RFC 9068,
 * ES256, same signing key, same `scope`/`workflow` claims, so the connector pipeline does not change)
 * with three differences that keep them apart from certificate-bound tokens:
 *
 * - `iss` is the OAuth entry point's issuer and `aud` is the MCP resource (RFC 8707), neither of which
 *   the mTLS routes accept;
 * - there is no `cnf` claim: the mTLS verifier refuses a token without one, and this verifier refuses
 *   a token with one, so neither kind of token passes at the other kind of route;
 * - `client_id` (RFC 9068 §2.2) and `fam`, the refresh-token family (one sign-in), which is checked on
 *   every request so revoking a family ends its access tokens at once.
 */

import type { KeyObject } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify } from 'jose';
import {
  ACCESS_SCOPE_PATTERN,
  type AccessTokenClaims,
  MAX_ACCESS_TOKEN_LIFETIME_SECONDS,
  TokenRejectedError,
} from '../access-token';
import { DependencyError } from '../errors';
import type { Clock, TokenSigner } from '../ports';

/** An Airlock access token's claims without the certificate binding, plus the OAuth client and sign-in. */
export interface OAuthAccessTokenClaims extends Omit<AccessTokenClaims, 'cnf' | 'resource'> {
  /** The MCP resource URL. */
  readonly aud: string;
  readonly client_id: string;
  /** The refresh-token family (sign-in) the token belongs to. */
  readonly fam: string;
}

export interface OAuthAccessTokenRequest {
  readonly issuer: string;
  readonly resource: string;
  readonly subject: string;
  readonly workflow: string;
  readonly clientId: string;
  readonly familyId: string;
  readonly scope: readonly string[];
  readonly lifetimeSeconds: number;
  readonly now: Date;
}

const TOKEN_TYPE = 'at+jwt';
const MAX_TOKEN_LENGTH = 8192;
const ALLOWED_HEADER = new Set(['alg', 'typ', 'kid']);
const SIGN_IN_AGAIN = 'Sign in again through your MCP client (reconnect the Airlock connector).';

/** Signs an OAuth access token. Throws `DependencyError('signer')` when the signer fails. */
export async function issueOAuthAccessToken(
  signer: TokenSigner,
  request: OAuthAccessTokenRequest,
): Promise<{ token: string; claims: OAuthAccessTokenClaims }> {
  if (
    !Number.isInteger(request.lifetimeSeconds) ||
    request.lifetimeSeconds < 1 ||
    request.lifetimeSeconds > MAX_ACCESS_TOKEN_LIFETIME_SECONDS
  ) {
    throw new RangeError('issueOAuthAccessToken: lifetimeSeconds is out of range');
  }
  if (request.scope.length === 0 || request.scope.some((s) => !ACCESS_SCOPE_PATTERN.test(s))) {
    throw new TypeError('issueOAuthAccessToken: scope must list <connector>:<access> scopes');
  }
  const iat = Math.floor(request.now.getTime() / 1000);
  const claims: OAuthAccessTokenClaims = {
    iss: request.issuer,
    sub: request.subject,
    aud: request.resource,
    iat,
    nbf: iat,
    exp: iat + request.lifetimeSeconds,
    jti: randomUUID(),
    scope: request.scope.join(' '),
    workflow: request.workflow,
    client_id: request.clientId,
    fam: request.familyId,
  };
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
  const signingInput = `${encode({ alg: 'ES256', typ: TOKEN_TYPE, kid: signer.keyId })}.${encode(claims)}`;
  let signature: Uint8Array;
  try {
    signature = await signer.sign(Buffer.from(signingInput, 'ascii'));
  } catch (cause) {
    if (cause instanceof DependencyError) throw cause;
    throw new DependencyError('signer', 'The token signer failed to sign an access token.', { cause });
  }
  if (signature.length !== 64) {
    throw new DependencyError('signer', 'The token signer did not return a 64-byte ES256 signature.');
  }
  return { token: `${signingInput}.${Buffer.from(signature).toString('base64url')}`, claims };
}

export interface OAuthAccessTokenVerifierOptions {
  readonly issuer: string;
  /** The MCP resource URL: the only accepted `aud`. */
  readonly resource: string;
  readonly keys: (kid: string) => Promise<KeyObject | undefined>;
  readonly clockSkewSeconds: number;
  readonly clock: Clock;
}

function reject(reason: ConstructorParameters<typeof TokenRejectedError>[0], what: string, cause?: unknown) {
  return new TokenRejectedError(reason, `${what} ${SIGN_IN_AGAIN}`, { cause });
}

function decodeHeader(segment: string): Record<string, unknown> {
  try {
    const header: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    if (header && typeof header === 'object' && !Array.isArray(header))
      return header as Record<string, unknown>;
  } catch {
    // falls through to the refusal
  }
  throw reject('malformed', 'The access token is not a well-formed Airlock access token.');
}

/**
 * Builds the verifier of the OAuth entry point's `/v1/mcp`: ES256 only, `typ: at+jwt`, keys by `kid`
 * from our own key set, `iss` and `aud` fixed, `client_id` and `fam` required and `cnf` refused.
 * Throws {@link TokenRejectedError} (401) or `DependencyError` (keys unavailable).
 */
export function createOAuthAccessTokenVerifier(options: OAuthAccessTokenVerifierOptions) {
  return {
    async verify(token: string): Promise<OAuthAccessTokenClaims> {
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
        throw reject('malformed', 'The access token is not a well-formed Airlock access token.');
      }
      const segments = token.split('.');
      if (segments.length !== 3) throw reject('malformed', 'The access token is not a compact JWS.');
      const header = decodeHeader(segments[0]);
      if (header.alg !== 'ES256')
        throw reject('alg_not_allowed', 'The access token is not signed with ES256.');
      if (Object.keys(header).some((name) => !ALLOWED_HEADER.has(name))) {
        throw reject(
          'header_key_not_allowed',
          'The access token header carries parameters Airlock does not accept.',
        );
      }
      if (header.typ !== TOKEN_TYPE) throw reject('bad_type', 'The token is not an access token.');
      if (typeof header.kid !== 'string' || header.kid === '') {
        throw reject('unknown_kid', 'The access token does not name its signing key.');
      }
      let key: KeyObject | undefined;
      try {
        key = await options.keys(header.kid);
      } catch (cause) {
        throw new DependencyError('token-keys', 'The access-token verification key could not be loaded.', {
          cause,
        });
      }
      if (!key)
        throw reject('unknown_kid', 'The access token was signed with a key this Airlock does not know.');
      const now = options.clock.now();
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: ['ES256'],
          typ: TOKEN_TYPE,
          issuer: options.issuer,
          audience: options.resource,
          clockTolerance: options.clockSkewSeconds,
          currentDate: now,
          requiredClaims: ['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti', 'scope', 'workflow'],
        }));
      } catch (cause) {
        throw fromJoseError(cause);
      }
      return assertClaims(payload);
    },
  };
}

function fromJoseError(cause: unknown): TokenRejectedError {
  if (cause instanceof joseErrors.JWTExpired)
    return reject('expired', 'The access token has expired.', cause);
  if (cause instanceof joseErrors.JWSSignatureVerificationFailed) {
    return reject('bad_signature', 'The access token signature does not verify.', cause);
  }
  if (cause instanceof joseErrors.JWTClaimValidationFailed) {
    if (cause.claim === 'iss')
      return reject('bad_issuer', 'The access token was issued by someone else.', cause);
    if (cause.claim === 'aud') {
      return reject(
        'bad_audience',
        'The access token is meant for another resource (RFC 8707 audience).',
        cause,
      );
    }
    if (cause.claim === 'nbf' || cause.claim === 'iat') {
      return reject('not_yet_valid', 'The access token is not valid yet.', cause);
    }
  }
  return reject('malformed', 'The access token is not a well-formed Airlock access token.', cause);
}

function assertClaims(payload: Record<string, unknown>): OAuthAccessTokenClaims {
  // A certificate-bound token belongs to the mTLS routes; accepting it here would drop its binding.
  if (payload.cnf !== undefined) {
    throw reject(
      'certificate_mismatch',
      'A certificate-bound token is not accepted on the OAuth entry point.',
    );
  }
  for (const claim of ['sub', 'jti', 'workflow', 'client_id', 'fam'] as const) {
    if (typeof payload[claim] !== 'string' || payload[claim] === '') {
      throw reject('malformed', `The access token lacks a valid "${claim}" claim.`);
    }
  }
  const { iat, nbf, exp, scope, aud } = payload as Record<string, unknown>;
  if (![iat, nbf, exp].every(Number.isInteger)) throw reject('malformed', 'The access token has bad times.');
  if (
    (exp as number) <= (iat as number) ||
    (exp as number) - (iat as number) > MAX_ACCESS_TOKEN_LIFETIME_SECONDS
  ) {
    throw reject('malformed', 'The access token has an impossible lifetime.');
  }
  if (typeof aud !== 'string')
    throw reject('bad_audience', 'The access token must name exactly one audience.');
  if (typeof scope !== 'string' || scope.split(' ').some((s) => !ACCESS_SCOPE_PATTERN.test(s))) {
    throw reject('malformed', 'The access token has a malformed "scope" claim.');
  }
  return payload as unknown as OAuthAccessTokenClaims;
}

export type OAuthAccessTokenVerifier = ReturnType<typeof createOAuthAccessTokenVerifier>;
