/**
 * Every map of the pilot config is keyed by names that requests carry (workflow, connector, operation,
 * principal, model). Without a prototype, a request naming `constructor` or `__proto__` finds no entry,
 * instead of an inherited function. Applied to every config the schema returns (load-config.ts) and to
 * the config a Lambda function reads from its bundle (lambdas/adapters/aws/bundled-config.ts), which
 * `JSON.parse` gives back with ordinary objects.
 */
import type { AirlockConfig } from './schema';

/** A name-keyed map with no prototype: `map['__proto__']` or `'toString' in map` finds nothing. */
function ownKeysOnly<T>(record: Record<string, T>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, record);
}

/** Gives every name-keyed map of `config` no prototype (in place) and returns it. */
export function withoutPrototypes(config: AirlockConfig): AirlockConfig {
  for (const connector of Object.values(config.connectors)) {
    const operations = connector.operations as Record<string, { parameters?: Record<string, unknown> }>;
    for (const operation of Object.values(operations)) {
      // An MCP server's tools declare no parameters of their own: their pinned input schema governs.
      if (operation.parameters) operation.parameters = ownKeysOnly(operation.parameters);
    }
    Object.assign(connector, { operations: ownKeysOnly(operations) });
  }
  for (const workflow of Object.values(config.workflows))
    workflow.connectors = ownKeysOnly(workflow.connectors);
  config.prices.models = ownKeysOnly(config.prices.models);
  config.principals = ownKeysOnly(config.principals);
  config.groups = ownKeysOnly(config.groups);
  config.connectors = ownKeysOnly(config.connectors);
  config.workflows = ownKeysOnly(config.workflows);
  return config;
}
