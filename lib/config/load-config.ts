import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type * as z from 'zod';
import { connectorKindOf } from '../../lambdas/connectors/connector-kind-lookup';
import { ConfigError } from './config-error';
import { type AirlockConfig, configSchema } from './schema';
import { withoutPrototypes } from './without-prototypes';

/** The pilot config shipped with the kit; `AIRLOCK_CONFIG` or the CDK context `config` point elsewhere. */
export const DEFAULT_CONFIG_PATH = 'config/airlock.config.yaml';

// ConfigError lives in its own module so the config schema's parts (the connector kinds) can throw it
// without importing this loader; importers of the loader keep getting it from here.
export { ConfigError } from './config-error';

function pathOf(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((segment, i) =>
      typeof segment === 'number' ? `[${segment}]` : `${i === 0 ? '' : '.'}${String(segment)}`,
    )
    .join('');
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map((key) => `${pathOf([...issue.path, key])}: unknown field "${key}" (check its spelling)`)
      .join('; ');
  }
  let got = '';
  const value = issue.path.reduce<unknown>(
    (node, key) =>
      node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined,
    input,
  );
  if (issue.code === 'invalid_type' && value === undefined) {
    return `${pathOf(issue.path)}: missing; ${issue.message.replace(/^Invalid input: /, '')}`;
  }
  if (value !== undefined && (typeof value !== 'object' || value === null))
    got = ` (got ${JSON.stringify(value)})`;
  return `${pathOf(issue.path)}: ${issue.message.replace(/^Invalid input: /, '')}${got}`;
}

/** Validates an already-parsed config object. Throws {@link ConfigError}. */
export function parseConfig(input: unknown, source = 'config'): AirlockConfig {
  const result = configSchema.safeParse(input);
  if (result.success) return withoutPrototypes(result.data);
  const issues = result.error.issues.map((issue) => describeIssue(issue, input));
  const more =
    issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  throw new ConfigError(`${source}: ${issues[0]}${more}`, issues);
}

export interface LoadConfigOptions {
  /**
   * Check that the workflows' operations of connectors whose kind adds operations from its files
   * exist once the files are read. Off only for `airlock connectors pin`, which writes those files.
   * @default true
   */
  readonly checkOperationsFromFiles?: boolean;
}

/** Reads and validates a YAML or JSON pilot config file. Throws {@link ConfigError}. */
export function loadConfig(
  path: string = DEFAULT_CONFIG_PATH,
  options: LoadConfigOptions = {},
): AirlockConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(
      `${path}: cannot read the config file (${(cause as NodeJS.ErrnoException).code})`,
      [],
      {
        cause,
      },
    );
  }
  let input: unknown;
  try {
    input = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (cause) {
    const first = String((cause as Error).message).split('\n')[0];
    throw new ConfigError(`${path}: not valid YAML: ${first}`, [], { cause });
  }
  const config = parseConfig(input, path);
  // Files the connectors point at beside the config (the pinned MCP tools), read in by their kinds.
  for (const [name, connector] of Object.entries(config.connectors)) {
    const kind = connectorKindOf(connector.kind);
    if (kind.withFiles) config.connectors[name] = kind.withFiles(connector, { name, configPath: path });
  }
  if (options.checkOperationsFromFiles !== false) checkWorkflowOperationsFromFiles(config, path);
  return config;
}

/**
 * A workflow's operations of a connector whose kind adds operations from its files (an mcp-server's tool
 * patterns) exist only once the files are read: checked here, naming the field as the schema would.
 */
function checkWorkflowOperationsFromFiles(config: AirlockConfig, path: string): void {
  for (const [workflowName, workflow] of Object.entries(config.workflows)) {
    for (const [connectorName, operations] of Object.entries(workflow.connectors)) {
      const connector = config.connectors[connectorName];
      if (!connector || connectorKindOf(connector.kind).operationsFromFiles?.(connector) !== true) continue;
      operations.forEach((op, i) => {
        if (Object.hasOwn(connector.operations, op)) return;
        throw new ConfigError(
          `${path}: workflows.${workflowName}.connectors.${connectorName}.${i}: unknown operation "${op}" of connector "${connectorName}"; expected one of: ${Object.keys(connector.operations).join(', ')} (a tool pattern exposes a tool once "airlock connectors pin ${connectorName}" has pinned it)`,
        );
      });
    }
  }
}
