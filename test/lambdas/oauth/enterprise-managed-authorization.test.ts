/**
 * Enterprise-Managed Authorization at the token endpoint: ID-JAGs signed with jose by an enterprise IdP
 * whose key set is served over real HTTP on loopback and fetched by jose's remote key set, exchanged
 * through the OAuth entry point's handler with the RFC 7523 JWT bearer grant, and the access token used
 * on `/v1/mcp`. Every forgery and misuse an attacker can try with an assertion is refused with
 * `invalid_grant` and recorded.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { JWT_BEARER_GRANT_TYPE } from '../../../lambdas/core/oauth/identity-assertion-grant';
import { remoteKeySet } from '../../../lambdas/core/tokens/jwt-signature';
import { loadConfig, parseConfig } from '../../../lib/config/load-config';
import { entryPoint, IDP, ISSUER, REDIRECT, RESOURCE } from './oauth-entry-fixture';

let idpKey: CryptoKey;
let strangerKey: CryptoKey;
let jwks: Server;
let jwksUri: string;

beforeAll(async () => {
  const idp = await generateKeyPair('ES256');
  idpKey = idp.privateKey;
  strangerKey = (await generateKeyPair('ES256')).privateKey;
  const published = {
    keys: [{ ...(await exportJWK(idp.publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' }],
  };
  jwks = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(published));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  jwksUri = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/keys`;
});

afterAll(async () => {
  jwks.closeAllConnections();
  await new Promise((resolve) => jwks.close(resolve));
});

/** A confidential client of `f` (the grant is refused to public ones, see the attack below). */
async function confidentialClient(f: ReturnType<typeof entryPoint>) {
  const registered = await f.send('POST', '/oauth/register', {
    json: {
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: [JWT_BEARER_GRANT_TYPE],
      client_name: 'Claude',
    },
  });
  expect(registered.status).toBe(201);
  const { client_id: clientId, client_secret: clientSecret } = registered.json() as {
    client_id: string;
    client_secret: string;
  };
  return { clientId, clientSecret };
}

/** The entry point with Enterprise-Managed Authorization on, trusting the IdP above. */
async function withEnterpriseIdp() {
  const f = entryPoint({
    oauth: { enterpriseManagedAuthorization: { issuer: IDP, jwksUri, maxAssertionLifetimeSeconds: 300 } },
    enterpriseAssertionKeys: remoteKeySet(new URL(jwksUri), { timeoutMs: 5_000 }),
  });
  const { clientId, clientSecret } = await confidentialClient(f);
  const nowSeconds = () => Math.floor(f.now.value.getTime() / 1000);
  let serial = 0;
  /** An ID-JAG as the IdP issues it for alice, with `claims` and `header` changed. */
  const idJag = (
    claims: JWTPayload = {},
    options: { header?: Record<string, unknown>; key?: CryptoKey } = {},
  ) =>
    new SignJWT({
      iss: IDP,
      sub: '00u-alice',
      aud: ISSUER,
      client_id: clientId,
      resource: RESOURCE,
      jti: `jag-${++serial}`,
      iat: nowSeconds(),
      exp: nowSeconds() + 300,
      scope: 'receipts:read',
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'idp-1', typ: 'oauth-id-jag+jwt', ...options.header })
      .sign(options.key ?? idpKey);
  const exchange = async (assertion: string, extra: Record<string, string> = {}) =>
    f.send('POST', '/oauth/token', {
      form: {
        grant_type: JWT_BEARER_GRANT_TYPE,
        assertion,
        client_id: clientId,
        client_secret: clientSecret,
        ...extra,
      },
    });
  const mcp = (token: string) =>
    f.send('POST', '/v1/mcp', {
      headers: { accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` },
      json: { jsonrpc: '2.0', id: 1, method: 'tools/list' },
    });
  const refusals = () => f.audit.filter((e) => e.type === 'credential_denied');
  return { f, clientId, clientSecret, idJag, exchange, mcp, refusals };
}

/** Asserts an `invalid_grant` refusal, recorded with `reason`, and returns the record. */
function expectRefused(
  response: { status: number; json(): Record<string, unknown> },
  refusals: ReturnType<Awaited<ReturnType<typeof withEnterpriseIdp>>['refusals']>,
  reason: string,
) {
  expect(response.status).toBe(400);
  expect(response.json().error).toBe('invalid_grant');
  expect(refusals.at(-1)).toMatchObject({
    type: 'credential_denied',
    decision: 'deny',
    reasons: expect.arrayContaining([reason]),
    details: expect.objectContaining({ grantType: 'jwt-bearer' }),
  });
}

describe('Enterprise-Managed Authorization (ID-JAG, RFC 7523 JWT bearer grant)', () => {
  describe('discovery and registration', () => {
    it('lets a client declare the JWT bearer grant at registration', async () => {
      const { f } = await withEnterpriseIdp();
      const clientId = await f.register({ grant_types: ['authorization_code', JWT_BEARER_GRANT_TYPE] });
      expect(clientId).toMatch(/^mcp_/);
    });

    it('advertises the JWT bearer grant and the ID-JAG profile only when enabled', async () => {
      // Prepare
      const { f } = await withEnterpriseIdp();
      const off = entryPoint();
      // Act
      const on = (await f.send('GET', '/.well-known/oauth-authorization-server')).json();
      const without = (await off.send('GET', '/.well-known/oauth-authorization-server')).json();
      const offClient = await off.register();
      const refused = await off.send('POST', '/oauth/token', {
        form: { grant_type: JWT_BEARER_GRANT_TYPE, assertion: 'x.y.z', client_id: offClient },
      });
      // Assess
      expect(on.grant_types_supported).toContain(JWT_BEARER_GRANT_TYPE);
      expect(on.authorization_grant_profiles_supported).toEqual([
        'urn:ietf:params:oauth:grant-profile:id-jag',
      ]);
      expect(without.grant_types_supported).not.toContain(JWT_BEARER_GRANT_TYPE);
      expect(without.authorization_grant_profiles_supported).toBeUndefined();
      expect(refused.json().error).toBe('unsupported_grant_type');
    });
  });

  describe('a good ID-JAG', () => {
    it('gets an access token (no refresh token, no consent page) that works on /v1/mcp, and is recorded', async () => {
      // Prepare
      const { f, clientId, idJag, exchange, mcp } = await withEnterpriseIdp();
      // Act
      const response = await exchange(await idJag());
      const body = response.json();
      const used = await mcp(body.access_token as string);
      // Assess
      expect(response.status).toBe(200);
      expect(body).toMatchObject({ token_type: 'Bearer', scope: 'receipts:read' });
      expect(body.refresh_token).toBeUndefined();
      expect(response.headers['cache-control']).toBe('no-store');
      expect(used.status).toBe(200);
      expect(f.audit.find((e) => e.type === 'credential_issued' && e.principal === 'alice')).toMatchObject({
        principal: 'alice',
        workflow: 'expense-summary',
        details: expect.objectContaining({
          channel: 'oauth',
          clientId,
          grantType: 'jwt-bearer',
          idpIssuer: IDP,
          idpSubject: '00u-alice',
          assertionJti: 'jag-1',
          resource: RESOURCE,
        }),
      });
    });

    it('accepts the issuer written with a trailing slash as aud (as the draft’s examples write it)', async () => {
      const { idJag, exchange } = await withEnterpriseIdp();
      expect((await exchange(await idJag({ aud: `${ISSUER}/` }))).status).toBe(200);
    });

    it('narrows the scopes to those asked for, within the ID-JAG (MCP profile §7.2.1)', async () => {
      // Prepare
      const { idJag, exchange } = await withEnterpriseIdp();
      // Act
      const narrowed = await exchange(await idJag({ scope: 'receipts:read erp:read' }), {
        scope: 'erp:read',
      });
      const beyond = await exchange(await idJag({ scope: 'receipts:read' }), { scope: 'erp:write' });
      // Assess
      expect(narrowed.json().scope).toBe('erp:read');
      expect(beyond.json().error).toBe('invalid_scope');
    });
  });

  describe('attacks', () => {
    it('refuses an expired ID-JAG (a stolen assertion used late)', async () => {
      const { f, idJag, exchange, refusals } = await withEnterpriseIdp();
      const t = Math.floor(f.now.value.getTime() / 1000);
      const response = await exchange(await idJag({ iat: t - 400, exp: t - 100 }));
      expectRefused(response, refusals(), 'assertion_expired');
    });

    it('refuses an ID-JAG for another authorization server (audience confusion)', async () => {
      const { idJag, exchange, refusals } = await withEnterpriseIdp();
      const other = await exchange(await idJag({ aud: 'https://other-mcp.example.com' }));
      expectRefused(other, refusals(), 'assertion_audience');
      const several = await exchange(await idJag({ aud: [ISSUER, 'https://other-mcp.example.com'] }));
      expectRefused(several, refusals(), 'assertion_audience');
    });

    it('refuses an ID-JAG for another MCP resource (cross-server token confusion)', async () => {
      const { idJag, exchange, refusals } = await withEnterpriseIdp();
      const response = await exchange(await idJag({ resource: 'https://mcp.airlock.test/other' }));
      expectRefused(response, refusals(), 'assertion_resource');
    });

    it('accepts an ID-JAG once: a replayed jti is refused and issues nothing', async () => {
      const { f, idJag, exchange, refusals } = await withEnterpriseIdp();
      const assertion = await idJag();
      const first = await exchange(assertion);
      const replay = await exchange(assertion);
      expect(first.status).toBe(200);
      expectRefused(replay, refusals(), 'assertion_replayed');
      expect(f.audit.filter((e) => e.type === 'credential_issued' && e.principal === 'alice')).toHaveLength(
        1,
      );
    });

    it('refuses an ID-JAG from an issuer Airlock does not trust, even signed with the trusted key', async () => {
      const { idJag, exchange, refusals } = await withEnterpriseIdp();
      const response = await exchange(await idJag({ iss: 'https://evil-idp.example.com' }));
      expectRefused(response, refusals(), 'assertion_issuer');
    });

    it('refuses a JWT that is not typed as an ID-JAG (an ID token or access token passed off as one)', async () => {
      const { idJag, exchange, refusals } = await withEnterpriseIdp();
      const idToken = await exchange(await idJag({}, { header: { typ: 'JWT' } }));
      expectRefused(idToken, refusals(), 'assertion_type');
      const untyped = await exchange(await idJag({}, { header: { typ: undefined } }));
      expectRefused(untyped, refusals(), 'assertion_type');
    });

    it('refuses an ID-JAG issued for another client (client_id differs from the authenticated client)', async () => {
      const { f, idJag, exchange, refusals } = await withEnterpriseIdp();
      const otherClient = await f.register({ client_name: 'Another app' });
      const response = await exchange(await idJag({ client_id: otherClient }));
      expectRefused(response, refusals(), 'assertion_client');
    });

    it('refuses an ID-JAG signed by a key the IdP does not publish (forged with its kid)', async () => {
      const { idJag, exchange, refusals } = await withEnterpriseIdp();
      const forged = await exchange(await idJag({}, { key: strangerKey }));
      expectRefused(forged, refusals(), 'assertion_signature');
      const unknownKid = await exchange(await idJag({}, { key: strangerKey, header: { kid: 'idp-2' } }));
      expectRefused(unknownKid, refusals(), 'assertion_signature');
      const none = `${Buffer.from('{"alg":"none","typ":"oauth-id-jag+jwt"}').toString('base64url')}.${(await idJag()).split('.')[1]}.`;
      expectRefused(await exchange(none), refusals(), 'assertion_signature');
    });

    it('refuses a long-lived ID-JAG (a bearer credential must be short-lived)', async () => {
      const { f, idJag, exchange, refusals } = await withEnterpriseIdp();
      const t = Math.floor(f.now.value.getTime() / 1000);
      const response = await exchange(await idJag({ iat: t, exp: t + 3600 }));
      expectRefused(response, refusals(), 'assertion_lifetime');
    });

    it('refuses a user the config does not enrol, and an IdP group that may not run the workflow', async () => {
      const { idJag, exchange, refusals } = await withEnterpriseIdp();
      const stranger = await exchange(await idJag({ sub: '00u-mallory' }));
      expectRefused(stranger, refusals(), 'assertion_subject');
      expect(refusals().at(-1)?.details).toMatchObject({ idpSubject: '00u-mallory' });
      const wrongGroup = await exchange(await idJag({ groups: ['Marketing'] }));
      expectRefused(wrongGroup, refusals(), 'assertion_subject');
    });

    it("refuses an ID-JAG of an unenrolled sub that carries an enrolled user's verified e-mail (mapping by a mutable claim)", async () => {
      // matchVerifiedEmail is for interactive sign-in at identityProvider.issuer; an ID-JAG is mapped by
      // its issuer's stable user id alone (the MCP extension), never by an address a user or admin can edit.
      const f = entryPoint({
        oauth: {
          identityProvider: {
            issuer: IDP,
            clientId: 'airlock',
            clientSecretName: 'airlock/idp',
            groupMapping: { 'Finance Team': 'finance' },
            subjects: { alice: '00u-alice' },
            matchVerifiedEmail: true,
          },
          enterpriseManagedAuthorization: { issuer: IDP, jwksUri, maxAssertionLifetimeSeconds: 300 },
        },
        enterpriseAssertionKeys: remoteKeySet(new URL(jwksUri), { timeoutMs: 5_000 }),
      });
      const { clientId, clientSecret } = await confidentialClient(f);
      const t = Math.floor(f.now.value.getTime() / 1000);
      const assertion = await new SignJWT({
        iss: IDP,
        sub: '00u-renamed-to-bob',
        email: 'bob@example.com',
        email_verified: true,
        aud: ISSUER,
        client_id: clientId,
        resource: RESOURCE,
        jti: 'jag-email',
        iat: t,
        exp: t + 300,
      })
        .setProtectedHeader({ alg: 'ES256', kid: 'idp-1', typ: 'oauth-id-jag+jwt' })
        .sign(idpKey);
      const response = await f.send('POST', '/oauth/token', {
        form: {
          grant_type: JWT_BEARER_GRANT_TYPE,
          assertion,
          client_id: clientId,
          client_secret: clientSecret,
        },
      });
      const refusals = f.audit.filter((e) => e.type === 'credential_denied');
      expectRefused(response, refusals, 'assertion_subject');
      expect(f.audit.some((e) => e.type === 'credential_issued' && e.principal === 'bob')).toBe(false);
    });

    it('refuses an ID-JAG without a jti (it could not be held to one use) or issued in the future', async () => {
      const { f, idJag, exchange, refusals } = await withEnterpriseIdp();
      const t = Math.floor(f.now.value.getTime() / 1000);
      expectRefused(await exchange(await idJag({ jti: undefined })), refusals(), 'assertion_malformed');
      expectRefused(
        await exchange(await idJag({ iat: t + 120, exp: t + 300 })),
        refusals(),
        'assertion_lifetime',
      );
    });

    it('attack: an ID-JAG issued to a public client is redeemed by whoever claims that client_id (no secret proves who calls)', async () => {
      // Prepare: a public client (its client_id is in every authorization URL it opens) and an ID-JAG
      // the IdP issued to it, copied by someone else.
      const { f, idJag, refusals } = await withEnterpriseIdp();
      const publicClient = await f.register();
      const stolen = await idJag({ client_id: publicClient });

      // Act: presented with the public client_id alone, as anyone can.
      const response = await f.send('POST', '/oauth/token', {
        form: { grant_type: JWT_BEARER_GRANT_TYPE, assertion: stolen, client_id: publicClient },
      });

      // Assess: refused, said why, on the record; no token issued.
      expect(response.status).toBe(400);
      expect(response.json()).toMatchObject({
        error: 'unauthorized_client',
        error_description: expect.stringContaining('confidential clients'),
      });
      expect(response.json().access_token).toBeUndefined();
      expect(refusals().at(-1)).toMatchObject({
        type: 'credential_denied',
        reasons: ['unauthorized_client', 'client_public'],
        details: expect.objectContaining({ grantType: 'jwt-bearer', clientId: publicClient }),
      });
    });

    it('accepts a public client only where the config accepts the risk (allowPublicClients)', async () => {
      // Prepare
      const f = entryPoint({
        oauth: {
          enterpriseManagedAuthorization: {
            issuer: IDP,
            jwksUri,
            maxAssertionLifetimeSeconds: 300,
            allowPublicClients: true,
          },
        },
        enterpriseAssertionKeys: remoteKeySet(new URL(jwksUri), { timeoutMs: 5_000 }),
      });
      const publicClient = await f.register();
      const t = Math.floor(f.now.value.getTime() / 1000);
      const assertion = await new SignJWT({
        iss: IDP,
        sub: '00u-alice',
        aud: ISSUER,
        client_id: publicClient,
        resource: RESOURCE,
        jti: 'jag-public',
        iat: t,
        exp: t + 300,
        scope: 'receipts:read',
      })
        .setProtectedHeader({ alg: 'ES256', kid: 'idp-1', typ: 'oauth-id-jag+jwt' })
        .sign(idpKey);

      // Act
      const response = await f.send('POST', '/oauth/token', {
        form: { grant_type: JWT_BEARER_GRANT_TYPE, assertion, client_id: publicClient },
      });

      // Assess
      expect(response.status).toBe(200);
      expect(typeof response.json().access_token).toBe('string');
    });

    it('records a JWT bearer request whose client does not authenticate, and trusts nothing of its assertion', async () => {
      const { f, idJag } = await withEnterpriseIdp();
      const response = await f.send('POST', '/oauth/token', {
        form: { grant_type: JWT_BEARER_GRANT_TYPE, assertion: await idJag(), client_id: 'mcp_nobody' },
      });
      expect(response.status).toBe(401);
      expect(response.json().error).toBe('invalid_client');
      expect(f.audit.at(-1)).toMatchObject({
        type: 'credential_denied',
        principal: '(unknown)',
        reasons: ['invalid_client', 'client_not_authenticated'],
        details: expect.objectContaining({ grantType: 'jwt-bearer', clientId: 'mcp_nobody' }),
      });
    });

    it('refuses every ID-JAG while the kill switch is engaged, and keeps it usable once released', async () => {
      const { f, idJag, exchange, refusals } = await withEnterpriseIdp();
      const assertion = await idJag();
      f.killSwitch.state = {
        engaged: true,
        scope: 'global',
        reason: 'incident 12',
        revokeIssuedBefore: null,
      };
      const sealed = await exchange(assertion);
      expectRefused(sealed, refusals(), 'temporarily_unavailable');
      expect(sealed.json().error_description).toMatch(/kill switch/);
      f.killSwitch.state = { engaged: false, scope: null, reason: 'released', revokeIssuedBefore: null };
      expect((await exchange(assertion)).status).toBe(200);
    });
  });
});

describe('Config: oauth.enterpriseManagedAuthorization', () => {
  const example = JSON.parse(JSON.stringify(loadConfig('config/airlock.oauth.yaml')));
  const withEma = (ema: Record<string, unknown>) => ({
    ...example,
    oauth: {
      ...example.oauth,
      enterpriseManagedAuthorization: { ...example.oauth.enterpriseManagedAuthorization, ...ema },
    },
  });

  it('reads the example config with its defaults', () => {
    expect(parseConfig(withEma({}), 'c.yaml').oauth?.enterpriseManagedAuthorization).toEqual({
      issuer: 'https://login.example.com',
      jwksUri: 'https://login.example.com/oauth2/v1/keys',
      algorithms: ['RS256', 'ES256'],
      maxAssertionLifetimeSeconds: 300,
      sameUserIdsAsIdentityProvider: false,
      allowPublicClients: false,
    });
  });

  it('attack: ID-JAGs from a second IdP, whose user ids collide with the sign-in IdP subjects, are refused at config load', () => {
    // Subjects are listed as the sign-in IdP's user ids; another IdP may give anyone the same string.
    expect(() => parseConfig(withEma({ issuer: 'https://other-idp.example.net' }), 'c.yaml')).toThrow(
      /oauth\.enterpriseManagedAuthorization\.issuer: https:\/\/other-idp\.example\.net is not at the origin of identityProvider\.issuer .*sameUserIdsAsIdentityProvider: true/,
    );
  });

  it('accepts the same IdP under another domain when the config says its user ids are the same', () => {
    const parsed = parseConfig(
      withEma({ issuer: 'https://login.acme-corp.example', sameUserIdsAsIdentityProvider: true }),
      'c.yaml',
    );
    expect(parsed.oauth?.enterpriseManagedAuthorization?.issuer).toBe('https://login.acme-corp.example');
  });

  it('refuses a key set fetched over plain http across a network (keys swapped in transit)', () => {
    expect(() => parseConfig(withEma({ jwksUri: 'http://idp.example.com/keys' }), 'c.yaml')).toThrow(
      /oauth\.enterpriseManagedAuthorization\.jwksUri: expected an https:\/\/ URL/,
    );
  });

  it('refuses an HMAC or none algorithm (a public key used as a shared secret, an unsigned assertion)', () => {
    for (const alg of ['HS256', 'none']) {
      expect(() => parseConfig(withEma({ algorithms: [alg] }), 'c.yaml')).toThrow(
        /oauth\.enterpriseManagedAuthorization\.algorithms\[0\]: Invalid option: expected one of "RS256"/,
      );
    }
  });

  it('refuses a maximum assertion lifetime over an hour', () => {
    expect(() => parseConfig(withEma({ maxAssertionLifetimeSeconds: 86_400 }), 'c.yaml')).toThrow(
      /oauth\.enterpriseManagedAuthorization\.maxAssertionLifetimeSeconds/,
    );
  });

  it('refuses to build an authorization server with the section but no key set', () => {
    expect(() =>
      entryPoint({
        oauth: { enterpriseManagedAuthorization: { issuer: IDP, jwksUri: 'https://idp.test/keys' } },
      }),
    ).toThrow(/no key set of its identity provider/);
  });
});
