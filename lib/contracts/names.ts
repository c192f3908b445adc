/**
 * Name rules every side of Airlock agrees on: config keys, URL path segments, Cedar entity ids, SSM
 * parameter names, metric dimensions, certificate common names and token scopes. One definition, so a
 * name the config accepts is a name every route, table and parameter accepts.
 */

/** Source of {@link NAME_PATTERN}, for composing other patterns. */
export const NAME_SOURCE = '[a-z][a-z0-9-]{0,62}';

/**
 * Principals, groups, workflows, connectors and the stage: lower-case letters, digits and dashes,
 * starting with a letter, at most 63 characters (a DNS label, an SSM path segment, a certificate CN).
 */
export const NAME_PATTERN = new RegExp(`^${NAME_SOURCE}$`);

/** What {@link NAME_PATTERN} expects, in words, for error messages. */
export const NAME_RULE = 'lower-case letters, digits and dashes, starting with a letter (at most 63)';

/** Operation names: letters and digits, starting with a letter (e.g. `lookupGlCode`). */
export const OPERATION_NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9]{0,62}$/;

/** What {@link OPERATION_NAME_PATTERN} expects, in words. */
export const OPERATION_NAME_RULE = 'letters and digits, starting with a letter (e.g. lookupGlCode)';

/** What an operation does to the enterprise system; the second half of a scope. */
export const ACCESS_LEVELS = ['read', 'write', 'export'] as const;

/** One access level. */
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

/** One scope of an access token: `<connector>:<read|write|export>`. */
export const ACCESS_SCOPE_PATTERN = new RegExp(`^${NAME_SOURCE}:(${ACCESS_LEVELS.join('|')})$`);

/**
 * The scope that lets a token report LLM usage (`POST /v1/usage`): granted only when asked for, and
 * only for a workflow that enables usage reports (config `workflows.<w>.usageReports.enabled`).
 */
export const USAGE_REPORT_SCOPE = 'usage:report';

/** Any scope of an access token: a connector's access level, or {@link USAGE_REPORT_SCOPE}. */
export const TOKEN_SCOPE_PATTERN = new RegExp(`${ACCESS_SCOPE_PATTERN.source}|^usage:report$`);

/** True when `value` is a name by {@link NAME_PATTERN}. */
export function isName(value: unknown): value is string {
  return typeof value === 'string' && NAME_PATTERN.test(value);
}

/**
 * The arguments Airlock adds to every MCP tool it offers (lambdas/connector/mcp-endpoint.ts) and takes
 * off before the operation sees the rest: an operation parameter or an upstream tool's input property of
 * the same name would never reach the operation, so the config and `airlock connectors pin` refuse one.
 */
export const AIRLOCK_TOOL_ARGUMENTS = {
  /** Why the agent makes the call (audited; shown to the approver). */
  intent: 'intent',
  /** The approval a re-sent call carries. */
  approvalId: 'approvalId',
  /** Where the next page of a read's long list starts. */
  resultOffset: 'resultOffset',
} as const;

/** The names of {@link AIRLOCK_TOOL_ARGUMENTS}. */
export const AIRLOCK_TOOL_ARGUMENT_NAMES: readonly string[] = Object.values(AIRLOCK_TOOL_ARGUMENTS);

/** Whether an operation parameter or tool input property would collide with Airlock's own argument. */
export function isAirlockToolArgument(name: string): boolean {
  return AIRLOCK_TOOL_ARGUMENT_NAMES.includes(name);
}
