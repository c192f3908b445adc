/**
 * The MCP server connector kind: an upstream MCP server reached over streamable HTTP with the MCP SDK's
 * client, whose tools are exposed one by one as operations. Only the tools the config names are ever
 * called; each call first checks that the upstream still defines the tool exactly as it was pinned, so
 * a tool changed upstream after review is refused, and the rest keep working.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent as HttpAgent } from 'node:http';
import { Agent } from 'node:https';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { JsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import { ConfigError } from '../../../lib/config/config-error';
import { TOOL_DEFINITION_CHANGED_REASON } from '../../../lib/contracts/metrics';
import { onDemand } from '../../adapters/aws/on-demand';
import { AirlockError, DependencyError } from '../../core/errors';
import { type Clock, type SecretSource, systemClock } from '../../core/ports';
import type { Connector, ConnectorResult, InvokeOptions, UpstreamCall } from '../connector';
import { OAuth2ClientCredentials } from '../http-api/oauth2-client-credentials';
import {
  sendUpstreamRequest,
  type UpstreamRequest,
  type UpstreamResponse,
} from '../http-api/upstream-request';
import type { OperationInputSchema, ParameterValues } from '../operation-parameters';
import type { ConnectorPolicyContext } from '../policy-context';
import {
  type McpServerConnectorConfig,
  type McpToolConfig,
  type PinnedTool,
  subjectIssuerOf,
  upstreamToolOf,
} from './mcp-server-config';
import { toolDefinitionHash } from './tool-definition-pin';
import { patternOperations } from './tool-patterns';
import { type SubjectAssertionSigner, UpstreamTokenExchange } from './upstream-token-exchange';

export interface McpServerConnectorOptions {
  /** Where the upstream credentials come from (`auth.secretName`). */
  readonly secretSource: SecretSource;
  /** PEM of the CA(s) to trust for an https upstream instead of the system's roots. @default - system roots */
  readonly ca?: string;
  /** @default the system clock */
  readonly clock?: Clock;
  /**
   * Signs the subject assertions of `auth.type: oauth2-token-exchange` (the connector's own key: KMS in
   * AWS, a local P-256 key in the local pilot). Required for that auth type. @default - none
   */
  readonly subjectSigner?: SubjectAssertionSigner;
}

/** Sessions kept at once (one per subject with token exchange); the oldest is closed first. */
const MAX_SESSIONS = 32;
/** The session key of a connector that does not act per user. */
const SHARED_SESSION = '';

/** What one exchange with the upstream runs with. */
interface ExchangeContext {
  readonly usage: { secretReads: number };
  readonly requestId?: string;
  /** The principal the upstream is called for (token exchange only). */
  readonly subject?: string;
}

/** The reason a call to a tool whose upstream definition changed since it was pinned is refused with. */
export const TOOL_CHANGED_REASON = TOOL_DEFINITION_CHANGED_REASON;
/** The reason a call to a tool that was never pinned is refused with. */
export const TOOL_NOT_PINNED_REASON = 'mcp-tool-not-pinned';

/** Pages of `tools/list` read at most: an upstream that pages forever is cut off. */
const MAX_TOOL_PAGES = 20;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const CLIENT_INFO = { name: 'airlock', version: '1.0.0' } as const;

/**
 * The MCP SDK's client and its streamable HTTP transport, loaded on the first exchange with an upstream
 * (lambdas/adapters/aws/on-demand.ts): a function whose calls never reach an MCP server never parses them.
 */
const loadMcpClientSdk = onDemand(async () => {
  const [{ Client }, { StreamableHTTPClientTransport }, { ErrorCode, McpError }] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/types.js'),
  ]);
  mcpErrors = { ErrorCode, McpError };
  return { Client, StreamableHTTPClientTransport };
});

/**
 * The SDK's JSON Schema validator class (Ajv, ~130 KB), loaded before the first call's arguments are
 * checked ({@link McpServerConnector.loadParser}) rather than parsed at every cold start of the functions
 * that carry the kind. Each connector builds its own: schemas of two servers may share an `$id`.
 */
const loadJsonSchemaValidator = onDemand(
  async () => (await import('@modelcontextprotocol/sdk/validation/ajv-provider.js')).AjvJsonSchemaValidator,
);

/** The SDK's error class and codes, once it is loaded (no MCP error can exist before). */
let mcpErrors:
  | {
      readonly ErrorCode: typeof import('@modelcontextprotocol/sdk/types.js').ErrorCode;
      readonly McpError: typeof import('@modelcontextprotocol/sdk/types.js').McpError;
    }
  | undefined;

type Client = InstanceType<Awaited<ReturnType<typeof loadMcpClientSdk>>['Client']>;

/** How a tool stands against its pin. */
export interface ToolPinStatus {
  readonly operation: string;
  readonly tool: string;
  /** `pinned`: matches; `changed`: differs from the pin; `unpinned`: no pin; `missing`: not offered upstream. */
  readonly status: 'pinned' | 'changed' | 'unpinned' | 'missing';
}

/** A configured MCP server connector (see the config's `kind: mcp-server`). */
export class McpServerConnector implements Connector {
  public readonly kind = 'mcp-server';
  public readonly operations: readonly string[];
  private readonly url: URL;
  private readonly label: string;
  private readonly allowedHosts: ReadonlySet<string>;
  private readonly agent: Agent;
  private readonly httpAgent: HttpAgent;
  private readonly tokens?: OAuth2ClientCredentials;
  private readonly exchangedTokens?: UpstreamTokenExchange;
  private readonly validators = new Map<string, JsonSchemaValidator<unknown>>();
  private jsonSchema?: InstanceType<Awaited<ReturnType<typeof loadJsonSchemaValidator>>>;
  /**
   * Open MCP sessions by subject: with token exchange each principal has its own (an upstream binds a
   * session to the user who opened it), so one user's calls never ride on another's session or token.
   */
  private readonly sessions = new Map<string, Promise<Client>>();
  /**
   * The exchange a request of a kept session belongs to: the session's transport outlives the call that
   * opened it, so each request's credentials, request id and usage are those of the call it serves.
   */
  private readonly exchangeInProgress = new AsyncLocalStorage<ExchangeContext>();

  constructor(
    public readonly name: string,
    private readonly config: McpServerConnectorConfig,
    private readonly options: McpServerConnectorOptions,
  ) {
    this.label = `Connector "${name}"`;
    this.url = new URL(config.url);
    this.operations = Object.keys(config.operations);
    this.allowedHosts = new Set(config.allowedHosts.map((host) => host.toLowerCase()));
    // Keep-alive: a warm function reuses the connection (and the TLS session) to the upstream.
    this.agent = new Agent({ keepAlive: true, maxSockets: 16, ...(options.ca && { ca: options.ca }) });
    this.httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
    if (config.auth.type === 'oauth2-client-credentials') {
      this.tokens = new OAuth2ClientCredentials({
        tokenUrl: new URL(config.auth.tokenUrl),
        secretName: config.auth.secretName,
        scope: config.auth.scope,
        secretSource: options.secretSource,
        clock: options.clock ?? systemClock,
        send: (request) => this.send(request),
        timeoutMs: config.timeoutMs,
        label: this.label,
      });
    }
    if (config.auth.type === 'oauth2-token-exchange') {
      if (!options.subjectSigner) {
        throw new ConfigError(
          `connectors.${name}.auth: oauth2-token-exchange needs the connector's subject assertion key, which this target did not provide.`,
        );
      }
      const { auth } = config;
      this.exchangedTokens = new UpstreamTokenExchange({
        tokenUrl: new URL(auth.tokenUrl),
        secretName: auth.secretName,
        issuer: subjectIssuerOf(name, auth),
        audience: auth.audience,
        resource: auth.resource,
        scope: auth.scope,
        requestedTokenType: auth.requestedTokenType,
        signer: options.subjectSigner,
        secretSource: options.secretSource,
        clock: options.clock ?? systemClock,
        send: (request) => this.send(request),
        timeoutMs: config.timeoutMs,
        label: this.label,
      });
    }
  }

  /** The pinned input schema: what the agent is shown is what was reviewed, never a newer upstream one. */
  inputSchema(operation: string): OperationInputSchema {
    const pin = this.pinOf(operation);
    const schema = (pin?.inputSchema ?? {}) as { properties?: unknown; required?: unknown };
    // The MCP endpoint spreads `properties` and `required`; a pinned schema is any JSON Schema object.
    return {
      type: 'object',
      properties: (isObject(schema.properties)
        ? schema.properties
        : {}) as OperationInputSchema['properties'],
      required: Array.isArray(schema.required) ? schema.required.filter((r) => typeof r === 'string') : [],
      additionalProperties: false,
    };
  }

  /** Loads the JSON Schema validator {@link parseParameters} checks arguments with. */
  async loadParser(): Promise<void> {
    if (!this.jsonSchema) {
      const JsonSchemaValidator = await loadJsonSchemaValidator();
      this.jsonSchema ??= new JsonSchemaValidator();
    }
  }

  /**
   * Validates the arguments against the pinned input schema (unknown arguments refused).
   * @throws Error when {@link loadParser} has not been awaited first (a wiring bug: nothing is called)
   */
  parseParameters(operation: string, params: unknown): ParameterValues {
    const pin = this.requirePin(operation);
    const input = params ?? {};
    if (!isObject(input)) {
      throw new AirlockError(
        'invalid_request',
        `Invalid arguments for ${this.name}/${operation}: expected a JSON object.`,
      );
    }
    const known = this.inputSchema(operation).properties;
    const unknown = Object.keys(input).filter((key) => !Object.hasOwn(known, key));
    if (unknown.length > 0) {
      throw new AirlockError(
        'invalid_request',
        `Invalid arguments for ${this.name}/${operation}: unknown argument(s) ${unknown.map((k) => `"${k}"`).join(', ')} (expected only: ${Object.keys(known).join(', ') || 'none'}).`,
      );
    }
    const result = this.validatorOf(operation, pin)(input);
    if (!result.valid) {
      throw new AirlockError(
        'invalid_request',
        `Invalid arguments for ${this.name}/${operation}: ${result.errorMessage ?? 'they do not match the tool input schema'}.`,
      );
    }
    // Arguments may be nested JSON; the proxy only hashes them and hands them back to `invoke`.
    return input as unknown as ParameterValues;
  }

  describe(operation: string, params: unknown): UpstreamCall {
    const tool = this.toolOf(operation);
    return {
      method: 'tools/call',
      url: this.url.href,
      body: { name: upstreamToolOf(operation, tool), arguments: (params ?? {}) as Record<string, unknown> },
      destinationHost: this.url.hostname,
    };
  }

  /** The resource is the operation; the arguments the config maps are what policies read. */
  policyContext(operation: string, params: ParameterValues): ConnectorPolicyContext {
    const { policyArguments } = this.toolOf(operation);
    const args = params as Readonly<Record<string, unknown>>;
    return {
      resourceId: operation,
      ...(policyArguments.amount !== undefined && { amount: args[policyArguments.amount] }),
      ...(policyArguments.currency !== undefined && { currency: args[policyArguments.currency] }),
      ...(policyArguments.format !== undefined && { format: args[policyArguments.format] }),
    };
  }

  resourceProblem(_operation: string, _params: ParameterValues, resource: string): string | undefined {
    return `Your token is narrowed to the resource ${JSON.stringify(resource)}, which names nothing in ${this.name} (an MCP server's tools have no resources finer than themselves). Request a token without "resource" for ${this.name}.`;
  }

  async invoke(operation: string, params: unknown, options: InvokeOptions): Promise<ConnectorResult> {
    const tool = upstreamToolOf(operation, this.toolOf(operation));
    const pin = this.requirePin(operation);
    const usage = { secretReads: 0 };
    const current = (
      await this.listUpstreamTools(options.signal, usage, options.requestId, options.subject)
    ).find((candidate) => candidate.name === tool);
    if (!current) {
      throw new AirlockError(
        'upstream_error',
        `${this.label}: the upstream no longer offers the tool "${tool}".`,
      );
    }
    if (toolDefinitionHash(current) !== pin.sha256) {
      throw new AirlockError(
        'forbidden',
        `${this.label}: the upstream changed the definition of tool "${tool}" since it was pinned, so it is refused until an operator reviews the change and runs "airlock connectors pin ${this.name}".`,
        { reasons: [TOOL_CHANGED_REASON] },
      );
    }
    const result = await this.exchange(
      (client) =>
        client.callTool({ name: tool, arguments: (params ?? {}) as Record<string, unknown> }, undefined, {
          timeout: this.config.timeoutMs,
          maxTotalTimeout: this.config.timeoutMs,
          signal: options.signal,
        }),
      { usage, requestId: options.requestId, subject: options.subject, retry: false },
    );
    const bounded = this.bounded(result as CallToolResult);
    const bytes = JSON.stringify(bounded.result);
    return {
      result: bounded.result,
      documents: [{ id: `tools/call ${tool}`, bytes }],
      bytesOut: bounded.bytes,
      secretReads: usage.secretReads,
    };
  }

  /**
   * The configured tools against the upstream's current definitions (`airlock connectors pin --check`).
   * @param subject the principal to list them as (a token-exchange connector needs one)
   */
  async pinStatus(signal?: AbortSignal, subject?: string): Promise<ToolPinStatus[]> {
    const upstream = await this.listUpstreamTools(signal, { secretReads: 0 }, undefined, subject);
    const statuses = Object.entries(this.config.operations).map(([operation, config]) => {
      const tool = upstreamToolOf(operation, config);
      const current = upstream.find((candidate) => candidate.name === tool);
      const pin = this.pinOf(operation);
      const status = !current
        ? 'missing'
        : !pin
          ? 'unpinned'
          : toolDefinitionHash(current) === pin.sha256
            ? 'pinned'
            : 'changed';
      return { operation, tool, status } as ToolPinStatus;
    });
    // Upstream tools a pattern would expose that are not pinned (a new tool, or one named to match).
    const pins = this.config.pins ?? {};
    const patterned = patternOperations(
      this.config,
      upstream.map((t) => t.name),
      () => '',
    );
    for (const [tool, decision] of patterned) {
      if (decision.exposed && !Object.hasOwn(pins, tool)) {
        statuses.push({ operation: decision.operation, tool, status: 'unpinned' });
      }
    }
    return statuses;
  }

  /**
   * The operations whose upstream definition no longer matches its pin, for the tool listing to mark
   * (a call to one is refused). Asks the upstream's `tools/list` once.
   */
  async changedOperations(signal?: AbortSignal, subject?: string): Promise<ReadonlySet<string>> {
    const listed = await this.listUpstreamTools(signal, undefined, undefined, subject);
    const upstream = new Map(listed.map((tool) => [tool.name, tool]));
    const changed = new Set<string>();
    for (const [operation, config] of Object.entries(this.config.operations)) {
      const pin = this.pinOf(operation);
      const current = upstream.get(upstreamToolOf(operation, config));
      if (pin && current && toolDefinitionHash(current) !== pin.sha256) changed.add(operation);
    }
    return changed;
  }

  /** Every tool the upstream offers now (all pages), as its `tools/list` says. */
  async listUpstreamTools(
    signal?: AbortSignal,
    usage: { secretReads: number } = { secretReads: 0 },
    requestId?: string,
    subject?: string,
  ): Promise<Tool[]> {
    return this.exchange(
      async (client) => {
        const tools: Tool[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < MAX_TOOL_PAGES; page++) {
          const answer = await client.listTools(cursor === undefined ? undefined : { cursor }, {
            timeout: this.config.timeoutMs,
            signal,
          });
          tools.push(...answer.tools);
          cursor = answer.nextCursor;
          if (cursor === undefined) return tools;
        }
        throw new AirlockError(
          'upstream_error',
          `${this.label}: the upstream's tool list has more than ${MAX_TOOL_PAGES} pages.`,
        );
      },
      { usage, requestId, subject, retry: true },
    );
  }

  close(): void {
    for (const key of [...this.sessions.keys()]) this.dropSession(key);
    this.agent.destroy();
    this.httpAgent.destroy();
  }

  private toolOf(operation: string): McpToolConfig {
    if (!Object.hasOwn(this.config.operations, operation)) {
      throw new AirlockError(
        'not_found',
        `Connector "${this.name}" has no operation "${operation}"; expected one of: ${this.operations.join(', ')}.`,
      );
    }
    return this.config.operations[operation];
  }

  private pinOf(operation: string): PinnedTool | undefined {
    const tool = upstreamToolOf(operation, this.toolOf(operation));
    const pins = this.config.pins ?? {};
    return Object.hasOwn(pins, tool) ? pins[tool] : undefined;
  }

  private requirePin(operation: string): PinnedTool {
    const pin = this.pinOf(operation);
    if (!pin) {
      throw new AirlockError(
        'forbidden',
        `${this.label}: the tool of ${this.name}/${operation} has not been pinned, so it is refused; an operator reviews it and runs "airlock connectors pin ${this.name}".`,
        { reasons: [TOOL_NOT_PINNED_REASON] },
      );
    }
    return pin;
  }

  private validatorOf(operation: string, pin: PinnedTool): JsonSchemaValidator<unknown> {
    let validator = this.validators.get(operation);
    if (!validator) {
      if (!this.jsonSchema) {
        throw new Error(
          `${this.label}: parseParameters before loadParser; the proxy awaits loadParser first`,
        );
      }
      try {
        validator = this.jsonSchema.getValidator(pin.inputSchema as never);
      } catch {
        throw new AirlockError(
          'forbidden',
          `${this.label}: the pinned input schema of ${this.name}/${operation} cannot be compiled, so the tool is refused.`,
          { reasons: ['mcp-tool-schema-invalid'] },
        );
      }
      this.validators.set(operation, validator);
    }
    return validator;
  }

  /**
   * Runs one exchange over the kept session. A failed exchange drops the session (the next one opens
   * anew); a read-only one (`retry`) that failed on a kept session is tried once more on a fresh one,
   * since the upstream may have restarted and forgotten it. A tool call is never repeated.
   */
  private async exchange<T>(
    run: (client: Client) => Promise<T>,
    context: ExchangeContext & { retry: boolean },
  ): Promise<T> {
    const key = this.sessionKey(context.subject);
    const reused = this.sessions.has(key);
    const attempt = () =>
      this.exchangeInProgress.run(context, async () => run(await this.connect(key, context)));
    try {
      return await attempt();
    } catch (error) {
      this.dropSession(key);
      // A refusal (the caller's token exchange refused, a host outside allowedHosts) is not retried, even
      // when the SDK wrapped it.
      if (context.retry && reused && this.upstreamError(error).code === 'upstream_error') {
        try {
          return await attempt();
        } catch (second) {
          this.dropSession(key);
          throw this.upstreamError(second);
        }
      }
      throw this.upstreamError(error);
    }
  }

  /** One session per subject when the upstream is called on behalf of users, else one shared. */
  private sessionKey(subject: string | undefined): string {
    return this.exchangedTokens ? `subject:${subject ?? ''}` : SHARED_SESSION;
  }

  private connect(key: string, context: ExchangeContext): Promise<Client> {
    let session = this.sessions.get(key);
    if (!session) {
      session = loadMcpClientSdk().then(async (sdk) => {
        const client = new sdk.Client({ ...CLIENT_INFO }, { capabilities: {} });
        const transport = new sdk.StreamableHTTPClientTransport(this.url, {
          fetch: (url, init) => this.fetch(url, init, this.servedBy(context)),
        });
        await client.connect(transport, { timeout: this.config.timeoutMs });
        return client;
      });
      this.sessions.set(key, session);
      while (this.sessions.size > MAX_SESSIONS) this.dropSession(this.sessions.keys().next().value as string);
    }
    return session;
  }

  /**
   * The call a request of the session `opener` opened serves: the exchange in progress, when it acts for
   * the same subject (always, as sessions are keyed by subject); otherwise the opener's, so a request
   * can never carry another principal's credentials.
   */
  private servedBy(opener: ExchangeContext): ExchangeContext {
    const current = this.exchangeInProgress.getStore();
    return current && current.subject === opener.subject ? current : opener;
  }

  private dropSession(key: string): void {
    const session = this.sessions.get(key);
    this.sessions.delete(key);
    void session?.then((client) => client.close()).catch(() => undefined);
  }

  /** The SDK transport's fetch: every request bounded in time and size, credentials added here. */
  private async fetch(
    url: string | URL,
    init: RequestInit | undefined,
    context: ExchangeContext,
  ): Promise<Response> {
    const target = new URL(url);
    if (!this.allowedHosts.has(target.hostname.toLowerCase()) || target.origin !== this.url.origin) {
      throw new AirlockError(
        'forbidden',
        `${this.label}: the upstream pointed the connector at another host.`,
        {
          reasons: ['allowed-hosts'],
        },
      );
    }
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, key) => {
      headers[key] = value;
    });
    Object.assign(headers, await this.authHeaders(context));
    if (context.requestId && REQUEST_ID.test(context.requestId)) headers['x-request-id'] = context.requestId;
    if (init?.body !== undefined && init.body !== null && typeof init.body !== 'string') {
      throw new AirlockError(
        'upstream_error',
        `${this.label}: the MCP client sent a body Airlock cannot forward.`,
      );
    }
    const response = await this.send({
      url: target,
      method: init?.method ?? 'GET',
      headers,
      body: init?.body ?? undefined,
      timeoutMs: this.config.timeoutMs,
      maxResponseBytes: this.config.maxResponseBytes,
      signal: init?.signal ?? undefined,
      label: this.label,
    });
    if (response.status === 401 && this.exchangedTokens && context.subject !== undefined) {
      // The upstream refused the exchanged token (revoked early): the next call exchanges afresh.
      this.exchangedTokens.invalidate(context.subject, headers.authorization?.replace(/^Bearer /, '') ?? '');
    }
    const responseHeaders = new Headers();
    for (const [key, value] of Object.entries(response.headers)) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) responseHeaders.append(key, item);
    }
    const empty = response.status === 204 || response.status === 304 || response.body.length === 0;
    return new Response(empty ? null : new Uint8Array(response.body), {
      status: response.status,
      headers: responseHeaders,
    });
  }

  private async authHeaders({ usage, subject }: ExchangeContext): Promise<Record<string, string>> {
    const { auth } = this.config;
    if (auth.type === 'header') {
      usage.secretReads += 1;
      let secret: Record<string, string>;
      try {
        secret = await this.options.secretSource.getJson(auth.secretName);
      } catch (error) {
        if (error instanceof DependencyError) {
          throw new AirlockError(
            'upstream_error',
            `${this.label}: its upstream credentials cannot be read; an operator must check the secret "${auth.secretName}".`,
          );
        }
        throw error;
      }
      if (typeof secret.value !== 'string' || secret.value === '') {
        throw new AirlockError(
          'upstream_error',
          `${this.label}: the secret "${auth.secretName}" must hold {"value": "..."}, the header's value.`,
        );
      }
      return { [auth.header.toLowerCase()]: secret.value };
    }
    if (this.tokens) return { authorization: `Bearer ${await this.tokens.getToken(usage)}` };
    if (this.exchangedTokens) {
      return { authorization: `Bearer ${await this.exchangedTokens.getToken(subject, usage)}` };
    }
    return {};
  }

  private send(request: Omit<UpstreamRequest, 'agent' | 'loopbackHttpAgent'>): Promise<UpstreamResponse> {
    return sendUpstreamRequest({ ...request, agent: this.agent, loopbackHttpAgent: this.httpAgent });
  }

  /** Any failure of an exchange as the contract's error: the upstream's own words never pass through. */
  private upstreamError(error: unknown): AirlockError {
    if (error instanceof AirlockError) return error;
    // The SDK wraps what the fetch threw; find an AirlockError it carries.
    const cause = (error as { cause?: unknown } | undefined)?.cause;
    if (cause instanceof AirlockError) return cause;
    if (mcpErrors && error instanceof mcpErrors.McpError) {
      if (error.code === mcpErrors.ErrorCode.RequestTimeout) {
        return new AirlockError(
          'upstream_error',
          `${this.label}: the upstream did not answer within ${this.config.timeoutMs} ms.`,
        );
      }
      return new AirlockError(
        'upstream_error',
        `${this.label}: the upstream answered with an MCP error (code ${error.code}).`,
        {
          details: { mcpErrorCode: error.code },
        },
      );
    }
    const status = (error as { code?: unknown } | undefined)?.code;
    if (typeof status === 'number' && status >= 400 && status <= 599) {
      return new AirlockError('upstream_error', `${this.label}: the upstream answered HTTP ${status}.`, {
        details: { upstreamStatus: status },
      });
    }
    return new AirlockError(
      'upstream_error',
      `${this.label}: the upstream's answer was not a valid MCP message.`,
    );
  }

  /** The tool's result, cut to `maxResultBytes` of text with a notice when it is larger. */
  private bounded(result: CallToolResult): { result: Record<string, unknown>; bytes: number } {
    const whole = {
      content: result.content,
      ...(result.structuredContent !== undefined && { structuredContent: result.structuredContent }),
      ...(result.isError === true && { isError: true }),
    };
    const bytes = Buffer.byteLength(JSON.stringify(whole));
    const max = this.config.maxResultBytes;
    if (bytes <= max) return { result: whole, bytes };
    const text = (result.content ?? [])
      .map((item) => (item.type === 'text' ? item.text : `[${item.type} content left out]`))
      .join('\n');
    const cut = Buffer.from(text)
      .subarray(0, max)
      .toString('utf8')
      .replace(/\uFFFD+$/, '');
    return {
      result: {
        content: [
          { type: 'text', text: cut },
          {
            type: 'text',
            text: `[Airlock truncated this result: the upstream answered ${bytes} bytes, more than this connector's limit of ${max}. Ask for less at a time.]`,
          },
        ],
        truncated: true,
        ...(result.isError === true && { isError: true }),
      },
      bytes: Math.min(bytes, max),
    };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
