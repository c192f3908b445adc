import type { Command } from 'commander';
import { LocalSubjectAssertionSigner } from '../lambdas/connectors/mcp-server/local-subject-assertion-signer';
import {
  type McpServerConnectorConfig,
  type PinnedTool,
  upstreamToolOf,
} from '../lambdas/connectors/mcp-server/mcp-server-config';
import { McpServerConnector } from '../lambdas/connectors/mcp-server/mcp-server-connector';
import {
  toolDefinitionHash,
  toolDefinitionProblem,
} from '../lambdas/connectors/mcp-server/tool-definition-pin';
import { patternOperations } from '../lambdas/connectors/mcp-server/tool-patterns';
import { toolPinFilePath, writeToolPinFile } from '../lambdas/connectors/mcp-server/tool-pin-file';
import type { SubjectAssertionSigner } from '../lambdas/connectors/mcp-server/upstream-token-exchange';
import { AirlockError } from '../lambdas/core/errors';
import type { SecretSource } from '../lambdas/core/ports';
import { startLocalMcpUpstreams } from '../local/local-mcp-upstreams';
import { type CliContext, CliError, EXIT } from './cli-context';
import { addTargetOptions, resolveTarget, type TargetOptions } from './cli-target';
import { withOperatorPorts } from './operator-ports';

const PIN_TARGET = { acts: 'state' } as const;

/**
 * `airlock connectors pin <connector>`: records the hash of each exposed tool's definition of an
 * mcp-server connector in its lock file; `--check` compares instead and exits 1 on any difference.
 * The upstream's credentials are read as the connector reads them: from Secrets Manager for a
 * deployment (the default), from the local secret store with `--local`, where an upstream the local
 * pilot runs itself (server-everything for the example's `everything`) is started for the run.
 */
export function registerConnectorsCommands(program: Command, context: CliContext): void {
  const connectors = program
    .command('connectors')
    .description('Pin the tools of upstream MCP server connectors.');
  const pin = connectors
    .command('pin')
    .description(
      "Read the upstream MCP server's tools and write the hashes of the exposed ones (named under operations, or pinned by a toolPatterns rule) to config/mcp-pins/<connector>.json (commit it). Upstream credentials come from Secrets Manager (the secret the config names), or with --local from the local secret store (secrets/ in the local state folder).",
    )
    .argument('<connector>', 'an mcp-server connector of the config')
    .option(
      '--check',
      'compare with the lock file instead of writing it; exit 1 when a tool changed, is missing or unpinned',
    )
    .option(
      '--as <principal>',
      "for a connector with auth oauth2-token-exchange: the principal the upstream lists the tools for (signed with the connector's local subject assertion key; needs --local)",
    );
  addTargetOptions(pin, PIN_TARGET).action(
    async (name: string, options: TargetOptions & { check?: boolean; as?: string }) => {
      // A workflow may already name a tool a pattern matches that is pinned only by this run.
      const config = context.loadConfig({ checkOperationsFromFiles: false });
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
      const target = await resolveTarget(context, options, PIN_TARGET);
      if (exchange && target.kind !== 'local') {
        // The deployment's subject assertion key is a KMS key only the connector functions may use.
        throw new CliError(
          `--local: ${name} lists its tools per signed-in user (auth oauth2-token-exchange), and only the connector functions may sign for the deployment; pin it against the upstream with --local --as <principal>, with the upstream trusting the local subject key.`,
          EXIT.usage,
        );
      }
      const who: Subject = {
        subject: options.as,
        ...(exchange && { signer: new LocalSubjectAssertionSigner(context.home, name) }),
      };
      await withOperatorPorts(target, async (ports) => {
        // Locally, an upstream the pilot runs itself is started for this run, as `npm start` does.
        const local = target.kind === 'local' ? await startLocalMcpUpstreams(config, [name]) : undefined;
        try {
          const host = new URL(connectorConfig.url).hostname.toLowerCase();
          const localUrl = local && Object.hasOwn(local.urls, host) ? local.urls[host] : undefined;
          const reached: McpServerConnectorConfig = localUrl
            ? { ...connectorConfig, url: localUrl, allowedHosts: [new URL(localUrl).hostname] }
            : connectorConfig;
          if (options.check) await checkPins(context, name, reached, ports.upstreamSecrets(), who);
          else await writePins(context, name, connectorConfig, reached, ports.upstreamSecrets(), who);
        } finally {
          await local?.close();
        }
      });
    },
  );
}

/** Whom a token-exchange connector lists the tools for, and the key that signs for them. */
interface Subject {
  subject: string | undefined;
  signer?: SubjectAssertionSigner;
}

async function checkPins(
  context: CliContext,
  name: string,
  config: McpServerConnectorConfig,
  secretSource: SecretSource,
  who: Subject,
): Promise<void> {
  const status = await withConnector(name, config, secretSource, who, (connector) =>
    connector.pinStatus(undefined, who.subject),
  );
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
}

async function writePins(
  context: CliContext,
  name: string,
  written: McpServerConnectorConfig,
  reached: McpServerConnectorConfig,
  secretSource: SecretSource,
  who: Subject,
): Promise<void> {
  const upstream = await withConnector(name, reached, secretSource, who, (connector) =>
    connector.listUpstreamTools(undefined, undefined, undefined, who.subject),
  );
  const byName = new Map(upstream.map((tool) => [tool.name, tool]));
  const toPin: string[] = [];
  // The tools named under operations are those written in the config, not those a pattern added from
  // the old lock file (which are decided again below, from what the upstream offers now).
  const pinnedByPattern = new Set(written.patternOperations ?? []);
  for (const [operation, tool] of Object.entries(written.operations)) {
    if (pinnedByPattern.has(operation)) continue;
    const toolName = upstreamToolOf(operation, tool);
    if (!byName.has(toolName)) {
      throw new CliError(
        `connectors.${name}.operations.${operation}: the upstream offers no tool "${toolName}"; it offers: ${upstream.map((t) => t.name).join(', ')}.`,
        EXIT.failed,
      );
    }
    toPin.push(toolName);
  }
  const explicit = Object.fromEntries(
    Object.entries(written.operations).filter(([operation]) => !pinnedByPattern.has(operation)),
  );
  const patterned = patternOperations(
    { operations: explicit, toolPatterns: written.toolPatterns },
    upstream.map((tool) => tool.name),
    (tool) => byName.get(tool)?.description ?? '',
  );
  const skipped: string[] = [];
  for (const [tool, decision] of patterned) {
    if (!decision.exposed) {
      skipped.push(`  ${tool}: not exposed, ${decision.why}`);
      continue;
    }
    // A tool only a pattern matched is left out when it cannot be pinned (a tool the config names fails
    // the run below): the operator asked for "tools like these", not for that tool.
    const definition = byName.get(tool);
    const problem = definition && toolDefinitionProblem(definition);
    if (problem) skipped.push(`  ${tool}: not pinned, ${problem}`);
    else toPin.push(tool);
  }
  const tools: Record<string, PinnedTool> = {};
  for (const toolName of toPin) {
    const definition = byName.get(toolName);
    if (!definition) continue;
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
    url: written.url,
    pinnedAt: new Date().toISOString(),
    tools,
  });
  context.result(
    [
      `Pinned ${Object.keys(tools).length} tool(s) of ${name} in ${path}:`,
      ...Object.entries(tools).map(([t, p]) => `  ${t} ${p.sha256}`),
      ...(skipped.length > 0 ? ['Matched by a pattern but not pinned:', ...skipped] : []),
    ],
    {
      connector: name,
      file: path,
      tools: Object.fromEntries(Object.entries(tools).map(([t, p]) => [t, p.sha256])),
    },
  );
}

/** Runs `work` with a connector over `config`, always closed; its errors as the CLI's. */
async function withConnector<T>(
  name: string,
  config: McpServerConnectorConfig,
  secretSource: SecretSource,
  who: Subject,
  work: (connector: McpServerConnector) => Promise<T>,
): Promise<T> {
  const connector = new McpServerConnector(name, config, {
    secretSource,
    ...(who.signer && { subjectSigner: who.signer }),
  });
  try {
    return await work(connector);
  } catch (error) {
    if (error instanceof AirlockError) throw new CliError(error.message, EXIT.failed, { cause: error });
    throw error;
  } finally {
    connector.close();
  }
}
