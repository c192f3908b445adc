/**
 * PKCE (RFC 7636) as OAuth 2.1 requires it: S256 only. `plain` is refused because it protects nothing
 * once the authorization request is seen.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { OAuthError } from './oauth-error';

/** RFC 7636 §4.1: 43–128 characters of [A-Z a-z 0-9 - . _ ~]. */
const VERIFIER_PATTERN = /^[A-Za-z0-9._~-]{43,128}$/;
/** base64url of a SHA-256 digest: 43 characters. */
const CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Checks the code challenge of an authorization request. Throws `invalid_request` when it is
 * missing, not S256, or not a SHA-256 digest.
 */
export function assertS256Challenge(challenge: string | undefined, method: string | undefined): string {
  if (challenge === undefined || challenge === '') {
    throw new OAuthError('invalid_request', 'code_challenge is required (PKCE with S256).');
  }
  if (method !== 'S256') {
    throw new OAuthError(
      'invalid_request',
      `code_challenge_method must be S256${method ? ` (got "${method.slice(0, 20)}"; plain is not accepted)` : ''}.`,
    );
  }
  if (!CHALLENGE_PATTERN.test(challenge)) {
    throw new OAuthError(
      'invalid_request',
      'code_challenge must be the base64url SHA-256 of the code verifier.',
    );
  }
  return challenge;
}

/** The S256 challenge of a verifier. */
export function s256ChallengeOf(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/**
 * True when `verifier` is well formed and hashes to `challenge`; compared in constant time.
 */
export function pkceVerifierMatches(verifier: string | undefined, challenge: string): boolean {
  if (verifier === undefined || !VERIFIER_PATTERN.test(verifier)) return false;
  const expected = Buffer.from(challenge, 'ascii');
  const actual = Buffer.from(s256ChallengeOf(verifier), 'ascii');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
