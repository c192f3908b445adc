/**
 * `airlock bridge`: the desktop side of Airlock. A stdio MCP server that a desktop assistant (Claude
 * Desktop, Claude Code) starts as a local command; it holds the device certificate, gets a short-lived
 * token from `POST /v1/credentials` over mutual TLS, and forwards `tools/list` and `tools/call` to
 * Airlock's `POST /v1/mcp`. The assistant never sees the certificate's key or the token.
 *
 * stdout is the MCP channel and nothing else; everything meant for a person goes to stderr, in words
 * that say what to do, and never a token or a key.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { CallToolResult, ListToolsResult } from '@modelcontextprotocol/sdk/types.js';
import { type Command, InvalidArgumentError } from 'commander';
import { workflowScopes } from '../lambdas/core/credential-request';
import { ConfigError } from '../lib/config/load-config';
import { PRINCIPAL_NAME_PATTERN } from '../local/local-certificate-authority';
import { createMtlsFetch, type MtlsFetch } from '../local/mtls-fetch';
import { type CliContext, CliError, EXIT } from './cli-context';

/** Everything the bridge runs with, resolved from the command line, the environment and the config. */
export interface BridgeOptions {
  readonly workflow: string;
  /** Airlock's base URL, e.g. `https://127.0.0.1:8443` or `https://airlock.example.com`. */
  readonly server: string;
  /** Device certificate and key (PEM text), and the server's CA (PEM text; none = Node's trusted roots). */
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
  readonly scopes: readonly string[];
  readonly durationMinutes: number;
}

export interface BridgeStreams {
  readonly stdin: Readable;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** A refusal or failure the bridge explains to a person (its message is the explanation). */
export class BridgeError extends Error {
  public readonly name = 'BridgeError';
}

const BRIDGE_VERSION = '1.0.0';
const DEFAULT_LOCAL_PORT = 8443;
const DEFAULT_DURATION_MINUTES = 60;
/** A token is renewed once this share of its life has passed, so a call never carries a token about to expire. */
const REFRESH_AT_LIFE_SHARE = 0.8;

interface BridgeCommandFlags {
  readonly workflow: string;
  readonly server?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
  readonly principal?: string;
  readonly scopes?: string[];
  readonly durationMinutes?: number;
}

/** Registers `airlock bridge`. */
export function registerBridgeCommand(program: Command, context: CliContext): void {
  program
    .command('bridge')
    .description(
      'Serve Airlock to a desktop assistant as a stdio MCP server (stdout is the MCP channel; messages go to stderr).',
    )
    .requiredOption('--workflow <name>', 'the workflow the assistant works for, e.g. expense-summary')
    .option('--server <url>', 'Airlock base URL (default: https://127.0.0.1:$AIRLOCK_PORT, port 8443)')
    .option(
      '--principal <name>',
      'use the local pilot device certificate of this principal from $AIRLOCK_HOME/certs',
    )
    .option('--cert <file>', 'device certificate (PEM)')
    .option('--key <file>', "device certificate's private key (PEM)")
    .option(
      '--ca <file>',
      "CA of the server's certificate (PEM; default for the local pilot: $AIRLOCK_HOME/certs/ca.pem)",
    )
    .option(
      '--scopes <list>',
      'comma-separated scopes (default: every scope the workflow allows)',
      parseScopes,
    )
    .option('--duration-minutes <n>', "token lifetime (default: the workflow's maximum)", parseMinutes)
    .action(async (flags: BridgeCommandFlags) => {
      const options = resolveBridgeOptions(flags, context);
      await runBridge(options, {
        stdin: context.stdin,
        stdout: context.io.stdout,
        stderr: context.io.stderr,
      });
    });
}

function parseScopes(value: string): string[] {
  const scopes = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (scopes.length === 0) throw new InvalidArgumentError('expected scopes such as receipts:read,erp:read');
  return scopes;
}

function parseMinutes(value: string): number {
  const minutes = Number(value);
  if (!Number.isInteger(minutes) || minutes < 1)
    throw new InvalidArgumentError('expected a whole number of minutes, 1 or more');
  return minutes;
}

/** Turns the flags into {@link BridgeOptions}; every problem is a usage error naming what to fix. */
function resolveBridgeOptions(flags: BridgeCommandFlags, context: CliContext): BridgeOptions {
  const env = context.io.env;
  const server = (flags.server ?? `https://127.0.0.1:${env.AIRLOCK_PORT || DEFAULT_LOCAL_PORT}`).replace(
    /\/+$/,
    '',
  );
  let serverUrl: URL;
  try {
    serverUrl = new URL(server);
  } catch {
    throw new CliError(
      `--server: "${server}" is not a URL; use e.g. https://airlock.example.com.`,
      EXIT.usage,
    );
  }
  if (serverUrl.protocol !== 'https:') {
    throw new CliError(
      `--server: Airlock is reached over mutual TLS, so the URL must start with https:// (got ${server}).`,
      EXIT.usage,
    );
  }

  const certsDir = join(context.home, 'certs');
  if (flags.principal !== undefined && !PRINCIPAL_NAME_PATTERN.test(flags.principal)) {
    throw new CliError(
      `--principal: "${flags.principal}" is not a principal name (lower-case letters, digits, dashes).`,
      EXIT.usage,
    );
  }
  const certPath = flags.cert ?? (flags.principal ? join(certsDir, `${flags.principal}.pem`) : undefined);
  const keyPath = flags.key ?? (flags.principal ? join(certsDir, `${flags.principal}.key.pem`) : undefined);
  if (!certPath || !keyPath) {
    throw new CliError(
      'Say which device certificate to use: --principal <name> for the local pilot, or --cert <file> --key <file>.',
      EXIT.usage,
    );
  }
  const isLoopback =
    ['127.0.0.1', 'localhost', '[::1]'].includes(serverUrl.hostname) || serverUrl.hostname.startsWith('127.');
  const caPath = flags.ca ?? (isLoopback ? join(certsDir, 'ca.pem') : undefined);
  const cert = readPem(context, certPath, 'device certificate', '--cert');
  const key = readPem(context, keyPath, 'private key', '--key');
  const ca = caPath ? readPem(context, caPath, 'CA certificate', '--ca') : undefined;
  checkCertificate(cert, key, resolve(context.io.cwd, certPath));

  let scopes = flags.scopes;
  let durationMinutes = flags.durationMinutes;
  if (!scopes || durationMinutes === undefined) {
    const config = loadConfigFor(context, flags.workflow, Boolean(scopes));
    const workflow = config?.workflows[flags.workflow];
    if (config && !workflow) {
      throw new CliError(
        `--workflow: "${flags.workflow}" is not a workflow of ${context.configPath}; workflows: ${Object.keys(config.workflows).join(', ')}.`,
        EXIT.usage,
      );
    }
    scopes ??= config ? [...workflowScopes(config, flags.workflow)].sort() : [];
    durationMinutes ??= workflow?.maxTokenLifetimeMinutes ?? DEFAULT_DURATION_MINUTES;
  }
  return { workflow: flags.workflow, server, cert, key, ca, scopes, durationMinutes };
}

function loadConfigFor(context: CliContext, workflow: string, optional: boolean) {
  try {
    return context.loadConfig();
  } catch (error) {
    if (optional) return undefined;
    const why = error instanceof CliError ? error.message : (error as Error).message;
    throw new CliError(
      `Cannot find the scopes of workflow "${workflow}" (${why}). Pass --scopes, e.g. receipts:read,erp:read, or point --config / AIRLOCK_CONFIG at the pilot config.`,
      EXIT.usage,
      { cause: error instanceof ConfigError ? error : undefined },
    );
  }
}

function readPem(context: CliContext, path: string, what: string, flag: string): string {
  const file = resolve(context.io.cwd, path);
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint =
      code === 'ENOENT'
        ? `no such file. Start the local pilot once (npm start) to create the local certificates, set AIRLOCK_HOME to its state folder, or pass ${flag}.`
        : `${code ?? 'unreadable'}; check the file's permissions.`;
    throw new CliError(`Cannot read the ${what} ${file}: ${hint}`, EXIT.usage);
  }
}

/** Checked before anything is sent, so an expired certificate is named as such and not as a TLS alert. */
function checkCertificate(certPem: string, keyPem: string, file: string, now = new Date()): void {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certPem);
  } catch {
    throw new CliError(
      `${file} is not a PEM certificate; pass the device certificate with --cert.`,
      EXIT.usage,
    );
  }
  const notAfter = new Date(certificate.validTo);
  const notBefore = new Date(certificate.validFrom);
  if (notAfter.getTime() <= now.getTime()) {
    throw new CliError(
      `Your device certificate ${file} expired on ${notAfter.toISOString()} (notAfter). Ask IT/security for a new one; for the local pilot, restart it (npm start) and it issues a new one.`,
      EXIT.failed,
    );
  }
  if (notBefore.getTime() > now.getTime()) {
    throw new CliError(
      `Your device certificate ${file} is not valid before ${notBefore.toISOString()} (notBefore); check this computer's clock.`,
      EXIT.failed,
    );
  }
  let matches = false;
  try {
    matches = certificate.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    throw new CliError(
      'The private key file is not a PEM private key; pass the key of the device certificate with --key.',
      EXIT.usage,
    );
  }
  if (!matches) {
    throw new CliError(
      `The private key does not belong to the certificate ${file}; pass the matching --cert and --key.`,
      EXIT.usage,
    );
  }
}

/**
 * Runs the bridge until the desktop closes stdin. Refusals (no token for this principal, kill switch,
 * server down) do not stop it: it keeps serving MCP with no tools or with error results, says why on
 * stderr, and tries again on the next request, so it recovers by itself once the cause is gone.
 */
export async function runBridge(options: BridgeOptions, streams: BridgeStreams): Promise<void> {
  // Loaded here, not at the top: every other `airlock` command would otherwise pay for the MCP SDK.
  const { Server } = await import('@modelcontextprotocol/sdk/server/index.js');
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
  const { CallToolRequestSchema, ListToolsRequestSchema, McpError } = await import(
    '@modelcontextprotocol/sdk/types.js'
  );
  const report = createReporter(streams.stderr);
  const fetch = createMtlsFetch({
    cert: options.cert,
    key: options.key,
    ...(options.ca ? { ca: options.ca } : {}),
  });
  const tokens = new BridgeTokenSource(fetch, options);
  const upstream = new UpstreamMcp(`${options.server}/v1/mcp`, createAuthorizedFetch(fetch, tokens));

  const server = new Server(
    { name: 'airlock', version: BRIDGE_VERSION },
    {
      capabilities: { tools: { listChanged: false } },
      instructions: `Airlock tools for workflow "${options.workflow}". Every call is checked by policy and recorded; some calls wait for a person's approval (the result says who, and how to re-send with approvalId).`,
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, async (request): Promise<ListToolsResult> => {
    try {
      const client = await upstream.client();
      return await client.listTools(request.params);
    } catch (error) {
      if (error instanceof McpError) throw error;
      report('no tools available', describeBridgeFailure(error, options.server));
      return { tools: [] };
    }
  });
  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    try {
      const client = await upstream.client();
      return (await client.callTool({
        name: request.params.name,
        arguments: request.params.arguments,
      })) as CallToolResult;
    } catch (error) {
      if (error instanceof McpError) throw error;
      const message = describeBridgeFailure(error, options.server);
      report(`${request.params.name} failed`, message);
      return {
        content: [{ type: 'text', text: `Airlock could not run ${request.params.name}: ${message}` }],
        isError: true,
      };
    }
  });

  // The SDK types stdout as a stream.Writable; it only calls write() and waits for 'drain'.
  const stdio = new StdioServerTransport(streams.stdin, streams.stdout as Writable);
  const closed = new Promise<void>((done) => {
    stdio.onclose = done;
    streams.stdin.once('end', done);
    streams.stdin.once('close', done);
  });
  await server.connect(stdio);
  report(
    `serving workflow "${options.workflow}" from ${options.server} (scopes: ${options.scopes.join(', ') || 'none'}).`,
  );

  // Ask for a token and the tool list right away, so a refusal shows up when the desktop starts the
  // bridge rather than at the first question.
  void upstream
    .client()
    .then((client) => client.listTools())
    .then(({ tools }) =>
      report(`${tools.length} tools available: ${tools.map((t) => t.name).join(', ') || 'none'}.`),
    )
    .catch((error) => report('no tools available', describeBridgeFailure(error, options.server)));

  await closed;
  await upstream.close();
  await server.close().catch(() => undefined);
  fetch.close();
}

/**
 * Writes a line to stderr. A failure whose cause was just reported is not repeated (request ids
 * aside), so a desktop that retries does not flood its log with the same explanation.
 */
function createReporter(stderr: NodeJS.WritableStream): (message: string, cause?: string) => void {
  let lastCause: string | undefined;
  return (message, cause) => {
    const key = cause?.replace(/ \(request [^)]*\)/g, '');
    if (key !== undefined && key === lastCause) return;
    lastCause = key;
    stderr.write(`airlock bridge: ${message}${cause === undefined ? '' : `: ${cause}`}\n`);
  };
}

interface HeldToken {
  readonly value: string;
  readonly refreshAt: number;
}

/**
 * The bridge's access token: asked for on first use, renewed once 80% of its life has passed, and on
 * a 401. One request at a time: callers that need a token while one is being fetched wait for it.
 */
export class BridgeTokenSource {
  private held?: HeldToken;
  private inFlight?: Promise<string>;

  constructor(
    private readonly fetch: (input: string, init?: RequestInit) => Promise<Response>,
    private readonly options: Pick<BridgeOptions, 'server' | 'workflow' | 'scopes' | 'durationMinutes'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** A token valid for a while yet. */
  current(): Promise<string> {
    if (this.held && this.now() < this.held.refreshAt) return Promise.resolve(this.held.value);
    return this.renew();
  }

  /** A token other than `rejected` (the server answered 401 to it); fetched unless another caller already renewed it. */
  replace(rejected: string): Promise<string> {
    if (this.held && this.held.value !== rejected && this.now() < this.held.refreshAt) {
      return Promise.resolve(this.held.value);
    }
    this.held = undefined;
    return this.renew();
  }

  private renew(): Promise<string> {
    this.inFlight ??= this.request().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async request(): Promise<string> {
    if (this.options.scopes.length === 0) {
      throw new BridgeError(
        `workflow "${this.options.workflow}" grants no scopes in the pilot config, so there is nothing to ask a token for.`,
      );
    }
    const requestedAt = this.now();
    const response = await this.fetch(`${this.options.server}/v1/credentials`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        workflow: this.options.workflow,
        scopes: this.options.scopes,
        durationMinutes: this.options.durationMinutes,
      }),
    });
    if (response.status !== 201) {
      throw new BridgeError(
        await describeHttpRefusal(response, `a token for workflow "${this.options.workflow}"`),
      );
    }
    const body = (await response.json()) as { accessToken?: unknown; expiresAt?: unknown };
    if (typeof body.accessToken !== 'string') {
      throw new BridgeError(
        'the credential broker answered without an access token; tell your Airlock operators.',
      );
    }
    const requestedLifeMs = this.options.durationMinutes * 60_000;
    const expiresAt = typeof body.expiresAt === 'string' ? Date.parse(body.expiresAt) : Number.NaN;
    // The server's expiry bounds the life, but a skewed clock must not make it look already over.
    const lifeMs =
      Number.isFinite(expiresAt) && expiresAt > requestedAt
        ? Math.min(expiresAt - requestedAt, requestedLifeMs)
        : requestedLifeMs;
    this.held = { value: body.accessToken, refreshAt: requestedAt + lifeMs * REFRESH_AT_LIFE_SHARE };
    return body.accessToken;
  }
}

/**
 * The fetch the MCP client transport uses: adds the bearer token, renews it once on a 401, and turns
 * Airlock's error-contract refusals into a {@link BridgeError} in words.
 */
function createAuthorizedFetch(
  fetch: MtlsFetch,
  tokens: BridgeTokenSource,
): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  return async (input, init = {}) => {
    const method = (init.method ?? 'GET').toUpperCase();
    if (method !== 'POST') {
      // Airlock's MCP endpoint is stateless: no server-sent event stream to GET, no session to DELETE.
      // Answering 405 here is what the spec lets a server answer, and saves a round trip.
      return new Response(null, { status: 405, headers: { allow: 'POST' } });
    }
    const send = (token: string) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    };
    const token = await tokens.current();
    let response = await send(token);
    if (response.status === 401) {
      await response.body?.cancel();
      response = await send(await tokens.replace(token));
    }
    if (!response.ok && (response.headers.get('content-type') ?? '').includes('application/json')) {
      const text = await response.text();
      if (isContractError(text))
        throw new BridgeError(
          await describeHttpRefusal(new Response(text, { status: response.status }), 'the call'),
        );
      return new Response(text, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    }
    return response;
  };
}

function isContractError(text: string): boolean {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown } };
    return typeof body.error?.code === 'string';
  } catch {
    return false;
  }
}

/** An error-contract response in words: what was refused, why, and what to do. */
async function describeHttpRefusal(response: Response, what: string): Promise<string> {
  let error: { code?: string; message?: string; reasons?: string[]; reason?: string; requestId?: string } =
    {};
  try {
    error = ((await response.json()) as { error?: typeof error }).error ?? {};
  } catch {
    // Not the contract: described by its status alone.
  }
  const message = error.message ?? `HTTP ${response.status}`;
  const request = error.requestId ? ` (request ${error.requestId})` : '';
  switch (error.code) {
    case 'kill_switch_engaged':
      return `the kill switch is engaged: ${message}${request}`;
    case 'forbidden':
      return `Airlock refused ${what}: ${message}${error.reasons?.length ? ` (policies: ${error.reasons.join(', ')})` : ''}${request}`;
    case 'unauthenticated':
      return `Airlock did not accept the credentials: ${message}${request}`;
    default:
      return `Airlock refused ${what} (${error.code ?? `HTTP ${response.status}`}): ${message}${request}`;
  }
}

/** A failure in words a person can act on; never a token, a key or a stack trace. */
export function describeBridgeFailure(error: unknown, server: string): string {
  if (error instanceof BridgeError) return error.message;
  const code = errorCodeOf(error);
  switch (code) {
    case 'ECONNREFUSED':
      return isLocal(server)
        ? `cannot reach Airlock at ${server} (connection refused): is the local pilot running? Start it with npm start (and check AIRLOCK_PORT).`
        : `cannot reach Airlock at ${server} (connection refused); check --server and your network.`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve the host of ${server}; check --server and your network.`;
    case 'ETIMEDOUT':
    case 'ECONNRESET':
      return `Airlock at ${server} did not answer (${code}); try again, and check your network.`;
    case 'CERT_HAS_EXPIRED':
      return `the server's certificate at ${server} has expired; tell your Airlock operators.`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `the server's certificate at ${server} is not issued by a CA you trust; pass its CA with --ca (local pilot: $AIRLOCK_HOME/certs/ca.pem).`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `the server's certificate does not name ${new URL(server).hostname}; check --server.`;
    default:
      break;
  }
  const message = messageChain(error);
  if (/certificate (required|unknown|expired|revoked)|bad certificate|unknown ca|alert/i.test(message)) {
    return `Airlock refused your device certificate during the TLS handshake (${message}); check that --cert is a current certificate issued by the CA Airlock trusts.`;
  }
  return `the request to Airlock failed: ${message}`;
}

function errorCodeOf(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function messageChain(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const message = e instanceof Error ? e.message : String(e);
    if (message && !parts.includes(message)) parts.push(message);
  }
  // Bodies quoted by SDK errors are cut, so one odd response cannot flood the desktop's log.
  return parts.join(': ').slice(0, 500);
}

function isLocal(server: string): boolean {
  const host = new URL(server).hostname;
  return host === 'localhost' || host.startsWith('127.') || host === '[::1]';
}

const loadMcpClient = () => import('@modelcontextprotocol/sdk/client/index.js');
type Client = InstanceType<Awaited<ReturnType<typeof loadMcpClient>>['Client']>;

/** The MCP client of Airlock's endpoint, connected on first use and again after a failed connect. */
class UpstreamMcp {
  private connected?: Client;
  private connecting?: Promise<Client>;

  constructor(
    private readonly url: string,
    private readonly fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>,
  ) {}

  client(): Promise<Client> {
    if (this.connected) return Promise.resolve(this.connected);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  async close(): Promise<void> {
    const client = this.connected;
    this.connected = undefined;
    await client?.close().catch(() => undefined);
  }

  private async connect(): Promise<Client> {
    const { Client } = await loadMcpClient();
    const { StreamableHTTPClientTransport } = await import(
      '@modelcontextprotocol/sdk/client/streamableHttp.js'
    );
    const client = new Client({ name: 'airlock-bridge', version: BRIDGE_VERSION }, { capabilities: {} });
    const transport = new StreamableHTTPClientTransport(new URL(this.url), { fetch: this.fetch });
    await client.connect(transport);
    client.onclose = () => {
      if (this.connected === client) this.connected = undefined;
    };
    this.connected = client;
    return client;
  }
}
