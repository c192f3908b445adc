/**
 * The broker's request validation: what a `POST /v1/credentials` body must look like, and what a
 * workflow lets a principal be granted. Whether the principal may run the workflow at all is Cedar's
 * decision (the policy engine), made elsewhere; this only validates and computes the grant.
 */
import * as z from 'zod';
import type { AirlockConfig } from '../../lib/config/schema';
import { TOKEN_SCOPE_PATTERN, USAGE_REPORT_SCOPE } from './access-token';
import { holdsCredential } from './audit-record';
import { AirlockError } from './errors';

/** The body of `POST /v1/credentials`. Strict: an unknown field is refused, not ignored. */
export const credentialRequestSchema = z.strictObject({
  workflow: z
    .string({ error: 'expected the name of a workflow as a string' })
    .regex(/^[a-z][a-z0-9-]{0,62}$/, 'expected a workflow name (lower-case letters, digits and dashes)'),
  resource: z
    .string({ error: 'expected a string' })
    .min(1, 'expected a non-empty string')
    .max(512, 'expected at most 512 characters')
    // Control characters have no place in a resource name and would corrupt logs and audit records.
    .regex(/^[^\p{Cc}]+$/u, 'expected no control characters')
    // It is signed into the token and recorded in the audit trail, which never holds a credential.
    .refine(
      (value) => !holdsCredential(value),
      'expected a key prefix such as 2026-q3/, not a token or a key',
    )
    .optional(),
  scopes: z
    .array(
      z
        .string({ error: 'expected a scope string' })
        .regex(
          TOKEN_SCOPE_PATTERN,
          'expected <connector>:<read|write|export>, e.g. receipts:read, or usage:report',
        ),
      { error: 'expected an array of scopes such as ["receipts:read"]' },
    )
    .min(1, 'expected at least one scope, e.g. ["receipts:read"]')
    .max(64, 'expected at most 64 scopes'),
  durationMinutes: z
    .number({ error: 'expected a whole number of minutes' })
    .int('expected a whole number of minutes')
    .min(1, 'expected at least 1 minute'),
});

export type CredentialRequest = z.infer<typeof credentialRequestSchema>;

/** What the broker may issue: the input of `issueAccessToken` minus identity and time. */
export interface CredentialGrant {
  readonly workflow: string;
  readonly resource?: string;
  /** Deduplicated and sorted, so the same request always yields the same token scope. */
  readonly scope: readonly string[];
  readonly lifetimeSeconds: number;
}

function fieldOf(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'body';
  return path
    .map((segment, i) => (typeof segment === 'number' ? `[${segment}]` : `${i ? '.' : ''}${String(segment)}`))
    .join('');
}

function describeIssue(issue: z.core.$ZodIssue, body: unknown): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map(
        (key) =>
          // JSON.stringify escapes whatever the client put in the name before it reaches a message or a log.
          `${fieldOf([...issue.path, key])}: unknown field ${JSON.stringify(key.slice(0, 64))} (allowed: workflow, resource, scopes, durationMinutes)`,
      )
      .join('; ');
  }
  if (issue.path.length === 0) {
    return 'body: expected a JSON object {workflow, resource?, scopes, durationMinutes}';
  }
  const missing =
    issue.code === 'invalid_type' &&
    issue.path.length === 1 &&
    (body as Record<PropertyKey, unknown>)[issue.path[0]] === undefined;
  return `${fieldOf(issue.path)}: ${missing ? 'missing; ' : ''}${issue.message.replace(/^Invalid input: /, '')}`;
}

/** Validates the request body. Throws {@link AirlockError} `invalid_request` naming the field and what was expected. */
export function parseCredentialRequest(body: unknown): CredentialRequest {
  const result = credentialRequestSchema.safeParse(body);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => describeIssue(issue, body));
  throw new AirlockError('invalid_request', `Invalid credential request: ${issues.join('; ')}.`, {
    details: { issues },
  });
}

/**
 * The scopes a workflow allows: its connectors × the access kinds of the operations it allows, and
 * `usage:report` when the workflow enables usage reports.
 */
export function workflowScopes(config: AirlockConfig, workflow: string): Set<string> {
  const scopes = new Set<string>();
  const definition = Object.hasOwn(config.workflows, workflow) ? config.workflows[workflow] : undefined;
  if (!definition) return scopes;
  for (const [connectorName, operations] of Object.entries(definition.connectors)) {
    const connector = Object.hasOwn(config.connectors, connectorName)
      ? config.connectors[connectorName]
      : undefined;
    // A connector or operation missing from the config grants nothing (fail closed).
    if (!connector) continue;
    for (const operation of operations) {
      const op = Object.hasOwn(connector.operations, operation) ? connector.operations[operation] : undefined;
      if (op) scopes.add(`${connectorName}:${op.access}`);
    }
  }
  if (definition.usageReports.enabled) scopes.add(USAGE_REPORT_SCOPE);
  return scopes;
}

/**
 * Validates a credential request from `principal` and computes what may be granted.
 *
 * Throws {@link AirlockError}: `forbidden` (403) when the principal is not in the config or a scope is
 * outside the workflow (reasons `scope_not_allowed:<scope>`); `invalid_request` (400) for a malformed
 * body or a duration above the workflow's maximum (the message names the maximum; nothing is clamped);
 * `not_found` (404) for an unknown workflow.
 */
export function decideCredentialGrant(
  config: AirlockConfig,
  principal: string,
  body: unknown,
): CredentialGrant {
  if (!Object.hasOwn(config.principals, principal)) {
    throw new AirlockError(
      'forbidden',
      'Your client certificate names a principal this Airlock does not know; ask IT/security to enrol you.',
      { reasons: ['unknown_principal'] },
    );
  }
  const request = parseCredentialRequest(body);
  const workflow = Object.hasOwn(config.workflows, request.workflow)
    ? config.workflows[request.workflow]
    : undefined;
  if (!workflow) {
    throw new AirlockError(
      'not_found',
      `Unknown workflow "${request.workflow}"; check the workflow name with your Airlock administrator.`,
    );
  }
  const allowed = workflowScopes(config, request.workflow);
  const requested = [...new Set(request.scopes)].sort();
  const refused = requested.filter((scope) => !allowed.has(scope));
  if (refused.length > 0) {
    throw new AirlockError(
      'forbidden',
      `Workflow "${request.workflow}" does not allow ${refused.map((s) => `"${s}"`).join(', ')}; it allows ${[...allowed].sort().join(', ') || 'no scopes'}.`,
      { reasons: refused.map((scope) => `scope_not_allowed:${scope}`) },
    );
  }
  if (request.durationMinutes > workflow.maxTokenLifetimeMinutes) {
    throw new AirlockError(
      'invalid_request',
      `durationMinutes: workflow "${request.workflow}" allows tokens of at most ${workflow.maxTokenLifetimeMinutes} minutes; ask for ${workflow.maxTokenLifetimeMinutes} or fewer.`,
      { details: { maxDurationMinutes: workflow.maxTokenLifetimeMinutes } },
    );
  }
  return {
    workflow: request.workflow,
    ...(request.resource === undefined ? {} : { resource: request.resource }),
    scope: requested,
    lifetimeSeconds: request.durationMinutes * 60,
  };
}
