/**
 * `POST /v1/mcp`: Airlock's Model Context Protocol endpoint (streamable HTTP, stateless, JSON
 * responses) over the same {@link ConnectorProxy} as the REST route, so a tool call and a REST call
 * are one code path: same token, same policy, same approvals, same audit record.
 *
 * Every HTTP request is authenticated (client certificate + bearer token) before any MCP message is
 * read, and answered by a fresh MCP server and transport: nothing is kept between requests, so the
 * endpoint scales like any other Lambda route and a token's scope is re-read on every call.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  InitializeRequestSchema,
  ListToolsRequestSchema,
  McpError,
  PingRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { AirlockConfig } from '../../lib/config/schema';
import { headerOf, requestIdOf } from '../core/api-request';
import { errorResponse, jsonResponse, type UnexpectedErrorLogger } from '../core/api-response';
import type { Authenticator, Caller } from '../core/caller';
import type { ConnectorOutcome, ConnectorProxy } from '../core/connector-proxy';
import { AirlockError, DependencyError } from '../core/errors';
import type { AvailableOperation } from '../core/operation-catalog';

/** What the endpoint needs of the proxy (the real {@link ConnectorProxy} in Lambda and the local pilot). */
export type McpConnectorProxy = Pick<ConnectorProxy, 'availableOperations' | 'call'> &
  Partial<Pick<ConnectorProxy, 'listedOperations'>>;

export interface McpHandlerOptions {
  /** Proves the caller before any MCP message is read (the device channel's, or the OAuth entry point's). */
  readonly authenticator: Authenticator;
  readonly proxy: McpConnectorProxy;
  /**
   * A tool result's text longer than this is cut, with a notice saying how much was cut: a model's
   * context is finite and a huge result crowds out the conversation.
   * @default 40_000 (Claude Code's default limit is about 25,000 tokens for text and structured content together)
   */
  readonly maxResultChars?: number;
  /**
   * The pilot config, to name each workflow's approval threshold in the tool descriptions.
   * @default - descriptions say that a call may be held for approval, without the amount
   */
  readonly config?: Pick<AirlockConfig, 'workflows'>;
  /**
   * Larger MCP request bodies are refused (413) before they are parsed.
   * @default 65_536
   */
  readonly maxBodyBytes?: number;
  /**
   * Host names this endpoint answers to (any port). A request whose `Host` is another name, or whose
   * `Origin` (when a browser sends one) is not `https://` one of them, is refused with 403 before
   * anything else: a web page that rebinds its DNS name to Airlock's address gets nothing.
   * @default - the one name API Gateway served the request for (`requestContext.domainName`)
   */
  readonly allowedHosts?: readonly string[];
  readonly logUnexpected?: UnexpectedErrorLogger;
}

export type McpHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** What `initialize` returns as `serverInfo`. */
export const AIRLOCK_MCP_SERVER_INFO = { name: 'airlock', version: '1.0.0' } as const;

const MCP_INSTRUCTIONS =
  "Airlock gives you the enterprise tools your workflow allows. Every call is checked against the organisation's policy and recorded in an audit trail. " +
  'Some calls are held until a person approves them: the result then says who must approve and gives an approval id; ' +
  'tell the user, and once it is approved call the same tool again with the same arguments plus "approvalId". ' +
  'Pass "intent" with a short reason for each call; it is recorded for the auditors.';

const SECURITY_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const;
/**
 * Claude Code passes a tool result of up to about 25,000 tokens to the model and saves a larger one
 * to a file, showing a 2 KB preview that loses Airlock's notices. The text and `structuredContent`
 * both count: 40,000 characters of JSON each stay under that limit.
 */
const DEFAULT_MAX_RESULT_CHARS = 40_000;
const DEFAULT_MAX_BODY_BYTES = 65_536;
const MAX_INTENT_LENGTH = 1000;
const MAX_APPROVAL_ID_LENGTH = 128;
/**
 * The SDK's schemas of the requests this server answers: a message that fails one is answered with
 * -32602 and one sentence naming the parameter, instead of the SDK's -32603 with a schema dump.
 */
const REQUEST_SCHEMAS: Readonly<Record<string, { safeParse(value: unknown): SchemaCheck }>> = {
  initialize: InitializeRequestSchema,
  ping: PingRequestSchema,
  'tools/list': ListToolsRequestSchema,
  'tools/call': CallToolRequestSchema,
};

interface SchemaCheck {
  readonly success: boolean;
  readonly error?: {
    readonly issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[];
  };
}

/** Headers that describe the HTTP hop, not the MCP message; the token stays here too. */
const HOP_HEADERS = new Set([
  'authorization',
  'connection',
  'content-length',
  'host',
  'transfer-encoding',
  'keep-alive',
]);

/**
 * Creates the `POST /v1/mcp` handler.
 *
 * Refusals before MCP (no certificate, no or bad token, kill switch engaged, a dependency down) are
 * plain HTTP errors in the API's error contract (401 with `WWW-Authenticate: Bearer`, 503), so MCP
 * clients and their auth logic see them as HTTP failures. Refusals of a tool call (policy, scope,
 * parameters, rate limits) are tool results with `isError: true` naming the code and the policies
 * that decided, so a model reads them and never mistakes a denial for data. Nothing answers 500.
 */
export function createMcpHandler(options: McpHandlerOptions): McpHandler {
  const maxResultChars = options.maxResultChars ?? DEFAULT_MAX_RESULT_CHARS;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  // A Server builds its own Ajv instance unless given one (~1 ms of a ~2.5 ms call, and garbage): one
  // per process serves every request's server. Stateless: it caches compiled schemas, never callers.
  // Built on the first MCP request, not at cold start (the connector serves REST calls as well).
  let jsonSchemaValidator: AjvJsonSchemaValidator | undefined;
  return async (event) => {
    const requestId = requestIdOf(event);
    const foreign = foreignOriginOf(event, options.allowedHosts);
    if (foreign) {
      return jsonResponse(
        403,
        { error: { code: 'forbidden', message: foreign, requestId } },
        SECURITY_HEADERS,
      );
    }
    if (event.httpMethod !== 'POST') {
      // Stateless: no SSE stream to GET and no session to DELETE. 405 is what MCP clients expect then
      // (they read the status, not the body, which follows the API's error contract).
      return jsonResponse(
        405,
        {
          error: {
            code: 'method_not_allowed',
            message:
              'This MCP endpoint keeps no event stream and no session: send each MCP message with POST.',
            requestId,
          },
        },
        { allow: 'POST' },
      );
    }
    let caller: Caller;
    try {
      caller = await options.authenticator.authenticate(event);
    } catch (error) {
      return refusal(error, requestId, options.logUnexpected);
    }
    const refused = refuseBeforeMcp(event, maxBodyBytes);
    if (refused) return refused;
    try {
      jsonSchemaValidator ??= new AjvJsonSchemaValidator();
      const server = createMcpServer(caller, requestId, { ...options, maxResultChars }, jsonSchemaValidator);
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
        maxRequestBodySize: maxBodyBytes,
      });
      try {
        await server.connect(transport);
        const response = await transport.handleRequest(toWebRequest(event));
        return await toProxyResult(response);
      } finally {
        await server.close();
      }
    } catch (error) {
      return refusal(error, requestId, options.logUnexpected);
    }
  };
}

/** One MCP server for one authenticated HTTP request. */
function createMcpServer(
  caller: Caller,
  requestId: string,
  options: McpHandlerOptions & { readonly maxResultChars: number },
  jsonSchemaValidator: AjvJsonSchemaValidator,
): Server {
  const server = new Server(
    { ...AIRLOCK_MCP_SERVER_INFO },
    { capabilities: { tools: { listChanged: false } }, instructions: MCP_INSTRUCTIONS, jsonSchemaValidator },
  );
  const threshold = options.config?.workflows[caller.workflow]?.approvalAmountAbove;

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: (options.proxy.listedOperations
      ? await options.proxy.listedOperations(caller)
      : options.proxy.availableOperations(caller)
    ).map((op) => toolOf(op, threshold)),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    const name = request.params.name;
    const available = options.proxy.availableOperations(caller);
    const op = available.find((candidate) => toolNameOf(candidate) === name);
    if (!op) {
      // An MCP error, not a tool result: the client asked for something this server never offered.
      throw new McpError(
        ErrorCode.InvalidParams,
        `Unknown tool "${String(name).slice(0, 140)}". Your tools: ${available.map(toolNameOf).join(', ') || 'none'}.`,
      );
    }
    const { intent, approvalId, ...params } = request.params.arguments ?? {};
    const argumentError = checkToolArguments(intent, approvalId);
    if (argumentError) return errorResult(new AirlockError('invalid_request', argumentError), requestId);
    let outcome: ConnectorOutcome;
    try {
      outcome = await options.proxy.call(caller, {
        connector: op.connector,
        operation: op.operation,
        params,
        ...(intent === undefined ? {} : { intent: intent as string }),
        ...(approvalId === undefined ? {} : { approvalId: (approvalId as string).trim() }),
        requestId,
      });
    } catch (error) {
      if (!(error instanceof AirlockError) && !(error instanceof DependencyError)) {
        options.logUnexpected?.('unexpected error in an MCP tool call', error);
      }
      return errorResult(error, requestId);
    }
    if (outcome.status === 'pending_approval') return pendingResult(name, outcome.approval, requestId);
    return completedResult(outcome.result, outcome.redactions, options.maxResultChars);
  });
  return server;
}

/** The MCP tool name of an operation: `<connector>_<operation>` (neither part may hold an underscore). */
export function toolNameOf(op: Pick<AvailableOperation, 'connector' | 'operation'>): string {
  return `${op.connector}_${op.operation}`;
}

/** What a tool whose upstream definition changed since it was pinned says first. */
export const CHANGED_UPSTREAM_NOTICE =
  '[Unavailable: the upstream server changed this tool since an operator reviewed and pinned it; calls are refused until it is reviewed and pinned again.]';
/** The `_meta` flag of such a tool, for clients that show it. */
export const CHANGED_UPSTREAM_META = 'dev.airlock/definition-changed';

/** An operation as an MCP tool: its input schema plus `intent` and `approvalId`, and a description a model can act on. */
function toolOf(op: AvailableOperation, approvalAmountAbove: number | undefined): Tool {
  const { config } = op;
  const sentences = [
    `${config.description.replace(/[.\s]+$/, '')}.`,
    `${accessSentence(config.access)} Data classification: ${config.classification}.`,
  ];
  if (config.access !== 'read') {
    const hasAmount = op.inputSchema.properties.amount?.type === 'number';
    sentences.push(
      hasAmount && approvalAmountAbove !== undefined
        ? `Needs a person's approval when amount is above ${approvalAmountAbove}: the call then returns a pending approval instead of running.`
        : "Policy may hold the call for a person's approval: the call then returns a pending approval instead of running.",
      'Once approved, call this tool again with exactly the same arguments plus "approvalId".',
    );
  }
  if (op.changedUpstream) sentences.unshift(CHANGED_UPSTREAM_NOTICE);
  return {
    name: toolNameOf(op),
    title: titleOf(op),
    description: sentences.join(' '),
    ...(op.changedUpstream && { _meta: { [CHANGED_UPSTREAM_META]: true } }),
    inputSchema: {
      type: 'object',
      properties: {
        ...op.inputSchema.properties,
        intent: {
          type: 'string',
          maxLength: MAX_INTENT_LENGTH,
          description: 'Why you make this call, in a sentence (recorded in the audit trail).',
        },
        approvalId: {
          type: 'string',
          minLength: 1,
          pattern: '\\S',
          maxLength: MAX_APPROVAL_ID_LENGTH,
          description: 'Only when re-sending a call a person has approved: the approval id Airlock returned.',
        },
      },
      required: [...op.inputSchema.required],
      additionalProperties: false,
    },
    annotations: {
      readOnlyHint: config.access === 'read',
      destructiveHint: config.access === 'write',
      // An export takes data out of the enterprise system: it reaches beyond Airlock's own world.
      openWorldHint: config.access === 'export',
    },
  };
}

/** A title a person reads in a tool picker: `erp: create journal entry` for `erp_createJournalEntry`. */
function titleOf(op: Pick<AvailableOperation, 'connector' | 'operation'>): string {
  const words = op.operation
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .map((word) => (/^[A-Z]{2,}$/.test(word) ? word : word.toLowerCase()));
  return `${op.connector}: ${words.join(' ')}`;
}

function accessSentence(access: AvailableOperation['config']['access']): string {
  if (access === 'read') return 'Reads data; changes nothing.';
  if (access === 'write') return 'Writes to the enterprise system.';
  return 'Exports data out of the enterprise system.';
}

function checkToolArguments(intent: unknown, approvalId: unknown): string | undefined {
  if (intent !== undefined && (typeof intent !== 'string' || intent.length > MAX_INTENT_LENGTH)) {
    return `intent: expected a string of at most ${MAX_INTENT_LENGTH} characters.`;
  }
  if (
    approvalId !== undefined &&
    (typeof approvalId !== 'string' || approvalId.trim() === '' || approvalId.length > MAX_APPROVAL_ID_LENGTH)
  ) {
    return 'approvalId: expected the approval id Airlock returned (a string such as apr_…).';
  }
  return undefined;
}

/**
 * A completed call. Clients that show the model `structuredContent` instead of the text (Claude Code
 * does) must see the same facts: so `structuredContent` is `{status, result, redactions, message?}`
 * with the redaction notice in `message`, never the bare result. A cut result carries no
 * `structuredContent` (it would carry the whole result past the cut), so every client shows the text
 * with its notice.
 */
function completedResult(result: unknown, redactions: number, maxResultChars: number): CallToolResult {
  const json = JSON.stringify(result ?? null);
  const truncated = json.length > maxResultChars;
  const content: CallToolResult['content'] = [
    {
      type: 'text',
      text: truncated
        ? `${json.slice(0, maxResultChars)}\n[Airlock truncated this result: ${json.length - maxResultChars} of ${json.length} characters were cut. Ask for less at a time.]`
        : json,
    },
  ];
  const notice =
    redactions > 0
      ? `Airlock redacted ${redactions} ${redactions === 1 ? 'value' : 'values'} of personal data from this result; you are not cleared to see ${redactions === 1 ? 'it' : 'them'}.`
      : undefined;
  if (notice) content.push({ type: 'text', text: notice });
  if (truncated) return { content };
  return {
    content,
    structuredContent: {
      status: 'completed',
      result: result ?? null,
      redactions,
      ...(notice ? { message: notice } : {}),
    },
  };
}

function pendingResult(
  toolName: string,
  approval: Extract<ConnectorOutcome, { status: 'pending_approval' }>['approval'],
  requestId: string,
): CallToolResult {
  const text = [
    `Held for approval: nothing has run yet. A member of "${approval.approverGroup}" must approve this call.`,
    `Approval id: ${approval.id} (expires ${approval.expiresAt}).`,
    `What will run once approved: ${JSON.stringify(approval.preview.call)} (sha256 ${approval.preview.sha256}).`,
    `Tell the user that approval ${approval.id} waits for "${approval.approverGroup}". Once it is approved, call ${toolName} again with exactly the same arguments plus "approvalId": "${approval.id}".`,
  ].join('\n');
  return {
    content: [{ type: 'text', text }],
    structuredContent: { status: 'pending_approval', message: text, approval: { ...approval }, requestId },
  };
}

/** A refused tool call: `isError`, the contract's code, the message and the policies that decided. */
function errorResult(error: unknown, requestId: string): CallToolResult {
  let code: string;
  let message: string;
  let reasons: readonly string[] = [];
  if (error instanceof AirlockError) {
    ({ code, message } = error);
    reasons = error.reasons ?? [];
  } else if (error instanceof DependencyError) {
    code = 'unavailable';
    message = `Airlock could not reach its ${error.dependency}, so the call was refused. Try again shortly.`;
  } else {
    code = 'internal_error';
    message = `Airlock failed unexpectedly and refused the call. Report request ${requestId} to your Airlock operators.`;
  }
  const lines = [`Refused by Airlock (${code}): ${message}`];
  if (reasons.length > 0) lines.push(`Reasons: ${reasons.join(', ')}.`);
  lines.push(`Request id: ${requestId}.`);
  return {
    content: [{ type: 'text', text: lines.join('\n') }],
    structuredContent: {
      status: 'refused',
      message: lines.join('\n'),
      error: { code, message, reasons: [...reasons], requestId },
    },
    isError: true,
  };
}

/** Plain HTTP refusals, in the error contract. An unclassified failure is refused with 503, never 500. */
function refusal(
  error: unknown,
  requestId: string,
  logUnexpected?: UnexpectedErrorLogger,
): APIGatewayProxyResult {
  if (error instanceof AirlockError || error instanceof DependencyError)
    return errorResponse(error, requestId);
  logUnexpected?.('unexpected error in the MCP endpoint', error);
  return jsonResponse(
    503,
    {
      error: {
        code: 'unavailable',
        message: `Airlock could not process this MCP request and refused it. Try again; if it persists, report request ${requestId} to your Airlock operators.`,
        requestId,
      },
    },
    { 'retry-after': '5' },
  );
}

/**
 * Why a request's `Host` or `Origin` is not this endpoint's (DNS rebinding), or `undefined`. A request
 * without `Host` is refused too (HTTP/1.1 requires one; API Gateway always sends it). No `Origin` is
 * what MCP clients send; a browser always sends one with a POST, and it must name this endpoint.
 */
function foreignOriginOf(
  event: APIGatewayProxyEvent,
  allowedHosts: readonly string[] | undefined,
): string | undefined {
  const allowed = new Set(
    (allowedHosts ?? [event.requestContext?.domainName ?? ''])
      .map((host) => host.toLowerCase())
      .filter(Boolean),
  );
  const host = hostnameOf(headerOf(event, 'host') ?? '');
  if (host === undefined || !allowed.has(host)) {
    return 'This MCP endpoint answers only to its own host name; the Host header names another.';
  }
  const origin = headerOf(event, 'origin');
  if (origin === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(origin);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'https:' || !allowed.has(url.hostname.toLowerCase()) || url.pathname !== '/') {
    return 'This MCP endpoint does not answer web pages of other origins.';
  }
  return undefined;
}

/** The host name of a `Host` header (`name`, `name:port`, `[v6]:port`), lower-case; `undefined` when malformed. */
function hostnameOf(host: string): string | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/.exec(host.trim());
  return match ? match[1].toLowerCase() : undefined;
}

/**
 * What is answered without the SDK: a JSON-RPC batch (removed from MCP in 2025-06-18: one message per
 * request, so each is authorized and recorded on its own), and a request whose parameters do not fit
 * the method (-32602 naming the parameter). Anything else, malformed JSON included, goes to the SDK.
 */
function refuseBeforeMcp(
  event: APIGatewayProxyEvent,
  maxBodyBytes: number,
): APIGatewayProxyResult | undefined {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  // The transport refuses an oversized body itself; never parse one here.
  if (Buffer.byteLength(text, 'utf8') > maxBodyBytes) return undefined;
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (Array.isArray(message)) {
    return jsonResponse(
      400,
      {
        jsonrpc: '2.0',
        error: {
          code: ErrorCode.InvalidRequest,
          message:
            'JSON-RPC batches are not supported (MCP removed them in 2025-06-18); send one message per request.',
        },
        id: null,
      },
      SECURITY_HEADERS,
    );
  }
  if (!isPlainObject(message) || typeof message.method !== 'string' || !Object.hasOwn(message, 'id'))
    return undefined;
  const schema = Object.hasOwn(REQUEST_SCHEMAS, message.method) ? REQUEST_SCHEMAS[message.method] : undefined;
  const check = schema?.safeParse(message);
  if (!check || check.success) return undefined;
  const issue = check.error?.issues[0];
  const where = (issue?.path ?? []).map(String).join('.') || 'params';
  const id = typeof message.id === 'string' || typeof message.id === 'number' ? message.id : null;
  return jsonResponse(
    200,
    {
      jsonrpc: '2.0',
      id,
      error: {
        code: ErrorCode.InvalidParams,
        message: `Invalid params for ${message.method.slice(0, 40)}: ${where.slice(0, 80)}: ${(issue?.message ?? 'not as the method expects').replace(/^Invalid input: /, '').slice(0, 120)}.`,
      },
    },
    SECURITY_HEADERS,
  );
}

function toWebRequest(event: APIGatewayProxyEvent): Request {
  const headers = new Headers();
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    if (HOP_HEADERS.has(name.toLowerCase())) continue;
    for (const value of values ?? []) headers.append(name, value);
  }
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (HOP_HEADERS.has(name.toLowerCase()) || value === undefined || headers.has(name)) continue;
    headers.set(name, value);
  }
  const raw = event.body ?? '';
  const body = event.isBase64Encoded ? Buffer.from(raw, 'base64') : raw;
  const host = event.requestContext?.domainName ?? 'localhost';
  return new Request(`https://${host}${event.path || '/v1/mcp'}`, { method: 'POST', headers, body });
}

async function toProxyResult(response: Response): Promise<APIGatewayProxyResult> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return {
    statusCode: response.status,
    headers: { ...headers, ...SECURITY_HEADERS },
    body: await response.text(),
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
