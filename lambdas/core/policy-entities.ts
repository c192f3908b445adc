/**
 * Cedar entities from the pilot config: who is in which group, what each workflow may do and
 * which hosts each connector may reach. Built once per process; only the resource a request
 * touches is built per request ({@link buildResourceEntity}).
 */
import type { EntityJson, EntityUidJson } from '@cedar-policy/cedar-wasm/nodejs';
import type { AirlockConfig } from '../../lib/config/schema';
import { USAGE_REPORT_SCOPE } from '../../lib/contracts/names';
import { amountInCents } from './dlp/exact-amount';
import { normalizeExportFormat } from './dlp/export-format';

/** Cedar entity type names of `policies/airlock.cedarschema`. */
export const CEDAR_TYPES = {
  user: 'Airlock::User',
  group: 'Airlock::Group',
  workflow: 'Airlock::Workflow',
  connector: 'Airlock::Connector',
  resource: 'Airlock::Resource',
  classification: 'Airlock::Classification',
  action: 'Airlock::Action',
} as const;

/** Data classifications a resource can carry, least to most sensitive. */
export type Classification = 'public' | 'internal' | 'confidential' | 'pii';

const CLASSIFICATIONS: readonly Classification[] = ['public', 'internal', 'confidential', 'pii'];

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

/** Amounts in the config are in currency units; Cedar has only integers, so thresholds are in cents (exact, rounded down). */
function toCents(amount: number): number {
  return Number(amountInCents(amount, 'down').cents);
}

/**
 * Builds the Cedar entities of a validated pilot config: users (in their groups, with clearances),
 * groups, classifications (the export formats and egress hosts `dataProtection` allows), workflows (owner, approval threshold in cents, groups, connectors, the scopes their
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
    // Hosts a connector may reach are in its config when its kind reaches hosts (an HTTP API, a server).
    const hosts: unknown = (connector as { allowedHosts?: unknown }).allowedHosts;
    const allowedHosts = Array.isArray(hosts) ? hosts.map((host) => String(host).toLowerCase()) : [];
    entities.push({
      uid: parent(CEDAR_TYPES.connector, name),
      attrs: { allowedHosts: [...allowedHosts] },
      parents: [],
    });
  }

  // How each classification's data may leave (config: dataProtection); formats in one spelling.
  const { exportFormats, egressHosts } = config.dataProtection;
  for (const classification of CLASSIFICATIONS) {
    const formats = exportFormats[classification];
    const hosts = egressHosts[classification];
    entities.push({
      uid: parent(CEDAR_TYPES.classification, classification),
      attrs: {
        ...(formats === undefined
          ? {}
          : {
              exportFormats: [
                ...new Set(formats.map(normalizeExportFormat).filter((f): f is string => f !== undefined)),
              ],
            }),
        ...(hosts === undefined ? {} : { egressHosts: hosts.map((h) => h.toLowerCase()) }),
      },
      parents: [],
    });
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
    // Granted only when asked for (the broker never adds it), and only where usage reports are on.
    if (workflow.usageReports.enabled) scopes.add(USAGE_REPORT_SCOPE);
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
 * The entities one request needs: the principal, the workflow, the resource and its connector, the
 * action, the entities policies name literally, every entity their attributes refer to, and the
 * ancestors of all of them (so `in` sees the whole group hierarchy). Cedar is handed these rather than
 * the whole directory, so a decision costs the same with ten principals or ten thousand. References
 * are followed through every attribute the entities carry (after {@link pruneEntities}, the ones
 * policies read), so no entity a policy can reach is left out.
 */
export function selectRequestEntities(
  entities: PolicyEntities,
  request: {
    readonly principal: string;
    readonly workflow: string;
    readonly resource?: ConnectorResource;
    /** The action, whose entity carries its action groups (when the schema has any). */
    readonly action?: string;
    /** Entities the policies name literally. */
    readonly named?: ReadonlyArray<{ readonly type: string; readonly id: string }>;
  },
  readAttributes?: ReadonlySet<string>,
): EntityJson[] {
  const selected = new Map<string, EntityJson>();
  const pending: Array<{ type: string; id: string }> = [
    { type: CEDAR_TYPES.user, id: request.principal },
    { type: CEDAR_TYPES.workflow, id: request.workflow },
  ];
  if (request.action !== undefined) pending.push({ type: CEDAR_TYPES.action, id: request.action });
  if (request.named) for (const named of request.named) pending.push(named);
  const resource = request.resource
    ? pruneAttributes(buildResourceEntity(request.resource), readAttributes)
    : undefined;
  if (resource) collectReferences(resource, pending);
  for (let next = pending.pop(); next; next = pending.pop()) {
    const key = keyOf(next.type, next.id);
    if (selected.has(key)) continue;
    const entity = entities.index.get(key);
    if (!entity) continue;
    selected.set(key, entity);
    collectReferences(entity, pending);
  }
  // An entity with neither attributes, tags nor parents decides exactly as an absent one (`has` is false,
  // `in` holds only for itself, reading an attribute is an error either way), and costs a parse.
  const list: EntityJson[] = [];
  for (const entity of selected.values()) {
    if (entity.parents.length > 0 || hasOwnKey(entity.attrs) || hasOwnKey(entity.tags)) list.push(entity);
  }
  if (resource) list.push(resource);
  return list;
}

/** `Object.keys(value).length > 0`, without the array (undefined has none). */
function hasOwnKey(value: object | undefined): boolean {
  if (value === undefined) return false;
  for (const key in value) if (Object.hasOwn(value, key)) return true;
  return false;
}

/** Queues the parents of an entity and every entity its attribute values refer to. */
function collectReferences(entity: EntityJson, pending: Array<{ type: string; id: string }>): void {
  for (const p of entity.parents) pending.push('__entity' in p ? p.__entity : p);
  collectValueReferences(entity.attrs, pending);
}

function collectValueReferences(value: unknown, pending: Array<{ type: string; id: string }>): void {
  if (Array.isArray(value)) {
    for (const item of value) collectValueReferences(item, pending);
  } else if (value !== null && typeof value === 'object') {
    const ref = (value as { __entity?: { type?: unknown; id?: unknown } }).__entity;
    if (ref && typeof ref.type === 'string' && typeof ref.id === 'string') {
      pending.push({ type: ref.type, id: ref.id });
      return;
    }
    for (const child of Object.values(value)) collectValueReferences(child, pending);
  }
}

/**
 * The same entities without the attributes no policy reads. Cedar parses every attribute of every
 * entity it is handed on every decision; attributes no policy names (Cedar has no computed attribute
 * names) cannot change a decision, so leaving them out changes no answer and makes each one cheaper.
 * Entities reachable only through a dropped attribute then drop out of {@link selectRequestEntities}.
 */
export function pruneEntities(entities: PolicyEntities, readAttributes: ReadonlySet<string>): PolicyEntities {
  const pruned = entities.entities.map((entity) => pruneAttributes(entity, readAttributes));
  return { ...entities, entities: pruned, index: indexEntities(pruned) };
}

function pruneAttributes(entity: EntityJson, readAttributes: ReadonlySet<string> | undefined): EntityJson {
  if (!readAttributes) return entity;
  const attrs = Object.fromEntries(Object.entries(entity.attrs).filter(([name]) => readAttributes.has(name)));
  return { ...entity, attrs };
}

/** The Cedar id of a connector resource: `<connector>/<id>`, so ids of different connectors never collide. */
export function resourceEntityId(resource: ConnectorResource): string {
  return `${resource.connector}/${resource.id}`;
}

/** Builds the per-request resource entity, a child of its connector, handled as its classification says. */
export function buildResourceEntity(resource: ConnectorResource): EntityJson {
  return {
    uid: parent(CEDAR_TYPES.resource, resourceEntityId(resource)),
    attrs: {
      classification: resource.classification,
      connector: uid(CEDAR_TYPES.connector, resource.connector),
      handling: uid(CEDAR_TYPES.classification, resource.classification),
    },
    parents: [parent(CEDAR_TYPES.connector, resource.connector)],
  };
}
