import {
  policySetTextToParts,
  policyToJson,
  preparsePolicySet,
  preparseSchema,
  statefulIsAuthorized,
} from '@cedar-policy/cedar-wasm/nodejs';
import type { ActionView } from '../../../lambdas/core/policy-action-views';
import { PolicyEngine } from '../../../lambdas/core/policy-engine';
import {
  type buildEntities,
  buildResourceEntity,
  indexEntities,
} from '../../../lambdas/core/policy-entities';
import type { PolicyRequest } from '../../../lambdas/core/policy-request';
import type { PolicySources } from '../../../lambdas/core/policy-validation';
import { entities, readReceipt, shipped } from '../support/policy-fixtures';

/**
 * Evaluates a grid of requests with the engine and with a plain `isAuthorized` over every policy, every
 * entity and the schema's actions, and returns how many evaluations agreed (it fails on the first that
 * does not). The engine hands Cedar, per action, only the policies whose scope can match it and only
 * what those policies can reach; the answer must be the one the whole set gives over the whole directory.
 */
function compareWithWholeSet(sources: PolicySources, directory: ReturnType<typeof buildEntities>): number {
  const engine = PolicyEngine.create({ ...sources, entities: directory });
  const evaluate = (
    engine as unknown as {
      evaluate(
        request: PolicyRequest,
        approval: 'none' | 'approved',
      ): { decision: string; reasons: string[] };
    }
  ).evaluate.bind(engine);
  // Every policy under its @id, as the engine names them.
  const staticPolicies = Object.fromEntries(
    sources.policies.flatMap((file) => {
      const parts = policySetTextToParts(file.text);
      if (parts.type !== 'success') throw new Error(`${file.fileName} does not parse`);
      return parts.policies.map((text) => {
        const json = policyToJson(text);
        if (json.type !== 'success') throw new Error(`${file.fileName}: a policy does not parse`);
        return [json.json.annotations?.id ?? '', text];
      });
    }),
  );
  expect(Object.keys(staticPolicies)).toHaveLength(engine.policies.length);
  // The reference set and schema, parsed once (parsing the schema on every call would take minutes).
  referenceCount++;
  const referenceSet = `reference-set-${referenceCount}`;
  const referenceSchema = `reference-schema-${referenceCount}`;
  expect(preparsePolicySet(referenceSet, { staticPolicies }).type).toBe('success');
  expect(preparseSchema(referenceSchema, sources.schemaText).type).toBe('success');
  const resources = [
    { kind: 'workflow' as const, id: 'expense-summary' },
    ...(['receipts', 'erp'] as const).flatMap((connector) =>
      (['public', 'internal', 'confidential', 'pii'] as const).map((classification) => ({
        kind: 'resource' as const,
        connector,
        id: 'some/object',
        classification,
      })),
    ),
  ];
  const contexts: PolicyRequest['context'][] = [
    { approval: 'none', scope: ['receipts:read'] },
    { approval: 'none', scope: ['erp:write'], amountCents: 50_000 },
    { approval: 'none', scope: ['erp:write'], amountCents: 500_000 },
    { approval: 'none', format: 'csv', scope: ['receipts:export'] },
    { approval: 'none', destinationHost: 'erp.example.com' },
    { approval: 'none', destinationHost: 'evil.example.net' },
    { approval: 'none', durationMinutes: 30, scope: ['receipts:read', 'erp:read'] },
    { approval: 'none', durationMinutes: 600, scope: ['receipts:read'] },
    { approval: 'none', durationMinutes: 30, scope: ['erp:export'] },
    { approval: 'none', scope: ['receipts:read'], channel: 'oauth' },
    { approval: 'none', scope: ['receipts:read'], channel: 'device' },
  ];
  let compared = 0;
  for (const principal of ['alice', 'bob', 'mallory']) {
    for (const action of ['RequestCredential', 'List', 'Read', 'Write', 'Export'] as const) {
      for (const resource of resources) {
        for (const context of contexts) {
          for (const approval of ['none', 'approved'] as const) {
            const request: PolicyRequest = {
              principal,
              action,
              resource,
              workflow: 'expense-summary',
              context,
            };
            const resourceEntity = resource.kind === 'resource' ? [buildResourceEntity(resource)] : [];
            const reference = statefulIsAuthorized({
              principal: { type: 'Airlock::User', id: principal },
              action: { type: 'Airlock::Action', id: action },
              resource:
                resource.kind === 'resource'
                  ? { type: 'Airlock::Resource', id: `${resource.connector}/${resource.id}` }
                  : { type: 'Airlock::Workflow', id: 'expense-summary' },
              context: {
                ...(({ requestPersonalData: _outgoing, ...rest }) => rest)(context),
                approval,
                scope: [...(context.scope ?? [])],
                ...(context.requestPersonalData
                  ? { requestPersonalData: [...context.requestPersonalData] }
                  : {}),
                workflow: { __entity: { type: 'Airlock::Workflow', id: 'expense-summary' } },
              },
              preparsedPolicySetId: referenceSet,
              // The schema gives the reference the action hierarchy; the request is not validated.
              preparsedSchemaName: referenceSchema,
              validateRequest: false,
              entities: [...directory.entities, ...resourceEntity],
            });
            if (reference.type !== 'success') throw new Error(JSON.stringify(reference.errors));
            const expected = {
              decision: reference.response.decision,
              reasons: [...reference.response.diagnostics.reason].sort(),
            };
            expect(reference.response.diagnostics.errors).toEqual([]);
            expect({ request, approval, ...evaluate(request, approval) }).toEqual({
              request,
              approval,
              ...expected,
            });
            compared++;
          }
        }
      }
    }
  }
  return compared;
}

const GRID_SIZE = 3 * 5 * 9 * 11 * 2;
let referenceCount = 0;

describe('Class: PolicyEngine (what Cedar is handed)', () => {
  it('decides a grid of requests exactly as all shipped policies over all entities would', () => {
    // Act / Assess
    expect(compareWithWholeSet(shipped, entities)).toBe(GRID_SIZE);
  });

  it('hands Cedar the entities a policy names literally, with their attributes and groups', () => {
    // Prepare: bob is a manager and erp reaches erp.example.com, so both decide something. The third
    // policy names entities only where Cedar compares them (`==`, `!=`, the right of `in`, a set there),
    // which the engine leaves out of the entities it hands over.
    const sources = {
      ...shipped,
      policies: [
        ...shipped.policies,
        {
          fileName: 'policies/literals.cedar',
          text: `@id("no-lists-while-bob-manages")
forbid (principal, action == Airlock::Action::"List", resource)
when { Airlock::User::"bob" in Airlock::Group::"managers" };

@id("exports-while-erp-reaches-its-host")
permit (principal, action == Airlock::Action::"Export", resource)
when { Airlock::Connector::"erp".allowedHosts.contains("erp.example.com") };

@id("reads-of-named-connectors-outside-follow-up")
permit (principal, action == Airlock::Action::"Read", resource)
when {
  resource in [Airlock::Connector::"erp", Airlock::Connector::"crm"] &&
  context.workflow != Airlock::Workflow::"customer-follow-up" &&
  !(principal == Airlock::User::"bob")
};`,
        },
      ],
    };

    // Act / Assess
    expect(compareWithWholeSet(sources, entities)).toBe(GRID_SIZE);
  });

  it("hands Cedar only the context attributes the action's policies read, and the whole context to a policy that uses it whole", () => {
    // Prepare: Reads through the OAuth entry point are forbidden by a policy that reads the channel;
    // an Export policy reads it only through a record holding the whole context.
    const sources = {
      ...shipped,
      policies: [
        ...shipped.policies,
        {
          fileName: 'policies/channel.cedar',
          text: `@id("no-oauth-reads")
forbid (principal, action == Airlock::Action::"Read", resource)
when { context has channel && context.channel == "oauth" };

@id("exports-from-devices-only")
forbid (principal, action == Airlock::Action::"Export", resource)
unless { {"request": context}.request has channel };`,
        },
      ],
    };
    const engine = PolicyEngine.create({ ...sources, entities });
    const views = (engine as unknown as { views: { of(action: string): ActionView } }).views;

    // Act
    const read = views.of('Read').contextAttributes;
    const exported = views.of('Export').contextAttributes;
    const viaOAuth = engine.decide({
      ...readReceipt('alice'),
      context: { ...readReceipt('alice').context, channel: 'oauth' },
    });

    // Assess: Read is handed its policies' attributes (workflow, channel), not the scope or the approval.
    expect(
      read && [...read].filter((name) => ['approval', 'channel', 'scope', 'workflow'].includes(name)).sort(),
    ).toEqual(['channel', 'workflow']);
    expect(exported).toBeUndefined();
    expect(viaOAuth).toEqual({ decision: 'deny', reasons: ['no-oauth-reads'] });
    expect(compareWithWholeSet(sources, entities)).toBe(GRID_SIZE);
  });

  it('keeps a record attribute that a dotted `has` reads', () => {
    // Prepare: alice carries flags.suspended; only a dotted `has` reads it.
    const schemaText = shipped.schemaText.replace(
      'clearances: Set<String>,',
      'clearances: Set<String>,\n    flags?: { suspended?: Bool },',
    );
    expect(schemaText).not.toBe(shipped.schemaText);
    const flagged = entities.entities.map((e) =>
      (e.uid as { id: string }).id === 'alice' && (e.uid as { type: string }).type === 'Airlock::User'
        ? { ...e, attrs: { ...e.attrs, flags: { suspended: true } } }
        : e,
    );
    const directory = { ...entities, entities: flagged, index: indexEntities(flagged) };
    const sources = {
      schemaText,
      policies: [
        ...shipped.policies,
        {
          fileName: 'policies/suspended.cedar',
          text: `@id("suspended-users-get-nothing")
forbid (principal, action, resource) when { principal has flags.suspended };`,
        },
      ],
    };

    // Act / Assess
    expect(compareWithWholeSet(sources, directory)).toBe(GRID_SIZE);
  });

  it('applies a policy written for an action group to the actions in the group', () => {
    // Prepare: the connector actions are members of "Access"; one forbid is written for the group.
    const schemaText = shipped.schemaText.replace(
      'action List, Read, Write, Export appliesTo',
      'action Access;\n  action List, Read, Write, Export in [Access] appliesTo',
    );
    expect(schemaText).not.toBe(shipped.schemaText);
    const sources = {
      schemaText,
      policies: [
        ...shipped.policies,
        {
          fileName: 'policies/group.cedar',
          text: `@id("nothing-pii-for-any-access")
forbid (principal, action in Airlock::Action::"Access", resource is Airlock::Resource)
when { resource.classification == "pii" };`,
        },
      ],
    };
    const engine = PolicyEngine.create({ ...sources, entities });

    // Act
    const result = engine.decide({
      ...readReceipt('alice'),
      resource: { kind: 'resource', connector: 'receipts', id: 'a', classification: 'pii' },
    });

    // Assess
    expect(result).toEqual({ decision: 'deny', reasons: ['nothing-pii-for-any-access'] });
    expect(compareWithWholeSet(sources, entities)).toBe(GRID_SIZE);
  });
});
