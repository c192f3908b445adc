/**
 * Issuing Airlock access tokens (both profiles, see access-token-claims.ts). The compact JWS is built
 * here so the only thing a {@link TokenSigner} ever does is sign bytes (KMS in AWS, a local key in the
 * pilot), and every token leaves with exactly the header `{alg: 'ES256', typ: 'at+jwt', kid}`.
 */
import { randomUUID } from 'node:crypto';
import { DependencyError } from '../errors';
import type { TokenSigner } from '../ports';
import {
  ACCESS_TOKEN_ALGORITHM,
  ACCESS_TOKEN_TYPE,
  type AccessTokenClaims,
  MAX_ACCESS_TOKEN_LIFETIME_SECONDS,
  type OAuthAccessTokenClaims,
  TOKEN_SCOPE_PATTERN,
  type TokenBinding,
} from './access-token-claims';

const THUMBPRINT_PATTERN = /^[A-Za-z0-9_-]{43}$/;

interface BaseAccessTokenRequest {
  readonly issuer: string;
  readonly audience: string;
  readonly subject: string;
  readonly workflow: string;
  readonly resource?: string;
  readonly scope: readonly string[];
  readonly lifetimeSeconds: number;
  readonly now: Date;
  /** Defaults to a random UUID; given by an issuer that checked the token's record before signing, and by tests. */
  readonly jti?: string;
}

/** What the issuer decided to grant, to whom, and how the token is bound to its holder. */
export type AccessTokenRequest = BaseAccessTokenRequest & TokenBinding;

/** A device token's request: bound to `certificateThumbprint` (`x5t#S256`, see `certificateThumbprint`). */
export type DeviceAccessTokenRequest = BaseAccessTokenRequest & { readonly certificateThumbprint: string };

/** An OAuth token's request: bound to the client and its sign-in. */
export type OAuthAccessTokenRequest = BaseAccessTokenRequest & {
  readonly clientId: string;
  readonly familyId: string;
};

export interface IssuedAccessToken<C = AccessTokenClaims> {
  /** The compact JWS. Never log it. */
  readonly token: string;
  readonly claims: C;
  readonly expiresAt: Date;
}

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
    if (!TOKEN_SCOPE_PATTERN.test(scope)) {
      throw new TypeError(
        `issueAccessToken: scope "${scope}" is not <connector>:<read|write|export> or usage:report`,
      );
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
  if ('certificateThumbprint' in request) {
    if (!THUMBPRINT_PATTERN.test(request.certificateThumbprint)) {
      throw new TypeError('issueAccessToken: certificateThumbprint must be a base64url SHA-256 thumbprint');
    }
  } else if (
    typeof request.clientId !== 'string' ||
    request.clientId === '' ||
    typeof request.familyId !== 'string' ||
    request.familyId === ''
  ) {
    throw new TypeError('issueAccessToken: clientId and familyId must be non-empty strings');
  }
  if (!(request.now instanceof Date) || Number.isNaN(request.now.getTime())) {
    throw new TypeError('issueAccessToken: now must be a valid Date');
  }
}

/**
 * The claims {@link issueAccessToken} signs for `request`, computed without signing: an issuer checks
 * that their record could be written before anything is signed. Give `jti` to get the same claims
 * the token will carry. Throws like {@link issueAccessToken} on a malformed request.
 */
export function accessTokenClaimsOf(request: DeviceAccessTokenRequest): AccessTokenClaims;
export function accessTokenClaimsOf(request: OAuthAccessTokenRequest): OAuthAccessTokenClaims;
export function accessTokenClaimsOf(request: AccessTokenRequest): AccessTokenClaims | OAuthAccessTokenClaims;
export function accessTokenClaimsOf(request: AccessTokenRequest): AccessTokenClaims | OAuthAccessTokenClaims {
  assertRequest(request);
  const iat = Math.floor(request.now.getTime() / 1000);
  const common = {
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
  };
  return 'certificateThumbprint' in request
    ? { ...common, cnf: { 'x5t#S256': request.certificateThumbprint } }
    : { ...common, client_id: request.clientId, fam: request.familyId };
}

/**
 * Issues an ES256 access token. A request with `certificateThumbprint` gives a device token (`cnf`),
 * one with `clientId` and `familyId` an OAuth token (`client_id`, `fam`).
 *
 * `iat` and `nbf` are `now` (whole seconds), `exp` is `iat + lifetimeSeconds`. Throws
 * `DependencyError('signer')` when the signer fails or returns anything but a 64-byte r||s signature.
 */
export async function issueAccessToken(
  signer: TokenSigner,
  request: OAuthAccessTokenRequest,
): Promise<IssuedAccessToken<OAuthAccessTokenClaims>>;
export async function issueAccessToken(
  signer: TokenSigner,
  request: DeviceAccessTokenRequest,
): Promise<IssuedAccessToken<AccessTokenClaims>>;
export async function issueAccessToken(
  signer: TokenSigner,
  request: AccessTokenRequest,
): Promise<IssuedAccessToken<AccessTokenClaims | OAuthAccessTokenClaims>> {
  const claims = accessTokenClaimsOf(request);
  const signingInput = `${base64urlJson({ alg: ACCESS_TOKEN_ALGORITHM, typ: ACCESS_TOKEN_TYPE, kid: signer.keyId })}.${base64urlJson(claims)}`;
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
