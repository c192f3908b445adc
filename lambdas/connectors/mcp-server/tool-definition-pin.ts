/**
 * Tool-definition pins: a hash of what an upstream MCP server says a tool is (its name, description and
 * input schema). `airlock connectors pin` records the hashes of the exposed tools; at run time a tool
 * whose definition no longer hashes the same is refused until someone reviews it and pins again, so an
 * upstream that changes a tool after it was approved ("rug pull", tool poisoning) reaches no agent.
 */

import { createHash } from 'node:crypto';
import { AIRLOCK_TOOL_ARGUMENT_NAMES, isAirlockToolArgument } from '../../../lib/contracts/names';
import { canonicalJson } from '../../core/canonical-json';

/** What a pin covers of an upstream tool. */
export interface ToolDefinition {
  readonly name: string;
  readonly description?: string;
  readonly inputSchema: Readonly<Record<string, unknown>>;
}

/** Bounds on a tool's input schema: a deeper or larger one is refused at pin time (a schema bomb). */
export const TOOL_SCHEMA_LIMITS = {
  /** Nesting depth of objects and arrays. */
  maxDepth: 16,
  /** Canonical JSON length of the input schema, in characters. */
  maxChars: 32 * 1024,
  /** Length of the description, in characters. */
  maxDescriptionChars: 8 * 1024,
} as const;

/** The sha256 (hex) of a tool's canonical definition: name, description (absent = empty) and input schema. */
export function toolDefinitionHash(tool: ToolDefinition): string {
  const canonical = canonicalJson({
    name: tool.name,
    description: tool.description ?? '',
    inputSchema: tool.inputSchema,
  });
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * Why a tool definition cannot be pinned (a schema bomb: too deep, too large, or not canonical JSON),
 * or `undefined` when it can.
 */
export function toolDefinitionProblem(tool: ToolDefinition): string | undefined {
  const depth = depthOf(tool.inputSchema, TOOL_SCHEMA_LIMITS.maxDepth + 1);
  if (depth > TOOL_SCHEMA_LIMITS.maxDepth) {
    return `its input schema nests deeper than ${TOOL_SCHEMA_LIMITS.maxDepth} levels`;
  }
  let size: number;
  try {
    size = canonicalJson(tool.inputSchema).length;
  } catch (error) {
    return `its input schema is not plain JSON (${(error as Error).message})`;
  }
  if (size > TOOL_SCHEMA_LIMITS.maxChars) {
    return `its input schema is ${size} characters long (at most ${TOOL_SCHEMA_LIMITS.maxChars})`;
  }
  if ((tool.description ?? '').length > TOOL_SCHEMA_LIMITS.maxDescriptionChars) {
    return `its description is longer than ${TOOL_SCHEMA_LIMITS.maxDescriptionChars} characters`;
  }
  const properties = tool.inputSchema.properties;
  const taken =
    properties !== null && typeof properties === 'object'
      ? Object.keys(properties).filter(isAirlockToolArgument)
      : [];
  if (taken.length > 0) {
    return `its input names ${taken.join(', ')}, which Airlock adds to every tool it offers (${AIRLOCK_TOOL_ARGUMENT_NAMES.join(', ')}) and takes off before the call, so the tool would never receive it`;
  }
  return undefined;
}

/** Depth of nested objects and arrays, counted no further than `stop` (so a bomb costs nothing). */
function depthOf(value: unknown, stop: number): number {
  if (value === null || typeof value !== 'object') return 0;
  if (stop <= 0) return 1;
  let deepest = 0;
  for (const child of Object.values(value as Record<string, unknown>)) {
    deepest = Math.max(deepest, depthOf(child, stop - 1));
    if (deepest >= stop) break;
  }
  return deepest + 1;
}
