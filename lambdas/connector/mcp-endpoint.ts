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
  PingRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { AirlockConfig } from '../../lib/config/schema';
import { MAX_APPROVAL_ID_LENGTH, MAX_INTENT_LENGTH } from '../../lib/contracts/limits';
import { AIRLOCK_TOOL_ARGUMENTS } from '../../lib/contracts/names';
import { headerOf, requestIdOf } from '../core/api-request';
import { errorResponse, jsonResponse, type UnexpectedErrorLogger } from '../core/api-response';
import type { Authenticator, Caller } from '../core/caller';
import type { ConnectorOutcome, ConnectorProxy } from '../core/connector-proxy';
import { AirlockError, DependencyError } from '../core/errors';
import type { AvailableOperation } from '../core/operation-catalog';
import {
  handleStatelessRequest,
  type JsonRpcRequestLike,
  McpProtocolError,
  type StatelessMcpServer,
  speaksStatelessWire,
} from './mcp-stateless';

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
   * A read's list (the result itself, or its longest array) is paged instead: the result says where the
   * next page starts, and the tool takes `resultOffset` to get it.
   * @default 30_000 (Claude Code's default limit is about 25,000 tokens for text and structured content together)
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
  /**
   * `tools/list` answers at most this many tools per page, with a `nextCursor` for the rest.
   * @default 50
   */
  readonly toolsPageSize?: number;
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
 * carry the same JSON and both count: 2 × 30,000 characters of JSON (about 3 characters a token for
 * dense JSON) stay under that limit with room for the notices.
 */
const DEFAULT_MAX_RESULT_CHARS = 30_000;
/** The largest `resultOffset` a read tool accepts (a list longer than this is not paged through an assistant). */
const MAX_RESULT_OFFSET = 1_000_000;
const DEFAULT_MAX_BODY_BYTES = 65_536;
const DEFAULT_TOOLS_PAGE_SIZE = 50;
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
    const message = parsedMessageOf(event, maxBodyBytes);
    const refused = refuseBeforeMcp(message);
    if (refused) return refused;
    const tools = createToolFunctions(caller, requestId, { ...options, maxResultChars });
    if (isJsonRpcRequest(message) && speaksStatelessWire(event, message)) {
      try {
        return await handleStatelessRequest(event, message, tools, SECURITY_HEADERS);
      } catch (error) {
        return refusal(error, requestId, options.logUnexpected);
      }
    }
    const invalid = invalidParamsOf(message);
    if (invalid) return invalid;
    try {
      jsonSchemaValidator ??= new AjvJsonSchemaValidator();
      const server = createMcpServer(tools, jsonSchemaValidator);
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

/** What one authenticated caller can list and call: the same functions serve both MCP wires. */
function createToolFunctions(
  caller: Caller,
  requestId: string,
  options: McpHandlerOptions & { readonly maxResultChars: number },
): StatelessMcpServer {
  const threshold = options.config?.workflows[caller.workflow]?.approvalAmountAbove;
  const pageSize = Math.max(1, options.toolsPageSize ?? DEFAULT_TOOLS_PAGE_SIZE);
  return {
    serverInfo: AIRLOCK_MCP_SERVER_INFO,
    instructions: MCP_INSTRUCTIONS,
    async listTools(cursor) {
      // Tools changed upstream since they were pinned stay listed, marked (a call to one is refused).
      const all = options.proxy.listedOperations
        ? await options.proxy.listedOperations(caller)
        : options.proxy.availableOperations(caller);
      const offset = cursor === undefined ? 0 : offsetOfCursor(cursor, all.length);
      const page = all.slice(offset, offset + pageSize).map((op) => toolOf(op, threshold));
      const next = offset + pageSize;
      return next < all.length ? { tools: page, nextCursor: cursorOf(next) } : { tools: page };
    },
    async callTool(params) {
      const name = params.name;
      if (typeof name !== 'string') {
        throw new McpProtocolError(
          ErrorCode.InvalidParams,
          'Invalid params for tools/call: name: expected the tool name, a string.',
        );
      }
      const args = params.arguments ?? {};
      if (typeof args !== 'object' || args === null || Array.isArray(args)) {
        throw new McpProtocolError(
          ErrorCode.InvalidParams,
          'Invalid params for tools/call: arguments: expected an object.',
        );
      }
      return callTool(caller, requestId, options, name, args as Record<string, unknown>);
    },
  };
}

/** One MCP server (the SDK's, for the 2025 wire with its initialize handshake) for one authenticated HTTP request. */
function createMcpServer(tools: StatelessMcpServer, jsonSchemaValidator: AjvJsonSchemaValidator): Server {
  const server = new Server(
    { ...AIRLOCK_MCP_SERVER_INFO },
    { capabilities: { tools: { listChanged: false } }, instructions: MCP_INSTRUCTIONS, jsonSchemaValidator },
  );
  server.setRequestHandler(ListToolsRequestSchema, async (request) =>
    tools.listTools(request.params?.cursor),
  );
  server.setRequestHandler(CallToolRequestSchema, async (request) => tools.callTool(request.params));
  return server;
}

async function callTool(
  caller: Caller,
  requestId: string,
  options: McpHandlerOptions & { readonly maxResultChars: number },
  name: string,
  args: Record<string, unknown>,
): Promise<CallToolResult> {
  const available = options.proxy.availableOperations(caller);
  const op = available.find((candidate) => toolNameOf(candidate) === name);
  if (!op) {
    // A protocol error, not a tool result: the client asked for something this server never offered.
    // Its message goes on the wire as it is (an McpError would prefix "MCP error -32602:", and the
    // client's McpError prefixes it again).
    throw new McpProtocolError(
      ErrorCode.InvalidParams,
      `Unknown tool "${String(name).slice(0, 140)}". Your tools: ${available.map(toolNameOf).join(', ') || 'none'}.`,
    );
  }
  // Airlock's own arguments, taken off before the operation sees the rest (the config and the pins
  // refuse an operation parameter or an upstream tool input of the same name).
  const {
    [AIRLOCK_TOOL_ARGUMENTS.intent]: intent,
    [AIRLOCK_TOOL_ARGUMENTS.approvalId]: approvalId,
    ...rest
  } = args;
  // `resultOffset` picks the page of a read's result.
  const { [AIRLOCK_TOOL_ARGUMENTS.resultOffset]: resultOffset, ...params } =
    op.config.access === 'read' ? rest : { ...rest, [AIRLOCK_TOOL_ARGUMENTS.resultOffset]: undefined };
  const argumentError = checkToolArguments(intent, approvalId) ?? checkResultOffset(resultOffset);
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
  return completedResult(outcome.result, outcome.redactions, options.maxResultChars, {
    toolName: name,
    requestId,
    pageable: op.config.access === 'read',
    offset: resultOffset as number | undefined,
  });
}

function checkResultOffset(offset: unknown): string | undefined {
  if (
    offset === undefined ||
    (Number.isSafeInteger(offset) && (offset as number) >= 0 && (offset as number) <= MAX_RESULT_OFFSET)
  )
    return undefined;
  return `resultOffset: expected a whole number from 0 to ${MAX_RESULT_OFFSET} (the nextOffset a previous result gave).`;
}

/** An opaque `tools/list` cursor: where the next page starts. */
function cursorOf(offset: number): string {
  return Buffer.from(`tools:${offset}`, 'utf8').toString('base64url');
}

function offsetOfCursor(cursor: string, total: number): number {
  const match = /^tools:(\d{1,6})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const offset = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(offset) || offset <= 0 || offset >= total) {
    throw new McpProtocolError(
      ErrorCode.InvalidParams,
      'Invalid params for tools/list: cursor is not one this server gave out (or the list changed); list again without a cursor.',
    );
  }
  return offset;
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
        [AIRLOCK_TOOL_ARGUMENTS.intent]: {
          type: 'string',
          maxLength: MAX_INTENT_LENGTH,
          description: 'Why you make this call, in a sentence (recorded in the audit trail).',
        },
        [AIRLOCK_TOOL_ARGUMENTS.approvalId]: {
          type: 'string',
          minLength: 1,
          pattern: '\\S',
          maxLength: MAX_APPROVAL_ID_LENGTH,
          description: 'Only when re-sending a call a person has approved: the approval id Airlock returned.',
        },
        ...(config.access === 'read'
          ? {
              [AIRLOCK_TOOL_ARGUMENTS.resultOffset]: {
                type: 'integer',
                minimum: 0,
                maximum: MAX_RESULT_OFFSET,
                description:
                  'Only to see more of a long list: where the next page starts (the nextOffset a previous result gave).',
              },
            }
          : {}),
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

interface Paging {
  readonly toolName: string;
  readonly requestId: string;
  /** Whether the tool takes `resultOffset` (reads do). */
  readonly pageable: boolean;
  readonly offset?: number;
}

/** Where a page of a list result starts and ends, and where the next one starts. */
interface PageInfo {
  /** The property holding the list, or `null` when the result is the list. */
  readonly field: string | null;
  readonly offset: number;
  readonly returned: number;
  readonly total: number;
  readonly nextOffset?: number;
}

/**
 * A completed call. Clients that show the model `structuredContent` instead of the text (Claude Code
 * does) must see the same facts: so `structuredContent` is `{status, result, redactions, page?,
 * message?}` with the redaction and paging notices in `message`, never the bare result.
 *
 * A read whose JSON is longer than `maxResultChars` is paged when it is a list or holds one (its
 * longest array): the result carries as many items as fit, `page` says where the next page starts,
 * and the message tells the model to call again with `resultOffset`. Anything else that is too long
 * is cut, with a notice, and carries no `structuredContent` (it would carry the whole result past the
 * cut), so every client shows the text with its notice.
 */
function completedResult(
  result: unknown,
  redactions: number,
  maxResultChars: number,
  paging: Paging,
): CallToolResult {
  let value: unknown = result ?? null;
  let page: PageInfo | undefined;
  if (paging.pageable && (paging.offset !== undefined || JSON.stringify(value).length > maxResultChars)) {
    const paged = pageOf(value, paging.offset ?? 0, maxResultChars);
    if (typeof paged === 'string')
      return errorResult(new AirlockError('invalid_request', paged), paging.requestId);
    if (paged) ({ value, page } = paged);
  }
  const json = JSON.stringify(value);
  const truncated = json.length > maxResultChars;
  const content: CallToolResult['content'] = [
    {
      type: 'text',
      text: truncated
        ? `${json.slice(0, maxResultChars)}\n[Airlock truncated this result: ${json.length - maxResultChars} of ${json.length} characters were cut. Ask for less at a time.]`
        : json,
    },
  ];
  const notices: string[] = [];
  if (page) notices.push(pageNotice(page, paging.toolName));
  if (redactions > 0) {
    notices.push(
      `Airlock redacted ${redactions} ${redactions === 1 ? 'value' : 'values'} of personal data from this result; you are not cleared to see ${redactions === 1 ? 'it' : 'them'}.`,
    );
  }
  for (const notice of notices) content.push({ type: 'text', text: notice });
  if (truncated) return { content };
  return {
    content,
    structuredContent: {
      status: 'completed',
      result: value,
      redactions,
      ...(page ? { page: { ...page } } : {}),
      ...(notices.length > 0 ? { message: notices.join(' ') } : {}),
    },
  };
}

/**
 * The page of a list result that starts at `offset` and fits `maxChars`, or `undefined` when the result
 * holds no list, or a sentence saying why `offset` is wrong.
 */
function pageOf(
  result: unknown,
  offset: number,
  maxChars: number,
): { value: unknown; page: PageInfo } | string | undefined {
  let field: string | null = null;
  let items: readonly unknown[];
  if (Array.isArray(result)) {
    items = result;
  } else if (isPlainObject(result)) {
    const lists = Object.entries(result).filter((entry): entry is [string, unknown[]] =>
      Array.isArray(entry[1]),
    );
    if (lists.length === 0)
      return offset > 0 ? 'resultOffset: this result holds no list to page through.' : undefined;
    [field, items] = lists.reduce((longest, entry) =>
      JSON.stringify(entry[1]).length > JSON.stringify(longest[1]).length ? entry : longest,
    );
  } else {
    return offset > 0 ? 'resultOffset: this result holds no list to page through.' : undefined;
  }
  const total = items.length;
  if (offset > total || (offset > 0 && offset === total)) {
    return `resultOffset: the list has ${total} items; give a resultOffset below ${total}.`;
  }
  const withList = (list: unknown[]) => (field === null ? list : { ...(result as object), [field]: list });
  // Room for the page's own fields in structuredContent.
  let size = JSON.stringify(withList([])).length + 200;
  let end = offset;
  while (end < total) {
    const itemSize = JSON.stringify(items[end] ?? null).length + 1;
    if (end > offset && size + itemSize > maxChars) break;
    size += itemSize;
    end += 1;
  }
  return {
    value: withList(items.slice(offset, end)),
    page: {
      field,
      offset,
      returned: end - offset,
      total,
      ...(end < total ? { nextOffset: end } : {}),
    },
  };
}

function pageNotice(page: PageInfo, toolName: string): string {
  const what = page.field === null ? 'items' : `items of "${page.field}"`;
  const shown = `This result shows ${what} ${page.offset + 1} to ${page.offset + page.returned} of ${page.total}.`;
  return page.nextOffset === undefined
    ? `${shown} That is the last page.`
    : `${shown} For the next page, call ${toolName} again with the same arguments plus "resultOffset": ${page.nextOffset}.`;
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

/** The request body as JSON, or `undefined` when it is not JSON or too large to parse here (the transport refuses those). */
function parsedMessageOf(event: APIGatewayProxyEvent, maxBodyBytes: number): unknown {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > maxBodyBytes) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isJsonRpcRequest(message: unknown): message is JsonRpcRequestLike {
  return isPlainObject(message) && typeof message.method === 'string';
}

/**
 * What is answered without the SDK: a JSON-RPC batch (removed from MCP in 2025-06-18: one message per
 * request, so each is authorized and recorded on its own), and a request of the 2025 wire whose
 * parameters do not fit the method (-32602 naming the parameter). Anything else, malformed JSON
 * included, goes on to the SDK or the stateless layer.
 */
function refuseBeforeMcp(message: unknown): APIGatewayProxyResult | undefined {
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
  return undefined;
}

/** A request of the 2025 wire whose parameters do not fit the method: -32602 naming the parameter. */
function invalidParamsOf(message: unknown): APIGatewayProxyResult | undefined {
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
