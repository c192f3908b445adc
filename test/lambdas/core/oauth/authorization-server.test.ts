import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { LocalTokenSigner } from '../../../../lambdas/adapters/local/local-token-signer';
import { MemoryOAuthStore } from '../../../../lambdas/adapters/local/memory-oauth-store';
import { readPolicyFiles } from '../../../../lambdas/adapters/policy-files';
import { createAccessTokenVerifier } from '../../../../lambdas/core/access-token';
import type { AuditEvent } from '../../../../lambdas/core/audit-record';
import type { AuthenticationRequest } from '../../../../lambdas/core/caller';
import type { KillSwitchState } from '../../../../lambdas/core/kill-switch';
import {
  type CorporateIdentityProvider,
  OAuthAuthorizationServer,
} from '../../../../lambdas/core/oauth/authorization-server';
import { OAuthError } from '../../../../lambdas/core/oauth/oauth-error';
import { s256ChallengeOf } from '../../../../lambdas/core/oauth/pkce';
import { PolicyEngine } from '../../../../lambdas/core/policy-engine';
import { buildEntities } from '../../../../lambdas/core/policy-entities';
import { loadConfig } from '../../../../lib/config/load-config';
import { oauthConfigSchema } from '../../../../lib/config/oauth-schema';
import { principalsRevoked, testGuard } from '../../support/revocation-guard-fixture';

const config = loadConfig('config/airlock.config.yaml');
const policy = PolicyEngine.create({ ...readPolicyFiles(), entities: buildEntities(config) });
const REDIRECT = 'https://claude.ai/api/mcp/auth_callback';
const RESOURCE = 'https://mcp.airlock.test/v1/mcp';

interface Fixture {
  server: OAuthAuthorizationServer;
  store: MemoryOAuthStore;
  audit: AuditEvent[];
  killSwitch: { state: KillSwitchState };
  idpClaims: { value: Record<string, unknown> };
  revoked: Set<string>;
  now: { value: Date };
  signer: LocalTokenSigner;
}

function fixture(): Fixture {
  const store = new MemoryOAuthStore({ now: () => now.value });
  const audit: AuditEvent[] = [];
  const killSwitch = {
    state: {
      engaged: false,
      scope: null,
      reason: 'not engaged',
      revokeIssuedBefore: null,
    } as KillSwitchState,
  };
  const idpClaims = {
    value: { iss: 'https://idp.test', sub: '00u-alice', groups: ['Finance Team'] } as Record<string, unknown>,
  };
  const revoked = new Set<string>();
  const now = { value: new Date('2026-11-20T10:00:00Z') };
  const signer = LocalTokenSigner.fromPrivateKey(
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  );
  const identityProvider: CorporateIdentityProvider = {
    authorizationUrl: async ({ state, nonce }) => `https://idp.test/authorize?state=${state}&nonce=${nonce}`,
    signIn: async ({ code }) => {
      if (code !== 'idp-code') throw new Error('bad code at the IdP');
      return idpClaims.value;
    },
  };
  const server = new OAuthAuthorizationServer({
    config,
    oauth: oauthConfigSchema.parse({
      publicUrl: 'https://mcp.airlock.test',
      workflow: 'expense-summary',
      identityProvider: {
        issuer: 'https://idp.test',
        clientId: 'airlock',
        clientSecretName: 'airlock/idp',
        groupMapping: { 'Finance Team': 'finance' },
        subjects: { alice: '00u-alice' },
      },
      consentDays: 0,
    }),
    store,
    identityProvider,
    fetchClientMetadata: async (url) => ({ client_id: url, redirect_uris: [REDIRECT] }),
    signer,
    policy,
    guard: testGuard({ killSwitch, revocations: principalsRevoked(revoked) }),
    ledger: { append: async (event: AuditEvent) => audit.push(event) },
    clock: { now: () => now.value },
  });
  return { server, store, audit, killSwitch, idpClaims, revoked, now, signer };
}

/** A request to `/v1/mcp` carrying `token`. */
function bearer(token: string): AuthenticationRequest {
  return {
    headers: { authorization: `Bearer ${token}` },
    requestContext: { requestId: 'request-1' },
  } as unknown as AuthenticationRequest;
}

async function register(server: OAuthAuthorizationServer): Promise<string> {
  const response = await server.register(
    { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' },
    '198.51.100.7',
    'req-0',
  );
  return response.client_id as string;
}

/** Runs the authorization request and the IdP sign-in; returns the redirect back to the client. */
async function signIn(
  server: OAuthAuthorizationServer,
  clientId: string,
  extra: Record<string, string> = {},
): Promise<{ back: URL; verifier: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const started = await server.authorize({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: s256ChallengeOf(verifier),
    code_challenge_method: 'S256',
    resource: RESOURCE,
    state: 'client-state',
    ...extra,
  });
  const toIdp = new URL(started.location);
  if (toIdp.origin !== 'https://idp.test') return { back: toIdp, verifier };
  const cookies = Object.fromEntries(started.cookies.map((c) => [c.name, c.value]));
  const outcome = await server.completeSignIn(
    { state: toIdp.searchParams.get('state') ?? '', code: 'idp-code' },
    cookies,
    'req-1',
  );
  if (outcome.kind === 'redirect') return { back: new URL(outcome.location), verifier };
  const answer = await server.consent(
    {
      form: { ticket: outcome.prompt.ticketId, csrf_token: outcome.prompt.csrfToken, decision: 'allow' },
      cookies,
    },
    'req-c',
  );
  return { back: new URL(answer.location), verifier };
}

async function tokens(f: Fixture) {
  const clientId = await register(f.server);
  const { back, verifier } = await signIn(f.server, clientId);
  const code = back.searchParams.get('code') ?? '';
  const issued = await f.server.token(
    {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
      resource: RESOURCE,
    },
    {},
    'req-2',
  );
  return { clientId, code, verifier, issued };
}

async function refusal(promise: Promise<unknown>): Promise<OAuthError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OAuthError) return error;
    throw error;
  }
  throw new Error('expected an OAuthError');
}

describe('Class: OAuthAuthorizationServer', () => {
  describe('Method: serverMetadata', () => {
    it('advertises S256 only, the endpoints and CIMD support', () => {
      // Act
      const metadata = fixture().server.serverMetadata();
      // Assess
      expect(metadata).toMatchObject({
        issuer: 'https://mcp.airlock.test',
        authorization_endpoint: 'https://mcp.airlock.test/oauth/authorize',
        token_endpoint: 'https://mcp.airlock.test/oauth/token',
        registration_endpoint: 'https://mcp.airlock.test/oauth/register',
        code_challenge_methods_supported: ['S256'],
        client_id_metadata_document_supported: true,
      });
    });

    it('names the MCP resource and its authorization server in the resource metadata', () => {
      expect(fixture().server.resourceMetadata()).toMatchObject({
        resource: RESOURCE,
        authorization_servers: ['https://mcp.airlock.test'],
        scopes_supported: [
          'erp:read',
          'erp:write',
          'everything:read',
          'everything:write',
          'handbook:read',
          'ledger:read',
          'receipts:read',
        ],
      });
    });
  });

  describe('Method: token (authorization_code)', () => {
    it('issues a short-lived access token for the resource, without cnf, and a refresh token', async () => {
      // Prepare
      const f = fixture();
      // Act
      const { issued } = await tokens(f);
      // Assess
      expect(issued).toMatchObject({
        token_type: 'Bearer',
        expires_in: 600,
        scope: 'erp:read erp:write everything:read everything:write handbook:read ledger:read receipts:read',
      });
      const claims = JSON.parse(Buffer.from(issued.access_token.split('.')[1], 'base64url').toString());
      expect(claims).toMatchObject({ aud: RESOURCE, sub: 'alice', workflow: 'expense-summary' });
      expect(claims.cnf).toBeUndefined();
      expect(f.audit.map((e) => e.type)).toContain('credential_issued');
    });

    it('returns the client state and the issuer with the code', async () => {
      // Prepare
      const f = fixture();
      const clientId = await register(f.server);
      // Act
      const { back } = await signIn(f.server, clientId);
      // Assess
      expect(back.origin + back.pathname).toBe(REDIRECT);
      expect(back.searchParams.get('state')).toBe('client-state');
      expect(back.searchParams.get('iss')).toBe('https://mcp.airlock.test');
    });

    it('refuses a wrong code with invalid_grant', async () => {
      // Prepare
      const f = fixture();
      const clientId = await register(f.server);
      // Act
      const error = await refusal(
        f.server.token(
          {
            grant_type: 'authorization_code',
            code: 'made-up',
            code_verifier: 'a'.repeat(43),
            redirect_uri: REDIRECT,
            client_id: clientId,
          },
          {},
          'r',
        ),
      );
      // Assess
      expect(error.code).toBe('invalid_grant');
    });

    it('refuses a reused code with invalid_grant and revokes what the code issued', async () => {
      // Prepare
      const f = fixture();
      const { clientId, code, verifier, issued } = await tokens(f);
      // Act
      const error = await refusal(
        f.server.token(
          {
            grant_type: 'authorization_code',
            code,
            code_verifier: verifier,
            redirect_uri: REDIRECT,
            client_id: clientId,
          },
          {},
          'r',
        ),
      );
      // Assess
      expect(error.code).toBe('invalid_grant');
      expect(error.description).toMatch(/already used/);
      await expect(f.server.authenticate(bearer(issued.access_token))).rejects.toThrow(/revoked/);
      const refreshed = await refusal(
        f.server.token(
          { grant_type: 'refresh_token', refresh_token: issued.refresh_token, client_id: clientId },
          {},
          'r',
        ),
      );
      expect(refreshed.code).toBe('invalid_grant');
    });

    it('refuses a PKCE mismatch with invalid_grant', async () => {
      // Prepare
      const f = fixture();
      const clientId = await register(f.server);
      const { back } = await signIn(f.server, clientId);
      // Act
      const error = await refusal(
        f.server.token(
          {
            grant_type: 'authorization_code',
            code: back.searchParams.get('code') ?? '',
            code_verifier: randomBytes(32).toString('base64url'),
            redirect_uri: REDIRECT,
            client_id: clientId,
          },
          {},
          'r',
        ),
      );
      // Assess
      expect(error.code).toBe('invalid_grant');
      expect(error.description).toMatch(/PKCE/);
    });

    it('refuses a resource that is not ours with invalid_target', async () => {
      // Prepare
      const f = fixture();
      const clientId = await register(f.server);
      const { back, verifier } = await signIn(f.server, clientId);
      // Act
      const error = await refusal(
        f.server.token(
          {
            grant_type: 'authorization_code',
            code: back.searchParams.get('code') ?? '',
            code_verifier: verifier,
            redirect_uri: REDIRECT,
            client_id: clientId,
            resource: 'https://other.example.com/mcp',
          },
          {},
          'r',
        ),
      );
      // Assess
      expect(error.code).toBe('invalid_target');
    });

    it('refuses an unknown client with invalid_client (401)', async () => {
      const error = await refusal(
        fixture().server.token({ grant_type: 'authorization_code', code: 'x', client_id: 'nobody' }, {}, 'r'),
      );
      expect(error.code).toBe('invalid_client');
      expect(error.status).toBe(401);
    });

    it('refuses the password grant with unsupported_grant_type and a missing grant with invalid_request', async () => {
      const f = fixture();
      expect((await refusal(f.server.token({ grant_type: 'password' }, {}, 'r'))).code).toBe(
        'unsupported_grant_type',
      );
      expect((await refusal(f.server.token({}, {}, 'r'))).code).toBe('invalid_request');
    });
  });

  describe('Method: authorize', () => {
    it('sends plain PKCE back to the client as invalid_request', async () => {
      // Prepare
      const f = fixture();
      const clientId = await register(f.server);
      // Act
      const { back } = await signIn(f.server, clientId, {
        code_challenge: 'a'.repeat(43),
        code_challenge_method: 'plain',
      });
      // Assess
      expect(back.searchParams.get('error')).toBe('invalid_request');
      expect(back.searchParams.get('state')).toBe('client-state');
    });

    it('sends a resource that is not ours back as invalid_target', async () => {
      const f = fixture();
      const clientId = await register(f.server);
      const { back } = await signIn(f.server, clientId, { resource: 'https://other.example.com/mcp' });
      expect(back.searchParams.get('error')).toBe('invalid_target');
    });

    it('never redirects to a redirect URI the client did not register', async () => {
      // Prepare
      const f = fixture();
      const clientId = await register(f.server);
      // Act
      const error = await refusal(
        f.server.authorize({
          response_type: 'code',
          client_id: clientId,
          redirect_uri: 'https://evil.example.com/cb',
          code_challenge: s256ChallengeOf('a'.repeat(43)),
          code_challenge_method: 'S256',
        }),
      );
      // Assess
      expect(error.code).toBe('invalid_request');
      expect(error.description).toMatch(/redirect_uri is not registered/);
    });

    it('accepts a Client ID Metadata Document URL as client_id', async () => {
      // Prepare
      const f = fixture();
      // Act
      const { back } = await signIn(f.server, 'https://client.example.com/oauth/client.json');
      // Assess
      expect(back.searchParams.get('code')).toBeTruthy();
    });

    it('refuses a user whose IdP groups map to no group of the workflow', async () => {
      // Prepare
      const f = fixture();
      f.idpClaims.value = { iss: 'https://idp.test', sub: '00u-alice', groups: ['Sales'] };
      const clientId = await register(f.server);
      // Act
      const { back } = await signIn(f.server, clientId);
      // Assess
      expect(back.searchParams.get('error')).toBe('access_denied');
      expect(f.audit.at(-1)).toMatchObject({ type: 'credential_denied', decision: 'deny' });
    });
  });

  describe('Method: token (refresh_token)', () => {
    it('rotates the refresh token on use', async () => {
      // Prepare
      const f = fixture();
      const { clientId, issued } = await tokens(f);
      // Act
      const next = await f.server.token(
        { grant_type: 'refresh_token', refresh_token: issued.refresh_token, client_id: clientId },
        {},
        'r',
      );
      // Assess
      expect(next.refresh_token).not.toBe(issued.refresh_token);
      await expect(f.server.authenticate(bearer(next.access_token))).resolves.toMatchObject({
        principal: 'alice',
      });
    });

    it('treats a replayed refresh token as theft: invalid_grant, and the whole family is revoked', async () => {
      // Prepare
      const f = fixture();
      const { clientId, issued } = await tokens(f);
      const next = await f.server.token(
        { grant_type: 'refresh_token', refresh_token: issued.refresh_token, client_id: clientId },
        {},
        'r',
      );
      // A thief's copy, presented after the concurrent-refresh grace
      f.now.value = new Date(f.now.value.getTime() + 31_000);
      // Act
      const error = await refusal(
        f.server.token(
          { grant_type: 'refresh_token', refresh_token: issued.refresh_token, client_id: clientId },
          {},
          'r',
        ),
      );
      // Assess
      expect(error.code).toBe('invalid_grant');
      const afterwards = await refusal(
        f.server.token(
          { grant_type: 'refresh_token', refresh_token: next.refresh_token, client_id: clientId },
          {},
          'r',
        ),
      );
      expect(afterwards.code).toBe('invalid_grant');
      await expect(f.server.authenticate(bearer(next.access_token))).rejects.toThrow(/revoked/);
      expect(
        f.audit.some((e) => e.type === 'revocation' && e.reasons.includes('refresh_token_replayed')),
      ).toBe(true);
    });

    it('refuses refresh while the kill switch is engaged, and for a sign-in before revokeIssuedBefore', async () => {
      // Prepare
      const f = fixture();
      const { clientId, issued } = await tokens(f);
      f.killSwitch.state = {
        engaged: true,
        scope: 'global',
        reason: 'incident 42',
        revokeIssuedBefore: null,
      };
      // Act
      const sealed = await refusal(
        f.server.token(
          { grant_type: 'refresh_token', refresh_token: issued.refresh_token, client_id: clientId },
          {},
          'r',
        ),
      );
      f.now.value = new Date(f.now.value.getTime() + 60_000);
      f.killSwitch.state = {
        engaged: false,
        scope: null,
        reason: 'not engaged',
        revokeIssuedBefore: f.now.value,
      };
      const cutOff = await refusal(
        f.server.token(
          { grant_type: 'refresh_token', refresh_token: issued.refresh_token, client_id: clientId },
          {},
          'r',
        ),
      );
      // Assess
      expect(sealed.code).toBe('invalid_grant');
      expect(sealed.description).toMatch(/incident 42/);
      expect(cutOff.code).toBe('invalid_grant');
    });

    it('refuses refresh for a principal IT/security revoked', async () => {
      const f = fixture();
      const { clientId, issued } = await tokens(f);
      f.revoked.add('alice');
      const error = await refusal(
        f.server.token(
          { grant_type: 'refresh_token', refresh_token: issued.refresh_token, client_id: clientId },
          {},
          'r',
        ),
      );
      expect(error.description).toMatch(/revoked by IT\/security/);
    });
  });

  describe('Method: revoke', () => {
    it('ends the family of a revoked refresh token', async () => {
      // Prepare
      const f = fixture();
      const { clientId, issued } = await tokens(f);
      // Act
      await f.server.revoke({ token: issued.refresh_token, client_id: clientId }, {}, 'r');
      // Assess
      await expect(f.server.authenticate(bearer(issued.access_token))).rejects.toThrow(/revoked/);
    });
  });

  describe('Method: authenticate', () => {
    it('refuses while the kill switch is engaged, and records the refusal with the token’s principal', async () => {
      const f = fixture();
      const { issued } = await tokens(f);
      f.killSwitch.state = { engaged: true, scope: 'global', reason: 'incident', revokeIssuedBefore: null };
      await expect(f.server.authenticate(bearer(issued.access_token))).rejects.toMatchObject({
        code: 'kill_switch_engaged',
      });
      expect(f.audit.at(-1)).toMatchObject({
        type: 'connector_denied',
        principal: 'alice',
        workflow: 'expense-summary',
        decision: 'deny',
        reasons: ['kill_switch_engaged', 'global'],
        requestId: 'request-1',
        details: { channel: 'oauth', stage: 'authentication', clientId: expect.any(String) },
      });
    });

    it('records a garbage or revoked token (the refusals left no record), as anonymous until a token is verified', async () => {
      // Prepare
      const f = fixture();
      const { issued } = await tokens(f);
      f.revoked.add('alice');
      const before = f.audit.length;

      // Act
      await expect(f.server.authenticate(bearer('not.a.token'))).rejects.toMatchObject({
        code: 'unauthenticated',
      });
      await expect(f.server.authenticate(bearer(issued.access_token))).rejects.toMatchObject({
        reasons: ['revoked'],
      });

      // Assess
      expect(f.audit.slice(before)).toEqual([
        expect.objectContaining({
          type: 'connector_denied',
          principal: 'anonymous',
          workflow: '(none)',
          reasons: ['unauthenticated', 'malformed'],
          details: { channel: 'oauth', stage: 'authentication' },
        }),
        expect.objectContaining({ principal: 'alice', reasons: ['unauthenticated', 'revoked'] }),
      ]);
      expect(JSON.stringify(f.audit)).not.toContain(issued.access_token);
    });

    it('issues tokens the mTLS routes refuse', async () => {
      // Prepare
      const f = fixture();
      const { issued } = await tokens(f);
      const mtls = createAccessTokenVerifier({
        issuer: 'https://mcp.airlock.test',
        audience: RESOURCE,
        keys: new Map([[f.signer.keyId, await f.signer.getPublicKey()]]),
        clock: { now: () => f.now.value },
      });
      // Act / Assess: even with the same issuer and audience, the missing cnf is refused.
      await expect(
        mtls.verify(issued.access_token, { certificateThumbprint: 'A'.repeat(43) }),
      ).rejects.toMatchObject({
        reason: 'certificate_mismatch',
      });
    });
  });
});
