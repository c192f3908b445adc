import type { Command } from 'commander';
import { FileSecretSource } from '../lambdas/adapters/local/file-secret-source';
import { LocalSubjectAssertionSigner } from '../lambdas/connectors/mcp-server/local-subject-assertion-signer';
import { upstreamToolOf } from '../lambdas/connectors/mcp-server/mcp-server-config';
import { McpServerConnector } from '../lambdas/connectors/mcp-server/mcp-server-connector';
import {
  toolDefinitionHash,
  toolDefinitionProblem,
} from '../lambdas/connectors/mcp-server/tool-definition-pin';
import { toolPinFilePath, writeToolPinFile } from '../lambdas/connectors/mcp-server/tool-pin-file';
import { AirlockError } from '../lambdas/core/errors';
import { type CliContext, CliError, EXIT } from './cli-context';

/**
 * `airlock connectors pin <connector>`: records the hash of each exposed tool's definition of an
 * mcp-server connector in its lock file; `--check` compares instead and exits 1 on any difference.
 */
export function registerConnectorsCommands(program: Command, context: CliContext): void {
  const connectors = program
    .command('connectors')
    .description('Pin the tools of upstream MCP server connectors.');
  connectors
    .command('pin')
    .description(
      "Read the upstream MCP server's tools and write the hashes of the exposed ones to config/mcp-pins/<connector>.json (commit it). Credentials come from the local secret store (secrets/ in the local state folder).",
    )
    .argument('<connector>', 'an mcp-server connector of the config')
    .option(
      '--check',
      'compare with the lock file instead of writing it; exit 1 when a tool changed, is missing or unpinned',
    )
    .option(
      '--as <principal>',
      "for a connector with auth oauth2-token-exchange: the principal the upstream lists the tools for (signed with the connector's local subject assertion key)",
    )
    .action(async (name: string, options: { check?: boolean; as?: string }) => {
      const config = context.loadConfig();
      const connectorConfig = Object.hasOwn(config.connectors, name) ? config.connectors[name] : undefined;
      if (connectorConfig?.kind !== 'mcp-server') {
        const candidates = Object.entries(config.connectors)
          .filter(([, c]) => c.kind === 'mcp-server')
          .map(([n]) => n);
        throw new CliError(
          `<connector>: "${name}" is not an mcp-server connector of ${context.configPath}; expected one of: ${candidates.join(', ') || '(none)'}.`,
          EXIT.usage,
        );
      }
      const exchange = connectorConfig.auth.type === 'oauth2-token-exchange';
      if (exchange && options.as === undefined) {
        throw new CliError(
          `--as: ${name} acts on behalf of the signed-in user (auth oauth2-token-exchange); name the principal to list its tools for, e.g. --as ${Object.keys(config.principals)[0] ?? 'alice'}.`,
          EXIT.usage,
        );
      }
      if (options.as !== undefined && !Object.hasOwn(config.principals, options.as)) {
        throw new CliError(
          `--as: "${options.as}" is not a principal of ${context.configPath}; expected one of: ${Object.keys(config.principals).join(', ')}.`,
          EXIT.usage,
        );
      }
      const subject = options.as;
      const connector = new McpServerConnector(name, connectorConfig, {
        secretSource: new FileSecretSource(context.home),
        ...(exchange && { subjectSigner: new LocalSubjectAssertionSigner(context.home, name) }),
      });
      try {
        if (options.check) {
          const status = await connector.pinStatus(undefined, subject);
          const bad = status.filter((s) => s.status !== 'pinned');
          context.result(
            status.map((s) => `  ${s.operation} (${s.tool}): ${s.status}`),
            { connector: name, tools: status },
          );
          if (bad.length > 0) {
            throw new CliError(
              `${bad.length} tool(s) of ${name} do not match their pins: ${bad.map((s) => `${s.tool} (${s.status})`).join(', ')}. Review them, then run "airlock connectors pin ${name}".`,
              EXIT.failed,
            );
          }
          return;
        }
        const upstream = await connector.listUpstreamTools(undefined, undefined, undefined, subject);
        const tools: Record<
          string,
          { sha256: string; description: string; inputSchema: Record<string, unknown> }
        > = {};
        for (const [operation, tool] of Object.entries(connectorConfig.operations)) {
          const toolName = upstreamToolOf(operation, tool);
          const definition = upstream.find((candidate) => candidate.name === toolName);
          if (!definition) {
            throw new CliError(
              `connectors.${name}.operations.${operation}: the upstream offers no tool "${toolName}"; it offers: ${upstream.map((t) => t.name).join(', ')}.`,
              EXIT.failed,
            );
          }
          const problem = toolDefinitionProblem(definition);
          if (problem) {
            throw new CliError(`The upstream tool "${toolName}" cannot be pinned: ${problem}.`, EXIT.failed);
          }
          tools[toolName] = {
            sha256: toolDefinitionHash(definition),
            description: definition.description ?? '',
            inputSchema: definition.inputSchema as Record<string, unknown>,
          };
        }
        const path = toolPinFilePath(context.configPath, name);
        writeToolPinFile(path, {
          connector: name,
          url: connectorConfig.url,
          pinnedAt: new Date().toISOString(),
          tools,
        });
        context.result(
          [
            `Pinned ${Object.keys(tools).length} tool(s) of ${name} in ${path}:`,
            ...Object.entries(tools).map(([t, p]) => `  ${t} ${p.sha256}`),
          ],
          {
            connector: name,
            file: path,
            tools: Object.fromEntries(Object.entries(tools).map(([t, p]) => [t, p.sha256])),
          },
        );
      } catch (error) {
        if (error instanceof AirlockError) throw new CliError(error.message, EXIT.failed, { cause: error });
        throw error;
      } finally {
        connector.close();
      }
    });
}
