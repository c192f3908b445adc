/**
 * The Cedar policies as a deciding function runs them, compiled once when the CDK app bundles the
 * function (policy-compiler.ts): validated against the schema (strict mode, `@id`, `@approval`), split
 * into policies with their Cedar JSON form, the schema's actions read, and the entities of the bundled
 * config checked against the schema. A function then skips all of that at cold start: it only
 * preparses the policy sets and warms Cedar up (PolicyEngine.fromCompiled). Validation moves to
 * `cdk synth`, where a bad policy fails the build with its file and line instead of failing every cold
 * start. This module loads no Cedar: a function reads the format before it decides whether to.
 */
import { createHash } from 'node:crypto';
import type { SchemaActions } from './policy-action-views';
import type { PolicyEntities } from './policy-entities';
import type { PolicySources, ValidatedPolicy } from './policy-validation';

/** The format of {@link CompiledPolicies}; a function refuses any other. */
export const COMPILED_POLICIES_FORMAT = 'airlock-compiled-policies/1';

export interface CompiledPolicies {
  readonly format: typeof COMPILED_POLICIES_FORMAT;
  /** sha256 (hex) of the schema and the policy files: the engine's `versionHash`. */
  readonly versionHash: string;
  /** The Cedar schema, to check entities other than the compiled ones against. */
  readonly schemaText: string;
  readonly actions: SchemaActions;
  /** Every policy, validated, in file order. */
  readonly policies: readonly ValidatedPolicy[];
  /** sha256 (hex) of the entities checked against the schema when compiling. */
  readonly entitiesHash: string;
}

/**
 * sha256 (hex) of the schema and every enforced policy file (by file name): what binds an approval to
 * its rules. Shadow policies are left out: trying one changes no rule, so it voids no pending approval.
 */
export function hashPolicySources(sources: PolicySources): string {
  const hash = createHash('sha256');
  hash.update(`schema\0${sources.schemaText}\0`);
  for (const file of [...sources.policies].sort((a, b) => a.fileName.localeCompare(b.fileName))) {
    hash.update(`policy\0${file.fileName}\0${file.text}\0`);
  }
  return hash.digest('hex');
}

/** sha256 (hex) of the entities as Cedar receives them. */
export function hashEntities(entities: PolicyEntities): string {
  return createHash('sha256').update(JSON.stringify(entities.entities)).digest('hex');
}

/** Whether `value` is compiled policies rather than policy sources. */
export function isCompiledPolicies(value: PolicySources | CompiledPolicies): value is CompiledPolicies {
  return (value as Partial<CompiledPolicies>).format === COMPILED_POLICIES_FORMAT;
}
