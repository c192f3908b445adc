/**
 * What the policy engine is asked: who does what to which resource, for which workflow, in what
 * circumstances, and the check that a request has that shape. Apart from the engine because callers
 * build requests without needing Cedar, and because Cedar is handed requests without a schema: this
 * check is what stands in for the schema's request validation.
 */
import type { Classification, ConnectorResource } from './policy-entities';

export const POLICY_ACTIONS = ['RequestCredential', 'List', 'Read', 'Write', 'Export'] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

export const APPROVAL_STATES = ['none', 'pending', 'approved', 'rejected'] as const;
/** State of the human approval bound to the request (`none` when there is none). */
export type ApprovalState = (typeof APPROVAL_STATES)[number];

const CLASSIFICATIONS: readonly Classification[] = ['public', 'internal', 'confidential', 'pii'];

export type PolicyResource =
  | { readonly kind: 'workflow'; readonly id: string }
  | ({ readonly kind: 'resource' } & ConnectorResource);

/** What is asked: who does what to which resource, for which workflow, in what circumstances. */
export interface PolicyRequest {
  /** Principal name (the client certificate's CN). */
  readonly principal: string;
  readonly action: PolicyAction;
  readonly resource: PolicyResource;
  readonly workflow: string;
  readonly context: {
    readonly approval: ApprovalState;
    /** Integer amount in cents (a write's amount; see `deriveDataPolicyContext`). */
    readonly amountCents?: number;
    /** Upper-case ISO 4217 code of the amount. */
    readonly currency?: string;
    /** The workflow's approval threshold for that currency, in cents. */
    readonly approvalThresholdCents?: number;
    /** The principal's total today in that currency, this call included, in cents. */
    readonly dailyAmountCents?: number;
    /** Output format of an export, e.g. `csv` (compared case-insensitively). */
    readonly format?: string;
    /** Host the request would reach (compared case-insensitively). */
    readonly destinationHost?: string;
    readonly durationMinutes?: number;
    /** Scopes requested (credentials) or carried by the token (connector calls). @default [] */
    readonly scope?: readonly string[];
    /**
     * The kinds of personal data found in what a write or an export sends (`email`, `phone`, ...,
     * `encoded-content` for what could not be scanned); absent when none was found.
     */
    readonly requestPersonalData?: readonly string[];
    /** The entry point the caller came through, so policy can restrict what each may do. */
    readonly channel?: 'device' | 'oauth';
  };
}

/**
 * What is wrong with a request that may not have the type it claims (it can come from untyped code).
 * @returns the problem in words, or `undefined` when the request is well-formed.
 */
/** A UTF-16 surrogate that is not half of a pair: text that is not well-formed Unicode. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function invalidRequest(request: PolicyRequest): string | undefined {
  if (request === null || typeof request !== 'object') return 'the request must be an object';
  if (typeof request.principal !== 'string' || request.principal === '') return 'principal must be a name';
  if (!POLICY_ACTIONS.includes(request.action)) {
    return `action must be one of ${POLICY_ACTIONS.join(', ')} (got ${JSON.stringify(request.action)})`;
  }
  if (typeof request.workflow !== 'string' || request.workflow === '') return 'workflow must be a name';
  const resource = request.resource;
  // The schema's appliesTo: RequestCredential is on a workflow, every data action on a resource.
  const expectedKind = request.action === 'RequestCredential' ? 'workflow' : 'resource';
  if (resource?.kind !== undefined && resource.kind !== expectedKind) {
    return `${request.action} applies to a ${expectedKind}, not a ${resource.kind}`;
  }
  if (resource?.kind === 'workflow') {
    if (resource.id !== request.workflow) return 'a workflow resource must be the request workflow';
  } else if (resource?.kind === 'resource') {
    if (typeof resource.connector !== 'string' || typeof resource.id !== 'string' || resource.id === '') {
      return 'a connector resource needs a connector and an id';
    }
    // Cedar refuses text that is not well-formed Unicode (a lone surrogate) with an evaluation error; the
    // engine's memory no longer keys on the id (PolicyEngine decisions), so it is refused here, first.
    if (LONE_SURROGATE.test(resource.id) || LONE_SURROGATE.test(resource.connector)) {
      return 'a connector resource id must be well-formed Unicode (no lone surrogates)';
    }
    if (!CLASSIFICATIONS.includes(resource.classification)) {
      return `classification must be one of ${CLASSIFICATIONS.join(', ')}`;
    }
  } else {
    return 'resource.kind must be "workflow" or "resource"';
  }
  const context = request.context;
  if (context === null || typeof context !== 'object') return 'context must be an object';
  if (!APPROVAL_STATES.includes(context.approval)) {
    return `context.approval must be one of ${APPROVAL_STATES.join(', ')}`;
  }
  for (const key of [
    'amountCents',
    'approvalThresholdCents',
    'dailyAmountCents',
    'durationMinutes',
  ] as const) {
    const value = context[key];
    if (value !== undefined && !Number.isSafeInteger(value)) return `context.${key} must be an integer`;
  }
  if (context.channel !== undefined && context.channel !== 'device' && context.channel !== 'oauth') {
    return 'context.channel must be "device" or "oauth"';
  }
  for (const key of ['currency', 'format', 'destinationHost'] as const) {
    const value = context[key];
    if (value !== undefined && typeof value !== 'string') return `context.${key} must be a string`;
  }
  if (
    context.scope !== undefined &&
    !(Array.isArray(context.scope) && context.scope.every((s) => typeof s === 'string'))
  ) {
    return 'context.scope must be a list of strings';
  }
  if (
    context.requestPersonalData !== undefined &&
    !(
      Array.isArray(context.requestPersonalData) &&
      context.requestPersonalData.every((s) => typeof s === 'string')
    )
  ) {
    return 'context.requestPersonalData must be a list of strings';
  }
  return undefined;
}
