/**
 * `POST /v1/mcp` with the MCP SDK loaded on the first MCP request: the server, its transport and the
 * Ajv validator are ~250 KB of code that a function serving REST calls would otherwise parse and
 * evaluate at every cold start (lambdas/adapters/aws/on-demand.ts).
 */
import { onDemand } from '../adapters/aws/on-demand';
import type { McpHandler, McpHandlerOptions } from './mcp-endpoint';

/** The same handler as {@link import('./mcp-endpoint.js').createMcpHandler}, built on its first request. */
export function createMcpHandlerOnDemand(options: McpHandlerOptions): McpHandler {
  const handler = onDemand(async () => (await import('./mcp-endpoint.js')).createMcpHandler(options));
  return async (event) => (await handler())(event);
}
