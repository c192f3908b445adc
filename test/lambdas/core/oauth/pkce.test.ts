import { randomBytes } from 'node:crypto';
import { OAuthError } from '../../../../lambdas/core/oauth/oauth-error';
import {
  assertS256Challenge,
  pkceVerifierMatches,
  s256ChallengeOf,
} from '../../../../lambdas/core/oauth/pkce';

describe('Function: assertS256Challenge', () => {
  it('accepts an S256 challenge', () => {
    // Prepare
    const challenge = s256ChallengeOf(randomBytes(32).toString('base64url'));
    // Act / Assess
    expect(assertS256Challenge(challenge, 'S256')).toBe(challenge);
  });

  it('refuses plain PKCE with invalid_request', () => {
    // Prepare
    const verifier = randomBytes(32).toString('base64url');
    // Act
    const act = () => assertS256Challenge(verifier, 'plain');
    // Assess
    expect(act).toThrow(OAuthError);
    expect(act).toThrow(/S256.*plain is not accepted/);
  });

  it('refuses a missing challenge or method', () => {
    expect(() => assertS256Challenge(undefined, 'S256')).toThrow(/code_challenge is required/);
    expect(() => assertS256Challenge(s256ChallengeOf('x'.repeat(43)), undefined)).toThrow(/must be S256/);
  });

  it('refuses a challenge that is not a SHA-256 digest', () => {
    expect(() => assertS256Challenge('too-short', 'S256')).toThrow(/base64url SHA-256/);
  });
});

describe('Function: pkceVerifierMatches', () => {
  it('matches the verifier the challenge was made from (RFC 7636 appendix B)', () => {
    // Prepare: the RFC's own example.
    const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    // Act / Assess
    expect(s256ChallengeOf(verifier)).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    expect(pkceVerifierMatches(verifier, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')).toBe(true);
  });

  it('refuses another verifier, a short one, or none', () => {
    // Prepare
    const challenge = s256ChallengeOf('a'.repeat(43));
    // Act / Assess
    expect(pkceVerifierMatches('b'.repeat(43), challenge)).toBe(false);
    expect(pkceVerifierMatches('a'.repeat(42), s256ChallengeOf('a'.repeat(42)))).toBe(false);
    expect(pkceVerifierMatches(undefined, challenge)).toBe(false);
  });
});
