/**
 * The OAuth entry point's handler over an in-memory store, a fake corporate IdP and the example
 * config, driven with API Gateway proxy events as the browser, the MCP client and an attacker send
 * them. The clock is a value the tests move.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { LocalTokenSigner } from '../../../lambdas/adapters/local/local-token-signer';
import { MemoryOAuthStore } from '../../../lambdas/adapters/local/memory-oauth-store';
import { readPolicyFiles } from '../../../lambdas/adapters/policy-files';
import { createMcpHandler } from '../../../lambdas/connector/mcp-endpoint';
import type { AuditEvent } from '../../../lambdas/core/audit-record';
import type { KillSwitchState } from '../../../lambdas/core/kill-switch';
import {
  type CorporateIdentityProvider,
  OAuthAuthorizationServer,
} from '../../../lambdas/core/oauth/authorization-server';
import { s256ChallengeOf } from '../../../lambdas/core/oauth/pkce';
import { PolicyEngine } from '../../../lambdas/core/policy-engine';
import { buildEntities } from '../../../lambdas/core/policy-entities';
import type { RevocationStore } from '../../../lambdas/core/ports';
import type { JwtKeys } from '../../../lambdas/core/tokens/jwt-signature';
import { createOAuthHandler, oauthAuthenticator } from '../../../lambdas/oauth/oauth-handler';
import { loadConfig } from '../../../lib/config/load-config';
import { oauthConfigSchema } from '../../../lib/config/oauth-schema';
import { principalsRevoked, testGuard } from '../support/revocation-guard-fixture';

export const config = loadConfig('config/airlock.config.yaml');
const policy = PolicyEngine.create({ ...readPolicyFiles(), entities: buildEntities(config) });
export const ISSUER = 'https://mcp.airlock.test';
export const REDIRECT = 'https://claude.ai/api/mcp/auth_callback';
export const RESOURCE = `${ISSUER}/v1/mcp`;
export const IDP = 'https://idp.test';

export interface Response {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly cookies: string[];
  readonly body: string;
  json(): Record<string, unknown>;
}

/** A cookie jar per browser, as a browser keeps `__Host-` cookies of the entry point. */
export class Browser {
  readonly jar = new Map<string, string>();
  keep(setCookies: readonly string[]): void {
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      if (attributes.some((a) => a.trim() === 'Max-Age=0')) this.jar.delete(name);
      else this.jar.set(name, pair.slice(eq + 1));
    }
  }
  header(): string | undefined {
    return this.jar.size ? [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  }
}

export function entryPoint(
  options: {
    oauth?: Record<string, unknown>;
    withPolicy?: typeof policy;
    /** @default a set of revoked principals the test fills (`revokedPrincipals`) */
    revocations?: Pick<RevocationStore, 'readEntries'>;
    now?: { value: Date };
    /** The enterprise IdP's keys (with `oauth.enterpriseManagedAuthorization`). */
    enterpriseAssertionKeys?: JwtKeys;
  } = {},
) {
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
  const idpUser = {
    value: { iss: IDP, sub: '00u-alice', groups: ['Finance Team'] } as Record<string, unknown>,
  };
  const now = options.now ?? { value: new Date('2026-11-20T10:00:00Z') };
  const revokedPrincipals = new Set<string>();
  const signer = LocalTokenSigner.fromPrivateKey(
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  );
  const identityProvider: CorporateIdentityProvider = {
    authorizationUrl: async ({ state }) => `${IDP}/authorize?state=${state}`,
    signIn: async ({ code }) => {
      if (code !== 'idp-code') throw new Error('bad code at the IdP');
      return idpUser.value;
    },
  };
  const fetched: string[] = [];
  const metadataDocuments = new Map<string, unknown>();
  const oauth = oauthConfigSchema.parse({
    publicUrl: ISSUER,
    workflow: 'expense-summary',
    identityProvider: {
      issuer: IDP,
      clientId: 'airlock',
      clientSecretName: 'airlock/idp',
      groupMapping: { 'Finance Team': 'finance' },
      subjects: { alice: '00u-alice', bob: '00u-bob' },
    },
    ...options.oauth,
  });
  const server = new OAuthAuthorizationServer({
    config,
    oauth,
    store,
    identityProvider,
    fetchClientMetadata: async (url) => {
      fetched.push(url);
      if (!metadataDocuments.has(url)) throw new Error('not found');
      return metadataDocuments.get(url);
    },
    signer,
    policy: options.withPolicy ?? policy,
    guard: testGuard({
      killSwitch,
      revocations: options.revocations ?? principalsRevoked(revokedPrincipals),
    }),
    ledger: { append: async (event: AuditEvent) => audit.push(event) },
    clock: { now: () => now.value },
    ...(options.enterpriseAssertionKeys ? { enterpriseAssertionKeys: options.enterpriseAssertionKeys } : {}),
  });
  const proxy = {
    availableOperations: () => [],
    call: async () => ({ status: 'completed', result: {}, redactions: [] }),
  };
  const handler = createOAuthHandler({
    server,
    mcp: createMcpHandler({
      authenticator: oauthAuthenticator(server),
      proxy: proxy as never,
      config,
      allowedHosts: [new URL(ISSUER).hostname],
    }),
  });

  async function send(
    method: string,
    path: string,
    init: {
      query?: Record<string, string>;
      form?: Record<string, string>;
      json?: unknown;
      headers?: Record<string, string>;
      browser?: Browser;
      sourceIp?: string;
    } = {},
  ): Promise<Response> {
    // As API Gateway passes it: the host the client asked for.
    const headers: Record<string, string> = { host: new URL(ISSUER).host, ...init.headers };
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    const cookie = init.browser?.header();
    if (cookie) headers.cookie = cookie;
    const event = {
      resource: path,
      path,
      httpMethod: method,
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      queryStringParameters: init.query ?? null,
      multiValueQueryStringParameters: init.query
        ? Object.fromEntries(Object.entries(init.query).map(([k, v]) => [k, [v]]))
        : null,
      pathParameters: null,
      stageVariables: null,
      body: init.form
        ? new URLSearchParams(init.form).toString()
        : init.json !== undefined
          ? JSON.stringify(init.json)
          : null,
      isBase64Encoded: false,
      requestContext: {
        requestId: `req-${randomBytes(4).toString('hex')}`,
        identity: { sourceIp: init.sourceIp ?? '198.51.100.7' },
      },
    } as unknown as APIGatewayProxyEvent;
    const result: APIGatewayProxyResult = await handler(event);
    const flat: Record<string, string> = {};
    for (const [name, value] of Object.entries(result.headers ?? {}))
      flat[name.toLowerCase()] = String(value);
    const cookies = (result.multiValueHeaders?.['set-cookie'] ?? []).map(String);
    init.browser?.keep(cookies);
    return {
      status: result.statusCode,
      headers: flat,
      cookies,
      body: result.body,
      json: () => JSON.parse(result.body) as Record<string, unknown>,
    };
  }

  async function register(metadata: Record<string, unknown> = {}): Promise<string> {
    const response = await send('POST', '/oauth/register', {
      json: {
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'none',
        client_name: 'Claude',
        ...metadata,
      },
    });
    if (response.status !== 201) throw new Error(`registration failed: ${response.body}`);
    return response.json().client_id as string;
  }

  /** authorize → IdP → callback, in one browser; returns the callback's answer (a redirect or the consent page). */
  async function signIn(clientId: string, browser = new Browser(), extra: Record<string, string> = {}) {
    const verifier = randomBytes(32).toString('base64url');
    const started = await send('GET', '/oauth/authorize', {
      browser,
      query: {
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT,
        code_challenge: s256ChallengeOf(verifier),
        code_challenge_method: 'S256',
        resource: RESOURCE,
        state: 'client-state',
        ...extra,
      },
    });
    const toIdp = new URL(started.headers.location ?? 'about:blank');
    const state = toIdp.searchParams.get('state') ?? '';
    const callback = await send('GET', '/oauth/callback', { browser, query: { state, code: 'idp-code' } });
    return { started, callback, verifier, browser, state };
  }

  /** The hidden fields of the consent page's form. */
  function consentForm(page: Response): { ticket: string; csrf_token: string } {
    const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(page.body)?.[1] ?? '';
    return { ticket: field('ticket'), csrf_token: field('csrf_token') };
  }

  async function answerConsent(page: Response, browser: Browser, decision: 'allow' | 'deny' = 'allow') {
    return send('POST', '/oauth/consent', {
      browser,
      headers: { origin: ISSUER },
      form: { ...consentForm(page), decision },
    });
  }

  /** A full sign-in with consent given: the code and its verifier. */
  async function authorizationCode(clientId: string, browser = new Browser()) {
    const { callback, verifier } = await signIn(clientId, browser);
    const back = callback.status === 200 ? await answerConsent(callback, browser) : callback;
    const location = new URL(back.headers.location);
    return { code: location.searchParams.get('code') ?? '', verifier, location };
  }

  async function tokens(clientId: string) {
    const { code, verifier } = await authorizationCode(clientId);
    const response = await send('POST', '/oauth/token', {
      form: {
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT,
        client_id: clientId,
      },
    });
    return response.json() as { access_token: string; refresh_token: string };
  }

  return {
    server,
    store,
    audit,
    killSwitch,
    idpUser,
    now,
    revokedPrincipals,
    signer,
    fetched,
    metadataDocuments,
    send,
    register,
    signIn,
    consentForm,
    answerConsent,
    authorizationCode,
    tokens,
  };
}
