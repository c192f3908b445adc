/**
 * A JSON-RPC error an MCP request handler raises. The MCP SDK's server sends `code`, `message` and
 * `data` of whatever a handler throws; its own `McpError` puts "MCP error <code>: " in front of the
 * message, and the client's `McpError` puts it there again, so a person read
 * "MCP error -32602: MCP error -32602: Unknown tool". This error's message goes on the wire as it is.
 */
export class McpProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'McpProtocolError';
  }
}

/** The message of an error an MCP client raised for a JSON-RPC error, without the prefix(es) the SDK added. */
export function mcpErrorMessageOf(error: { readonly message: string }): string {
  return error.message.replace(/^(MCP error -?\d+: )+/, '');
}
