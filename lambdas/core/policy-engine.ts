/**
 * The policy decision point: Cedar policies from `policies/`, validated against the schema once,
 * preparsed once per process, and asked per request. "A human must approve" is written in the
 * policy files as a `forbid` annotated with `@approval("<group>")`; this engine only reads it.
 */
import { createHash } from 'node:crypto';
import {
  type AuthorizationAnswer,
  type Context,
  checkParseEntities,
  checkParseSchema,
  type DetailedError,
  type EntityJson,
  type EntityUidJson,
  policySetTextToParts,
  policyToJson,
  preparsePolicySet,
  schemaToJson,
  statefulIsAuthorized,
  validate,
} from '@cedar-policy/cedar-wasm/nodejs';
import {
  CEDAR_TYPES,
  type Classification,
  type ConnectorResource,
  indexEntities,
  type PolicyEntities,
  pruneEntities,
  resourceEntityId,
  selectRequestEntities,
} from './policy-entities';

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
}

export interface PolicyEngineOptions extends PolicySources {
  /**
   * Users, groups, workflows and connectors (see `buildEntities`). Checked against the schema at create.
   * @default - no entities: every request is denied
   */
  readonly entities?: PolicyEntities;
}

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
  };
}

export interface PolicyDecision {
  readonly decision: 'allow' | 'deny' | 'approval_required';
  /**
   * The `@id`s of the policies that decided. `default-deny` when nothing permitted;
   * `invalid-request`, `unknown-workflow`, `unknown-connector` or `evaluation-error` when the
   * request could not be decided (and so was denied).
   */
  readonly reasons: string[];
  /** With `approval_required`: the group whose members may approve (the policy's `@approval`). */
  readonly approverGroup?: string;
  /** Why the request could not be evaluated; present only on a fail-closed denial. */
  readonly errors?: string[];
}

/** A policy of the set, as written. */
export interface PolicyInfo {
  readonly id: string;
  readonly effect: 'permit' | 'forbid';
  readonly fileName: string;
  readonly line: number;
  /** The `@approval` group of a "needs approval" forbid. */
  readonly approverGroup?: string;
}

/** One problem in the policy files, located in the file the author edits. */
export interface PolicyIssue {
  readonly fileName: string;
  /** 1-based; absent when the problem has no location (e.g. an entity from the config). */
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

function formatIssue(issue: PolicyIssue): string {
  const where =
    issue.line === undefined ? issue.fileName : `${issue.fileName}:${issue.line}:${issue.column ?? 1}`;
  return `${where}: ${issue.message}`;
}

/** The policy set cannot be used (syntax, schema or type errors). The app refuses to start or synth with it. */
export class PolicyValidationError extends Error {
  public readonly name = 'PolicyValidationError';
  constructor(public readonly issues: readonly PolicyIssue[]) {
    const more =
      issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
    super(`Invalid Cedar policies: ${issues.map(formatIssue)[0] ?? 'no details'}${more}`);
  }

  /** Every issue, one per line, for a CLI or a synth error. */
  get details(): string {
    return this.issues.map(formatIssue).join('\n');
  }
}

/** Line and column (1-based) of a UTF-8 byte offset, which is how Cedar reports source locations. */
function locate(text: string, byteOffset: number): { line: number; column: number } {
  const before = Buffer.from(text, 'utf8').subarray(0, byteOffset).toString('utf8');
  const lastNewline = before.lastIndexOf('\n');
  return { line: before.split('\n').length, column: before.length - lastNewline };
}

/** Cedar names policies it parsed from text `policy0, policy1, ...`, meaningless to the author. */
function describeCedarError(error: DetailedError): string {
  const message = error.message.replace(/^for policy `[^`]*`, /, '');
  return error.help ? `${message} (${error.help})` : message;
}

function issuesOf(fileName: string, text: string, errors: readonly DetailedError[]): PolicyIssue[] {
  return errors.map((error) => {
    const start = error.sourceLocations?.[0]?.start;
    const at = start === undefined ? {} : locate(text, start);
    return { fileName, ...at, message: describeCedarError(error) };
  });
}

interface ParsedPolicy extends PolicyInfo {
  readonly text: string;
  /**
   * Every attribute name the policy reads (`x.attr`, `x has a.b`), on any entity or record; `undefined`
   * when a read could not be understood, so that nothing is left out of its decisions.
   */
  readonly attributes: readonly string[] | undefined;
  /** The entities the policy names literally (`Airlock::Connector::"erp"`), which its decisions need. */
  readonly entityLiterals: readonly CedarUid[];
  /** What the policy's scope says of the action. */
  readonly actionScope: ActionScope;
}

/** A policy's action scope: any action, exactly one, or `in` a list (which, with action groups, reaches their members). */
type ActionScope =
  | { readonly kind: 'any' }
  | { readonly kind: 'eq'; readonly id: string }
  | { readonly kind: 'in'; readonly ids: readonly string[] };

/**
 * The action scope of a policy's JSON form. Anything this does not recognise counts as `any`, which
 * only ever keeps a policy in more decisions than it applies to.
 */
function actionScopeOf(scope: unknown): ActionScope {
  const { op, entity, entities } = (scope ?? {}) as {
    op?: unknown;
    entity?: { type?: unknown; id?: unknown };
    entities?: Array<{ type?: unknown; id?: unknown }>;
  };
  const isAction = (uid: { type?: unknown; id?: unknown } | undefined): uid is { type: string; id: string } =>
    typeof uid?.id === 'string' && uid.type === CEDAR_TYPES.action;
  if (op === '==' && isAction(entity)) return { kind: 'eq', id: entity.id };
  if (op === 'in') {
    const listed = entities ?? (entity ? [entity] : []);
    if (listed.length > 0 && listed.every(isAction)) return { kind: 'in', ids: listed.map((uid) => uid.id) };
  }
  return { kind: 'any' };
}

/** One policy as split from its file, before its annotations are checked. */
interface PolicyPart {
  readonly file: PolicyFile;
  readonly text: string;
  /** UTF-8 byte offset of the policy text in its file (Cedar's unit), or undefined when not found. */
  readonly byteOffset?: number;
  readonly line: number;
}

/** Splits one file into its policies, each located in the file. */
function splitPolicyFile(file: PolicyFile, issues: PolicyIssue[]): PolicyPart[] {
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
    };
  });
}

/** Reads a policy's `@id`, effect and `@approval`, refusing what the engine cannot name or use. */
function describePolicy(part: PolicyPart, issues: PolicyIssue[]): ParsedPolicy | undefined {
  const { file, line, text } = part;
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
    ...policyReferences(json.json),
    actionScope: actionScopeOf(json.json.action),
    ...(approverGroup ? { approverGroup } : {}),
  };
}

/**
 * What a policy's JSON form refers to: the attribute names it reads (the `attr` of every `.` and `has`
 * node; a dotted `has a.b` lists every step) and the entities it names literally. Cedar has no computed
 * attribute names, so an attribute named by no policy cannot change a decision. A read of a shape this
 * does not know makes `attributes` undefined: then nothing is pruned.
 */
function policyReferences(policy: unknown): { attributes: string[] | undefined; entityLiterals: CedarUid[] } {
  const attributes = new Set<string>();
  const literals = new Map<string, CedarUid>();
  let understood = true;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if ((key === '.' || key === 'has') && value !== null && typeof value === 'object') {
        const { attr } = value as { attr?: unknown };
        const names = Array.isArray(attr) ? attr : [attr];
        if (names.length > 0 && names.every((name) => typeof name === 'string')) {
          for (const name of names) attributes.add(name);
        } else {
          understood = false;
        }
      }
      if (key === '__entity' && value !== null && typeof value === 'object') {
        const { type, id } = value as { type?: unknown; id?: unknown };
        if (typeof type === 'string' && typeof id === 'string') literals.set(`${type}::${id}`, { type, id });
      }
      visit(value);
    }
  };
  visit(policy);
  return { attributes: understood ? [...attributes] : undefined, entityLiterals: [...literals.values()] };
}

/**
 * What the decisions of one action are asked with: only the policies whose scope can match the action,
 * and the entities with only the attributes those policies read. A policy whose action scope does not
 * match is never satisfied and never errors (Cedar checks the scope before any condition), and an
 * attribute no applicable policy names cannot change the answer: the decision is the one the whole set
 * would give, for less of Cedar's per-call parsing (each attribute value costs ~10–35 µs in the wasm).
 */
interface ActionView {
  readonly policySetId: string;
  /** `undefined`: some policy's reads were not understood, so every attribute is handed over. */
  readonly readAttributes: ReadonlySet<string> | undefined;
  readonly entities: PolicyEntities;
  /** Entities the view's policies name literally: handed over with every decision (with what they reach). */
  readonly entityLiterals: readonly CedarUid[];
}

function actionView(
  policySetId: string,
  policies: readonly ParsedPolicy[],
  entities: PolicyEntities,
): ActionView {
  const answer = preparsePolicySet(policySetId, {
    staticPolicies: Object.fromEntries(policies.map((p) => [p.id, p.text])),
  });
  if (answer.type === 'failure') {
    throw new PolicyValidationError(
      answer.errors.map((e) => ({ fileName: 'policies', message: describeCedarError(e) })),
    );
  }
  const readAttributes = policies.every((p) => p.attributes !== undefined)
    ? new Set(policies.flatMap((p) => p.attributes ?? []))
    : undefined;
  return {
    policySetId,
    readAttributes,
    entities: readAttributes ? pruneEntities(entities, readAttributes) : entities,
    entityLiterals: policies.flatMap((p) => p.entityLiterals),
  };
}

/** The actions the schema declares, and whether any of them is a member of another (an action group). */
interface SchemaActions {
  readonly names: readonly string[];
  readonly grouped: boolean;
  /**
   * The actions that are members of groups, as entities with their groups as parents: Cedar is given no
   * schema per request, so `action in <group>` holds only with these in the entities.
   */
  readonly entities: readonly EntityJson[];
}

function schemaActionsOf(schemaText: string): SchemaActions {
  const answer = schemaToJson(schemaText);
  if (answer.type === 'failure') return { names: [], grouped: true, entities: [] };
  const names: string[] = [];
  const entities: EntityJson[] = [];
  let grouped = false;
  const ours = CEDAR_TYPES.action.slice(0, -'::Action'.length);
  for (const [namespaceName, namespace] of Object.entries(answer.json)) {
    for (const [name, action] of Object.entries(namespace.actions ?? {})) {
      if (namespaceName === ours) names.push(name);
      const memberOf = action.memberOf ?? [];
      if (memberOf.length === 0) continue;
      grouped = true;
      entities.push({
        uid: { type: `${namespaceName}::Action`, id: name },
        attrs: {},
        parents: memberOf.map((group) => ({
          type: group.type?.includes('::') ? group.type : `${namespaceName}::Action`,
          id: group.id,
        })),
      });
    }
  }
  return { names, grouped, entities };
}

/** Whether a policy with this action scope can apply to `action`; with action groups, `in` always may. */
function appliesTo(scope: ActionScope, action: string, grouped: boolean): boolean {
  if (scope.kind === 'any') return true;
  if (scope.kind === 'eq') return scope.id === action;
  return grouped || scope.ids.includes(action);
}

function hashSources(sources: PolicySources): string {
  const hash = createHash('sha256');
  hash.update(`schema\0${sources.schemaText}\0`);
  for (const file of [...sources.policies].sort((a, b) => a.fileName.localeCompare(b.fileName))) {
    hash.update(`policy\0${file.fileName}\0${file.text}\0`);
  }
  return hash.digest('hex');
}

function validateSources(sources: PolicySources): ParsedPolicy[] {
  const schemaFileName = sources.schemaFileName ?? 'airlock.cedarschema';
  const schemaCheck = checkParseSchema(sources.schemaText);
  if (schemaCheck.type === 'failure') {
    throw new PolicyValidationError(issuesOf(schemaFileName, sources.schemaText, schemaCheck.errors));
  }

  const issues: PolicyIssue[] = [];
  const parts = sources.policies.flatMap((file) => splitPolicyFile(file, issues));
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
    .filter((p): p is ParsedPolicy => p !== undefined);
  const seen = new Map<string, ParsedPolicy>();
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

type CedarUid = { type: string; id: string };

function invalidRequest(request: PolicyRequest): string | undefined {
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
  return undefined;
}

let engineCount = 0;

/**
 * Decides requests against a validated, preparsed Cedar policy set. Create one per process
 * (it validates and warms up, ~200 ms) and call {@link PolicyEngine.decide} per request.
 */
export class PolicyEngine {
  /** sha256 (hex) of the schema and every policy file: binds an approval to the rules it was asked under. */
  public readonly versionHash: string;
  /** Every policy of the set, in file order. */
  public readonly policies: readonly PolicyInfo[];

  private readonly byId: ReadonlyMap<string, PolicyInfo>;
  private readonly entities: PolicyEntities;
  /** What a decision of each action of the schema is asked with (see {@link ActionView}). */
  private readonly views: ReadonlyMap<string, ActionView>;
  /** Every policy, every attribute policies read: for an action the schema does not declare. */
  private readonly fallbackView: ActionView;

  private constructor(
    versionHash: string,
    policies: readonly ParsedPolicy[],
    entities: PolicyEntities,
    schemaActions: SchemaActions,
  ) {
    this.versionHash = versionHash;
    this.policies = policies.map(
      ({ text: _text, attributes: _attributes, entityLiterals: _literals, actionScope: _scope, ...info }) =>
        info,
    );
    this.byId = new Map(this.policies.map((p) => [p.id, p]));
    this.entities = entities;
    // The wasm module caches preparsed sets by name per process; a counter keeps two engines apart.
    engineCount += 1;
    const setPrefix = `airlock-${engineCount}-${versionHash.slice(0, 16)}`;
    const withActions: PolicyEntities =
      schemaActions.entities.length === 0
        ? entities
        : {
            ...entities,
            entities: [...entities.entities, ...schemaActions.entities],
            index: indexEntities([...entities.entities, ...schemaActions.entities]),
          };
    this.fallbackView = actionView(`${setPrefix}-all`, policies, withActions);
    this.views = new Map(
      schemaActions.names.map((action) => {
        const applicable = policies.filter((p) => appliesTo(p.actionScope, action, schemaActions.grouped));
        return [action, actionView(`${setPrefix}-${action}`, applicable, withActions)];
      }),
    );
  }

  /**
   * Validates the policy files against the schema (strict mode), checks the entities against it,
   * preparses the set and warms Cedar up.
   * @throws PolicyValidationError naming the file and line of every problem.
   */
  static create(options: PolicyEngineOptions): PolicyEngine {
    const policies = validateSources(options);
    const entities = options.entities ?? {
      entities: [],
      index: new Map(),
      principals: new Set<string>(),
      workflows: new Set<string>(),
      connectors: new Set<string>(),
    };
    const entitiesCheck = checkParseEntities({
      entities: [...entities.entities],
      schema: options.schemaText,
    });
    if (entitiesCheck.type === 'failure') {
      throw new PolicyValidationError(
        entitiesCheck.errors.map((e) => ({
          fileName: 'entities built from the pilot config',
          message: describeCedarError(e),
        })),
      );
    }
    const engine = new PolicyEngine(
      hashSources(options),
      policies,
      entities,
      schemaActionsOf(options.schemaText),
    );
    engine.warmUp();
    return engine;
  }

  /** The first decision compiles Cedar's evaluator lazily (~200 ms); pay that at init, not on a request. */
  private warmUp(): void {
    const [workflow = 'warm-up'] = [...this.entities.workflows];
    const [connector = 'warm-up'] = [...this.entities.connectors];
    for (const action of ['Read', ...[...this.views.keys()].filter((a) => a !== 'Read')]) {
      this.evaluate(
        {
          principal: 'warm-up',
          action: action as PolicyRequest['action'],
          resource: { kind: 'resource', connector, id: 'warm-up', classification: 'internal' },
          workflow,
          context: { approval: 'none' },
        },
        'none',
      );
    }
  }

  /**
   * Decides one request. Never throws: anything that cannot be decided is denied (fail closed),
   * with the reason and the error.
   */
  decide(request: PolicyRequest): PolicyDecision {
    const problem = invalidRequest(request);
    if (problem) return { decision: 'deny', reasons: ['invalid-request'], errors: [problem] };
    if (!this.entities.workflows.has(request.workflow)) {
      return {
        decision: 'deny',
        reasons: ['unknown-workflow'],
        errors: [`workflow "${request.workflow}" is not in the pilot config`],
      };
    }
    if (request.resource.kind === 'resource' && !this.entities.connectors.has(request.resource.connector)) {
      return {
        decision: 'deny',
        reasons: ['unknown-connector'],
        errors: [`connector "${request.resource.connector}" is not in the pilot config`],
      };
    }

    const first = this.evaluate(request, request.context.approval);
    if (first.errors) return { decision: 'deny', reasons: first.reasons, errors: first.errors };
    if (first.decision === 'allow') return { decision: 'allow', reasons: first.reasons };
    if (first.reasons.length === 0) return { decision: 'deny', reasons: ['default-deny'] };

    const needsApproval = first.reasons.map((id) => this.byId.get(id));
    const onlyApprovalForbids = needsApproval.every((p) => p?.effect === 'forbid' && p.approverGroup);
    const approvalStillOpen = request.context.approval === 'none' || request.context.approval === 'pending';
    if (!onlyApprovalForbids || !approvalStillOpen) return { decision: 'deny', reasons: first.reasons };

    // Denied only by "needs approval" forbids: would a human's approval be enough?
    const approved = this.evaluate(request, 'approved');
    if (!approved.errors && approved.decision === 'allow') {
      const groups = [...new Set(needsApproval.map((p) => p!.approverGroup!))].sort();
      return { decision: 'approval_required', reasons: first.reasons, approverGroup: groups[0] };
    }
    const more = approved.errors
      ? approved.reasons
      : approved.reasons.length
        ? approved.reasons
        : ['default-deny'];
    return {
      decision: 'deny',
      reasons: [...new Set([...first.reasons, ...more])],
      ...(approved.errors ? { errors: approved.errors } : {}),
    };
  }

  private evaluate(
    request: PolicyRequest,
    approval: ApprovalState,
  ): { decision: 'allow' | 'deny'; reasons: string[]; errors?: string[] } {
    const { resource, context: input } = request;
    const workflowUid: CedarUid = { type: CEDAR_TYPES.workflow, id: request.workflow };
    const context: Context = {
      approval,
      workflow: { __entity: workflowUid },
      scope: [...(input.scope ?? [])],
    };
    if (input.amountCents !== undefined) context.amountCents = input.amountCents;
    if (input.currency !== undefined) context.currency = input.currency;
    if (input.approvalThresholdCents !== undefined)
      context.approvalThresholdCents = input.approvalThresholdCents;
    if (input.dailyAmountCents !== undefined) context.dailyAmountCents = input.dailyAmountCents;
    if (input.durationMinutes !== undefined) context.durationMinutes = input.durationMinutes;
    if (input.format !== undefined) context.format = input.format.toLowerCase();
    if (input.destinationHost !== undefined) context.destinationHost = input.destinationHost.toLowerCase();

    const resourceUid: EntityUidJson =
      resource.kind === 'workflow'
        ? workflowUid
        : { type: CEDAR_TYPES.resource, id: resourceEntityId(resource) };
    const view = this.views.get(request.action) ?? this.fallbackView;
    const entities = selectRequestEntities(
      view.entities,
      {
        principal: request.principal,
        workflow: request.workflow,
        ...(resource.kind === 'resource' ? { resource } : {}),
        action: request.action,
        named: view.entityLiterals,
      },
      view.readAttributes,
    );

    let answer: AuthorizationAnswer;
    try {
      answer = statefulIsAuthorized({
        principal: { type: CEDAR_TYPES.user, id: request.principal },
        action: { type: CEDAR_TYPES.action, id: request.action },
        resource: resourceUid,
        context,
        // No per-request schema: the policies were validated against it and the entities checked
        // against it once, at create; the request is built by this engine and checked by
        // invalidRequest. Parsing the entities against the schema on every call doubled the cost.
        preparsedPolicySetId: view.policySetId,
        validateRequest: false,
        entities,
      });
    } catch (error) {
      return { decision: 'deny', reasons: ['evaluation-error'], errors: [String(error)] };
    }
    if (answer.type === 'failure') {
      return {
        decision: 'deny',
        reasons: ['evaluation-error'],
        errors: answer.errors.map(describeCedarError),
      };
    }
    const { decision, diagnostics } = answer.response;
    if (diagnostics.errors.length > 0) {
      // Cedar skips a policy that errors; a skipped forbid could let a request through, so deny.
      return {
        decision: 'deny',
        reasons: ['evaluation-error', ...diagnostics.errors.map((e) => e.policyId)],
        errors: diagnostics.errors.map((e) => `${e.policyId}: ${describeCedarError(e.error)}`),
      };
    }
    return { decision, reasons: [...diagnostics.reason].sort() };
  }
}
