/**
 * Enterprise-Managed Authorization end to end in the local pilot (`AIRLOCK_CONFIG=config/airlock.oauth.yaml
 * npm start`): the user signs in to their MCP client at the local IdP (oidc-provider, OIDC code flow with
 * PKCE), the client trades the ID token for an ID-JAG at the IdP (RFC 8693 token exchange), presents it
 * at Airlock's token endpoint (RFC 7523 JWT bearer grant) and lists its tools on `/v1/mcp` with the MCP
 * SDK. No consent page, no Airlock sign-in. The ID-JAG is accepted once (the OAuth table in dynalite
 * remembers its jti) and not at all while the kill switch is engaged.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decodeProtectedHeader } from 'jose';
import { loadConfig } from '../../lib/config/load-config';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import { LOCAL_MCP_CLIENT_REDIRECT } from '../../local/oauth-listener';
import { airlock } from './support/cli-run';
import { fetchTrusting } from './support/fetch-trusting';

jest.setTimeout(90_000);

let home: string;
let pilot: LocalPilot;
let doFetch: typeof fetch;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'airlock-ema-e2e-'));
  pilot = await startLocalPilot({
    home,
    port: 0,
    oauthPort: 0,
    config: loadConfig('config/airlock.oauth.yaml'),
  });
  doFetch = fetchTrusting(await readFile(pilot.certificates.ca, 'utf8'));
});

afterAll(async () => {
  await pilot?.close();
  await rm(home, { recursive: true, force: true });
});

/** The MCP client's single sign-on at the IdP as `user`: the authorization code flow, played as a browser. */
async function signInAtIdp(user: string): Promise<string> {
  const idp = pilot.localIdentityProvider;
  const client = idp?.mcpClient;
  if (!idp || !client) throw new Error('the local IdP has no MCP client');
  const verifier = randomBytes(32).toString('base64url');
  const start = new URL(`${idp.issuer}/auth`);
  start.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: LOCAL_MCP_CLIENT_REDIRECT,
    scope: 'openid email',
    state: randomBytes(8).toString('hex'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  const cookies = new Map<string, string>();
  let url = start;
  let init: RequestInit = {};
  for (let hop = 0; hop < 12; hop++) {
    if (url.href.startsWith(LOCAL_MCP_CLIENT_REDIRECT)) break;
    const headers = new Headers(init.headers);
    if (cookies.size) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
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
    const account = new RegExp(`value="([^"]+)">${user}\\b`).exec(html)?.[1];
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    if (!account || !action) throw new Error(`The IdP stopped at ${url.pathname}: ${response.status}`);
    url = new URL(action.replace(/&#38;/g, '&'), url);
    init = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ account }).toString(),
    };
  }
  const code = url.searchParams.get('code');
  if (!code) throw new Error(`The IdP did not come back with a code: ${url.href}`);
  const tokens = await fetch(`${idp.issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: LOCAL_MCP_CLIENT_REDIRECT,
      code_verifier: verifier,
    }).toString(),
  });
  const body = (await tokens.json()) as { id_token?: string };
  if (!body.id_token) throw new Error(`No ID token: ${JSON.stringify(body)}`);
  return body.id_token;
}

/** The token exchange at the IdP (draft-ietf-oauth-identity-assertion-authz-grant §4.3). */
async function idJagFor(idToken: string, audience = pilot.oauthUrl ?? ''): Promise<Response> {
  const idp = pilot.localIdentityProvider;
  const client = idp?.mcpClient;
  if (!idp || !client) throw new Error('the local IdP has no MCP client');
  return fetch(`${idp.issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      requested_token_type: 'urn:ietf:params:oauth:token-type:id-jag',
      audience,
      resource: `${pilot.oauthUrl}/v1/mcp`,
      scope: 'receipts:read',
      subject_token: idToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
    }).toString(),
  });
}

/** The JWT bearer grant at Airlock. */
async function exchange(assertion: string): Promise<Response> {
  const client = pilot.enterpriseMcpClient;
  return doFetch(`${pilot.oauthUrl}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      // A confidential client at Airlock (the grant is refused to public ones), with its own secret.
      authorization: `Basic ${Buffer.from(`${client?.clientId}:${client?.clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion,
    }).toString(),
  });
}

describe('Local pilot: Enterprise-Managed Authorization with the local IdP', () => {
  it('advertises the grant, trades an IdP-issued ID-JAG for an access token that lists tools, and refuses its replay', async () => {
    // Prepare: the user signed in to their MCP client at the IdP; the client asks the IdP for an ID-JAG
    const metadata = (await (
      await doFetch(`${pilot.oauthUrl}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, string[]>;
    const idToken = await signInAtIdp('alice');
    const issued = (await (await idJagFor(idToken)).json()) as Record<string, string>;

    // Act
    const granted = await exchange(issued.access_token);
    const token = (await granted.json()) as Record<string, string>;
    const mcp = new Client({ name: 'ema-e2e', version: '1.0.0' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(`${pilot.oauthUrl}/v1/mcp`), {
        fetch: doFetch,
        requestInit: { headers: { authorization: `Bearer ${token.access_token}` } },
      }),
    );
    const tools = await mcp.listTools();
    await mcp.close();
    const replayed = await exchange(issued.access_token);

    // Assess
    expect(metadata.grant_types_supported).toContain('urn:ietf:params:oauth:grant-type:jwt-bearer');
    expect(metadata.authorization_grant_profiles_supported).toEqual([
      'urn:ietf:params:oauth:grant-profile:id-jag',
    ]);
    expect(issued).toMatchObject({
      issued_token_type: 'urn:ietf:params:oauth:token-type:id-jag',
      token_type: 'N_A',
    });
    expect(decodeProtectedHeader(issued.access_token).typ).toBe('oauth-id-jag+jwt');
    expect(granted.status).toBe(200);
    expect(token.refresh_token).toBeUndefined();
    expect(token.scope).toBe('receipts:read');
    expect(tools.tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(['receipts_list', 'receipts_read']),
    );
    expect(replayed.status).toBe(400);
    expect(((await replayed.json()) as Record<string, string>).error).toBe('invalid_grant');
  });

  it('issues no ID-JAG for another audience at the IdP, and Airlock refuses ID-JAGs under the kill switch', async () => {
    // Prepare
    const idToken = await signInAtIdp('alice');
    const elsewhere = await idJagFor(idToken, 'https://other-mcp.example.com');

    // Act: engage; the functions read the switch through a short cache, so fresh ID-JAGs are presented
    // until one meets the sealed switch (each is a new assertion: none is replayed)
    const engage = await airlock(home, ['kill-switch', 'engage', '--local', '--reason', 'EMA e2e drill']);
    let sealed: { status: number; body: Record<string, string> } | undefined;
    for (let attempt = 0; attempt < 40 && sealed === undefined; attempt++) {
      const issued = (await (await idJagFor(idToken)).json()) as Record<string, string>;
      const answer = await exchange(issued.access_token);
      if (answer.status === 400)
        sealed = { status: answer.status, body: (await answer.json()) as Record<string, string> };
      else await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const release = await airlock(home, [
      'kill-switch',
      'release',
      '--local',
      '--reason',
      'EMA e2e drill over',
    ]);

    // Assess
    expect(elsewhere.status).toBe(400);
    expect(engage.exitCode).toBe(0);
    expect(release.exitCode).toBe(0);
    expect(sealed?.body).toMatchObject({
      error: 'invalid_grant',
      error_description: expect.stringMatching(/kill switch/),
    });
  });
});
