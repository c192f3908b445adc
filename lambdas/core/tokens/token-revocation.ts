/**
 * Revocation of access tokens of either profile, as a verifier option: by a lookup the caller
 * supplies, or issued before the kill switch's `revokeIssuedBefore`. The entry points check the whole
 * revocation list (tokens, principals, certificates, suspensions, the kill switch) with one read in
 * `RevocationGuard` (lambdas/core/revocation-guard.ts) instead.
 */
import { DependencyError } from '../errors';
import { type BaseAccessTokenClaims, TokenRejectedError } from './access-token-claims';

/** Revocation state the caller already holds (the kill switch's `revokeIssuedBefore`) or can ask for. */
export interface RevocationCheck {
  /** The revocation store's lookup; when absent, individual revocations are not checked. */
  readonly isRevoked?: (token: { jti: string; principal: string; issuedAt: Date }) => Promise<boolean>;
  /** Tokens issued before this instant are dead (kill switch); `null`/absent means no such cut-off. */
  readonly revokeIssuedBefore?: Date | null;
}

/**
 * Refuses a token that was revoked. Throws {@link TokenRejectedError} (`revoked` /
 * `issued_before_revocation`), or `DependencyError` when the store cannot answer: an undecidable
 * token is refused.
 */
export async function assertNotRevoked(
  claims: Pick<BaseAccessTokenClaims, 'iat' | 'jti' | 'sub'>,
  check: RevocationCheck,
): Promise<void> {
  const issuedAt = new Date(claims.iat * 1000);
  if (check.revokeIssuedBefore && issuedAt.getTime() < check.revokeIssuedBefore.getTime()) {
    throw new TokenRejectedError(
      'issued_before_revocation',
      'The access token was issued before an incident cut-off and no longer counts. Request a new token.',
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
