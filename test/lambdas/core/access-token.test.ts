import {
  createHash,
  createHmac,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from 'node:crypto';
import {
  type AccessTokenClaims,
  type AccessTokenProfile,
  type AccessTokenVerifier,
  assertNotRevoked,
  type BaseAccessTokenClaims,
  createAccessTokenVerifier,
  DEVICE_TOKEN_PROFILE,
  issueAccessToken,
  OAUTH_TOKEN_PROFILE,
  TokenRejectedError,
  type TokenRejectionReason,
} from '../../../lambdas/core/access-token';
import { certificateSubject, certificateThumbprint } from '../../../lambdas/core/certificate-thumbprint';
import { AirlockError, DependencyError } from '../../../lambdas/core/errors';
import type { Clock, TokenSigner } from '../../../lambdas/core/ports';

const ISSUER = 'https://airlock.example.com';
const AUDIENCE = 'https://airlock.example.com/v1';
const NOW = new Date('2026-11-02T10:00:00.000Z');
const NOW_SECONDS = NOW.getTime() / 1000;
const KID = 'test-key-1';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** A TokenSigner over a P-256 key generated for this test run. */
function signerFor(key: KeyObject, keyId = KID): TokenSigner {
  return {
    keyId,
    sign: async (data) => sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }),
    getPublicKey: async () => key,
  };
}

const signer = signerFor(privateKey);
const fixedClock = (date: Date): Clock => ({ now: () => date });
const thumbprint = randomBytes(32).toString('base64url');

function verifierAt(date: Date = NOW, keys = new Map([[KID, publicKey]])): AccessTokenVerifier {
  return createAccessTokenVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys,
    clockSkewSeconds: 30,
    clock: fixedClock(date),
  });
}

function deviceRequest() {
  return {
    issuer: ISSUER,
    audience: AUDIENCE,
    subject: 'alice',
    workflow: 'expense-summary',
    scope: ['receipts:read', 'erp:read'],
    lifetimeSeconds: 900,
    certificateThumbprint: thumbprint,
    now: NOW,
  };
}

function issue(overrides: Partial<Parameters<typeof issueAccessToken>[1]> = {}) {
  return issueAccessToken(signer, {
    issuer: ISSUER,
    audience: AUDIENCE,
    subject: 'alice',
    workflow: 'expense-summary',
    scope: ['receipts:read', 'erp:read'],
    lifetimeSeconds: 900,
    certificateThumbprint: thumbprint,
    now: NOW,
    ...overrides,
  });
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function deviceClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: ISSUER,
    sub: 'alice',
    aud: AUDIENCE,
    iat: NOW_SECONDS,
    nbf: NOW_SECONDS,
    exp: NOW_SECONDS + 900,
    jti: 'b8a3c1e2-0000-4000-8000-000000000001',
    scope: 'receipts:read',
    workflow: 'expense-summary',
    cnf: { 'x5t#S256': thumbprint },
    ...overrides,
  };
}

/** Hand-signs any header and payload with ES256 over `key`: how an attacker with a key would forge. */
function forgeEs256(header: Record<string, unknown>, payload: Record<string, unknown>, key = privateKey) {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

const ES256_HEADER = { alg: 'ES256', typ: 'at+jwt', kid: KID };

async function expectRejected(
  promise: Promise<unknown>,
  reason: TokenRejectionReason,
): Promise<TokenRejectedError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected the token to be rejected with ${reason}, but it was accepted`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokenRejectedError);
  const rejected = error as TokenRejectedError;
  expect(rejected.reason).toBe(reason);
  expect(rejected.code).toBe('unauthenticated');
  expect(rejected.status).toBe(401);
  return rejected;
}

function decodeSegment(token: string, index: number): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index], 'base64url').toString('utf8'));
}

describe('Function: issueAccessToken', () => {
  it('signs an ES256 at+jwt whose header names the signing key and nothing else', async () => {
    // Act
    const { token } = await issue();

    // Assess
    expect(decodeSegment(token, 0)).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: KID });
    expect(Buffer.from(token.split('.')[2], 'base64url')).toHaveLength(64);
  });

  it('carries the claims DESIGN.md lists, bound to the certificate', async () => {
    // Act
    const { token, claims, expiresAt } = await issue({ resource: 'receipts/2026-q3/' });

    // Assess
    const payload = decodeSegment(token, 1);
    expect(payload).toEqual(claims);
    expect(payload).toEqual({
      iss: ISSUER,
      sub: 'alice',
      aud: AUDIENCE,
      iat: NOW_SECONDS,
      nbf: NOW_SECONDS,
      exp: NOW_SECONDS + 900,
      jti: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      scope: 'receipts:read erp:read',
      workflow: 'expense-summary',
      resource: 'receipts/2026-q3/',
      cnf: { 'x5t#S256': thumbprint },
    });
    expect(expiresAt.toISOString()).toBe('2026-11-02T10:15:00.000Z');
  });

  it('omits resource when none was granted and gives every token its own jti', async () => {
    // Act
    const first = await issue();
    const second = await issue();

    // Assess
    expect(decodeSegment(first.token, 1)).not.toHaveProperty('resource');
    expect(first.claims.jti).not.toBe(second.claims.jti);
  });

  it('truncates a sub-second issue time to whole seconds', async () => {
    // Act
    const { claims } = await issue({ now: new Date('2026-11-02T10:00:00.999Z') });

    // Assess
    expect(claims.iat).toBe(NOW_SECONDS);
    expect(claims.exp).toBe(NOW_SECONDS + 900);
  });

  it.each([
    ['a zero lifetime', { lifetimeSeconds: 0 }, /lifetimeSeconds/],
    ['a lifetime above 12 hours', { lifetimeSeconds: 12 * 3600 + 1 }, /lifetimeSeconds/],
    ['a scope outside <connector>:<access>', { scope: ['receipts:delete'] }, /receipts:delete/],
    ['no scope', { scope: [] }, /scope/],
    ['a missing certificate thumbprint', { certificateThumbprint: '' }, /certificateThumbprint/],
  ])('refuses to issue a token with %s', async (_name, overrides, message) => {
    // Act / Assess
    await expect(issue(overrides)).rejects.toThrow(message);
  });

  it('wraps a failing signer as a dependency error', async () => {
    // Prepare
    const failing: TokenSigner = { ...signer, sign: async () => Promise.reject(new Error('throttled')) };

    // Act / Assess
    await expect(
      issueAccessToken(failing, {
        issuer: ISSUER,
        audience: AUDIENCE,
        subject: 'alice',
        workflow: 'expense-summary',
        scope: ['receipts:read'],
        lifetimeSeconds: 60,
        certificateThumbprint: thumbprint,
        now: NOW,
      }),
    ).rejects.toMatchObject({ name: 'DependencyError', dependency: 'signer' });
  });

  it('refuses a signer that returns DER instead of raw r||s', async () => {
    // Prepare
    const derSigner: TokenSigner = {
      ...signer,
      sign: async (data) => sign('sha256', data, { key: privateKey, dsaEncoding: 'der' }),
    };

    // Act / Assess
    await expect(
      issueAccessToken(derSigner, {
        issuer: ISSUER,
        audience: AUDIENCE,
        subject: 'alice',
        workflow: 'expense-summary',
        scope: ['receipts:read'],
        lifetimeSeconds: 60,
        certificateThumbprint: thumbprint,
        now: NOW,
      }),
    ).rejects.toThrow(/64 bytes/);
  });
});

/** The two profiles of the codec: every attack below runs against both. */
const PROFILES = [
  {
    name: 'device',
    profile: DEVICE_TOKEN_PROFILE as AccessTokenProfile<BaseAccessTokenClaims>,
    binding: { certificateThumbprint: thumbprint },
    bindingClaims: { cnf: { 'x5t#S256': thumbprint } } as Record<string, unknown>,
    requestAgain: /POST \/v1\/credentials/,
  },
  {
    name: 'oauth',
    profile: OAUTH_TOKEN_PROFILE as AccessTokenProfile<BaseAccessTokenClaims>,
    binding: { clientId: 'mcp-client-1', familyId: 'sign-in-1' },
    bindingClaims: { client_id: 'mcp-client-1', fam: 'sign-in-1' } as Record<string, unknown>,
    requestAgain: /Sign in again/,
  },
] as const;

describe.each(PROFILES)('Function: createAccessTokenVerifier ($name profile)', (P) => {
  /** Claims of a valid token of this profile. */
  function validClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const { cnf: _cnf, ...common } = deviceClaims();
    return { ...common, ...P.bindingClaims, ...overrides };
  }

  function verifierAt(date: Date = NOW, keys = new Map([[KID, publicKey]])) {
    return createAccessTokenVerifier({
      profile: P.profile,
      issuer: ISSUER,
      audience: AUDIENCE,
      keys,
      clockSkewSeconds: 30,
      clock: fixedClock(date),
    });
  }

  function issue(overrides: Record<string, unknown> = {}) {
    const { certificateThumbprint: _t, ...common } = deviceRequest();
    return issueAccessToken(signer, { ...common, ...P.binding, ...overrides } as never) as Promise<{
      token: string;
      claims: BaseAccessTokenClaims;
      expiresAt: Date;
    }>;
  }

  function createVerifier(options: Omit<Parameters<typeof createAccessTokenVerifier>[0], 'profile'>) {
    return createAccessTokenVerifier({ ...options, profile: P.profile });
  }

  describe('Method: verify', () => {
    it('accepts a token it issued, over the certificate it was issued to', async () => {
      // Prepare
      const { token, claims } = await issue({ resource: 'receipts/2026-q3/' });

      // Act
      const verified = await verifierAt().verify(token, { certificateThumbprint: thumbprint });

      // Assess
      expect(verified).toEqual(claims);
    });

    it('accepts a token within the clock skew after expiry, and refuses it beyond', async () => {
      // Prepare
      const { token } = await issue({ lifetimeSeconds: 60 });

      // Act (one after the other: a rejection must have its handler before it settles)
      const justAfter = await verifierAt(new Date(NOW.getTime() + 80_000)).verify(token, {
        certificateThumbprint: thumbprint,
      });
      const wellAfter = expectRejected(
        verifierAt(new Date(NOW.getTime() + 91_000)).verify(token, { certificateThumbprint: thumbprint }),
        'expired',
      );

      // Assess
      expect(justAfter).toMatchObject({ sub: 'alice' });
      await wellAfter;
    });

    it('rejects the "alg: none" attack (unsigned token)', async () => {
      // Prepare
      const token = `${b64({ alg: 'none', typ: 'at+jwt', kid: KID })}.${b64(validClaims())}.`;

      // Act / Assess
      await expectRejected(
        verifierAt().verify(token, { certificateThumbprint: thumbprint }),
        'alg_not_allowed',
      );
    });

    it('rejects the HS256 key-confusion attack (HMAC keyed with our public key)', async () => {
      // Prepare
      const header = { alg: 'HS256', typ: 'at+jwt', kid: KID };
      const input = `${b64(header)}.${b64(validClaims())}`;
      const secret = publicKey.export({ format: 'pem', type: 'spki' });
      const token = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;

      // Act / Assess
      await expectRejected(
        verifierAt().verify(token, { certificateThumbprint: thumbprint }),
        'alg_not_allowed',
      );
    });

    it('rejects an RS256 token signed with an attacker RSA key', async () => {
      // Prepare
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const input = `${b64({ alg: 'RS256', typ: 'at+jwt', kid: KID })}.${b64(validClaims())}`;
      const token = `${input}.${sign('sha256', Buffer.from(input), rsa.privateKey).toString('base64url')}`;

      // Act / Assess
      await expectRejected(
        verifierAt().verify(token, { certificateThumbprint: thumbprint }),
        'alg_not_allowed',
      );
    });

    it('rejects an ES384 token (another curve than the one we sign with)', async () => {
      // Prepare
      const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
      const input = `${b64({ alg: 'ES384', typ: 'at+jwt', kid: KID })}.${b64(validClaims())}`;
      const signature = sign('sha384', Buffer.from(input), {
        key: p384.privateKey,
        dsaEncoding: 'ieee-p1363',
      });
      const token = `${input}.${signature.toString('base64url')}`;

      // Act / Assess
      await expectRejected(
        verifierAt().verify(token, { certificateThumbprint: thumbprint }),
        'alg_not_allowed',
      );
    });

    it('rejects a token naming a key we do not have (unknown kid)', async () => {
      // Prepare
      const token = forgeEs256({ ...ES256_HEADER, kid: 'rotated-away' }, validClaims());

      // Act / Assess
      await expectRejected(verifierAt().verify(token, { certificateThumbprint: thumbprint }), 'unknown_kid');
    });

    it('rejects a token that names no key at all (missing kid)', async () => {
      // Prepare
      const token = forgeEs256({ alg: 'ES256', typ: 'at+jwt' }, validClaims());

      // Act / Assess
      await expectRejected(verifierAt().verify(token, { certificateThumbprint: thumbprint }), 'unknown_kid');
    });

    it('rejects the embedded-jwk attack (attacker key in the header, signed by it)', async () => {
      // Prepare
      const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = attacker.publicKey.export({ format: 'jwk' });
      const token = forgeEs256({ ...ES256_HEADER, jwk }, validClaims(), attacker.privateKey);

      // Act / Assess
      await expectRejected(
        verifierAt().verify(token, { certificateThumbprint: thumbprint }),
        'header_key_not_allowed',
      );
    });

    it.each([
      ['jku (key set URL)', { jku: 'https://attacker.example/jwks.json' }],
      ['x5u (certificate URL)', { x5u: 'https://attacker.example/cert.pem' }],
      ['x5c (certificate chain)', { x5c: ['MIIB'] }],
      ['crit (critical extensions)', { crit: ['exp'] }],
    ])('rejects a header carrying %s', async (_name, extra) => {
      // Prepare
      const token = forgeEs256({ ...ES256_HEADER, ...extra }, validClaims());

      // Act / Assess
      await expectRejected(
        verifierAt().verify(token, { certificateThumbprint: thumbprint }),
        'header_key_not_allowed',
      );
    });

    it.each([
      ['an ID token or plain JWT (typ JWT)', 'JWT'],
      ['a token with no typ', undefined],
    ])('rejects %s passed off as an access token', async (_name, typ) => {
      // Prepare
      const token = forgeEs256({ alg: 'ES256', kid: KID, ...(typ ? { typ } : {}) }, validClaims());

      // Act / Assess
      await expectRejected(verifierAt().verify(token, { certificateThumbprint: thumbprint }), 'bad_type');
    });

    it('rejects a token from another issuer signed with a key we trust', async () => {
      // Prepare
      const token = forgeEs256(ES256_HEADER, validClaims({ iss: 'https://evil.example.com' }));

      // Act / Assess
      await expectRejected(verifierAt().verify(token, { certificateThumbprint: thumbprint }), 'bad_issuer');
    });

    it('rejects a token meant for another service (audience confusion)', async () => {
      // Prepare
      const token = await issue({ audience: 'https://other-service.example.com' });

      // Act / Assess
      await expectRejected(
        verifierAt().verify(token.token, { certificateThumbprint: thumbprint }),
        'bad_audience',
      );
    });

    it('rejects a token naming several audiences, even when ours is among them', async () => {
      // Prepare
      const token = forgeEs256(ES256_HEADER, validClaims({ aud: [AUDIENCE, 'https://other.example.com'] }));

      // Act / Assess
      await expectRejected(verifierAt().verify(token, { certificateThumbprint: thumbprint }), 'bad_audience');
    });

    it('rejects a replayed expired token', async () => {
      // Prepare
      const { token } = await issue({ lifetimeSeconds: 300 });

      // Act / Assess
      await expectRejected(
        verifierAt(new Date(NOW.getTime() + 3_600_000)).verify(token, { certificateThumbprint: thumbprint }),
        'expired',
      );
    });

    it('rejects a pre-dated token whose nbf is in the future beyond the skew', async () => {
      // Prepare
      const token = forgeEs256(ES256_HEADER, validClaims({ nbf: NOW_SECONDS + 120, exp: NOW_SECONDS + 900 }));

      // Act / Assess
      await expectRejected(
        verifierAt().verify(token, { certificateThumbprint: thumbprint }),
        'not_yet_valid',
      );
    });

    it('rejects a token whose iat is in the future beyond the skew', async () => {
      // Prepare
      const token = forgeEs256(ES256_HEADER, validClaims({ iat: NOW_SECONDS + 120, exp: NOW_SECONDS + 900 }));

      // Act / Assess
      await expectRejected(
        verifierAt().verify(token, { certificateThumbprint: thumbprint }),
        'not_yet_valid',
      );
    });

    it.each(['sub', 'jti', 'scope', 'workflow', 'iat', 'nbf', 'exp', 'iss', 'aud'])(
      'rejects a token missing its "%s" claim',
      async (claim) => {
        // Prepare
        const claims = validClaims();
        delete claims[claim];
        const token = forgeEs256(ES256_HEADER, claims);

        // Act / Assess
        await expectRejected(verifierAt().verify(token, { certificateThumbprint: thumbprint }), 'malformed');
      },
    );

    it.each([
      ['an unknown access kind', 'receipts:delete'],
      ['an upper-case connector', 'Receipts:read'],
      ['an empty scope', ''],
      ['a doubled separator', 'receipts:read  erp:read'],
      ['a wildcard', '*'],
      ['an array instead of a string', ['receipts:read']],
    ])('rejects a token whose scope is malformed (%s)', async (_name, scope) => {
      // Prepare
      const token = forgeEs256(ES256_HEADER, validClaims({ scope }));

      // Act / Assess
      await expectRejected(verifierAt().verify(token, { certificateThumbprint: thumbprint }), 'malformed');
    });

    it('rejects a token whose lifetime is longer than any workflow allows', async () => {
      // Prepare
      const token = forgeEs256(ES256_HEADER, validClaims({ exp: NOW_SECONDS + 13 * 3600 }));

      // Act / Assess
      await expectRejected(verifierAt().verify(token, { certificateThumbprint: thumbprint }), 'malformed');
    });

    it('rejects a token whose scope was widened after signing (payload tampering)', async () => {
      // Prepare
      const { token } = await issue({ scope: ['receipts:read'] });
      const [header, , signature] = token.split('.');
      const widened = `${header}.${b64(validClaims({ scope: 'receipts:read erp:write' }))}.${signature}`;

      // Act / Assess
      await expectRejected(
        verifierAt().verify(widened, { certificateThumbprint: thumbprint }),
        'bad_signature',
      );
    });

    it('rejects a token signed by another key under our kid', async () => {
      // Prepare
      const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const token = forgeEs256(ES256_HEADER, validClaims(), attacker.privateKey);

      // Act / Assess
      await expectRejected(
        verifierAt().verify(token, { certificateThumbprint: thumbprint }),
        'bad_signature',
      );
    });

    it.each([
      ['an empty string', ''],
      ['one segment', 'abc'],
      ['four segments', 'a.b.c.d'],
      ['a header that is not JSON', `${Buffer.from('not json').toString('base64url')}.e30.AAAA`],
      ['a header that is a JSON array', `${b64(['ES256'])}.e30.AAAA`],
      ['an oversized token', `${b64(ES256_HEADER)}.${'A'.repeat(10_000)}.AAAA`],
      ['a signature of the wrong length', `${b64(ES256_HEADER)}.${b64(validClaims())}.AAAA`],
    ])('rejects garbage: %s', async (_name, token) => {
      // Act / Assess
      await expectRejected(verifierAt().verify(token, { certificateThumbprint: thumbprint }), 'malformed');
    });

    it('never echoes the token in its error message', async () => {
      // Prepare
      const { token } = await issue();

      // Act
      const error = await expectRejected(
        verifierAt(new Date(NOW.getTime() + 86_400_000)).verify(token, { certificateThumbprint: thumbprint }),
        'expired',
      );

      // Assess
      for (const segment of token.split('.')) expect(error.message).not.toContain(segment);
      expect(error.message).toMatch(P.requestAgain);
    });

    it('resolves each key once and caches it, without caching unknown kids', async () => {
      // Prepare
      const resolve = jest.fn(async (kid: string) => (kid === KID ? publicKey : undefined));
      const verifier = createVerifier({
        issuer: ISSUER,
        audience: AUDIENCE,
        keys: resolve,
        clock: fixedClock(NOW),
      });
      const { token } = await issue();
      const unknown = forgeEs256({ ...ES256_HEADER, kid: 'nope' }, validClaims());

      // Act
      await verifier.verify(token, { certificateThumbprint: thumbprint });
      await verifier.verify(token, { certificateThumbprint: thumbprint });
      await expectRejected(verifier.verify(unknown, { certificateThumbprint: thumbprint }), 'unknown_kid');
      await expectRejected(verifier.verify(unknown, { certificateThumbprint: thumbprint }), 'unknown_kid');

      // Assess
      expect(resolve.mock.calls.map(([kid]) => kid)).toEqual([KID, 'nope', 'nope']);
    });

    it('refuses the token when the key resolver fails (fail closed)', async () => {
      // Prepare
      const verifier = createVerifier({
        issuer: ISSUER,
        audience: AUDIENCE,
        keys: async () => Promise.reject(new Error('KMS unreachable')),
        clock: fixedClock(NOW),
      });
      const { token } = await issue();

      // Act / Assess
      await expect(verifier.verify(token, { certificateThumbprint: thumbprint })).rejects.toBeInstanceOf(
        DependencyError,
      );
    });

    it('refuses to be built with a key that is not a P-256 public key', () => {
      // Prepare
      const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;

      // Act / Assess
      expect(() =>
        createVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: new Map([[KID, p384]]) }),
      ).toThrow(/not a P-256 public key/);
    });

    it('rejects a token revoked in the store, through its verify options', async () => {
      // Prepare
      const { token, claims } = await issue();
      const isRevoked = jest.fn(async ({ jti }: { jti: string }) => jti === claims.jti);

      // Act
      await expectRejected(
        verifierAt().verify(token, { certificateThumbprint: thumbprint, isRevoked }),
        'revoked',
      );

      // Assess
      expect(isRevoked).toHaveBeenCalledWith({ jti: claims.jti, principal: 'alice', issuedAt: NOW });
    });
  });
});

describe('Function: createAccessTokenVerifier (device profile binding)', () => {
  describe('Method: verify', () => {
    it('rejects a stolen token presented over another client certificate', async () => {
      // Prepare
      const { token } = await issue();
      const otherCertificate = randomBytes(32).toString('base64url');

      // Act
      const error = await expectRejected(
        verifierAt().verify(token, { certificateThumbprint: otherCertificate }),
        'certificate_mismatch',
      );

      // Assess
      expect(error.message).toMatch(/different client certificate/);
    });

    it('rejects a bearer token that is not bound to any certificate (cnf missing)', async () => {
      // Prepare
      const claims = deviceClaims();
      delete claims.cnf;
      const token = forgeEs256(ES256_HEADER, claims);

      // Act / Assess
      await expectRejected(
        verifierAt().verify(token, { certificateThumbprint: thumbprint }),
        'certificate_mismatch',
      );
    });

    it('rejects a token when no certificate thumbprint is presented', async () => {
      // Prepare
      const { token } = await issue();

      // Act / Assess
      await expectRejected(verifierAt().verify(token, { certificateThumbprint: '' }), 'certificate_mismatch');
    });
  });
});

describe('Function: createAccessTokenVerifier (OAuth profile binding)', () => {
  const oauthVerifier = () =>
    createAccessTokenVerifier({
      profile: OAUTH_TOKEN_PROFILE,
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: new Map([[KID, publicKey]]),
      clock: fixedClock(NOW),
    });
  const oauthClaims = (overrides: Record<string, unknown> = {}) => {
    const { cnf: _cnf, ...common } = deviceClaims();
    return { ...common, client_id: 'mcp-client-1', fam: 'sign-in-1', ...overrides };
  };

  describe('Method: verify', () => {
    it('rejects a certificate-bound device token presented at the OAuth entry point', async () => {
      // Prepare
      const { token } = await issue();

      // Act / Assess
      await expectRejected(oauthVerifier().verify(token), 'certificate_mismatch');
    });

    it.each(['client_id', 'fam'])('rejects an OAuth token missing its "%s" claim', async (claim) => {
      // Prepare
      const claims: Record<string, unknown> = oauthClaims();
      delete claims[claim];
      const token = forgeEs256(ES256_HEADER, claims);

      // Act / Assess
      await expectRejected(oauthVerifier().verify(token), 'malformed');
    });

    it('rejects an OAuth token carrying a cnf claim as well (a forged double binding)', async () => {
      // Prepare
      const token = forgeEs256(ES256_HEADER, oauthClaims({ cnf: { 'x5t#S256': thumbprint } }));

      // Act / Assess
      await expectRejected(oauthVerifier().verify(token), 'certificate_mismatch');
    });

    it('rejects an OAuth token presented at a device route (no certificate binding)', async () => {
      // Prepare
      const token = forgeEs256(ES256_HEADER, oauthClaims());

      // Act / Assess
      await expectRejected(
        verifierAt().verify(token, { certificateThumbprint: thumbprint }),
        'certificate_mismatch',
      );
    });
  });
});

describe('Function: assertNotRevoked', () => {
  const claims = deviceClaims() as unknown as AccessTokenClaims;

  it('rejects a token whose jti is revoked', async () => {
    // Act / Assess
    await expectRejected(assertNotRevoked(claims, { isRevoked: async () => true }), 'revoked');
  });

  it('rejects a token issued before the kill switch cut-off', async () => {
    // Act / Assess
    await expectRejected(
      assertNotRevoked(claims, { revokeIssuedBefore: new Date(NOW.getTime() + 1000) }),
      'issued_before_revocation',
    );
  });

  it('accepts a token issued at or after the cut-off and not revoked', async () => {
    // Act / Assess
    await expect(
      assertNotRevoked(claims, { revokeIssuedBefore: NOW, isRevoked: async () => false }),
    ).resolves.toBeUndefined();
    await expect(assertNotRevoked(claims, { revokeIssuedBefore: null })).resolves.toBeUndefined();
  });

  it('refuses when the revocation store cannot answer (fail closed)', async () => {
    // Act / Assess
    await expect(
      assertNotRevoked(claims, { isRevoked: async () => Promise.reject(new Error('table unavailable')) }),
    ).rejects.toMatchObject({ name: 'DependencyError', dependency: 'revocations' });
  });
});

// ---- Certificates, built at test run time (no key or certificate is committed) ----

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n >>= 8) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const der = (tag: number, ...content: Buffer[]) => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
};
const ECDSA_WITH_SHA256 = der(0x30, Buffer.from('06082a8648ce3d040302', 'hex'));
const utcTime = (date: Date) =>
  der(0x17, Buffer.from(`${date.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`, 'ascii'));
function distinguishedName(attributes: Array<[oid: string, value: string]>): Buffer {
  return der(
    0x30,
    ...attributes.map(([oid, value]) =>
      der(0x31, der(0x30, der(0x06, Buffer.from(oid, 'hex')), der(0x0c, Buffer.from(value, 'utf8')))),
    ),
  );
}
const CN = '550403';
const O = '55040a';

/** A minimal self-signed X.509 (v1) certificate over a fresh P-256 key. */
function selfSignedCertificate(subject: Array<[string, string]>, serial = '01a2b3'): string {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const name = distinguishedName(subject);
  const tbs = der(
    0x30,
    der(0x02, Buffer.from(serial, 'hex')),
    ECDSA_WITH_SHA256,
    name,
    der(0x30, utcTime(new Date('2026-01-01T00:00:00Z')), utcTime(new Date('2027-01-01T00:00:00Z'))),
    name,
    keys.publicKey.export({ format: 'der', type: 'spki' }),
  );
  const signature = sign('sha256', tbs, { key: keys.privateKey, dsaEncoding: 'der' });
  const certificate = der(0x30, tbs, ECDSA_WITH_SHA256, der(0x03, Buffer.from([0]), signature));
  return `-----BEGIN CERTIFICATE-----\n${certificate.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
}

describe('Function: certificateThumbprint', () => {
  const alicePem = selfSignedCertificate([
    [O, 'Airlock'],
    [CN, 'alice'],
  ]);

  it('is base64url(SHA-256(DER)) as RFC 8705 defines x5t#S256', () => {
    // Prepare
    const expected = createHash('sha256').update(new X509Certificate(alicePem).raw).digest('base64url');

    // Act
    const thumbprintOfAlice = certificateThumbprint(alicePem);

    // Assess
    expect(thumbprintOfAlice).toBe(expected);
    expect(thumbprintOfAlice).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('gives the same thumbprint on every call and a different one for another certificate', () => {
    // Prepare
    const otherPem = selfSignedCertificate([[CN, 'alice']]);

    // Act
    const first = certificateThumbprint(alicePem);
    const again = certificateThumbprint(alicePem);
    const other = certificateThumbprint(otherPem);

    // Assess
    expect(again).toBe(first);
    expect(other).not.toBe(first);
  });

  it('binds tokens so that only the issuing certificate verifies', async () => {
    // Prepare
    const bobPem = selfSignedCertificate([[CN, 'bob']]);
    const { token } = await issue({ certificateThumbprint: certificateThumbprint(alicePem) });

    // Act / Assess
    await expect(
      verifierAt().verify(token, { certificateThumbprint: certificateThumbprint(alicePem) }),
    ).resolves.toMatchObject({ sub: 'alice' });
    await expectRejected(
      verifierAt().verify(token, { certificateThumbprint: certificateThumbprint(bobPem) }),
      'certificate_mismatch',
    );
  });

  it.each([
    ['text that is not PEM', 'hello'],
    ['a PEM with a corrupted body', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'],
  ])('refuses %s as unauthenticated', (_name, pem) => {
    // Act / Assess
    expect(() => certificateThumbprint(pem)).toThrow(AirlockError);
    expect(() => certificateThumbprint(pem)).toThrow(/could not be read as an X.509 certificate/);
  });
});

describe('Function: certificateSubject', () => {
  it('reads the common name, serial, validity and issuer', () => {
    // Prepare
    const pem = selfSignedCertificate(
      [
        [O, 'Airlock'],
        [CN, 'bob'],
      ],
      '0a1b2c3d',
    );

    // Act
    const subject = certificateSubject(pem);

    // Assess
    expect(subject).toEqual({
      commonName: 'bob',
      serialNumber: '0A1B2C3D',
      notBefore: new Date('2026-01-01T00:00:00Z'),
      notAfter: new Date('2027-01-01T00:00:00Z'),
      issuer: 'O=Airlock\nCN=bob',
    });
  });

  it('refuses a certificate without a common name', () => {
    // Prepare
    const pem = selfSignedCertificate([[O, 'Airlock']]);

    // Act / Assess
    expect(() => certificateSubject(pem)).toThrow(/does not name exactly one subject common name/);
    expect(certificateThumbprint(pem)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a certificate with two common names (ambiguous principal)', () => {
    // Prepare
    const pem = selfSignedCertificate([
      [CN, 'alice'],
      [CN, 'bob'],
    ]);

    // Act / Assess
    expect(() => certificateSubject(pem)).toThrow(AirlockError);
  });
});
