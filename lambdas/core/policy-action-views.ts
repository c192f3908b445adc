/**
 * What Cedar is handed per action: for each action of the schema, only the policies whose scope can
 * match it, preparsed once as their own set, and the entities with only the attributes those policies
 * read. Apart from the decisions because it is an optimisation with its own proof obligation (the
 * answer must be the one the whole set gives over every entity, see the engine's tests), and apart
 * from the validation because it reads what a valid policy refers to, not whether it is valid.
 */
import {
  type EntityJson,
  preparsePolicySet,
  schemaToJson,
  type TypeAndId,
} from '@cedar-policy/cedar-wasm/nodejs';
import { CEDAR_TYPES, indexEntities, type PolicyEntities, pruneEntities } from './policy-entities';
import type { ValidatedPolicy } from './policy-validation';
import { describeCedarError, PolicyValidationError } from './policy-validation-error';

/** A policy's action scope: any action, exactly one, or `in` a list (which, with action groups, reaches their members). */
type ActionScope =
  | { readonly kind: 'any' }
  | { readonly kind: 'eq'; readonly id: string }
  | { readonly kind: 'in'; readonly ids: readonly string[] };

/** A policy with what it refers to, read once from its JSON form. */
interface PolicyReach {
  readonly policy: ValidatedPolicy;
  /**
   * Every attribute name the policy reads (`x.attr`, `x has a.b`), on any entity or record; `undefined`
   * when a read could not be understood, so that nothing is left out of its decisions.
   */
  readonly attributes: readonly string[] | undefined;
  /** The entities the policy names literally (`Airlock::Connector::"erp"`), which its decisions need. */
  readonly entityLiterals: readonly TypeAndId[];
  /** What the policy's scope says of the action. */
  readonly actionScope: ActionScope;
  /** Whether the policy names a resource entity (`Airlock::Resource::"…"`) anywhere, scope included. */
  readonly namesResource: boolean;
  /**
   * Whether the policy uses `context` other than to read an attribute of it (`context.x`, `context has
   * x`): compared or passed whole, every attribute of the context may matter.
   */
  readonly contextWhole: boolean;
}

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

/**
 * What a policy's JSON form refers to: the attribute names it reads (the `attr` of every `.` and `has`
 * node; a dotted `has a.b` lists every step) and the entities it names literally. Cedar has no computed
 * attribute names, so an attribute named by no policy cannot change a decision. A read of a shape this
 * does not know makes `attributes` undefined: then nothing is pruned.
 */
function policyReferences(policy: unknown): {
  attributes: string[] | undefined;
  entityLiterals: TypeAndId[];
  contextWhole: boolean;
} {
  const attributes = new Set<string>();
  const literals = new Map<string, TypeAndId>();
  let understood = true;
  let contextWhole = false;
  /**
   * `compared`: the node is only compared by identity, as an operand of `==` or `!=` or the right side
   * of `in` (or an element of a set there). Cedar needs no data of an entity named only so: `==` compares
   * uids, and `x in E` asks whether E is among x's ancestors, which come from x's own parents (collected
   * from x). Such a literal is not handed over; named anywhere else (`E.attr`, `E in y`), it is.
   */
  const visit = (node: unknown, compared = false): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    // `context` reached here is not the record of an attribute read (those are skipped below).
    if ((node as { Var?: unknown }).Var === 'context') contextWhole = true;
    const comparison = Object.keys(node).length === 1 ? onlyComparison(node) : undefined;
    if (comparison) {
      visit(comparison.left, comparison.leftCompared);
      visit(comparison.right, true);
      return;
    }
    if (compared) {
      const { Value: value, Set: set } = node as { Value?: unknown; Set?: unknown };
      if (Object.keys(node).length === 1 && value !== null && typeof value === 'object') {
        const { __entity: uid } = value as { __entity?: unknown };
        if (uid !== undefined && Object.keys(value).length === 1) return;
      }
      if (Object.keys(node).length === 1 && Array.isArray(set)) {
        for (const item of set) visit(item, true);
        return;
      }
    }
    for (const [key, value] of Object.entries(node)) {
      if ((key === '.' || key === 'has') && value !== null && typeof value === 'object') {
        const { attr } = value as { attr?: unknown };
        const names = Array.isArray(attr) ? attr : [attr];
        if (names.length > 0 && names.every((name) => typeof name === 'string')) {
          for (const name of names) attributes.add(name);
        } else {
          understood = false;
        }
        const { left, ...rest } = value as { left?: unknown };
        if (isContextVariable(left)) {
          // `context.x` / `context has x`: a read of one attribute, named above.
          visit(rest);
          continue;
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
  return {
    attributes: understood ? [...attributes] : undefined,
    entityLiterals: [...literals.values()],
    contextWhole,
  };
}

/** `{ "Var": "context" }` exactly. */
function isContextVariable(node: unknown): boolean {
  return (
    node !== null &&
    typeof node === 'object' &&
    !Array.isArray(node) &&
    Object.keys(node).length === 1 &&
    (node as { Var?: unknown }).Var === 'context'
  );
}

/** `{ "==": { left, right } }`, `{ "!=": ... }` or `{ "in": ... }` of a policy's JSON form, with which sides are only compared. */
function onlyComparison(node: object): { left: unknown; right: unknown; leftCompared: boolean } | undefined {
  const [[op, operands]] = Object.entries(node);
  if (op !== '==' && op !== '!=' && op !== 'in') return undefined;
  if (operands === null || typeof operands !== 'object' || Array.isArray(operands)) return undefined;
  const { left, right } = operands as { left?: unknown; right?: unknown };
  if (left === undefined || right === undefined || Object.keys(operands).length !== 2) return undefined;
  return { left, right, leftCompared: op !== 'in' };
}

/**
 * Whether a policy's JSON form names a resource entity: the resource type as the `type` of an entity
 * literal (`__entity`, a scope's `entity` or `entities`) or anywhere else but an `is` test's
 * `entity_type`, which names the type only. Any other mention of the type counts as named, which only
 * ever keeps the document in the key of a remembered decision.
 */
function namesResourceEntity(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(namesResourceEntity);
  if (node === null || typeof node !== 'object') return false;
  for (const [key, value] of Object.entries(node)) {
    // CEDAR_TYPES.resource, or the type under any namespace.
    const resourceType = typeof value === 'string' && (value === 'Resource' || value.endsWith('::Resource'));
    if (resourceType && key !== 'entity_type') return true;
    if (namesResourceEntity(value)) return true;
  }
  return false;
}

function reachOf(policy: ValidatedPolicy): PolicyReach {
  return {
    policy,
    ...policyReferences(policy.json),
    actionScope: actionScopeOf(policy.json.action),
    namesResource: namesResourceEntity(policy.json),
  };
}

/**
 * What the decisions of one action are asked with: only the policies whose scope can match the action,
 * and the entities with only the attributes those policies read. A policy whose action scope does not
 * match is never satisfied and never errors (Cedar checks the scope before any condition), and an
 * attribute no applicable policy names cannot change the answer: the decision is the one the whole set
 * would give, for less of Cedar's per-call parsing (each attribute value costs ~10–35 µs in the wasm).
 */
export interface ActionView {
  readonly policySetId: string;
  /** The `@id`s of the policies in the view. */
  readonly policyIds: readonly string[];
  /** `undefined`: some policy's reads were not understood, so every attribute is handed over. */
  readonly readAttributes: ReadonlySet<string> | undefined;
  /**
   * The context attributes handed over: those the view's policies read. `undefined`: every one (a read
   * not understood, or a policy that uses the context whole). An attribute no policy reads cannot change
   * an answer, and each costs Cedar ~10 µs to parse.
   */
  readonly contextAttributes: ReadonlySet<string> | undefined;
  readonly entities: PolicyEntities;
  /** Entities the view's policies name literally: handed over with every decision (with what they reach). */
  readonly entityLiterals: readonly TypeAndId[];
  /**
   * Whether a policy of the view names a resource entity (`resource == Airlock::Resource::"…"`, `in`
   * one, or one in a condition). When none does, a decision cannot depend on which document it is:
   * Cedar has no way to read an entity's id but comparing it with another entity's, and no other
   * entity of a request refers to the resource. Renaming the resource then changes no equality and no
   * hierarchy Cedar can see, so two documents with the same connector and classification get the
   * same answer (the engine's memory keys on that, see PolicyEngine `decisions`).
   */
  readonly resourceIdsNamed: boolean;
}

/** What a view is asked with, before its policy set is preparsed. */
interface PendingView extends Omit<ActionView, 'policySetId'> {
  readonly policySetId: string;
  readonly policies: readonly PolicyReach[];
}

function pendingView(
  policySetId: string,
  policies: readonly PolicyReach[],
  entities: PolicyEntities,
): PendingView {
  const readAttributes = policies.every((p) => p.attributes !== undefined)
    ? new Set(policies.flatMap((p) => p.attributes ?? []))
    : undefined;
  return {
    policySetId,
    policies,
    policyIds: policies.map((p) => p.policy.id),
    readAttributes,
    contextAttributes: policies.some((p) => p.contextWhole) ? undefined : readAttributes,
    entities: readAttributes ? pruneEntities(entities, readAttributes) : entities,
    entityLiterals: policies.flatMap((p) => p.entityLiterals),
    resourceIdsNamed: policies.some((p) => p.namesResource),
  };
}

/**
 * Preparses a view's policies as the set `policySetId`. The JSON form, not the text: Cedar's text
 * parser is the largest part of its wasm to run cold (the two forms are the same policy: the JSON is
 * Cedar's own translation of the validated text).
 * @throws PolicyValidationError when Cedar refuses the set.
 */
function preparse(view: PendingView): ActionView {
  const answer = preparsePolicySet(view.policySetId, {
    staticPolicies: Object.fromEntries(view.policies.map((p) => [p.policy.id, p.policy.json])),
  });
  if (answer.type === 'failure') {
    throw new PolicyValidationError(
      answer.errors.map((e) => ({ fileName: 'policies', message: describeCedarError(e) })),
    );
  }
  const { policies: _policies, ...ready } = view;
  return ready;
}

/** The actions the schema declares, and whether any of them is a member of another (an action group). */
export interface SchemaActions {
  readonly names: readonly string[];
  readonly grouped: boolean;
  /**
   * The actions that are members of groups, as entities with their groups as parents: Cedar is given no
   * schema per request, so `action in <group>` holds only with these in the entities.
   */
  readonly entities: readonly EntityJson[];
}

/** What the schema (Cedar schema text) says of the actions; read once, when policies are validated or compiled. */
export function schemaActionsOf(schemaText: string): SchemaActions {
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

/**
 * One {@link ActionView} per action of the schema, and one over every policy for any other action. Each
 * view's policy set is preparsed on the first decision of its action, not at start: a function decides
 * few of the actions (the broker one), and every set preparsed at start was Cedar wasm run cold at every
 * cold start (with V8 tiering the hot parts up in the background while the first requests ran).
 */
export class PolicyActionViews {
  /** What a decision of each action of the schema is asked with (preparsed or not yet). */
  private readonly views: Map<string, PendingView | ActionView>;
  /** Every policy, every attribute policies read: for an action the schema does not declare. */
  private fallbackView: PendingView | ActionView;
  private readonly ready = new Set<string>();

  /**
   * Prepares one policy set per action, named `<setPrefix>-<action>` (and `<setPrefix>-all`): the
   * wasm module caches preparsed sets by name per process, so the prefix must be unique to the engine.
   */
  constructor(
    setPrefix: string,
    policies: readonly ValidatedPolicy[],
    entities: PolicyEntities,
    schemaActions: SchemaActions,
  ) {
    const reaches = policies.map(reachOf);
    const withActions: PolicyEntities =
      schemaActions.entities.length === 0
        ? entities
        : {
            ...entities,
            entities: [...entities.entities, ...schemaActions.entities],
            index: indexEntities([...entities.entities, ...schemaActions.entities]),
          };
    this.fallbackView = pendingView(`${setPrefix}-all`, reaches, withActions);
    this.views = new Map(
      schemaActions.names.map((action) => {
        const applicable = reaches.filter((p) => appliesTo(p.actionScope, action, schemaActions.grouped));
        return [action, pendingView(`${setPrefix}-${action}`, applicable, withActions)];
      }),
    );
  }

  /** The actions the schema declares, in its order. */
  get actions(): readonly string[] {
    return [...this.views.keys()];
  }

  /** The `@id`s of the policies a decision of `action` is asked with (nothing is preparsed). */
  policyIdsOf(action: string): readonly string[] {
    return (this.views.get(action) ?? this.fallbackView).policyIds;
  }

  /**
   * The view a decision of `action` is asked with, its policy set preparsed (on the first call).
   * @throws PolicyValidationError when Cedar refuses the set.
   */
  of(action: string): ActionView {
    const known = this.views.get(action);
    const view = known ?? this.fallbackView;
    if (this.ready.has(view.policySetId)) return view;
    const prepared = preparse(view as PendingView);
    this.ready.add(prepared.policySetId);
    if (known) this.views.set(action, prepared);
    else this.fallbackView = prepared;
    return prepared;
  }
}
