import {
  policySetTextToParts,
  policyToJson,
  preparsePolicySet,
  preparseSchema,
  statefulIsAuthorized,
} from '@cedar-policy/cedar-wasm/nodejs';
import { readPolicyFiles } from '../../../lambdas/adapters/policy-files';
import {
  PolicyEngine,
  type PolicyRequest,
  type PolicySources,
  PolicyValidationError,
} from '../../../lambdas/core/policy-engine';
import {
  buildEntities,
  buildResourceEntity,
  indexEntities,
  pruneEntities,
  selectRequestEntities,
} from '../../../lambdas/core/policy-entities';
import { loadConfig } from '../../../lib/config/load-config';

const shipped = readPolicyFiles();
const config = loadConfig();
const entities = buildEntities(config);

function journalEntry(
  principal: string,
  amountCents: number,
  approval: PolicyRequest['context']['approval'] = 'none',
) {
  return {
    principal,
    action: 'Write',
    resource: {
      kind: 'resource',
      connector: 'erp',
      id: 'createJournalEntry',
      classification: 'confidential',
    },
    workflow: 'expense-summary',
    context: { approval, amountCents },
  } satisfies PolicyRequest;
}

function readReceipt(principal: string): PolicyRequest {
  return {
    principal,
    action: 'Read',
    resource: { kind: 'resource', connector: 'receipts', id: 'read', classification: 'pii' },
    workflow: 'expense-summary',
    context: { approval: 'none' },
  };
}

/** The shipped schema with other policies. */
function sourcesWith(...policies: string[]): PolicySources {
  return {
    schemaText: shipped.schemaText,
    policies: policies.map((text, i) => ({ fileName: `policies/test-${i}.cedar`, text })),
  };
}

const PERMIT_WRITES = `@id("permit-writes")
permit (principal, action == Airlock::Action::"Write", resource);`;

describe('Function: buildEntities', () => {
  it('turns the pilot config into users, groups, connectors and workflows', () => {
    // Act
    const result = buildEntities(config);

    // Assess
    const byUid = new Map(
      result.entities.map((e) => [`${(e.uid as { type: string }).type}::${(e.uid as { id: string }).id}`, e]),
    );
    expect(byUid.get('Airlock::User::bob')).toEqual({
      uid: { type: 'Airlock::User', id: 'bob' },
      attrs: { clearances: [], email: 'bob@example.com' },
      parents: [
        { type: 'Airlock::Group', id: 'finance' },
        { type: 'Airlock::Group', id: 'managers' },
      ],
    });
    expect(byUid.get('Airlock::User::mallory')?.parents).toEqual([]);
    expect(byUid.get('Airlock::Connector::erp')?.attrs).toEqual({ allowedHosts: ['erp.example.com'] });
    expect(byUid.get('Airlock::Connector::receipts')?.attrs).toEqual({ allowedHosts: [] });
    expect(byUid.get('Airlock::Workflow::expense-summary')?.attrs).toEqual({
      owner: { __entity: { type: 'Airlock::User', id: 'bob' } },
      approvalThresholdCents: 100000,
      groups: [{ __entity: { type: 'Airlock::Group', id: 'finance' } }],
      connectors: [
        { __entity: { type: 'Airlock::Connector', id: 'receipts' } },
        { __entity: { type: 'Airlock::Connector', id: 'erp' } },
      ],
      allowedScopes: ['erp:read', 'erp:write', 'receipts:read'],
      maxTokenLifetimeMinutes: 60,
    });
    expect([...result.principals].sort()).toEqual(['alice', 'bob', 'mallory']);
  });

  it('takes the approval threshold from the config, not from code', () => {
    // Prepare
    const cheaper = structuredClone(config);
    cheaper.workflows['expense-summary']!.approvalAmountAbove = 50;
    const engine = PolicyEngine.create({ ...shipped, entities: buildEntities(cheaper) });

    // Act
    const below = engine.decide(journalEntry('alice', 5000));
    const above = engine.decide(journalEntry('alice', 5001));

    // Assess
    expect(below.decision).toBe('allow');
    expect(above).toEqual({
      decision: 'approval_required',
      reasons: ['erp-write-over-threshold-needs-approval'],
      approverGroup: 'managers',
    });
  });

  it('builds the resource of a request inside its connector', () => {
    // Act
    const resource = buildResourceEntity({
      connector: 'receipts',
      id: '2026-q3/0042.txt',
      classification: 'pii',
    });

    // Assess
    expect(resource).toEqual({
      uid: { type: 'Airlock::Resource', id: 'receipts/2026-q3/0042.txt' },
      attrs: {
        classification: 'pii',
        connector: { __entity: { type: 'Airlock::Connector', id: 'receipts' } },
        handling: { __entity: { type: 'Airlock::Classification', id: 'pii' } },
      },
      parents: [{ type: 'Airlock::Connector', id: 'receipts' }],
    });
  });
});

describe('Class: PolicyEngine', () => {
  const engine = PolicyEngine.create({ ...shipped, entities });

  describe('Method: create', () => {
    it('hashes the schema and the policies, whatever order the files come in', () => {
      // Prepare
      const reordered = { ...shipped, policies: [...shipped.policies].reverse() };
      const edited = {
        ...shipped,
        policies: shipped.policies.map((p) => ({ ...p, text: `${p.text}\n// edited\n` })),
      };

      // Act
      const same = PolicyEngine.create(reordered);
      const changed = PolicyEngine.create(edited);

      // Assess
      expect(engine.versionHash).toMatch(/^[0-9a-f]{64}$/);
      expect(same.versionHash).toBe(engine.versionHash);
      expect(changed.versionHash).not.toBe(engine.versionHash);
    });

    it('keeps engines with different policy sets apart', () => {
      // Prepare
      const permissive = PolicyEngine.create({
        ...sourcesWith('@id("everything")\npermit (principal, action, resource);'),
        entities,
      });

      // Act
      const fromPermissive = permissive.decide(journalEntry('mallory', 1));
      const fromShipped = engine.decide(journalEntry('mallory', 1));

      // Assess
      expect(fromPermissive).toEqual({ decision: 'allow', reasons: ['everything'] });
      expect(fromShipped).toEqual({ decision: 'deny', reasons: ['deny-outside-workflow-groups'] });
    });

    it('refuses entities that do not match the schema', () => {
      // Prepare
      const broken = {
        ...entities,
        entities: [
          ...entities.entities,
          {
            uid: { type: 'Airlock::Connector', id: 'hr' },
            attrs: { allowedHosts: 'hr.example.com' },
            parents: [],
          },
        ],
      };

      // Act & Assess
      expect(() => PolicyEngine.create({ ...shipped, entities: broken })).toThrow(PolicyValidationError);
      expect(() => PolicyEngine.create({ ...shipped, entities: broken })).toThrow(
        /entities built from the pilot config: .*allowedHosts/,
      );
    });
  });

  describe('Method: decide', () => {
    it('allows what a policy permits, naming the policy', () => {
      // Act
      const result = engine.decide(readReceipt('alice'));

      // Assess
      expect(result).toEqual({ decision: 'allow', reasons: ['finance-read-receipts'] });
    });

    it('asks for approval only when the annotated forbid is all that stands in the way', () => {
      // Act
      const member = engine.decide(journalEntry('alice', 150000));
      const outsider = engine.decide(journalEntry('mallory', 150000));

      // Assess
      expect(member).toEqual({
        decision: 'approval_required',
        reasons: ['erp-write-over-threshold-needs-approval'],
        approverGroup: 'managers',
      });
      expect(outsider.decision).toBe('deny');
    });

    it('denies when an approval would not be enough, with every reason', () => {
      // Prepare: a "needs approval" forbid but nothing that permits.
      const noPermit = PolicyEngine.create({
        ...sourcesWith(
          '@id("big-writes-need-approval")\n@approval("managers")\nforbid (principal, action, resource)\nwhen { context has amountCents && context.amountCents > 10 }\nunless { context.approval == "approved" };',
        ),
        entities,
      });

      // Act
      const result = noPermit.decide(journalEntry('alice', 11));

      // Assess
      expect(result).toEqual({ decision: 'deny', reasons: ['big-writes-need-approval', 'default-deny'] });
    });

    it('names the first approving group when several annotated forbids apply', () => {
      // Prepare
      const twoApprovals = PolicyEngine.create({
        ...sourcesWith(
          PERMIT_WRITES,
          '@id("treasury-approval")\n@approval("treasury")\nforbid (principal, action, resource) unless { context.approval == "approved" };',
          '@id("controller-approval")\n@approval("controllers")\nforbid (principal, action, resource) unless { context.approval == "approved" };',
        ),
        entities,
      });

      // Act
      const result = twoApprovals.decide(journalEntry('alice', 1));

      // Assess
      expect(result).toEqual({
        decision: 'approval_required',
        reasons: ['controller-approval', 'treasury-approval'],
        approverGroup: 'controllers',
      });
    });

    it('says default-deny when nothing permits', () => {
      // Act
      const result = engine.decide({ ...readReceipt('alice'), action: 'Write' });

      // Assess
      expect(result).toEqual({ decision: 'deny', reasons: ['default-deny'] });
    });

    it('fails closed when a policy cannot be evaluated, even if another permits', () => {
      // Prepare: an unknown principal has no attributes, so reading one is an evaluation error.
      const needsClearance = PolicyEngine.create({
        ...sourcesWith(
          PERMIT_WRITES,
          '@id("pii-needs-clearance")\nforbid (principal, action, resource is Airlock::Resource)\nwhen { resource.classification == "confidential" && !principal.clearances.contains("pii") };',
        ),
        entities,
      });

      // Act
      const result = needsClearance.decide(journalEntry('eve', 1));

      // Assess
      expect(result.decision).toBe('deny');
      expect(result.reasons).toEqual(['evaluation-error', 'pii-needs-clearance']);
      expect(result.errors?.[0]).toMatch(/^pii-needs-clearance: /);
    });

    it('fails closed on an arithmetic overflow in a forbid policy', () => {
      // Prepare
      const overflow = PolicyEngine.create({
        ...sourcesWith(
          PERMIT_WRITES,
          '@id("scaled-limit")\nforbid (principal, action, resource)\nwhen { context has amountCents && context.amountCents * 1000000 > 5 };',
        ),
        entities,
      });

      // Act
      const result = overflow.decide(journalEntry('alice', 10_000_000_000_000));

      // Assess
      expect(result.decision).toBe('deny');
      expect(result.reasons).toContain('evaluation-error');
      expect(result.errors?.join(' ')).toMatch(/overflow/);
    });

    it('fails closed on a request the schema does not allow', () => {
      // Prepare: a credential request must be for a workflow, not a connector resource.
      const request = {
        ...readReceipt('alice'),
        action: 'RequestCredential',
        context: { approval: 'none', durationMinutes: 5 },
      } satisfies PolicyRequest;

      // Act
      const result = engine.decide(request);

      // Assess
      expect(result.decision).toBe('deny');
      expect(result.reasons).toEqual(['invalid-request']);
      expect(result.errors?.join(' ')).toMatch(/RequestCredential applies to a workflow, not a resource/);
    });

    it.each([
      ['not an object', null, /must be an object/],
      ['an unknown action', { ...readReceipt('alice'), action: 'Delete' }, /action must be one of/],
      [
        'an unknown classification',
        {
          ...readReceipt('alice'),
          resource: { kind: 'resource', connector: 'receipts', id: 'x', classification: 'secret' },
        },
        /classification must be one of/,
      ],
      [
        'a workflow resource of another workflow',
        { ...readReceipt('alice'), action: 'RequestCredential', resource: { kind: 'workflow', id: 'other' } },
        /must be the request workflow/,
      ],
      [
        'a fractional duration',
        { ...readReceipt('alice'), context: { approval: 'none', durationMinutes: 1.5 } },
        /durationMinutes must be an integer/,
      ],
      [
        'a scope that is not a list',
        { ...readReceipt('alice'), context: { approval: 'none', scope: 'erp:write' } },
        /scope must be a list/,
      ],
    ])('refuses %s as invalid-request without throwing', (_label, request, message) => {
      // Act
      const result = engine.decide(request as unknown as PolicyRequest);

      // Assess
      expect(result.decision).toBe('deny');
      expect(result.reasons).toEqual(['invalid-request']);
      expect(result.errors?.[0]).toMatch(message);
    });

    it('decides without entities by denying (nothing is known)', () => {
      // Prepare
      const empty = PolicyEngine.create(shipped);

      // Act
      const result = empty.decide(readReceipt('alice'));

      // Assess
      expect(result).toEqual({
        decision: 'deny',
        reasons: ['unknown-workflow'],
        errors: ['workflow "expense-summary" is not in the pilot config'],
      });
    });

    it("follows an attribute a policy reads to the entity it names, with that entity's groups", () => {
      // Prepare: bob owns expense-summary and is a manager; only this policy reads `owner`.
      const engine = PolicyEngine.create({
        ...shipped,
        policies: [
          ...shipped.policies,
          {
            fileName: 'policies/owner-is-manager.cedar',
            text: `@id("workflows-owned-by-managers-only")
forbid (principal, action, resource)
when { context.workflow.owner in Airlock::Group::"managers" };`,
          },
        ],
        entities,
      });

      // Act
      const result = engine.decide(readReceipt('alice'));

      // Assess
      expect(result).toEqual({ decision: 'deny', reasons: ['workflows-owned-by-managers-only'] });
    });
  });
});

describe('Function: pruneEntities', () => {
  it('hands Cedar only the attributes policies read, and only the entities reachable through them that carry something', () => {
    // Prepare
    const read = new Set(['groups', 'approvalThresholdCents', 'classification', 'connector', 'allowedHosts']);

    // Act
    const selected = selectRequestEntities(
      pruneEntities(entities, read),
      {
        principal: 'alice',
        workflow: 'expense-summary',
        resource: { connector: 'receipts', id: 'a.pdf', classification: 'internal' },
      },
      read,
    );

    // Assess
    const byUid = new Map(
      selected.map((e) => [`${(e.uid as { type: string }).type}::${(e.uid as { id: string }).id}`, e]),
    );
    expect([...byUid.keys()].sort()).toEqual([
      'Airlock::Connector::receipts',
      'Airlock::Resource::receipts/a.pdf',
      'Airlock::User::alice',
      'Airlock::Workflow::expense-summary',
    ]);
    expect(byUid.get('Airlock::User::alice')?.attrs).toEqual({});
    expect(byUid.get('Airlock::Workflow::expense-summary')?.attrs).toEqual({
      approvalThresholdCents: 100000,
      groups: [{ __entity: { type: 'Airlock::Group', id: 'finance' } }],
    });
  });

  it('keeps an attribute a policy reads, and the entities it refers to', () => {
    // Act
    const selected = selectRequestEntities(
      pruneEntities(entities, new Set(['owner'])),
      { principal: 'alice', workflow: 'expense-summary' },
      new Set(['owner']),
    );

    // Assess
    const ids = selected.map((e) => (e.uid as { id: string }).id).sort();
    expect(ids).toEqual(['alice', 'bob', 'expense-summary']);
    expect(selected.find((e) => (e.uid as { id: string }).id === 'bob')?.parents).toEqual([
      { type: 'Airlock::Group', id: 'finance' },
      { type: 'Airlock::Group', id: 'managers' },
    ]);
  });
});

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
                ...context,
                approval,
                scope: [...(context.scope ?? [])],
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

const GRID_SIZE = 3 * 5 * 9 * 9 * 2;
let referenceCount = 0;

describe('Class: PolicyEngine (what Cedar is handed)', () => {
  it('decides a grid of requests exactly as all shipped policies over all entities would', () => {
    // Act / Assess
    expect(compareWithWholeSet(shipped, entities)).toBe(GRID_SIZE);
  });

  it('hands Cedar the entities a policy names literally, with their attributes and groups', () => {
    // Prepare: bob is a manager and erp reaches erp.example.com, so both decide something.
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
when { Airlock::Connector::"erp".allowedHosts.contains("erp.example.com") };`,
        },
      ],
    };

    // Act / Assess
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
