/**
 * The `mcp-server` kind: an upstream MCP server (streamable HTTP) whose tools the config names are
 * exposed as operations, each pinned to the definition an operator reviewed (docs/mcp-servers.md).
 */
import type { ConnectorKind } from '../connector-kind';
import {
  checkMcpServerConfig,
  type McpServerConnectorConfig,
  mcpServerConnectorSchema,
} from './mcp-server-config';
import { McpServerConnector } from './mcp-server-connector';
import { mcpServerInfrastructure } from './mcp-server-infrastructure';

export const mcpServerKind: ConnectorKind<McpServerConnectorConfig, undefined> = {
  kind: 'mcp-server',
  configSchema: mcpServerConnectorSchema,
  checkConfig: checkMcpServerConfig,
  createConnector: (name, config, runtime) =>
    new McpServerConnector(name, config, {
      secretSource: runtime.secretSource,
      ca: runtime.ca,
      clock: runtime.clock,
    }),
  infrastructure: mcpServerInfrastructure,
  aws: { adapters: () => undefined },
  local: { adapters: () => undefined },
};
