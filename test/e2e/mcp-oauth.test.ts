/**
 * The whole OAuth flow of remote MCP connectors against the local pilot (`AIRLOCK_CONFIG=
 * config/airlock.oauth.yaml npm start`) and its local IdP, with clients nobody here wrote: the MCP
 * SDK's client auth and oauth4webapi (strict RFC 8414, 9728 and 9207 checks), the user signing in at
 * the IdP and answering Airlock's consent page, driven as a browser would (form posts, cookies) and,
 * once, in headless Chromium.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auth, type OAuthClientProvider, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import * as oauth from 'oauth4webapi';
import { chromium } from 'playwright-core';
import { loadConfig } from '../../lib/config/load-config';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import { airlock } from './support/cli-run';
import { fetchTrusting } from './support/fetch-trusting';

jest.setTimeout(90_000);

const CLIENT_REDIRECT = 'http://127.0.0.1:33418/callback';
const CHROMIUM = '/usr/bin/chromium';

/** What the user's browser saw on the way. */
interface Journey {
  readonly back: URL;
  readonly pages: string[];
}

/**
 * Plays the user's browser from the authorization URL to the client's redirect URI: follows
 * redirects (keeping cookies), signs in at the local IdP as `user`, and answers Airlock's consent page.
 */
async function browse(
  start: URL,
  doFetch: typeof fetch,
  user: string,
  decision: 'allow' | 'deny' = 'allow',
): Promise<Journey> {
  const cookies = new Map<string, string>();
  const pages: string[] = [];
  let url = start;
  let init: RequestInit = {};
  for (let hop = 0; hop < 20; hop++) {
    if (url.href.startsWith(CLIENT_REDIRECT)) return { back: url, pages };
    const headers = new Headers(init.headers);
    if (cookies.size) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await doFetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1));
    }
    const location = response.headers.get('location');
    if (location) {
      url = new URL(location, url);
      init = {};
      continue;
    }
    const html = await response.text();
    if (response.status !== 200)
      throw new Error(`The browser stopped at ${url.pathname}: HTTP ${response.status} ${html}`);
    const action = new URL(
      /<form method="post" action="([^"]+)"/.exec(html)?.[1]?.replace(/&#38;/g, '&') ?? '',
      url,
    );
    if (html.includes('Local identity provider')) {
      pages.push('idp-login');
      // The IdP's login page lists users by name; the button's value is their IdP user id.
      const account = new RegExp(`value="([^"]+)">${user}\\b`).exec(html)?.[1] ?? user;
      init = {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ account }).toString(),
      };
    } else {
      pages.push('consent');
      const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1] ?? '';
      init = {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url.origin },
        body: new URLSearchParams({
          ticket: field('ticket'),
          csrf_token: field('csrf_token'),
          decision,
        }).toString(),
      };
    }
    url = action;
  }
  throw new Error('Too many steps');
}

/** What an MCP host keeps for one connector; the SDK drives it. */
class ConnectorOAuthState implements OAuthClientProvider {
  authorizationUrl?: URL;
  private info?: OAuthClientInformationMixed;
  private saved?: OAuthTokens;
  private verifier = '';
  get redirectUrl() {
    return CLIENT_REDIRECT;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'Airlock e2e MCP host',
      redirect_uris: [CLIENT_REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/** `tools/list` on the OAuth entry point's MCP resource with an access token. */
function listTools(token: string): Promise<Response> {
  return doFetch(mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
}

let home: string;
let pilot: LocalPilot;
let doFetch: typeof fetch;
let mcpUrl: URL;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'airlock-oauth-e2e-'));
  pilot = await startLocalPilot({
    home,
    port: 0,
    oauthPort: 0,
    config: loadConfig('config/airlock.oauth.yaml'),
  });
  doFetch = fetchTrusting(await readFile(pilot.certificates.ca, 'utf8'));
  mcpUrl = new URL(`${pilot.oauthUrl}/v1/mcp`);
});

afterAll(async () => {
  await pilot?.close();
  await rm(home, { recursive: true, force: true });
});

describe('Local pilot: OAuth entry point with its local IdP', () => {
  it('runs the MCP SDK’s whole authorization flow (register, sign in, consent), lists and calls tools, refreshes', async () => {
    // Prepare
    const state = new ConnectorOAuthState();
    const transport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: state, fetch: doFetch });
    const client = new Client({ name: 'e2e', version: '1.0.0' });

    // Act 1: the first connect meets a 401, discovers, registers and sends the user to sign in
    await expect(client.connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);
    const journey = await browse(state.authorizationUrl as URL, doFetch, 'alice');
    await transport.finishAuth(journey.back.searchParams.get('code') ?? '');
    const connected = new Client({ name: 'e2e', version: '1.0.0' });
    await connected.connect(
      new StreamableHTTPClientTransport(mcpUrl, { authProvider: state, fetch: doFetch }),
    );
    const tools = await connected.listTools();
    const listed = await connected.callTool({ name: 'receipts_list', arguments: { intent: 'e2e check' } });

    // Assess 1: the user signed in and consented; the token is alice's, for the MCP resource
    expect(journey.pages).toEqual(['idp-login', 'consent']);
    expect(state.authorizationUrl?.searchParams.get('code_challenge_method')).toBe('S256');
    expect(journey.back.searchParams.get('iss')).toBe(pilot.oauthUrl);
    expect(tools.tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(['receipts_list', 'receipts_read']),
    );
    expect(listed.isError).toBeFalsy();
    const first = state.tokens() as OAuthTokens;
    const claims = JSON.parse(Buffer.from(first.access_token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ sub: 'alice', aud: mcpUrl.href, workflow: 'expense-summary' });

    // Act 2: refresh through the SDK, as a host does when the access token expires
    await expect(auth(state, { serverUrl: mcpUrl, fetchFn: doFetch })).resolves.toBe('AUTHORIZED');
    const second = state.tokens() as OAuthTokens;

    // Act 3: a second sign-in of the same client skips the consent page (remembered per user and client)
    const again = new ConnectorOAuthState();
    again.saveClientInformation(state.clientInformation() as OAuthClientInformationMixed);
    await auth(again, { serverUrl: mcpUrl, fetchFn: doFetch });
    const secondJourney = await browse(again.authorizationUrl as URL, doFetch, 'alice');

    // Assess 2 and 3
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(secondJourney.pages).toEqual(['idp-login']);
    expect(secondJourney.back.searchParams.get('code')).toBeTruthy();
    await Promise.all([client.close(), connected.close()]);
  });

  it('completes the flow with oauth4webapi’s strict RFC 9728, 8414 and 9207 validation', async () => {
    // Prepare: oauth4webapi over the pilot's CA
    const options = { [oauth.customFetch]: doFetch } as const;
    // Act: protected resource metadata (path-suffixed and root), then the authorization server's
    const resource = await oauth.processResourceDiscoveryResponse(
      mcpUrl,
      await oauth.resourceDiscoveryRequest(mcpUrl, options),
    );
    const origin = new URL(pilot.oauthUrl as string);
    const rootResource = await oauth.processResourceDiscoveryResponse(
      origin,
      await oauth.resourceDiscoveryRequest(origin, options),
    );
    const issuer = new URL(resource.authorization_servers?.[0] as string);
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' }),
    );
    const registered = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(
        as,
        {
          redirect_uris: [CLIENT_REDIRECT],
          token_endpoint_auth_method: 'none',
          client_name: 'oauth4webapi e2e',
        },
        options,
      ),
    );
    const client: oauth.Client = { client_id: registered.client_id, token_endpoint_auth_method: 'none' };
    const verifier = oauth.generateRandomCodeVerifier();
    const stateParam = oauth.generateRandomState();
    const authorizationUrl = new URL(as.authorization_endpoint as string);
    authorizationUrl.search = new URLSearchParams({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: CLIENT_REDIRECT,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      resource: mcpUrl.href,
      state: stateParam,
    }).toString();
    const journey = await browse(authorizationUrl, doFetch, 'bob');
    const params = oauth.validateAuthResponse(as, client, journey.back, stateParam);
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, CLIENT_REDIRECT, verifier, {
        ...options,
        additionalParameters: { resource: mcpUrl.href },
      }),
    );
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token as string, options),
    );
    const mcp = await doFetch(mcpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${refreshed.access_token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });

    // Assess
    expect(resource.resource).toBe(mcpUrl.href);
    expect(rootResource.resource).toBe(origin.href.replace(/\/$/, ''));
    expect(as.jwks_uri).toBe(`${pilot.oauthUrl}/oauth/jwks`);
    expect(journey.pages).toEqual(['idp-login', 'consent']);
    expect(tokens.token_type).toBe('bearer');
    expect(mcp.status).toBe(200);
    expect(JSON.stringify(await mcp.json())).toContain('erp_lookupGlCode');
  });

  it('refuses mallory, whom the IdP knows but the config maps to no IdP user, with access_denied', async () => {
    const state = new ConnectorOAuthState();
    await auth(state, { serverUrl: mcpUrl, fetchFn: doFetch });
    const journey = await browse(state.authorizationUrl as URL, doFetch, 'mallory');
    expect(journey.pages).toEqual(['idp-login']);
    expect(journey.back.searchParams.get('error')).toBe('access_denied');
    expect(journey.back.searchParams.get('code')).toBeNull();
  });

  it('a suspended principal cannot sign in over OAuth either, nor use or refresh the sign-in they had, until lifted', async () => {
    // Prepare: bob is signed in through an MCP host
    const state = new ConnectorOAuthState();
    await auth(state, { serverUrl: mcpUrl, fetchFn: doFetch });
    const first = await browse(state.authorizationUrl as URL, doFetch, 'bob');
    await auth(state, {
      serverUrl: mcpUrl,
      fetchFn: doFetch,
      authorizationCode: first.back.searchParams.get('code') ?? '',
    });
    const signedIn = state.tokens() as OAuthTokens;
    const cli = ['--local'];
    const env = { AIRLOCK_CONFIG: 'config/airlock.oauth.yaml' };

    // Act: IT suspends bob (the device channel's command; one revocation list for both entry points)
    const suspended = await airlock(
      home,
      ['revoke', ...cli, '--principal', 'bob', '--suspend', '--reason', 'INC-3001: phished'],
      env,
    );
    const mcp = await listTools(signedIn.access_token);
    const refresh = await auth(state, { serverUrl: mcpUrl, fetchFn: doFetch }).then(
      () => 'refreshed',
      (error: Error) => error.message,
    );
    const again = new ConnectorOAuthState();
    await auth(again, { serverUrl: mcpUrl, fetchFn: doFetch });
    const refused = await browse(again.authorizationUrl as URL, doFetch, 'bob');
    const lifted = await airlock(
      home,
      ['revoke', 'lift', ...cli, '--principal', 'bob', '--reason', 'INC-3001: password reset'],
      env,
    );
    const afterLift = new ConnectorOAuthState();
    await auth(afterLift, { serverUrl: mcpUrl, fetchFn: doFetch });
    const allowed = await browse(afterLift.authorizationUrl as URL, doFetch, 'bob');

    // Assess: the old token and refresh are dead, a new sign-in is refused, and the lift restores it
    expect(suspended.exitCode).toBe(0);
    expect(mcp.status).toBe(401);
    expect(refresh).toMatch(/revoked/);
    expect(refused.back.searchParams.get('error')).toBe('access_denied');
    expect(refused.back.searchParams.get('error_description')).toMatch(/suspended by IT\/security/);
    expect(refused.back.searchParams.get('code')).toBeNull();
    expect(lifted.exitCode).toBe(0);
    expect(allowed.back.searchParams.get('code')).toBeTruthy();
  });

  it('shows the consent page in Chromium: no console errors, nothing fetched elsewhere, Allow reaches the client', async () => {
    // Prepare
    await expect(stat(CHROMIUM)).resolves.toBeTruthy();
    const state = new ConnectorOAuthState();
    await auth(state, { serverUrl: mcpUrl, fetchFn: doFetch });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    });
    try {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      const foreign: string[] = [];
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith(CLIENT_REDIRECT))
          return route.fulfill({ status: 200, body: 'back at the client' });
        if (!url.startsWith('https://127.0.0.1:') && !url.startsWith('http://127.0.0.1:')) {
          foreign.push(url);
          return route.abort();
        }
        return route.continue();
      });

      // Act: sign in at the IdP as alice, then look at the consent page and allow
      await page.goto((state.authorizationUrl as URL).href);
      await page.getByRole('button', { name: /^alice/ }).click();
      await page
        .getByRole('heading', { level: 1, name: /Allow Airlock e2e MCP host to use Airlock as alice\?/ })
        .waitFor();
      const redirectShown = await page.locator('.redirect-origin').textContent();
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((url) => url.href.startsWith(CLIENT_REDIRECT));

      // Assess
      expect(redirectShown).toBe('http://127.0.0.1:33418');
      expect(new URL(page.url()).searchParams.get('code')).toBeTruthy();
      expect(foreign).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
