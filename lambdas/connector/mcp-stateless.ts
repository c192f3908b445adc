/**
 * MCP's stateless revision (2026-07-28, SEP-2575) on `POST /v1/mcp`, alongside the 2025-11-25 wire
 * the MCP SDK serves.
 *
 * The SDK pinned here (1.32.x) negotiates up to 2025-11-25 and knows neither `server/discover` nor the
 * per-request `_meta`, so this thin layer answers the stateless wire itself, from the same tool list
 * and tool-call functions as the SDK's handlers: no initialize handshake; every request names its
 * protocol version in the `MCP-Protocol-Version` header and in `_meta`, with the client's
 * capabilities; `server/discover` says what the server supports; the `Mcp-Method` and `Mcp-Name`
 * headers (SEP-2243) must repeat the body's method and tool name, so a gateway that routes or
 * authorizes on headers sees what runs. Refusals use the revision's codes and HTTP statuses:
 * -32020 (header mismatch) and -32602 (malformed `_meta`) with 400, -32022 (unsupported version, with
 * the supported ones) with 400, -32601 (removed or unknown method) with 404.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { headerOf } from '../core/api-request';
import { jsonResponse } from '../core/api-response';
import { McpProtocolError } from './mcp-protocol-error';

export { McpProtocolError } from './mcp-protocol-error';

/** The stateless revisions this endpoint speaks itself. */
export const STATELESS_PROTOCOL_VERSIONS: readonly string[] = ['2026-07-28'];
/** The revisions with an initialize handshake, which the MCP SDK serves. */
export const HANDSHAKE_PROTOCOL_VERSIONS: readonly string[] = [...SUPPORTED_PROTOCOL_VERSIONS];
/** Every revision this endpoint answers, newest first (what `server/discover` and -32022 list). */
export const SUPPORTED_MCP_PROTOCOL_VERSIONS: readonly string[] = [
  ...STATELESS_PROTOCOL_VERSIONS,
  ...HANDSHAKE_PROTOCOL_VERSIONS,
];

const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';
const META_CLIENT_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
const META_SERVER_INFO = 'io.modelcontextprotocol/serverInfo';

/** JSON-RPC error codes of the 2026-07-28 revision. */
export const StatelessErrorCode = {
  HeaderMismatch: -32020,
  MissingRequiredClientCapability: -32021,
  UnsupportedProtocolVersion: -32022,
  MethodNotFound: -32601,
  InvalidParams: -32602,
} as const;

/** What the stateless layer needs from the endpoint: the same functions the SDK's handlers use. */
export interface StatelessMcpServer {
  readonly serverInfo: { readonly name: string; readonly version: string };
  readonly instructions: string;
  listTools(cursor: string | undefined): Promise<{ tools: unknown[]; nextCursor?: string }>;
  callTool(params: Record<string, unknown>): Promise<CallToolResult>;
}

export interface JsonRpcRequestLike {
  readonly id?: unknown;
  readonly method: string;
  readonly params?: unknown;
}

/**
 * Whether a request speaks the stateless wire: its `MCP-Protocol-Version` is not a handshake revision
 * (a stateless one, or one this server does not know, which the stateless rules refuse with -32022),
 * or it has no version header but carries the stateless `_meta` or asks for `server/discover`.
 * Everything else (initialize, and requests of a 2025 session) goes to the MCP SDK.
 */
export function speaksStatelessWire(event: APIGatewayProxyEvent, message: JsonRpcRequestLike): boolean {
  const header = headerOf(event, 'mcp-protocol-version')?.trim();
  if (header !== undefined && header !== '') return !HANDSHAKE_PROTOCOL_VERSIONS.includes(header);
  if (message.method === 'server/discover') return true;
  const meta = isPlainObject(message.params) ? message.params._meta : undefined;
  return isPlainObject(meta) && Object.hasOwn(meta, META_PROTOCOL_VERSION);
}

/** Answers one stateless request (the caller is already authenticated). */
export async function handleStatelessRequest(
  event: APIGatewayProxyEvent,
  message: JsonRpcRequestLike,
  server: StatelessMcpServer,
  headers: Record<string, string>,
): Promise<APIGatewayProxyResult> {
  const id = typeof message.id === 'string' || typeof message.id === 'number' ? message.id : null;
  const refuse = (status: number, code: number, text: string, data?: unknown) =>
    jsonResponse(
      status,
      { jsonrpc: '2.0', id, error: { code, message: text, ...(data === undefined ? {} : { data }) } },
      headers,
    );
  if (!Object.hasOwn(message, 'id')) {
    // A notification (e.g. notifications/cancelled): nothing to answer on a stateless server.
    return { statusCode: 202, headers: { ...headers }, body: '' };
  }

  const headerVersion = headerOf(event, 'mcp-protocol-version')?.trim();
  if (!headerVersion) {
    return refuse(
      400,
      StatelessErrorCode.HeaderMismatch,
      'Missing MCP-Protocol-Version header: a request without an initialize handshake names its protocol version in this header and in _meta.',
    );
  }
  const params = isPlainObject(message.params) ? message.params : {};
  const meta = isPlainObject(params._meta) ? params._meta : undefined;
  const missing = [META_PROTOCOL_VERSION, META_CLIENT_CAPABILITIES].filter(
    (key) => meta?.[key] === undefined,
  );
  if (missing.length > 0) {
    return refuse(
      400,
      StatelessErrorCode.InvalidParams,
      `Invalid params: _meta lacks ${missing.join(' and ')}.`,
    );
  }
  if (meta?.[META_PROTOCOL_VERSION] !== headerVersion) {
    return refuse(
      400,
      StatelessErrorCode.HeaderMismatch,
      'The MCP-Protocol-Version header and _meta protocolVersion name different versions; send the same in both.',
    );
  }
  if (!isPlainObject(meta?.[META_CLIENT_CAPABILITIES])) {
    return refuse(
      400,
      StatelessErrorCode.InvalidParams,
      `Invalid params: _meta ${META_CLIENT_CAPABILITIES} must be an object.`,
    );
  }
  if (!STATELESS_PROTOCOL_VERSIONS.includes(headerVersion)) {
    return refuse(
      400,
      StatelessErrorCode.UnsupportedProtocolVersion,
      `Unsupported protocol version "${headerVersion.slice(0, 40)}": this server speaks ${SUPPORTED_MCP_PROTOCOL_VERSIONS.join(', ')}.`,
      { supported: [...SUPPORTED_MCP_PROTOCOL_VERSIONS], requested: headerVersion },
    );
  }
  const mismatch = standardHeaderMismatch(event, message.method, params);
  if (mismatch) return refuse(400, StatelessErrorCode.HeaderMismatch, mismatch);

  try {
    const result = await dispatch(message.method, params, server);
    if (result === undefined) {
      return refuse(
        404,
        StatelessErrorCode.MethodNotFound,
        `Method not found: ${message.method.slice(0, 60)}. This server offers server/discover, tools/list and tools/call.`,
      );
    }
    return jsonResponse(200, { jsonrpc: '2.0', id, result }, headers);
  } catch (error) {
    if (error instanceof McpProtocolError) {
      return refuse(400, error.code, error.message, error.data);
    }
    throw error;
  }
}

/** The result of a method this server offers on the stateless wire; `undefined` for any other method. */
async function dispatch(
  method: string,
  params: Record<string, unknown>,
  server: StatelessMcpServer,
): Promise<Record<string, unknown> | undefined> {
  // Tool lists follow the caller's token and the kill switch: cacheable only by this caller, and stale at once.
  const cacheHints = { ttlMs: 0, cacheScope: 'private' };
  const meta = { [META_SERVER_INFO]: { ...server.serverInfo } };
  if (method === 'server/discover') {
    return {
      resultType: 'complete',
      supportedVersions: [...SUPPORTED_MCP_PROTOCOL_VERSIONS],
      capabilities: { tools: { listChanged: false } },
      instructions: server.instructions,
      ...cacheHints,
      _meta: meta,
    };
  }
  if (method === 'tools/list') {
    const cursor = params.cursor;
    if (cursor !== undefined && typeof cursor !== 'string') {
      throw new McpProtocolError(
        StatelessErrorCode.InvalidParams,
        'Invalid params: cursor must be a string.',
      );
    }
    const listed = await server.listTools(cursor);
    return { resultType: 'complete', ...listed, ...cacheHints, _meta: meta };
  }
  if (method === 'tools/call') {
    const result = await server.callTool(params);
    return { resultType: 'complete', ...result, _meta: { ...result._meta, ...meta } };
  }
  return undefined;
}

/**
 * Why the `Mcp-Method` / `Mcp-Name` headers do not repeat the body (SEP-2243), or `undefined`.
 * Header names are case-insensitive; values are compared exactly after trimming optional whitespace.
 */
function standardHeaderMismatch(
  event: APIGatewayProxyEvent,
  method: string,
  params: Record<string, unknown>,
): string | undefined {
  const methodHeader = headerOf(event, 'mcp-method')?.trim();
  if (methodHeader === undefined) return 'Missing Mcp-Method header: it must repeat the request method.';
  if (methodHeader !== method) {
    return `The Mcp-Method header ("${methodHeader.slice(0, 40)}") does not match the request method ("${method.slice(0, 40)}").`;
  }
  if (method !== 'tools/call') return undefined;
  const name = typeof params.name === 'string' ? params.name : undefined;
  const nameHeader = headerOf(event, 'mcp-name')?.trim();
  if (name === undefined) return undefined;
  if (nameHeader === undefined)
    return 'Missing Mcp-Name header: for tools/call it must repeat the tool name.';
  if (nameHeader !== name) {
    return `The Mcp-Name header ("${nameHeader.slice(0, 80)}") does not match the tool name ("${name.slice(0, 80)}").`;
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
