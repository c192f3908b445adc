/**
 * The verifier's cache of verified tokens: a token presented again skips the ES256 signature check,
 * and nothing else. jose is wrapped (not replaced) so the test can count signature verifications.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { jwtVerify } from 'jose';
import {
  type AccessTokenVerifierOptions,
  createAccessTokenVerifier,
  issueAccessToken,
  TokenRejectedError,
} from '../../../lambdas/core/access-token';
import type { TokenSigner } from '../../../lambdas/core/ports';

jest.mock('jose', () => {
  const actual = jest.requireActual('jose');
  return { ...actual, jwtVerify: jest.fn(actual.jwtVerify) };
});

const ISSUER = 'https://airlock.example.com';
const AUDIENCE = 'https://airlock.example.com/v1';
const ISSUED_AT = new Date('2026-11-02T10:00:00.000Z');
const KID = 'test-key-1';
const LIFETIME_SECONDS = 900;
const SKEW_SECONDS = 30;

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer: TokenSigner = {
  keyId: KID,
  sign: async (data) => sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }),
  getPublicKey: async () => privateKey,
};
const device = randomBytes(32).toString('base64url');
const otherDevice = randomBytes(32).toString('base64url');
const signatureChecks = jwtVerify as jest.MockedFunction<typeof jwtVerify>;

/** A verifier whose clock the test moves. */
function verifierWithClock(options: Partial<AccessTokenVerifierOptions> = {}) {
  let now = ISSUED_AT;
  const verifier = createAccessTokenVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: new Map([[KID, publicKey]]),
    clockSkewSeconds: SKEW_SECONDS,
    clock: { now: () => now },
    ...options,
  });
  return {
    verifier,
    setNow: (date: Date) => {
      now = date;
    },
  };
}

async function issue(subject = 'alice') {
  return issueAccessToken(signer, {
    issuer: ISSUER,
    audience: AUDIENCE,
    subject,
    workflow: 'expense-summary',
    scope: ['receipts:read'],
    lifetimeSeconds: LIFETIME_SECONDS,
    certificateThumbprint: device,
    now: ISSUED_AT,
  });
}

async function rejectionOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => {
      throw new Error('expected the token to be rejected, but it was accepted');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokenRejectedError);
  return (error as TokenRejectedError).reason;
}

beforeEach(() => signatureChecks.mockClear());

describe('Function: createAccessTokenVerifier', () => {
  describe('Method: verify (verified-token cache)', () => {
    it('checks the signature of a token once, however often it is presented', async () => {
      // Prepare
      const { verifier } = verifierWithClock();
      const { token, claims } = await issue();

      // Act
      const answers = [];
      for (let i = 0; i < 5; i++)
        answers.push(await verifier.verify(token, { certificateThumbprint: device }));

      // Assess
      expect(signatureChecks).toHaveBeenCalledTimes(1);
      for (const answer of answers) expect(answer).toEqual(claims);
    });

    it('refuses a remembered token once it has expired, with the same reason as an unseen one', async () => {
      // Prepare
      const { verifier, setNow } = verifierWithClock();
      const { token } = await issue();
      await verifier.verify(token, { certificateThumbprint: device });
      const fresh = verifierWithClock();

      // Act
      const expiredAt = new Date(ISSUED_AT.getTime() + (LIFETIME_SECONDS + SKEW_SECONDS) * 1000);
      setNow(expiredAt);
      fresh.setNow(expiredAt);

      // Assess
      expect(await rejectionOf(verifier.verify(token, { certificateThumbprint: device }))).toBe('expired');
      expect(await rejectionOf(fresh.verifier.verify(token, { certificateThumbprint: device }))).toBe(
        'expired',
      );
    });

    it('still accepts a remembered token one second before the end of the skew', async () => {
      // Prepare
      const { verifier, setNow } = verifierWithClock();
      const { token } = await issue();
      await verifier.verify(token, { certificateThumbprint: device });

      // Act
      setNow(new Date(ISSUED_AT.getTime() + (LIFETIME_SECONDS + SKEW_SECONDS - 1) * 1000));
      const claims = await verifier.verify(token, { certificateThumbprint: device });

      // Assess
      expect(claims.sub).toBe('alice');
      expect(signatureChecks).toHaveBeenCalledTimes(1);
    });

    it('refuses a remembered token presented over another certificate', async () => {
      // Prepare
      const { verifier } = verifierWithClock();
      const { token } = await issue();
      await verifier.verify(token, { certificateThumbprint: device });

      // Act
      const reason = await rejectionOf(verifier.verify(token, { certificateThumbprint: otherDevice }));

      // Assess
      expect(reason).toBe('certificate_mismatch');
    });

    it('asks the revocation store on every presentation, and refuses a token revoked after its first use', async () => {
      // Prepare
      const { verifier } = verifierWithClock();
      const { token, claims } = await issue();
      const revoked = new Set<string>();
      const isRevoked = jest.fn(async ({ jti }: { jti: string }) => revoked.has(jti));
      await verifier.verify(token, { certificateThumbprint: device, isRevoked });

      // Act
      revoked.add(claims.jti);
      const reason = await rejectionOf(verifier.verify(token, { certificateThumbprint: device, isRevoked }));

      // Assess
      expect(reason).toBe('revoked');
      expect(isRevoked).toHaveBeenCalledTimes(2);
    });

    it('refuses a remembered token issued before a kill-switch cut-off', async () => {
      // Prepare
      const { verifier } = verifierWithClock();
      const { token } = await issue();
      await verifier.verify(token, { certificateThumbprint: device });

      // Act
      const reason = await rejectionOf(
        verifier.verify(token, {
          certificateThumbprint: device,
          revokeIssuedBefore: new Date(ISSUED_AT.getTime() + 1000),
        }),
      );

      // Assess
      expect(reason).toBe('issued_before_revocation');
    });

    it('verifies in full a token that differs from a remembered one by a single character', async () => {
      // Prepare
      const { verifier } = verifierWithClock();
      const { token } = await issue();
      await verifier.verify(token, { certificateThumbprint: device });
      // A character inside the signature (the last one also carries unused padding bits).
      const at = token.length - 10;
      const changed = `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;

      // Act
      const reason = await rejectionOf(verifier.verify(changed, { certificateThumbprint: device }));

      // Assess
      expect(reason).toBe('bad_signature');
      expect(signatureChecks).toHaveBeenCalledTimes(2);
    });

    it('remembers only tokens that verified: a rejected token is checked again each time', async () => {
      // Prepare
      const { verifier } = verifierWithClock();
      const { token } = await issue();
      const at = token.length - 10;
      const tampered = `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;

      // Act
      for (let i = 0; i < 3; i++)
        await rejectionOf(verifier.verify(tampered, { certificateThumbprint: device }));

      // Assess
      expect(signatureChecks).toHaveBeenCalledTimes(3);
    });

    it('forgets the least recently used token beyond its capacity', async () => {
      // Prepare
      const { verifier } = verifierWithClock({ verifiedTokenCacheSize: 2 });
      const [first, second, third] = await Promise.all([issue('alice'), issue('bob'), issue('carol')]);
      for (const { token } of [first, second, third]) {
        await verifier.verify(token, { certificateThumbprint: device });
      }
      signatureChecks.mockClear();

      // Act
      await verifier.verify(third.token, { certificateThumbprint: device });
      await verifier.verify(second.token, { certificateThumbprint: device });
      const afterRecent = signatureChecks.mock.calls.length;
      await verifier.verify(first.token, { certificateThumbprint: device });

      // Assess
      expect(afterRecent).toBe(0);
      expect(signatureChecks).toHaveBeenCalledTimes(1);
    });

    it('keeps a token in use over one that was not presented again', async () => {
      // Prepare: capacity 2; the first token is presented again before a third arrives.
      const { verifier } = verifierWithClock({ verifiedTokenCacheSize: 2 });
      const [inUse, idle, newcomer] = await Promise.all([issue('alice'), issue('bob'), issue('carol')]);
      await verifier.verify(inUse.token, { certificateThumbprint: device });
      await verifier.verify(idle.token, { certificateThumbprint: device });
      await verifier.verify(inUse.token, { certificateThumbprint: device });
      await verifier.verify(newcomer.token, { certificateThumbprint: device });
      signatureChecks.mockClear();

      // Act
      await verifier.verify(inUse.token, { certificateThumbprint: device });
      const afterInUse = signatureChecks.mock.calls.length;
      await verifier.verify(idle.token, { certificateThumbprint: device });

      // Assess
      expect(afterInUse).toBe(0);
      expect(signatureChecks).toHaveBeenCalledTimes(1);
    });

    it('checks every signature when the cache is off', async () => {
      // Prepare
      const { verifier } = verifierWithClock({ verifiedTokenCacheSize: 0 });
      const { token } = await issue();

      // Act
      for (let i = 0; i < 3; i++) await verifier.verify(token, { certificateThumbprint: device });

      // Assess
      expect(signatureChecks).toHaveBeenCalledTimes(3);
    });

    it('hands out claims no caller can change for the next one', async () => {
      // Prepare
      const { verifier } = verifierWithClock();
      const { token } = await issue();
      const first = await verifier.verify(token, { certificateThumbprint: device });

      // Act
      const widen = () => {
        (first as { scope: string }).scope = 'receipts:read erp:write';
      };

      // Assess
      expect(widen).toThrow(TypeError);
      expect((await verifier.verify(token, { certificateThumbprint: device })).scope).toBe('receipts:read');
    });

    it('refuses a cache size that is not a whole number of 0 or more', () => {
      // Act / Assess
      for (const size of [-1, 1.5, Number.NaN]) {
        expect(() => verifierWithClock({ verifiedTokenCacheSize: size })).toThrow(
          /verifiedTokenCacheSize must be an integer of 0 or more/,
        );
      }
    });
  });
});
