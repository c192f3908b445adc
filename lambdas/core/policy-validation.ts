/**
 * The policy files and the entities, checked against the Cedar schema once, when an engine is created:
 * syntax, strict-mode types, the `@id` every decision names, the `@approval` of a "needs approval"
 * forbid, and unique ids. Apart from the decisions because it runs once per process and is all about
 * pointing an author at the line to fix; nothing here runs per request.
 */
import {
  checkParseEntities,
  checkParseSchema,
  type PolicyJson,
  policySetTextToParts,
  policyToJson,
  validate,
} from '@cedar-policy/cedar-wasm/nodejs';
import type { PolicyEntities } from './policy-entities';
import {
  describeCedarError,
  issuesOf,
  locate,
  type PolicyIssue,
  PolicyValidationError,
} from './policy-validation-error';

/** One policy file as read from disk (or embedded): its name is what error messages point at. */
export interface PolicyFile {
  readonly fileName: string;
  readonly text: string;
}

/** The Cedar schema and policy files of a deployment. */
export interface PolicySources {
  readonly schemaText: string;
  /** Named in schema errors. @default 'airlock.cedarschema' */
  readonly schemaFileName?: string;
  readonly policies: readonly PolicyFile[];
  /**
   * Shadow (log-only) policies (`policies/shadow/*.cedar`): validated like the others and evaluated
   * beside them, but they never change a decision; what they would have changed is recorded.
   * @default - none
   */
  readonly shadowPolicies?: readonly PolicyFile[];
}

/** A policy of the set, as written. */
export interface PolicyInfo {
  readonly id: string;
  readonly effect: 'permit' | 'forbid';
  readonly fileName: string;
  readonly line: number;
  /** The `@approval` group of a "needs approval" forbid. */
  readonly approverGroup?: string;
  /** A shadow policy: evaluated and recorded, never enforced. */
  readonly shadow?: true;
}

/** A policy that passed validation: what it is, its text (for Cedar) and its JSON form (to see what it reads). */
export interface ValidatedPolicy extends PolicyInfo {
  readonly text: string;
  readonly json: PolicyJson;
}

/** One policy as split from its file, before its annotations are checked. */
interface PolicyPart {
  readonly file: PolicyFile;
  readonly text: string;
  /** UTF-8 byte offset of the policy text in its file (Cedar's unit), or undefined when not found. */
  readonly byteOffset?: number;
  readonly line: number;
  /** From a shadow policy file. */
  readonly shadow?: true;
}

/** Splits one file into its policies, each located in the file. */
function splitPolicyFile(file: PolicyFile, issues: PolicyIssue[], shadow = false): PolicyPart[] {
  const parts = policySetTextToParts(file.text);
  if (parts.type === 'failure') {
    issues.push(...issuesOf(file.fileName, file.text, parts.errors));
    return [];
  }
  if (parts.policy_templates.length > 0) {
    issues.push({
      fileName: file.fileName,
      message: 'policy templates are not supported; write static policies',
    });
  }
  let cursor = 0;
  return parts.policies.map((text) => {
    // Cedar hands back each policy's own text; find it to report lines in the author's file.
    const found = file.text.indexOf(text, cursor);
    const offset = found >= 0 ? found : cursor;
    if (found >= 0) cursor = found + text.length;
    const before = file.text.slice(0, offset);
    return {
      file,
      text,
      line: before.split('\n').length,
      ...(found >= 0 ? { byteOffset: Buffer.byteLength(before, 'utf8') } : {}),
      ...(shadow ? { shadow: true as const } : {}),
    };
  });
}

/** Reads a policy's `@id`, effect and `@approval`, refusing what the engine cannot name or use. */
function describePolicy(part: PolicyPart, issues: PolicyIssue[]): ValidatedPolicy | undefined {
  const { file, line, text, shadow } = part;
  const json = policyToJson(text);
  if (json.type === 'failure') {
    issues.push(...issuesOf(file.fileName, file.text, json.errors));
    return undefined;
  }
  const annotations = json.json.annotations ?? {};
  const id = annotations.id;
  if (!id) {
    issues.push({
      fileName: file.fileName,
      line,
      column: 1,
      message: 'policy has no @id annotation; add @id("what-it-decides") so decisions can name it',
    });
    return undefined;
  }
  const approverGroup = annotations.approval;
  if (approverGroup !== undefined && (json.json.effect !== 'forbid' || approverGroup === '')) {
    issues.push({
      fileName: file.fileName,
      line,
      column: 1,
      message: `@approval belongs on a forbid policy and names the approving group, e.g. @approval("managers") (policy "${id}")`,
    });
    return undefined;
  }
  return {
    id,
    effect: json.json.effect,
    fileName: file.fileName,
    line,
    text,
    json: json.json,
    ...(approverGroup ? { approverGroup } : {}),
    ...(shadow ? { shadow } : {}),
  };
}

/**
 * Validates the policy files against the schema in strict mode and reads each policy's annotations.
 * Shadow policies are validated with the others (one namespace of ids), and marked `shadow`.
 * @returns every policy, in file order, the shadow ones last.
 * @throws PolicyValidationError naming the file and line of every problem.
 */
export function validatePolicySources(sources: PolicySources): ValidatedPolicy[] {
  const schemaFileName = sources.schemaFileName ?? 'airlock.cedarschema';
  const schemaCheck = checkParseSchema(sources.schemaText);
  if (schemaCheck.type === 'failure') {
    throw new PolicyValidationError(issuesOf(schemaFileName, sources.schemaText, schemaCheck.errors));
  }

  const issues: PolicyIssue[] = [];
  const parts = [
    ...sources.policies.flatMap((file) => splitPolicyFile(file, issues)),
    ...(sources.shadowPolicies ?? []).flatMap((file) => splitPolicyFile(file, issues, true)),
  ];
  if (issues.length > 0) throw new PolicyValidationError(issues);

  // One validation of the whole set (the schema is parsed once); each policy under its index, so
  // Cedar's locations are offsets into that policy's text, which we know the place of in its file.
  const answer = validate({
    schema: sources.schemaText,
    policies: { staticPolicies: Object.fromEntries(parts.map((part, i) => [String(i), part.text])) },
    validationSettings: { mode: 'strict' },
  });
  if (answer.type === 'failure') {
    throw new PolicyValidationError(issuesOf(schemaFileName, sources.schemaText, answer.errors));
  }
  for (const { policyId, error } of answer.validationErrors) {
    const part = parts[Number(policyId)];
    const start = error.sourceLocations?.[0]?.start;
    if (!part) {
      issues.push({ fileName: 'policies', message: describeCedarError(error) });
    } else if (start === undefined || part.byteOffset === undefined) {
      issues.push({
        fileName: part.file.fileName,
        line: part.line,
        column: 1,
        message: describeCedarError(error),
      });
    } else {
      issues.push({
        fileName: part.file.fileName,
        ...locate(part.file.text, part.byteOffset + start),
        message: describeCedarError(error),
      });
    }
  }

  const policies = parts
    .map((part) => describePolicy(part, issues))
    .filter((p): p is ValidatedPolicy => p !== undefined);
  const seen = new Map<string, ValidatedPolicy>();
  for (const policy of policies) {
    const first = seen.get(policy.id);
    if (first) {
      issues.push({
        fileName: policy.fileName,
        line: policy.line,
        column: 1,
        message: `duplicate @id("${policy.id}"), first used at ${first.fileName}:${first.line}; ids must be unique`,
      });
    } else {
      seen.set(policy.id, policy);
    }
  }
  if (issues.length > 0) throw new PolicyValidationError(issues);
  return policies;
}

/**
 * Checks the entities built from the pilot config against the schema. Done once here so that no
 * decision needs to parse them against the schema again.
 * @throws PolicyValidationError naming every entity problem.
 */
export function validatePolicyEntities(entities: PolicyEntities, schemaText: string): void {
  const entitiesCheck = checkParseEntities({
    entities: [...entities.entities],
    schema: schemaText,
  });
  if (entitiesCheck.type === 'failure') {
    throw new PolicyValidationError(
      entitiesCheck.errors.map((e) => ({
        fileName: 'entities built from the pilot config',
        message: describeCedarError(e),
      })),
    );
  }
}
