/**
 * The Cedar policy engine of a process, shared like the other {@link SharedServices}. Apart from them
 * because only the functions that decide (the broker, the connector and the OAuth entry point) build
 * it: importing it loads Cedar's wasm, which the approvals and anchor functions neither carry nor load.
 */
import { isCompiledPolicies } from '../core/compiled-policies';
import { PolicyEngine } from '../core/policy-engine';
import { buildEntities } from '../core/policy-entities';
import type { SharedServices } from './shared-services';

/** The Cedar policies, validated against the schema (here, or when they were compiled) and preparsed once per process. */
export function sharedPolicyEngine(services: SharedServices): PolicyEngine {
  return services.once('policy', () => {
    const policies = services.settings.policies;
    const entities = buildEntities(services.config);
    return isCompiledPolicies(policies)
      ? PolicyEngine.fromCompiled(policies, entities)
      : PolicyEngine.create({ ...policies, entities });
  });
}
