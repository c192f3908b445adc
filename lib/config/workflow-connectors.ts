/**
 * What a function that serves only some workflows needs to know of the config, apart from the schema
 * module (zod, the whole config schema): a Lambda bundle imports this, not `schema.ts`.
 */
import type { AirlockConfig } from './schema';

/**
 * The connectors the given workflows call, in config order: what a function serving only those
 * workflows (the OAuth entry point serves one) is granted and builds. None for a workflow the config
 * does not have.
 */
export function connectorsOfWorkflows(config: AirlockConfig, workflows: readonly string[]): string[] {
  const used = new Set(
    workflows.flatMap((workflow) =>
      Object.hasOwn(config.workflows, workflow) ? Object.keys(config.workflows[workflow].connectors) : [],
    ),
  );
  return Object.keys(config.connectors).filter((name) => used.has(name));
}
