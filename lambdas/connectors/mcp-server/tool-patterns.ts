/**
 * Tool patterns of an mcp-server connector: one rule (access, Cedar action, classification) for every
 * upstream tool whose name matches a glob, e.g. `get-*`. A pattern exposes only tools that are pinned
 * in the connector's lock file: a tool the upstream adds later, even one named to match a pattern,
 * reaches no agent until an operator has reviewed and pinned it. A tool the config names under
 * `operations` is decided there (the exact name wins over any pattern); a tool matched by neither is
 * not exposed.
 */
import { OPERATION_NAME_PATTERN } from '../../../lib/contracts/names';
import type { McpServerConnectorConfig, McpToolConfig, PinnedTool } from './mcp-server-config';
import { upstreamToolOf } from './mcp-server-config';

/** A glob over MCP tool names: the tool-name characters, and `*` for any run of them. */
export const TOOL_GLOB_PATTERN = /^[A-Za-z0-9_.*-]{1,128}$/;

/** True when the tool's name matches the glob (`*` matches any run of characters, even none). */
export function toolGlobMatches(glob: string, tool: string): boolean {
  const source = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(tool);
}

/**
 * The operation name of a tool exposed by a pattern: the tool's name in camel case (`get-sum` →
 * `getSum`, `list_open_tickets` → `listOpenTickets`), or `undefined` when that is no operation name
 * (it must start with a letter and be at most 63 letters and digits).
 */
export function operationNameOfTool(tool: string): string | undefined {
  const [first, ...rest] = tool.split(/[-_.]+/);
  const name = first + rest.map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('');
  return OPERATION_NAME_PATTERN.test(name) ? name : undefined;
}

/** How the connector's patterns decide one upstream tool. */
export type PatternDecision =
  | { readonly exposed: true; readonly operation: string; readonly tool: McpToolConfig }
  | { readonly exposed: false; readonly why: string };

/**
 * Which of `tools` (upstream tool names, in any order) the connector's patterns expose, as which
 * operation. Tools the config names under `operations` are left out (the exact name wins). Decided in
 * the order of the sorted names, so the same tools always give the same operations.
 */
export function patternOperations(
  config: Pick<McpServerConnectorConfig, 'operations' | 'toolPatterns'>,
  tools: readonly string[],
  descriptionOf: (tool: string) => string,
): Map<string, PatternDecision> {
  const decisions = new Map<string, PatternDecision>();
  const patterns = config.toolPatterns ?? [];
  if (patterns.length === 0) return decisions;
  const exact = new Set(Object.entries(config.operations).map(([op, tool]) => upstreamToolOf(op, tool)));
  const taken = new Set(Object.keys(config.operations));
  for (const tool of [...new Set(tools)].sort()) {
    if (exact.has(tool)) continue;
    const pattern = patterns.find((candidate) => toolGlobMatches(candidate.match, tool));
    if (!pattern) continue;
    const operation = operationNameOfTool(tool);
    if (!operation) {
      decisions.set(tool, {
        exposed: false,
        why: 'its name gives no operation name (letters and digits, starting with a letter); name it under operations',
      });
      continue;
    }
    if (taken.has(operation)) {
      decisions.set(tool, {
        exposed: false,
        why: `its operation name "${operation}" is already taken; name it under operations`,
      });
      continue;
    }
    taken.add(operation);
    const { match: _match, description, ...rule } = pattern;
    decisions.set(tool, {
      exposed: true,
      operation,
      tool: {
        ...rule,
        tool,
        description: description ?? (descriptionOf(tool) || `The upstream tool ${tool}`),
      },
    });
  }
  return decisions;
}

/** The connector's config with the pinned tools its patterns expose added to its operations. */
export function withPatternOperations(
  config: McpServerConnectorConfig,
  pins: Readonly<Record<string, PinnedTool>>,
): McpServerConnectorConfig {
  const decisions = patternOperations(config, Object.keys(pins), (tool) => pins[tool].description);
  // Prototype-less, as the config loader keeps every map that requests name entries of.
  const operations: Record<string, McpToolConfig> = Object.assign(Object.create(null), config.operations);
  const added: string[] = [];
  for (const decision of decisions.values()) {
    if (!decision.exposed) continue;
    operations[decision.operation] = decision.tool;
    added.push(decision.operation);
  }
  return { ...config, operations, patternOperations: added };
}
