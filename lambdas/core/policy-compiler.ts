/**
 * Compiles the Cedar policies for a deciding Lambda function (see compiled-policies.ts): run by the
 * house function construct when it bundles one, with the entities of the config it bundles.
 */
import {
  COMPILED_POLICIES_FORMAT,
  type CompiledPolicies,
  hashEntities,
  hashPolicySources,
} from './compiled-policies';
import { schemaActionsOf } from './policy-action-views';
import type { PolicyEntities } from './policy-entities';
import { type PolicySources, validatePolicyEntities, validatePolicySources } from './policy-validation';

/**
 * Validates the policies and the entities against the schema and compiles what a deciding function needs.
 * @throws PolicyValidationError naming the file and line of every problem.
 */
export function compilePolicies(sources: PolicySources, entities: PolicyEntities): CompiledPolicies {
  const policies = validatePolicySources(sources);
  validatePolicyEntities(entities, sources.schemaText);
  return {
    format: COMPILED_POLICIES_FORMAT,
    versionHash: hashPolicySources(sources),
    schemaText: sources.schemaText,
    actions: schemaActionsOf(sources.schemaText),
    policies,
    entitiesHash: hashEntities(entities),
  };
}
