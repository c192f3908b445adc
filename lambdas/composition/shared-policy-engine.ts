/**
 * The Cedar policy engine of a process, shared like the other {@link SharedServices}. Apart from them
 * because only the functions that decide (the broker, the connector and the OAuth entry point) build
 * it: importing it loads Cedar's wasm, which the approvals and anchor functions neither carry nor load.
 */
import { PolicyEngine } from '../core/policy-engine';
import { buildEntities } from '../core/policy-entities';
import type { SharedServices } from './shared-services';

/** The Cedar policies, validated against the schema and preparsed once per process. */
export function sharedPolicyEngine(services: SharedServices): PolicyEngine {
  return services.once('policy', () =>
    PolicyEngine.create({ ...services.settings.policies, entities: buildEntities(services.config) }),
  );
}
