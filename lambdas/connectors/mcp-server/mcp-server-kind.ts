/**
 * The `mcp-server` kind: an upstream MCP server (streamable HTTP) whose tools the config names are
 * exposed as operations, each pinned to the definition an operator reviewed (docs/mcp-servers.md).
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { ConfigError } from '../../../lib/config/config-error';
import type { ConnectorKind } from '../connector-kind';
import { KmsSubjectAssertionSigner } from './kms-subject-assertion-signer';
import { LocalSubjectAssertionSigner } from './local-subject-assertion-signer';
import {
  checkMcpServerConfig,
  type McpServerConnectorConfig,
  mcpServerConnectorSchema,
} from './mcp-server-config';
import { McpServerConnector } from './mcp-server-connector';
import { mcpServerInfrastructure, SUBJECT_ASSERTION_KEY_RESOURCE } from './mcp-server-infrastructure';
import { withPatternOperations } from './tool-patterns';
import { readToolPinFile, toolPinFilePath } from './tool-pin-file';
import type { SubjectAssertionSigner } from './upstream-token-exchange';

/** The kind's adapter: a token-exchange connector's subject assertion key; none for other auth types. */
export type McpServerAdapters = SubjectAssertionSigner | undefined;

export const mcpServerKind: ConnectorKind<McpServerConnectorConfig, McpServerAdapters> = {
  kind: 'mcp-server',
  configSchema: mcpServerConnectorSchema,
  checkConfig: checkMcpServerConfig,
  withFiles(config, { name, configPath }) {
    if (config.pins !== undefined) {
      throw new ConfigError(
        `${configPath}: connectors.${name}.pins: pins come from the connector's lock file (written by "airlock connectors pin ${name}"); remove them from the config.`,
      );
    }
    if (config.patternOperations !== undefined) {
      throw new ConfigError(
        `${configPath}: connectors.${name}.patternOperations: filled from the connector's lock file and its toolPatterns; remove it from the config.`,
      );
    }
    const file = readToolPinFile(toolPinFilePath(configPath, name));
    return file ? withPatternOperations({ ...config, pins: file.tools }, file.tools) : config;
  },
  // A workflow may name a tool a pattern exposes; whether it is pinned is known once the lock file is read.
  operationsFromFiles: (config) => (config.toolPatterns ?? []).length > 0,
  createConnector: (name, config, runtime) =>
    new McpServerConnector(name, config, {
      secretSource: runtime.secretSource,
      ca: runtime.ca,
      clock: runtime.clock,
      subjectSigner: runtime.adapters,
    }),
  infrastructure: mcpServerInfrastructure,
  aws: {
    adapters: ({ name, config, resources, client }) => {
      if (config.auth.type !== 'oauth2-token-exchange') return undefined;
      const keyArn = resources[SUBJECT_ASSERTION_KEY_RESOURCE];
      if (!keyArn) {
        throw new ConfigError(
          `connectors.${name}.auth: the stack bound no subject assertion key for this token-exchange connector; deploy the Foundation stack again.`,
        );
      }
      return new KmsSubjectAssertionSigner({ client: client('kms', () => new KMSClient({})), keyArn });
    },
    adapterMethods: ['sign', 'keyId'],
  },
  local: {
    adapters: ({ name, config, home }) =>
      config.auth.type === 'oauth2-token-exchange' ? new LocalSubjectAssertionSigner(home, name) : undefined,
    // A connector whose host the pilot runs a local MCP server for is pointed at it (loopback only).
    prepare: async ({ config }, { mcpServers }) => {
      const host = new URL(config.url).hostname.toLowerCase();
      const local = mcpServers && Object.hasOwn(mcpServers, host) ? mcpServers[host] : undefined;
      return local ? { ...config, url: local, allowedHosts: [new URL(local).hostname] } : config;
    },
  },
};
