/**
 * The OAuth entry point as browsers, MCP clients and attackers use it (HTTP events in, HTTP answers
 * out). Each `describe` names a defect found by trying the entry point as an attacker; each test is
 * named after the attack and failed before its fix.
 */
import { importJWK, jwtVerify } from 'jose';
import { readPolicyFiles } from '../../../lambdas/adapters/policy-files';
import { PolicyEngine } from '../../../lambdas/core/policy-engine';
import { buildEntities } from '../../../lambdas/core/policy-entities';
import { Browser, config, entryPoint, ISSUER, REDIRECT, RESOURCE } from './oauth-entry-fixture';

describe('Function: createOAuthHandler', () => {
  describe('consent (confused deputy)', () => {
    it('issues no code to a newly registered client until the user allows it on a consent page (it came back silently before)', async () => {
      // Prepare: an attacker registers a client and sends alice its authorization link
      const f = entryPoint();
      const clientId = await f.register({ client_name: 'Totally Claude' });
      // Act: alice's browser follows it; her IdP session signs her in without a click
      const { callback } = await f.signIn(clientId);
      // Assess: no redirect with a code, but a page naming the client, where the answer goes and what it may do
      expect(callback.status).toBe(200);
      expect(callback.headers.location).toBeUndefined();
      expect(callback.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(callback.body).toContain('Totally Claude');
      expect(callback.body).toContain('https://claude.ai');
      expect(callback.body).toContain('expense-summary');
      expect(callback.body).toMatch(/read receipts/);
      expect(callback.body).toMatch(/registered itself, so its name is unverified/);
    });

    it('serves the consent page unframeable (clickjacking), under a CSP without scripts or third-party assets', async () => {
      const f = entryPoint();
      const { callback } = await f.signIn(await f.register());
      const csp = callback.headers['content-security-policy'];
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("form-action 'self' https://claude.ai");
      expect(csp).not.toMatch(/script-src|unsafe-inline|\*/);
      expect(callback.headers['x-frame-options']).toBe('DENY');
      expect(callback.headers['cache-control']).toBe('no-store');
      expect(callback.body).not.toMatch(/<script|<iframe|<link|<img|\ssrc=|\shref=/i);
    });

    it('refuses a forged consent answer: another browser, a wrong CSRF token, another origin (cross-site request forgery)', async () => {
      // Prepare
      const f = entryPoint();
      const clientId = await f.register();
      const { callback, browser } = await f.signIn(clientId);
      const form = f.consentForm(callback);
      // Act
      const otherBrowser = await f.send('POST', '/oauth/consent', {
        browser: new Browser(),
        form: { ...form, decision: 'allow' },
      });
      const wrongToken = await f.send('POST', '/oauth/consent', {
        browser,
        form: { ...form, csrf_token: 'x'.repeat(43), decision: 'allow' },
      });
      const { callback: again, browser: sameBrowser } = await f.signIn(clientId);
      const crossSite = await f.send('POST', '/oauth/consent', {
        browser: sameBrowser,
        headers: { origin: 'https://evil.example.net' },
        form: { ...f.consentForm(again), decision: 'allow' },
      });
      // Assess: each is a page for the person, and no code left
      for (const answer of [otherBrowser, wrongToken, crossSite]) {
        expect(answer.status).toBe(400);
        expect(answer.headers.location).toBeUndefined();
        expect(answer.body).toMatch(/consent form is not valid here/);
      }
    });

    it('answers a consent form once: a replayed Allow issues no second code', async () => {
      const f = entryPoint();
      const { callback, browser } = await f.signIn(await f.register());
      const first = await f.answerConsent(callback, browser);
      browser.keep([]); // the same cookies, had they been kept
      const replay = await f.send('POST', '/oauth/consent', {
        browser,
        headers: { origin: ISSUER },
        form: { ...f.consentForm(callback), decision: 'allow' },
      });
      expect(new URL(first.headers.location).searchParams.get('code')).toBeTruthy();
      expect(replay.status).toBe(400);
    });

    it('remembers consent per user and client; another client, another user and prompt=consent are asked', async () => {
      // Prepare
      const f = entryPoint();
      const clientId = await f.register();
      await f.authorizationCode(clientId);
      // Act
      const sameClient = await f.signIn(clientId);
      const forced = await f.signIn(clientId, new Browser(), { prompt: 'consent' });
      const otherClient = await f.signIn(await f.register());
      f.idpUser.value = { ...f.idpUser.value, sub: '00u-bob' };
      const otherUser = await f.signIn(clientId);
      // Assess
      expect(sameClient.callback.status).toBe(302);
      expect(new URL(sameClient.callback.headers.location).searchParams.get('code')).toBeTruthy();
      expect(forced.callback.status).toBe(200);
      expect(otherClient.callback.status).toBe(200);
      expect(otherUser.callback.status).toBe(200);
    });

    it('asks again when a metadata-document client changed where it sends the user', async () => {
      // Prepare
      const f = entryPoint({ oauth: { allowedRedirectUris: [REDIRECT, 'https://apps.example.com/cb'] } });
      const url = 'https://client.example.com/oauth/client.json';
      f.metadataDocuments.set(url, { client_id: url, client_name: 'Example', redirect_uris: [REDIRECT] });
      await f.authorizationCode(url);
      // Act: an hour later the document (fetched again) lists another redirect URI
      f.now.value = new Date(f.now.value.getTime() + 2 * 3600_000);
      f.metadataDocuments.set(url, {
        client_id: url,
        client_name: 'Example',
        redirect_uris: [REDIRECT, 'https://apps.example.com/cb'],
      });
      const { callback } = await f.signIn(url);
      // Assess
      expect(callback.status).toBe(200);
      expect(callback.body).toMatch(/has changed since you last allowed it/);
      expect(callback.body).toContain('client.example.com');
    });

    it('sends access_denied to the client when the user denies, and records it', async () => {
      const f = entryPoint();
      const { callback, browser } = await f.signIn(await f.register());
      const answer = await f.answerConsent(callback, browser, 'deny');
      const back = new URL(answer.headers.location);
      expect(answer.status).toBe(303);
      expect(back.searchParams.get('error')).toBe('access_denied');
      expect(back.searchParams.get('code')).toBeNull();
      expect(f.audit.at(-1)).toMatchObject({ type: 'credential_denied', reasons: ['consent_denied'] });
    });

    it('refuses a callback opened in a browser that did not start the sign-in (login CSRF)', async () => {
      // Prepare: the attacker starts a sign-in and sends the victim the IdP's callback link
      const f = entryPoint();
      const clientId = await f.register();
      const attacker = new Browser();
      const started = await f.send('GET', '/oauth/authorize', {
        browser: attacker,
        query: {
          response_type: 'code',
          client_id: clientId,
          redirect_uri: REDIRECT,
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          code_challenge_method: 'S256',
        },
      });
      const state = new URL(started.headers.location).searchParams.get('state') ?? '';
      // Act
      const victim = await f.send('GET', '/oauth/callback', {
        browser: new Browser(),
        query: { state, code: 'idp-code' },
      });
      // Assess
      expect(victim.status).toBe(400);
      expect(victim.body).toMatch(/started in another browser/);
    });
  });

  describe('smaller defects', () => {
    it('answers an unknown client_id at /oauth/authorize with a page for the user, not 401 WWW-Authenticate: Basic', async () => {
      const f = entryPoint();
      const response = await f.send('GET', '/oauth/authorize', {
        query: { response_type: 'code', client_id: 'mcp_nobody', redirect_uri: REDIRECT },
      });
      expect(response.status).toBe(400);
      expect(response.headers['www-authenticate']).toBeUndefined();
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.body).toMatch(/not registered with Airlock/);
    });

    it('serves root protected-resource metadata naming the resource it is served for (RFC 9728 §3.3)', async () => {
      const f = entryPoint();
      const root = (await f.send('GET', '/.well-known/oauth-protected-resource')).json();
      const mcp = (await f.send('GET', '/.well-known/oauth-protected-resource/v1/mcp')).json();
      expect(root.resource).toBe(ISSUER);
      expect(mcp.resource).toBe(RESOURCE);
    });

    it('refuses a client_secret_basic client that sends its secret in the body, and a post client using Basic', async () => {
      // Prepare
      const f = entryPoint();
      const basic = (
        await f.send('POST', '/oauth/register', {
          json: { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic' },
        })
      ).json();
      const post = (
        await f.send('POST', '/oauth/register', {
          json: { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_post' },
        })
      ).json();
      const basicHeader = (id: unknown, secret: unknown) =>
        `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
      // Act
      const inBody = await f.send('POST', '/oauth/token', {
        form: {
          grant_type: 'refresh_token',
          refresh_token: 'rt_x',
          client_id: String(basic.client_id),
          client_secret: String(basic.client_secret),
        },
      });
      const viaBasic = await f.send('POST', '/oauth/token', {
        headers: { authorization: basicHeader(post.client_id, post.client_secret) },
        form: { grant_type: 'refresh_token', refresh_token: 'rt_x' },
      });
      const right = await f.send('POST', '/oauth/token', {
        headers: { authorization: basicHeader(basic.client_id, basic.client_secret) },
        form: { grant_type: 'refresh_token', refresh_token: 'rt_x' },
      });
      // Assess
      expect(inBody.status).toBe(401);
      expect(inBody.json().error).toBe('invalid_client');
      expect(viaBasic.status).toBe(401);
      expect(right.json().error).toBe('invalid_grant'); // authenticated; the refresh token is made up
    });

    it('refuses to revoke another client’s token, which keeps working', async () => {
      // Prepare
      const f = entryPoint();
      const victim = await f.register();
      const tokens = await f.tokens(victim);
      const attacker = await f.register();
      // Act
      const revoke = await f.send('POST', '/oauth/revoke', {
        form: { token: tokens.refresh_token, client_id: attacker },
      });
      const refresh = await f.send('POST', '/oauth/token', {
        form: { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: victim },
      });
      // Assess
      expect(revoke.status).toBe(400);
      expect(revoke.json().error).toBe('invalid_request');
      expect(refresh.status).toBe(200);
      expect(f.audit.some((e) => e.reasons.includes('revocation_by_other_client'))).toBe(true);
    });

    it('answers a policy refusal and a sealed kill switch at the token endpoint with invalid_grant only (RFC 6749 §5.2)', async () => {
      // Prepare
      const f = entryPoint();
      const clientId = await f.register();
      const tokens = await f.tokens(clientId);
      // Act
      f.killSwitch.state = { engaged: true, scope: 'global', reason: 'incident 7', revokeIssuedBefore: null };
      const sealed = await f.send('POST', '/oauth/token', {
        form: { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId },
      });
      // Assess
      expect(sealed.status).toBe(400);
      expect(sealed.json()).toMatchObject({
        error: 'invalid_grant',
        error_description: expect.stringMatching(/incident 7/),
      });
    });

    it('does not use up the refresh token when the policy refuses the refresh', async () => {
      // Prepare: alice signs in; then the policy stops allowing her, then allows her again
      const policies = readPolicyFiles();
      const allowing = PolicyEngine.create({ ...policies, entities: buildEntities(config) });
      const current = { engine: allowing };
      const f = entryPoint({ withPolicy: { decide: (r: never) => current.engine.decide(r) } as never });
      const clientId = await f.register();
      const tokens = await f.tokens(clientId);
      const withoutAlice = {
        ...config,
        principals: { ...config.principals, alice: { ...config.principals.alice, groups: [] } },
      };
      current.engine = PolicyEngine.create({ ...policies, entities: buildEntities(withoutAlice as never) });
      const refused = await f.send('POST', '/oauth/token', {
        form: { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId },
      });
      current.engine = allowing;
      // Act
      const later = await f.send('POST', '/oauth/token', {
        form: { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId },
      });
      // Assess
      expect(refused.json().error).toBe('invalid_grant');
      expect(later.status).toBe(200);
    });

    it('rate-limits registration per source address, with Retry-After', async () => {
      const f = entryPoint({ oauth: { registrationsPerSourcePerHour: 3 } });
      const answers = [];
      for (let i = 0; i < 4; i++) {
        answers.push(
          await f.send('POST', '/oauth/register', {
            json: { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' },
          }),
        );
      }
      const otherSource = await f.send('POST', '/oauth/register', {
        sourceIp: '203.0.113.9',
        json: { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' },
      });
      expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 429]);
      expect(Number(answers[3].headers['retry-after'])).toBeGreaterThan(0);
      expect(otherSource.status).toBe(201);
    });

    it('refuses registration while the kill switch is engaged', async () => {
      const f = entryPoint();
      f.killSwitch.state = { engaged: true, scope: 'global', reason: 'incident 9', revokeIssuedBefore: null };
      const response = await f.send('POST', '/oauth/register', {
        json: { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' },
      });
      expect(response.status).toBe(503);
      expect(f.audit.at(-1)).toMatchObject({ type: 'credential_denied', reasons: ['kill_switch_engaged'] });
    });

    it('forgets a registered client that completed no sign-in within unusedClientHours, and keeps one in use', async () => {
      const f = entryPoint({ oauth: { unusedClientHours: 1 } });
      const unused = await f.register();
      const used = await f.register();
      await f.tokens(used);
      f.now.value = new Date(f.now.value.getTime() + 2 * 3600_000);
      const unusedAnswer = await f.send('GET', '/oauth/authorize', {
        query: { response_type: 'code', client_id: unused, redirect_uri: REDIRECT },
      });
      const usedAnswer = await f.signIn(used);
      expect(unusedAnswer.status).toBe(400);
      expect(usedAnswer.callback.status).toBe(302);
    });

    it('publishes jwks_uri, whose key verifies the access tokens', async () => {
      const f = entryPoint();
      const metadata = (await f.send('GET', '/.well-known/oauth-authorization-server')).json();
      const jwks = (await f.send('GET', '/oauth/jwks')).json() as { keys: Array<Record<string, string>> };
      const { access_token } = await f.tokens(await f.register());
      const key = await importJWK(jwks.keys[0], 'ES256');
      expect(metadata.jwks_uri).toBe(`${ISSUER}/oauth/jwks`);
      expect(jwks.keys[0]).toMatchObject({
        kty: 'EC',
        crv: 'P-256',
        kid: f.signer.keyId,
        use: 'sig',
        alg: 'ES256',
      });
      expect(jwks.keys[0].d).toBeUndefined();
      await expect(jwtVerify(access_token, key, { currentDate: f.now.value })).resolves.toBeTruthy();
    });

    it('keeps the user signed in when two refreshes of one token race, and still treats a later replay as theft', async () => {
      // Prepare
      const f = entryPoint();
      const clientId = await f.register();
      const { refresh_token } = await f.tokens(clientId);
      const refresh = (token: string) =>
        f.send('POST', '/oauth/token', {
          form: { grant_type: 'refresh_token', refresh_token: token, client_id: clientId },
        });
      // Act: two requests of the same MCP host, one after the other within the grace
      const first = await refresh(refresh_token);
      const second = await refresh(refresh_token);
      const useFirst = await refresh(String(first.json().refresh_token));
      f.now.value = new Date(f.now.value.getTime() + 60_000);
      const lateReplay = await refresh(refresh_token);
      // Assess
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      expect(useFirst.status).toBe(200);
      expect(lateReplay.json().error).toBe('invalid_grant');
      const afterTheft = await refresh(String(useFirst.json().refresh_token));
      expect(afterTheft.json().error).toBe('invalid_grant');
    });

    it('answers /v1/mcp with a revoked token with 401 error="invalid_token", and never sends the user to /v1/credentials', async () => {
      // Prepare
      const f = entryPoint();
      const clientId = await f.register();
      const { access_token } = await f.tokens(clientId);
      f.revokedPrincipals.add('alice');
      const mcp = (headers: Record<string, string>) =>
        f.send('POST', '/v1/mcp', {
          headers: { accept: 'application/json, text/event-stream', ...headers },
          json: { jsonrpc: '2.0', id: 1, method: 'tools/list' },
        });
      // Act
      const revoked = await mcp({ authorization: `Bearer ${access_token}` });
      const missing = await mcp({});
      const malformed = await mcp({ authorization: 'Token abc' });
      // Assess
      expect(revoked.status).toBe(401);
      expect(revoked.headers['www-authenticate']).toMatch(
        /^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="https:\/\/mcp\.airlock\.test\/\.well-known\/oauth-protected-resource\/v1\/mcp"$/,
      );
      expect(missing.headers['www-authenticate']).toBe(
        `Bearer resource_metadata="${ISSUER}/.well-known/oauth-protected-resource/v1/mcp"`,
      );
      expect(malformed.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
      for (const answer of [revoked, missing, malformed]) {
        expect(answer.status).toBe(401);
        expect(answer.body).not.toContain('/v1/credentials');
        expect(answer.headers['www-authenticate']).not.toContain('/v1/credentials');
      }
    });
  });
});
