import { resolveCorporateIdentity } from '../../../../lambdas/core/oauth/corporate-identity';
import { OAuthError } from '../../../../lambdas/core/oauth/oauth-error';
import { loadConfig, parseConfig } from '../../../../lib/config/load-config';
import { oauthConfigSchema } from '../../../../lib/config/oauth-schema';

const config = loadConfig('config/airlock.config.yaml');
const ISSUER = 'https://login.example.com';

function oauthWith(identity: Record<string, unknown> = {}) {
  return oauthConfigSchema.parse({
    publicUrl: 'https://mcp.airlock.test',
    workflow: 'expense-summary',
    identityProvider: {
      issuer: ISSUER,
      clientId: 'airlock',
      clientSecretName: 'airlock/idp',
      groupMapping: { 'Finance Team': 'finance' },
      subjects: { alice: '00u-alice', bob: '00u-bob' },
      ...identity,
    },
  });
}

function refusalOf(run: () => unknown): OAuthError {
  try {
    run();
  } catch (error) {
    if (error instanceof OAuthError) return error;
    throw error;
  }
  throw new Error('expected the sign-in to be refused');
}

const FINANCE = ['Finance Team'];

describe('Function: resolveCorporateIdentity', () => {
  describe('attacks on the user mapping', () => {
    it('refuses an IdP user who set their e-mail to another person’s address (they were signed in as that person)', () => {
      // Prepare: mallory's own IdP account, with bob's address typed into its e-mail field
      const claims = { iss: ISSUER, sub: '00u-mallory', email: 'bob@example.com', groups: FINANCE };
      // Act
      const refusal = refusalOf(() => resolveCorporateIdentity(config, oauthWith(), claims));
      // Assess
      expect(refusal.code).toBe('access_denied');
      expect(refusal.description).toMatch(/not enrolled/);
    });

    it('refuses an IdP user whose e-mail claim is the bare principal name "alice"', () => {
      const claims = { iss: ISSUER, sub: '00u-mallory', email: 'alice', groups: FINANCE };
      expect(refusalOf(() => resolveCorporateIdentity(config, oauthWith(), claims)).code).toBe(
        'access_denied',
      );
    });

    it('refuses a user whose subject claim is a principal name rather than their IdP user id', () => {
      const claims = { iss: ISSUER, sub: 'alice', groups: FINANCE };
      expect(refusalOf(() => resolveCorporateIdentity(config, oauthWith(), claims)).code).toBe(
        'access_denied',
      );
    });

    it('refuses an unverified e-mail even when e-mail matching is turned on', () => {
      // Prepare: alice is mapped by e-mail only; the token's address is not verified by the IdP
      const oauth = oauthWith({ subjects: {}, matchVerifiedEmail: true });
      const unverified = { iss: ISSUER, sub: 'x1', email: 'alice@example.com', groups: FINANCE };
      const asString = { ...unverified, email_verified: 'true' };
      // Act / Assess
      expect(refusalOf(() => resolveCorporateIdentity(config, oauth, unverified)).code).toBe('access_denied');
      expect(refusalOf(() => resolveCorporateIdentity(config, oauth, asString)).code).toBe('access_denied');
    });

    it('never reaches a principal pinned to a subject through a verified e-mail', () => {
      // Prepare: alice is mapped by subject; another IdP account has her (verified) address
      const oauth = oauthWith({ subjects: { alice: '00u-alice' }, matchVerifiedEmail: true });
      const claims = {
        iss: ISSUER,
        sub: '00u-other',
        email: 'alice@example.com',
        email_verified: true,
        groups: FINANCE,
      };
      // Act / Assess
      expect(refusalOf(() => resolveCorporateIdentity(config, oauth, claims)).code).toBe('access_denied');
    });

    it('refuses claims of another issuer carrying an enrolled subject', () => {
      const claims = { iss: 'https://evil.example.net', sub: '00u-alice', groups: FINANCE };
      expect(refusalOf(() => resolveCorporateIdentity(config, oauthWith(), claims)).code).toBe(
        'access_denied',
      );
    });
  });

  describe('enrolled users', () => {
    it('maps a user by issuer and subject, whatever their e-mail claim says', () => {
      const claims = { iss: `${ISSUER}/`, sub: '00u-alice', email: 'bob@example.com', groups: FINANCE };
      expect(resolveCorporateIdentity(config, oauthWith(), claims)).toEqual({
        principal: 'alice',
        groups: ['finance'],
        matchedBy: 'subject',
        subject: '00u-alice',
      });
    });

    it('maps by a configured immutable claim such as Entra ID’s oid', () => {
      const oauth = oauthWith({ subjectClaim: 'oid', subjects: { alice: '6f1c-oid' } });
      const claims = { iss: ISSUER, sub: 'pairwise-per-app', oid: '6f1c-oid', groups: FINANCE };
      expect(resolveCorporateIdentity(config, oauth, claims).principal).toBe('alice');
    });

    it('maps by a verified e-mail, ignoring case, when the config asks for it', () => {
      const oauth = oauthWith({ subjects: {}, matchVerifiedEmail: true });
      const claims = {
        iss: ISSUER,
        sub: 'x1',
        email: 'Alice@Example.com',
        email_verified: true,
        groups: FINANCE,
      };
      expect(resolveCorporateIdentity(config, oauth, claims)).toMatchObject({
        principal: 'alice',
        matchedBy: 'verified_email',
      });
    });

    it('refuses an enrolled user none of whose IdP groups maps to a group of the workflow', () => {
      const claims = { iss: ISSUER, sub: '00u-alice', groups: ['Sales'] };
      expect(refusalOf(() => resolveCorporateIdentity(config, oauthWith(), claims)).description).toMatch(
        /groups do not include/,
      );
    });
  });
});

describe('Config: oauth.identityProvider', () => {
  const example = JSON.parse(JSON.stringify(config));
  const withIdentity = (identity: Record<string, unknown>) => ({
    ...example,
    oauth: {
      publicUrl: 'https://mcp.airlock.example.com',
      workflow: 'expense-summary',
      identityProvider: {
        issuer: ISSUER,
        clientId: 'airlock',
        clientSecretName: 'airlock/idp-client',
        groupMapping: { 'Finance Team': 'finance' },
        ...identity,
      },
    },
  });

  it('refuses principalClaim, saying what replaces it', () => {
    expect(() => parseConfig(withIdentity({ principalClaim: 'email' }), 'c.yaml')).toThrow(
      /oauth\.identityProvider\.principalClaim: principalClaim is no longer supported: list each user under subjects/,
    );
  });

  it('refuses a subject mapped for a principal the config does not have', () => {
    expect(() => parseConfig(withIdentity({ subjects: { trudy: '00u-1' } }), 'c.yaml')).toThrow(
      /oauth\.identityProvider\.subjects\.trudy: unknown principal "trudy"; expected one of: alice, bob, mallory/,
    );
  });

  it('refuses one IdP user mapped to two principals', () => {
    expect(() => parseConfig(withIdentity({ subjects: { alice: '00u-1', bob: '00u-1' } }), 'c.yaml')).toThrow(
      /subjects\.bob: the IdP user "00u-1" is already principal "alice"/,
    );
  });

  it('refuses two principals with one e-mail when e-mail matching is on', () => {
    const twins = {
      ...withIdentity({ matchVerifiedEmail: true }),
      principals: { ...example.principals, carol: { groups: ['finance'], email: 'ALICE@example.com' } },
    };
    expect(() => parseConfig(twins, 'c.yaml')).toThrow(
      /principals\.carol\.email: "ALICE@example.com" is also the email of principal "alice"/,
    );
  });

  it('refuses a subject claim the user or an admin can edit (attack: a sign-in or an ID-JAG mapped by a mutable claim)', () => {
    for (const claim of ['email', 'preferred_username', 'upn', 'Email', 'unique_name', 'name', 'nickname']) {
      expect(() => parseConfig(withIdentity({ subjectClaim: claim }), 'c.yaml')).toThrow(
        /oauth\.identityProvider\.subjectClaim: expected a claim the IdP assigns for good, such as sub or oid/,
      );
    }
    expect(
      parseConfig(withIdentity({ subjectClaim: 'oid' }), 'c.yaml').oauth?.identityProvider.subjectClaim,
    ).toBe('oid');
  });

  it('refuses a subject claim name that is not a claim name', () => {
    expect(() => parseConfig(withIdentity({ subjectClaim: 'sub oid' }), 'c.yaml')).toThrow(
      /subjectClaim: expected a claim name such as sub, oid or groups/,
    );
  });
});
