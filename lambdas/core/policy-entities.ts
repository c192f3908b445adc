/**
 * Cedar entities from the pilot config: who is in which group, what each workflow may do and
 * which hosts each connector may reach. Built once per process; only the resource a request
 * touches is built per request ({@link buildResourceEntity}).
 */
import type { EntityJson, EntityUidJson } from '@cedar-policy/cedar-wasm/nodejs';
import type { AirlockConfig } from '../../lib/config/schema';

/** Cedar entity type names of `policies/airlock.cedarschema`. */
export const CEDAR_TYPES = {
  user: 'Airlock::User',
  group: 'Airlock::Group',
  workflow: 'Airlock::Workflow',
  connector: 'Airlock::Connector',
  resource: 'Airlock::Resource',
  action: 'Airlock::Action',
} as const;

/** Data classifications a resource can carry, least to most sensitive. */
export type Classification = 'public' | 'internal' | 'confidential' | 'pii';

/** The entities decisions need, with the names known to exist (so a typo is refused by name). */
export interface PolicyEntities {
  /** Cedar JSON entities: users, groups, workflows and connectors. */
  readonly entities: readonly EntityJson[];
  /** The same entities by `<type>::<id>`, to pick the few a request needs. */
  readonly index: ReadonlyMap<string, EntityJson>;
  readonly principals: ReadonlySet<string>;
  readonly workflows: ReadonlySet<string>;
  readonly connectors: ReadonlySet<string>;
}

/** The resource of a connector call: what the operation reads or changes, inside its connector. */
export interface ConnectorResource {
  readonly connector: string;
  /** The operation-qualified object, e.g. `read` or a receipt's key; unique within the connector. */
  readonly id: string;
  readonly classification: Classification;
}

function uid(type: string, id: string): { __entity: { type: string; id: string } } {
  return { __entity: { type, id } };
}

function parent(type: string, id: string): EntityUidJson {
  return { type, id };
}

/** Amounts in the config are in currency units; Cedar has only integers, so thresholds are in cents. */
function toCents(amount: number): number {
  return Math.round(amount * 100);
}

/**
 * Builds the Cedar entities of a validated pilot config: users (in their groups, with clearances),
 * groups, workflows (owner, approval threshold in cents, groups, connectors, the scopes their
 * operations need, maximum token lifetime) and connectors (an http-api's allowed hosts; a file
 * store reaches no host).
 */
export function buildEntities(config: AirlockConfig): PolicyEntities {
  const entities: EntityJson[] = [];

  for (const group of Object.keys(config.groups)) {
    entities.push({ uid: parent(CEDAR_TYPES.group, group), attrs: {}, parents: [] });
  }

  for (const [name, principal] of Object.entries(config.principals)) {
    entities.push({
      uid: parent(CEDAR_TYPES.user, name),
      attrs: {
        clearances: [...principal.clearances],
        ...(principal.email === undefined ? {} : { email: principal.email }),
      },
      parents: principal.groups.map((group) => parent(CEDAR_TYPES.group, group)),
    });
  }

  for (const [name, connector] of Object.entries(config.connectors)) {
    const allowedHosts =
      connector.kind === 'http-api' ? connector.allowedHosts.map((h) => h.toLowerCase()) : [];
    entities.push({ uid: parent(CEDAR_TYPES.connector, name), attrs: { allowedHosts }, parents: [] });
  }

  for (const [name, workflow] of Object.entries(config.workflows)) {
    const scopes = new Set<string>();
    for (const [connectorName, operations] of Object.entries(workflow.connectors)) {
      const connector = config.connectors[connectorName];
      for (const operation of operations) {
        const access = connector?.operations[operation]?.access;
        if (access !== undefined) scopes.add(`${connectorName}:${access}`);
      }
    }
    entities.push({
      uid: parent(CEDAR_TYPES.workflow, name),
      attrs: {
        owner: uid(CEDAR_TYPES.user, workflow.owner),
        approvalThresholdCents: toCents(workflow.approvalAmountAbove),
        groups: workflow.groups.map((group) => uid(CEDAR_TYPES.group, group)),
        connectors: Object.keys(workflow.connectors).map((c) => uid(CEDAR_TYPES.connector, c)),
        allowedScopes: [...scopes].sort(),
        maxTokenLifetimeMinutes: workflow.maxTokenLifetimeMinutes,
      },
      parents: [],
    });
  }

  return {
    entities,
    index: indexEntities(entities),
    principals: new Set(Object.keys(config.principals)),
    workflows: new Set(Object.keys(config.workflows)),
    connectors: new Set(Object.keys(config.connectors)),
  };
}

function keyOf(type: string, id: string): string {
  return `${type}::${id}`;
}

/** Indexes entities by `<type>::<id>` (for entities built elsewhere, e.g. in a test). */
export function indexEntities(entities: readonly EntityJson[]): ReadonlyMap<string, EntityJson> {
  const index = new Map<string, EntityJson>();
  for (const entity of entities) {
    const uid = '__entity' in entity.uid ? entity.uid.__entity : entity.uid;
    index.set(keyOf(uid.type, uid.id), entity);
  }
  return index;
}

/**
 * The entities one request needs: the principal and its groups, the workflow, its owner and its
 * connectors, and the resource. Cedar is handed these rather than the whole directory, so a
 * decision costs the same with ten principals or ten thousand.
 */
export function selectRequestEntities(
  entities: PolicyEntities,
  request: { readonly principal: string; readonly workflow: string; readonly resource?: ConnectorResource },
): EntityJson[] {
  const selected = new Map<string, EntityJson>();
  const add = (type: string, id: string): EntityJson | undefined => {
    const key = keyOf(type, id);
    const entity = entities.index.get(key);
    if (entity && !selected.has(key)) selected.set(key, entity);
    return entity;
  };
  const addWithParents = (type: string, id: string): void => {
    const entity = add(type, id);
    for (const p of entity?.parents ?? []) {
      const uid = '__entity' in p ? p.__entity : p;
      add(uid.type, uid.id);
    }
  };
  addWithParents(CEDAR_TYPES.user, request.principal);
  const workflow = add(CEDAR_TYPES.workflow, request.workflow);
  if (workflow) {
    const { owner, connectors } = workflow.attrs as {
      owner?: { __entity: { id: string } };
      connectors?: { __entity: { id: string } }[];
    };
    if (owner) addWithParents(CEDAR_TYPES.user, owner.__entity.id);
    for (const connector of connectors ?? []) add(CEDAR_TYPES.connector, connector.__entity.id);
  }
  if (request.resource) add(CEDAR_TYPES.connector, request.resource.connector);
  const list = [...selected.values()];
  if (request.resource) list.push(buildResourceEntity(request.resource));
  return list;
}

/** The Cedar id of a connector resource: `<connector>/<id>`, so ids of different connectors never collide. */
export function resourceEntityId(resource: ConnectorResource): string {
  return `${resource.connector}/${resource.id}`;
}

/** Builds the per-request resource entity, a child of its connector. */
export function buildResourceEntity(resource: ConnectorResource): EntityJson {
  return {
    uid: parent(CEDAR_TYPES.resource, resourceEntityId(resource)),
    attrs: {
      classification: resource.classification,
      connector: uid(CEDAR_TYPES.connector, resource.connector),
    },
    parents: [parent(CEDAR_TYPES.connector, resource.connector)],
  };
}
