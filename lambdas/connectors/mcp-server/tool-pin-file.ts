/**
 * The lock file of an mcp-server connector: `<config folder>/mcp-pins/<connector>.json`, written by
 * `airlock connectors pin <connector>` and committed beside the config. The config loader puts its
 * pins into the connector's config (`pins`), so they travel in every bundle as the config does.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as z from 'zod';
import { ConfigError } from '../../../lib/config/config-error';
import { pinnedToolSchema } from './mcp-server-config';
import { toolDefinitionProblem } from './tool-definition-pin';

/** The lock file's content. */
export const toolPinFileSchema = z.strictObject({
  connector: z.string(),
  url: z.string(),
  pinnedAt: z.string(),
  /** Pinned tool definitions by upstream tool name. */
  tools: z.record(z.string(), pinnedToolSchema),
});

export type ToolPinFile = z.infer<typeof toolPinFileSchema>;

/** Where the lock file of a connector lives, given the config file's path. */
export function toolPinFilePath(configPath: string, connector: string): string {
  return join(dirname(configPath), 'mcp-pins', `${connector}.json`);
}

/**
 * The connector's lock file, or `undefined` when it has none yet.
 * @throws ConfigError naming the file when it is not a valid lock file
 */
export function readToolPinFile(path: string): ToolPinFile | undefined {
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new ConfigError(`${path}: not valid JSON; run "airlock connectors pin" again to rewrite it.`);
  }
  const result = toolPinFileSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(
      `${path}: ${issue.path.join('.') || '(top level)'}: ${issue.message}; run "airlock connectors pin" again to rewrite it.`,
    );
  }
  for (const [name, tool] of Object.entries(result.data.tools)) {
    const problem = toolDefinitionProblem({
      name,
      description: tool.description,
      inputSchema: tool.inputSchema,
    });
    if (problem) {
      throw new ConfigError(
        `${path}: tools.${name}: ${problem}; this tool cannot be offered (run "airlock connectors pin" again, which refuses it).`,
      );
    }
  }
  return result.data;
}

export function writeToolPinFile(path: string, file: ToolPinFile): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
}
