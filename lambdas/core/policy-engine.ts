/**
 * The policy decision point: Cedar policies from `policies/`, validated against the schema once
 * (`policy-validation.ts`), preparsed once per process per action (`policy-action-views.ts`), and
 * asked per request. "A human must approve" is written in the policy files as a `forbid` annotated
 * with `@approval("<group>")`; this engine only reads it, in {@link PolicyEngine.decide}.
 */
import {
  type AuthorizationAnswer,
  type Context,
  type EntityUidJson,
  statefulIsAuthorized,
  type TypeAndId,
} from '@cedar-policy/cedar-wasm/nodejs';
import {
  COMPILED_POLICIES_FORMAT,
  type CompiledPolicies,
  hashEntities,
  hashPolicySources,
} from './compiled-policies';
import {
  type ActionView,
  PolicyActionViews,
  type SchemaActions,
  schemaActionsOf,
} from './policy-action-views';
import { CEDAR_TYPES, type PolicyEntities, resourceEntityId, selectRequestEntities } from './policy-entities';
import { type ApprovalState, invalidRequest, type PolicyRequest } from './policy-request';
import {
  type PolicyInfo,
  type PolicySources,
  type ValidatedPolicy,
  validatePolicyEntities,
  validatePolicySources,
} from './policy-validation';
import { describeCedarError, PolicyValidationError } from './policy-validation-error';

export interface PolicyEngineOptions extends PolicySources {
  /**
   * Users, groups, workflows and connectors (see `buildEntities`). Checked against the schema at create.
   * @default - no entities: every request is denied
   */
  readonly entities?: PolicyEntities;
  /**
   * How many of Cedar's answers the engine remembers, by the exact request it asked (0: none). See
   * {@link PolicyEngine} `decisions`.
   * @default DECISIONS_REMEMBERED
   */
  readonly decisionsRemembered?: number;
}

/**
 * Cedar's answers remembered per engine: an agent's run asks the same request again and again (the same
 * principal reading with the same operation and scopes), and a Read is about half of a connector call's CPU.
 */
export const DECISIONS_REMEMBERED = 512;

/** What the engine answers: allow, deny, or deny until a member of a group approves. */
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
  /**
   * What the shadow (log-only) policies would have changed: present only when the decision with them
   * enforced differs from this one. Never part of the outcome; the caller records it.
   */
  readonly shadow?: ShadowDecision;
}

/** The decision a request would have had with the shadow policies enforced too. */
export interface ShadowDecision {
  readonly decision: 'allow' | 'deny' | 'approval_required';
  /** The shadow policies among the deciding ones (their `@id`s). */
  readonly policies: string[];
  /** Every policy that decided it, enforced and shadow (or the fail-closed reason). */
  readonly reasons: string[];
  readonly approverGroup?: string;
}

type Views = PolicyActionViews;

/** One Cedar evaluation as the engine reads it. */
interface Evaluation {
  readonly decision: 'allow' | 'deny';
  /** The deciding policies (sorted), or the fail-closed reason and the policies that errored. */
  readonly reasons: string[];
  readonly errors?: string[];
}

let engineCount = 0;

const NO_ENTITIES: PolicyEntities = {
  entities: [],
  index: new Map(),
  principals: new Set<string>(),
  workflows: new Set<string>(),
  connectors: new Set<string>(),
};

/**
 * Decides requests against a validated, preparsed Cedar policy set. Create one per process
 * (it validates and warms up, ~200 ms) and call {@link PolicyEngine.decide} per request.
 */
export class PolicyEngine {
  /** sha256 (hex) of the schema and every policy file: binds an approval to the rules it was asked under. */
  public readonly versionHash: string;
  /** Every enforced policy of the set, in file order. */
  public readonly policies: readonly PolicyInfo[];
  /** The shadow (log-only) policies, in file order. */
  public readonly shadowPolicies: readonly PolicyInfo[];

  private readonly byId: ReadonlyMap<string, PolicyInfo>;
  private readonly entities: PolicyEntities;
  /** What a decision of each action is asked with. */
  private readonly views: PolicyActionViews;
  /** The same over the enforced and the shadow policies together, when there are shadow policies. */
  private readonly shadowViews?: PolicyActionViews;
  private readonly shadowIds: ReadonlySet<string>;
  /**
   * Cedar's answers by the exact request: the policy set, principal, workflow, action, resource and the
   * context as built for Cedar. The entities handed to Cedar are a function of these and of the engine's
   * own entities, which never change, and Cedar is deterministic, so a remembered answer is the answer.
   * The resource is its connector and classification, and its id only when a policy of the set names a
   * resource entity (ActionView `resourceIdsNamed`): otherwise two documents are the same request to
   * Cedar but for a renaming it cannot observe.
   * Only clean answers are kept: an evaluation error is asked again (and denied) every time.
   */
  private readonly decisions = new Map<string, Evaluation>();
  private readonly decisionsRemembered: number;

  private constructor(
    versionHash: string,
    policies: readonly ValidatedPolicy[],
    entities: PolicyEntities,
    actions: SchemaActions,
    decisionsRemembered: number,
  ) {
    this.versionHash = versionHash;
    this.decisionsRemembered = decisionsRemembered;
    const info = policies.map(({ text: _text, json: _json, ...rest }) => rest);
    this.policies = info.filter((p) => !p.shadow);
    this.shadowPolicies = info.filter((p) => p.shadow);
    this.byId = new Map(info.map((p) => [p.id, p]));
    this.shadowIds = new Set(this.shadowPolicies.map((p) => p.id));
    this.entities = entities;
    // The wasm module caches preparsed sets by name per process; a counter keeps two engines apart.
    engineCount += 1;
    const setPrefix = `airlock-${engineCount}-${versionHash.slice(0, 16)}`;
    const enforced = policies.filter((p) => !p.shadow);
    this.views = new PolicyActionViews(setPrefix, enforced, entities, actions);
    if (this.shadowIds.size > 0) {
      this.shadowViews = new PolicyActionViews(`${setPrefix}-shadow`, policies, entities, actions);
    }
  }

  /**
   * Validates the policy files against the schema (strict mode), checks the entities against it,
   * preparses the set and warms Cedar up.
   * @throws PolicyValidationError naming the file and line of every problem.
   */
  static create(options: PolicyEngineOptions): PolicyEngine {
    const policies = validatePolicySources(options);
    const entities = options.entities ?? NO_ENTITIES;
    validatePolicyEntities(entities, options.schemaText);
    const engine = new PolicyEngine(
      hashPolicySources(options),
      policies,
      entities,
      schemaActionsOf(options.schemaText),
      options.decisionsRemembered ?? DECISIONS_REMEMBERED,
    );
    engine.warmUp();
    return engine;
  }

  /**
   * The engine over policies compiled when the function was bundled (compiled-policies.ts): nothing is
   * validated again, only preparsed and warmed up. Entities other than the ones checked when compiling
   * (a config that changed since) are checked against the schema first.
   * @throws PolicyValidationError when the entities do not fit the schema, or Cedar refuses the set it warms up with.
   */
  static fromCompiled(compiled: CompiledPolicies, entities: PolicyEntities = NO_ENTITIES): PolicyEngine {
    if (compiled.format !== COMPILED_POLICIES_FORMAT) {
      throw new PolicyValidationError([
        {
          fileName: 'compiled policies',
          message: `format ${JSON.stringify(compiled.format)} is not ${COMPILED_POLICIES_FORMAT}; bundle the function again`,
        },
      ]);
    }
    if (hashEntities(entities) !== compiled.entitiesHash)
      validatePolicyEntities(entities, compiled.schemaText);
    const engine = new PolicyEngine(
      compiled.versionHash,
      compiled.policies,
      entities,
      compiled.actions,
      DECISIONS_REMEMBERED,
    );
    engine.warmUp();
    return engine;
  }

  /**
   * The first decision compiles Cedar's evaluator lazily; pay that at init, not on a request. One
   * decision is enough: the other actions' policy sets are preparsed on their first decision (a few
   * milliseconds each), not at every cold start.
   */
  private warmUp(): void {
    const [workflow = 'warm-up'] = [...this.entities.workflows];
    const [connector = 'warm-up'] = [...this.entities.connectors];
    const actions = this.views.actions;
    for (const action of actions.includes('Read') ? ['Read'] : actions.slice(0, 1)) {
      this.evaluate(
        {
          principal: 'warm-up',
          action: action as PolicyRequest['action'],
          resource: { kind: 'resource', connector, id: 'warm-up', classification: 'internal' },
          workflow,
          context: { approval: 'none' },
        },
        'none',
        this.views,
      );
    }
  }

  /**
   * Decides one request. Never throws: anything that cannot be decided is denied (fail closed),
   * with the reason and the error. With shadow policies, the request is decided a second time with
   * them enforced too; a difference is returned as `shadow` and changes nothing else.
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
    const shadowViews = this.shadowViews;
    if (!shadowViews?.policyIdsOf(request.action).some((id) => this.shadowIds.has(id))) {
      return this.decideWith(request, (approval) => this.evaluate(request, approval, this.views));
    }
    // A shadow policy applies: Cedar is asked once, over the enforced and the shadow policies together,
    // and the enforced answer is read from that one where it can be (see enforcedPart), instead of
    // asking Cedar twice per request.
    const together = new Map<ApprovalState, Evaluation>();
    const withShadow = (approval: ApprovalState): Evaluation => {
      let evaluation = together.get(approval);
      if (!evaluation) {
        evaluation = this.evaluate(request, approval, shadowViews);
        together.set(approval, evaluation);
      }
      return evaluation;
    };
    const decision = this.decideWith(
      request,
      (approval) => this.enforcedPart(withShadow(approval)) ?? this.evaluate(request, approval, this.views),
    );
    const would = this.decideWith(request, withShadow);
    if (would.decision === decision.decision) return decision;
    const shadow: ShadowDecision = {
      decision: would.decision,
      policies: would.reasons.filter((id) => this.shadowIds.has(id)),
      reasons: would.reasons,
      ...(would.approverGroup ? { approverGroup: would.approverGroup } : {}),
    };
    return { ...decision, shadow };
  }

  /**
   * What the enforced policies alone decide, read from an evaluation over the enforced and the shadow
   * policies together; `undefined` where that evaluation cannot tell (then Cedar is asked again).
   *
   * Cedar decides each policy on its own: adding the shadow policies changes no enforced policy's
   * outcome, and the attributes and entities they add are ones the enforced policies do not read. Its
   * reasons are the satisfied permits when it allows, the satisfied forbids when a forbid denies, none
   * when nothing permits. So: allowed with enforced permits among the reasons is the enforced allow;
   * allowed by shadow permits alone is the enforced default deny; denied with enforced forbids among
   * the reasons is the enforced deny; denied with no reasons is the enforced default deny. Denied by
   * shadow forbids alone says nothing of the enforced permits, and an evaluation with errors is not
   * read at all: both are asked again.
   */
  private enforcedPart(together: Evaluation): Evaluation | undefined {
    if (together.errors) return undefined;
    const enforced = together.reasons.filter((id) => !this.shadowIds.has(id));
    if (together.decision === 'allow') {
      return enforced.length > 0
        ? { decision: 'allow', reasons: enforced }
        : { decision: 'deny', reasons: [] };
    }
    if (together.reasons.length === 0) return { decision: 'deny', reasons: [] };
    return enforced.length > 0 ? { decision: 'deny', reasons: enforced } : undefined;
  }

  private decideWith(
    request: PolicyRequest,
    evaluate: (approval: ApprovalState) => Evaluation,
  ): PolicyDecision {
    const first = evaluate(request.context.approval);
    if (first.errors) return { decision: 'deny', reasons: first.reasons, errors: first.errors };
    if (first.decision === 'allow') return { decision: 'allow', reasons: first.reasons };
    if (first.reasons.length === 0) return { decision: 'deny', reasons: ['default-deny'] };

    const needsApproval = first.reasons.map((id) => this.byId.get(id));
    const onlyApprovalForbids = needsApproval.every((p) => p?.effect === 'forbid' && p.approverGroup);
    const approvalStillOpen = request.context.approval === 'none' || request.context.approval === 'pending';
    if (!onlyApprovalForbids || !approvalStillOpen) return { decision: 'deny', reasons: first.reasons };

    // Denied only by "needs approval" forbids: would a human's approval be enough?
    const approved = evaluate('approved');
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

  private evaluate(request: PolicyRequest, approval: ApprovalState, views: Views = this.views): Evaluation {
    const { resource, context: input } = request;
    let view: ActionView;
    try {
      view = views.of(request.action);
    } catch (error) {
      // Policies are validated before an engine exists, so Cedar refusing a set here is not expected;
      // if it happens, the request is denied like any other that cannot be evaluated.
      const errors =
        error instanceof PolicyValidationError ? error.issues.map((i) => i.message) : [String(error)];
      return { decision: 'deny', reasons: ['evaluation-error'], errors };
    }
    const workflowUid: TypeAndId = { type: CEDAR_TYPES.workflow, id: request.workflow };
    // Only the attributes the action's policies read (ActionView contextAttributes): the answer is the
    // same, Cedar parses less, and requests that differ only elsewhere share a remembered answer.
    const read = view.contextAttributes;
    const wanted = (name: keyof Context) => read === undefined || read.has(name);
    const context: Context = {};
    if (wanted('approval')) context.approval = approval;
    if (wanted('workflow')) context.workflow = { __entity: workflowUid };
    if (wanted('scope')) context.scope = [...(input.scope ?? [])];
    if (input.amountCents !== undefined && wanted('amountCents')) context.amountCents = input.amountCents;
    if (input.currency !== undefined && wanted('currency')) context.currency = input.currency;
    if (input.approvalThresholdCents !== undefined && wanted('approvalThresholdCents'))
      context.approvalThresholdCents = input.approvalThresholdCents;
    if (input.dailyAmountCents !== undefined && wanted('dailyAmountCents'))
      context.dailyAmountCents = input.dailyAmountCents;
    if (input.durationMinutes !== undefined && wanted('durationMinutes'))
      context.durationMinutes = input.durationMinutes;
    if (input.channel !== undefined && wanted('channel')) context.channel = input.channel;
    if (input.format !== undefined && wanted('format')) context.format = input.format.toLowerCase();
    if (input.destinationHost !== undefined && wanted('destinationHost'))
      context.destinationHost = input.destinationHost.toLowerCase();
    if (input.requestPersonalData !== undefined && wanted('requestPersonalData'))
      context.requestPersonalData = [...input.requestPersonalData];

    const resourceUid: EntityUidJson =
      resource.kind === 'workflow'
        ? workflowUid
        : { type: CEDAR_TYPES.resource, id: resourceEntityId(resource) };
    const key = JSON.stringify([
      view.policySetId,
      request.principal,
      request.workflow,
      request.action,
      // The document only where a policy names one: otherwise Cedar cannot tell two documents of the
      // same connector and classification apart (ActionView resourceIdsNamed), and a run reading many
      // of them asks Cedar once. null is no document's id.
      resource.kind === 'resource'
        ? [resource.connector, view.resourceIdsNamed ? resource.id : null, resource.classification]
        : 0,
      context,
    ]);
    const known = this.decisions.get(key);
    if (known !== undefined) return { decision: known.decision, reasons: [...known.reasons] };
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
    const reasons = [...diagnostics.reason].sort();
    if (this.decisionsRemembered > 0) {
      // Bounded: when full, start again (the requests of the runs in progress come back within calls).
      if (this.decisions.size >= this.decisionsRemembered) this.decisions.clear();
      this.decisions.set(key, { decision, reasons: [...reasons] });
    }
    return { decision, reasons };
  }
}
