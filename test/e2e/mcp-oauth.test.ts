/**
 * The whole OAuth flow a spec-following remote MCP client performs against Airlock's certificate-less
 * entry point, with the MCP SDK's own client auth: 401 → protected resource metadata → authorization
 * server metadata → dynamic registration → authorization with PKCE → sign-in at a real OIDC provider
 * (oidc-provider on loopback, the "corporate IdP") → token → tools/list → tools/call → refresh.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { auth, type OAuthClientProvider, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { DynamoDbApprovalStore } from '../../lambdas/adapters/aws/dynamodb-approval-store';
import { DynamoDbAuditStore } from '../../lambdas/adapters/aws/dynamodb-audit-store';
import { DynamoDbRevocationStore } from '../../lambdas/adapters/aws/dynamodb-revocation-store';
import { EmfMetricsSink } from '../../lambdas/adapters/aws/emf-metrics-sink';
import { ConsoleApprovalNotifier } from '../../lambdas/adapters/local/console-approval-notifier';
import { FileSecretSource, secretFileName } from '../../lambdas/adapters/local/file-secret-source';
import { FolderFileStore } from '../../lambdas/adapters/local/folder-file-store';
import { LocalTokenSigner } from '../../lambdas/adapters/local/local-token-signer';
import { readPolicyFiles } from '../../lambdas/adapters/policy-files';
import { createConnectors } from '../../lambdas/connectors/connector-registry';
import { createAccessTokenVerifier } from '../../lambdas/core/access-token';
import { ApprovalDesk } from '../../lambdas/core/approval-desk';
import { AuditLedger, newChainId } from '../../lambdas/core/audit-ledger';
import { ConnectorProxy } from '../../lambdas/core/connector-proxy';
import type { KillSwitch, KillSwitchState } from '../../lambdas/core/kill-switch';
import type { CorporateIdentityProvider } from '../../lambdas/core/oauth/authorization-server';
import { PolicyEngine } from '../../lambdas/core/policy-engine';
import { buildEntities } from '../../lambdas/core/policy-entities';
import { systemClock } from '../../lambdas/core/ports';
import { RateLimiter } from '../../lambdas/core/rate-limiter';
import { UsageMeter } from '../../lambdas/core/usage-meter';
import { createOidcIdentityProvider } from '../../lambdas/oauth/oidc-identity-provider';
import { loadConfig, parseConfig } from '../../lib/config/load-config';
import { oauthConfigSchema } from '../../lib/config/oauth-schema';
import {
  createLocalDynamoClient,
  type DynaliteServer,
  ensureTables,
  startDynalite,
} from '../../local/dynalite-server';
import { LocalCertificateAuthority } from '../../local/local-certificate-authority';
import { startLocalPilot } from '../../local/local-pilot';
import { LOCAL_TABLES } from '../../local/local-state';
import { type OAuthEntryPoint, startOAuthEntryPoint } from '../../local/oauth-entry-point';
import { seedSampleReceipts } from '../../local/sample-receipts';

/** The corporate IdP: oidc-provider (ESM-only, so in its own Node process) with keys made now. */
const IDP_SCRIPT = `
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';
const { clientId, clientSecret, redirectUri, accounts } = JSON.parse(process.env.IDP_CONFIG);
const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
let handler = (_req, res) => { res.statusCode = 503; res.end(); };
const server = createServer((req, res) => handler(req, res));
server.listen(0, '127.0.0.1', () => {
  const issuer = 'http://127.0.0.1:' + server.address().port;
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri],
      grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }],
    jwks: { keys: [{ ...signingKey, kid: 'idp-signing-key', alg: 'RS256', use: 'sig' }] },
    findAccount: async (_ctx, id) => accounts[id] && ({ accountId: id, claims: async () => ({ sub: id, ...accounts[id] }) }),
    claims: { openid: ['sub'], email: ['email'], groups: ['groups'] },
    scopes: ['openid', 'email', 'groups'],
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => '/interaction/' + interaction.uid },
    cookies: { keys: [randomBytes(32).toString('hex')] },
  });
  const callback = provider.callback();
  handler = async (req, res) => {
    if (!req.url.startsWith('/interaction/')) return callback(req, res);
    try {
      // The user "types" the password of the account named in the login_hint (or the first account).
      const details = await provider.interactionDetails(req, res);
      const accountId = details.params.login_hint ?? Object.keys(accounts)[0];
      const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
      grant.addOIDCScope(details.params.scope);
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
    } catch (error) { res.statusCode = 500; res.end(String(error)); }
  };
  process.stdout.write(issuer + '\\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

const CLIENT_REDIRECT = 'http://127.0.0.1:33418/callback';

/** A fetch over https that trusts the local CA (Node's own fetch cannot be given a CA without undici). */
function fetchTrusting(ca: string): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.protocol !== 'https:') return fetch(request, { redirect: 'manual' });
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    return new Promise<Response>((resolve, reject) => {
      const req = httpsRequest(
        url,
        { method: request.method, headers: Object.fromEntries(request.headers), ca },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const headers = new Headers();
            for (const [name, value] of Object.entries(res.headers)) {
              for (const one of [value ?? []].flat()) headers.append(name, String(one));
            }
            const status = res.statusCode ?? 500;
            resolve(
              new Response([204, 205, 304].includes(status) ? null : Buffer.concat(chunks), {
                status,
                headers,
              }),
            );
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (body) req.write(body);
      req.end();
    });
  };
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

/** Plays the user's browser: follows redirects (keeping the IdP's cookies) until the client's redirect URI. */
async function browse(start: URL, doFetch: typeof fetch): Promise<URL> {
  const cookies = new Map<string, string>();
  let url = start;
  for (let hop = 0; hop < 15; hop++) {
    if (url.href.startsWith(CLIENT_REDIRECT)) return url;
    const response = await doFetch(url, {
      redirect: 'manual',
      headers: cookies.size ? { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {},
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1));
    }
    const location = response.headers.get('location');
    if (!location)
      throw new Error(
        `The browser stopped at ${url.pathname}: HTTP ${response.status} ${await response.text()}`,
      );
    url = new URL(location, url);
  }
  throw new Error('Too many redirects');
}

async function startIdp(
  redirectUri: string,
  clientSecret: string,
): Promise<{ issuer: string; process: ChildProcess }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', IDP_SCRIPT], {
    cwd: process.cwd(),
    env: {
      ...process.env,
      IDP_CONFIG: JSON.stringify({
        clientId: 'airlock',
        clientSecret,
        redirectUri,
        accounts: {
          alice: { email: 'alice@example.com', groups: ['Finance Team'] },
          // bob is enrolled, but the IdP puts him in no group mapped to the workflow's groups.
          bob: { email: 'bob@example.com', groups: ['Contractors'] },
        },
      }),
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const issuer = await new Promise<string>((resolve, reject) => {
    child.stdout?.once('data', (data: Buffer) => resolve(data.toString().trim()));
    child.once('exit', (code) => reject(new Error(`The IdP exited (${code})`)));
  });
  return { issuer, process: child };
}

async function form(doFetch: typeof fetch, url: string, params: Record<string, string>) {
  const response = await doFetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

describe('Class: OAuthEntryPoint (end to end with the MCP SDK)', () => {
  let home: string;
  let dynalite: DynaliteServer;
  let entry: OAuthEntryPoint;
  let idp: ChildProcess;
  let doFetch: typeof fetch;
  const killSwitch = {
    state: {
      engaged: false,
      scope: null,
      reason: 'not engaged',
      revokeIssuedBefore: null,
    } as KillSwitchState,
  };
  const closers: Array<() => unknown> = [];

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-oauth-'));
    const config = loadConfig('config/airlock.config.yaml');
    const ca = await LocalCertificateAuthority.loadOrCreate(home);
    doFetch = fetchTrusting(ca.caCertificatePem);
    dynalite = await startDynalite();
    const dynamo = createLocalDynamoClient(dynalite.endpoint);
    closers.push(() => dynamo.destroy());
    await ensureTables(dynamo, LOCAL_TABLES);
    const doc = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
    await seedSampleReceipts(join(home, 'receipts'));
    const clientSecret = randomBytes(24).toString('base64url');
    await mkdir(join(home, 'secrets'), { recursive: true });
    await writeFile(
      join(home, 'secrets', secretFileName('airlock/idp-client')),
      JSON.stringify({ clientSecret }),
    );

    const signer = LocalTokenSigner.fromPrivateKey(
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
    );
    const policy = PolicyEngine.create({ ...readPolicyFiles(), entities: buildEntities(config) });
    const sealed = { check: async () => killSwitch.state } as unknown as KillSwitch;
    const revocations = new DynamoDbRevocationStore({ client: doc, tableName: LOCAL_TABLES.revocations });
    const ledger = new AuditLedger({
      store: new DynamoDbAuditStore({ client: doc, tableName: LOCAL_TABLES.audit }),
      chainId: newChainId('oauth-e2e', randomUUID()),
      clock: systemClock,
    });
    const secrets = new FileSecretSource(home);
    const registry = createConnectors(config, {
      fileStore: (_name, connector) => new FolderFileStore(join(home, connector.local.folder)),
      secretSource: secrets,
      ca: ca.caCertificatePem,
      clock: systemClock,
    });
    closers.push(() => registry.close());
    const proxy = new ConnectorProxy({
      config,
      // The mTLS verifier is never reached on this entry point; it is here because the proxy needs one.
      verifier: createAccessTokenVerifier({
        issuer: 'https://localhost',
        audience: 'https://localhost/v1',
        keys: new Map(),
      }),
      killSwitch: sealed,
      revocations,
      connectors: new Map(registry.names.map((name) => [name, registry.get(name)])),
      policy,
      ledger,
      approvals: new ApprovalDesk({
        store: new DynamoDbApprovalStore({ client: doc, tableName: LOCAL_TABLES.approvals }),
        notifier: new ConsoleApprovalNotifier({ write: () => undefined }),
        config,
        clock: systemClock,
      }),
      rateLimiter: new RateLimiter(systemClock),
      meter: new UsageMeter(config.prices, new EmfMetricsSink({ emit: () => undefined }), 1024),
      clock: systemClock,
    });

    // The IdP needs Airlock's callback URL, and Airlock reads the IdP's discovery lazily: start Airlock first.
    const issuerHolder = { issuer: 'http://127.0.0.1:1' };
    entry = await startOAuthEntryPoint({
      tls: ca.serverTls(),
      port: 0,
      config,
      oauth: oauthConfigSchema.parse({
        publicUrl: 'https://127.0.0.1',
        workflow: 'expense-summary',
        identityProvider: {
          issuer: 'http://127.0.0.1:1',
          clientId: 'airlock',
          clientSecretName: 'airlock/idp-client',
          groupMapping: { 'Finance Team': 'finance' },
          scopes: ['openid', 'email', 'groups'],
        },
      }),
      signer,
      policy,
      killSwitch: sealed,
      revocations,
      ledger,
      proxy,
      dynamo,
      secrets,
      clock: systemClock,
      identityProvider: lazyIdp(issuerHolder, secrets),
    });
    const started = await startIdp(`${entry.url}/oauth/callback`, clientSecret);
    idp = started.process;
    issuerHolder.issuer = started.issuer;
  });

  afterAll(async () => {
    idp?.kill('SIGTERM');
    await entry?.close();
    for (const close of closers.reverse()) await close();
    await dynalite?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('performs the whole MCP authorization flow with the SDK, then lists and calls tools, then refreshes', async () => {
    // Prepare
    const state = new ConnectorOAuthState();
    const serverUrl = new URL(entry.mcpUrl);
    const transport = new StreamableHTTPClientTransport(serverUrl, { authProvider: state, fetch: doFetch });
    const client = new Client({ name: 'e2e', version: '1.0.0' });

    // Act 1: the first connect meets a 401, discovers, registers and sends the user to sign in.
    await expect(client.connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);
    const back = await browse(state.authorizationUrl as URL, doFetch);
    await transport.finishAuth(back.searchParams.get('code') ?? '');
    const connected = new Client({ name: 'e2e', version: '1.0.0' });
    await connected.connect(
      new StreamableHTTPClientTransport(serverUrl, { authProvider: state, fetch: doFetch }),
    );
    const tools = await connected.listTools();
    const listed = await connected.callTool({ name: 'receipts_list', arguments: { intent: 'e2e check' } });

    // Assess 1
    expect(state.authorizationUrl?.searchParams.get('code_challenge_method')).toBe('S256');
    expect(state.authorizationUrl?.searchParams.get('resource')).toBe(entry.mcpUrl);
    expect(state.clientInformation()?.client_id).toMatch(/^mcp_/);
    expect(back.searchParams.get('iss')).toBe(entry.url);
    expect(tools.tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(['receipts_list', 'receipts_read']),
    );
    expect(listed.isError).toBeFalsy();
    expect(JSON.stringify(listed.structuredContent)).toContain('items');
    const first = state.tokens() as OAuthTokens;
    const claims = JSON.parse(Buffer.from(first.access_token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ sub: 'alice', aud: entry.mcpUrl, workflow: 'expense-summary' });
    expect(claims.cnf).toBeUndefined();

    // Act 2: refresh through the SDK, as a host does when the access token expires.
    await expect(auth(state, { serverUrl, fetchFn: doFetch })).resolves.toBe('AUTHORIZED');
    const second = state.tokens() as OAuthTokens;
    const again = new Client({ name: 'e2e', version: '1.0.0' });
    await again.connect(
      new StreamableHTTPClientTransport(serverUrl, { authProvider: state, fetch: doFetch }),
    );

    // Assess 2: rotated, and the new token works.
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await again.listTools()).tools.length).toBeGreaterThan(0);

    // Act 3: the old refresh token is replayed (a thief's copy).
    const replay = await form(doFetch, `${entry.url}/oauth/token`, {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token as string,
      client_id: state.clientInformation()?.client_id as string,
    });
    const afterReplay = await doFetch(entry.mcpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${second.access_token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });

    // Assess 3: the replay is refused and the whole family, the current tokens included, is dead.
    expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(afterReplay.status).toBe(401);
    expect(afterReplay.headers.get('www-authenticate')).toContain('resource_metadata=');
    await Promise.all([client.close(), connected.close(), again.close()]);
  });

  it('answers an unauthenticated MCP request with 401 and the resource metadata URL', async () => {
    // Act
    const response = await doFetch(entry.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    });
    const metadata = await (await doFetch(`${entry.url}/.well-known/oauth-protected-resource/v1/mcp`)).json();
    // Assess
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${entry.url}/.well-known/oauth-protected-resource/v1/mcp"`,
    );
    expect(metadata).toMatchObject({ resource: entry.mcpUrl, authorization_servers: [entry.url] });
  });

  it('serves nothing but the OAuth routes and /v1/mcp without a client certificate', async () => {
    const response = await doFetch(`${entry.url}/v1/credentials`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
  });

  it('refuses a token request in the wrong encoding, and an unknown grant type, as the RFCs say', async () => {
    // Act
    const json = await doFetch(`${entry.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"grant_type":"authorization_code"}',
    });
    const password = await form(doFetch, `${entry.url}/oauth/token`, { grant_type: 'password' });
    // Assess
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ error: 'invalid_request' });
    expect(password).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
  });

  it('refuses a registration with a redirect URI the organisation does not allow', async () => {
    const response = await doFetch(`${entry.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: ['https://attacker.example.net/cb'],
        token_endpoint_auth_method: 'none',
      }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_redirect_uri' });
  });

  it('sends a user the IdP puts in no mapped group back to the client with access_denied', async () => {
    // Prepare
    const state = new ConnectorOAuthState();
    const serverUrl = new URL(entry.mcpUrl);
    await auth(state, { serverUrl, fetchFn: doFetch });
    const url = state.authorizationUrl as URL;
    // Act: bob signs in (the IdP script takes the login_hint as the account).
    const toIdp = new URL((await doFetch(url, { redirect: 'manual' })).headers.get('location') as string);
    toIdp.searchParams.set('login_hint', 'bob');
    const back = await browse(toIdp, doFetch);
    // Assess
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('error_description')).toMatch(/groups do not include/);
    expect(back.searchParams.get('code')).toBeNull();
  });
});

/** The OIDC relying party, created on first use, once the IdP's issuer URL is known. */
function lazyIdp(holder: { issuer: string }, secrets: FileSecretSource): CorporateIdentityProvider {
  let real: CorporateIdentityProvider | undefined;
  const get = () => {
    real ??= createOidcIdentityProvider({
      config: {
        issuer: holder.issuer,
        clientId: 'airlock',
        clientSecretName: 'airlock/idp-client',
        principalClaim: 'email',
        groupsClaim: 'groups',
        groupMapping: { 'Finance Team': 'finance' },
        scopes: ['openid', 'email', 'groups'],
      },
      secrets,
    });
    return real;
  };
  return {
    authorizationUrl: (request) => get().authorizationUrl(request),
    signIn: (request) => get().signIn(request),
  };
}

describe('Local pilot: the OAuth entry point beside the mTLS API', () => {
  it('serves the OAuth discovery documents and answers /v1/mcp without a token with 401 and resource_metadata', async () => {
    // Prepare: the example pilot plus an oauth section (the IdP is only contacted at sign-in)
    const home = await mkdtemp(join(tmpdir(), 'airlock-pilot-oauth-'));
    const example = loadConfig();
    const config = parseConfig(
      {
        ...JSON.parse(JSON.stringify(example)),
        oauth: {
          publicUrl: 'https://127.0.0.1',
          workflow: 'expense-summary',
          identityProvider: {
            issuer: 'http://127.0.0.1:1',
            clientId: 'airlock',
            clientSecretName: 'airlock/idp-client',
            groupMapping: { 'Finance Team': 'finance' },
          },
        },
      },
      'test config',
    );
    const pilot = await startLocalPilot({ home, port: 0, oauthPort: 0, config });
    try {
      expect(pilot.oauthUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const ca = await readFile(pilot.certificates.ca, 'utf8');
      const get = (path: string, init: { method?: string; body?: string } = {}) =>
        new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
          const req = httpsRequest(
            `${pilot.oauthUrl}${path}`,
            { ca, method: init.method ?? 'GET', headers: { 'content-type': 'application/json' } },
            (res) => {
              let body = '';
              res.on('data', (chunk) => {
                body += chunk;
              });
              res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
            },
          );
          req.on('error', reject);
          req.end(init.body);
        });

      // Act
      const resourceMetadata = await get('/.well-known/oauth-protected-resource');
      const serverMetadata = await get('/.well-known/oauth-authorization-server');
      const mcp = await get('/v1/mcp', {
        method: 'POST',
        body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
      });

      // Assess: no client certificate was presented on any of these
      expect(resourceMetadata.status).toBe(200);
      expect(JSON.parse(resourceMetadata.body)).toMatchObject({
        authorization_servers: [expect.any(String)],
      });
      expect(serverMetadata.status).toBe(200);
      expect(JSON.parse(serverMetadata.body)).toMatchObject({ code_challenge_methods_supported: ['S256'] });
      expect(mcp.status).toBe(401);
      expect(String(mcp.headers['www-authenticate'])).toContain('resource_metadata=');
    } finally {
      await pilot.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});
