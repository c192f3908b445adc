import { PolicyEngine } from '../../../lambdas/core/policy-engine';
import {
  buildEntities,
  buildResourceEntity,
  pruneEntities,
  selectRequestEntities,
} from '../../../lambdas/core/policy-entities';
import { config, entities, journalEntry, shipped } from '../support/policy-fixtures';

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
      attrs: { clearances: ['confidential'], email: 'bob@example.com' },
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
        { __entity: { type: 'Airlock::Connector', id: 'ledger' } },
        { __entity: { type: 'Airlock::Connector', id: 'handbook' } },
        { __entity: { type: 'Airlock::Connector', id: 'everything' } },
      ],
      allowedScopes: [
        'erp:read',
        'erp:write',
        'everything:read',
        'everything:write',
        'handbook:read',
        'ledger:read',
        'receipts:read',
        'usage:report',
      ],
      maxTokenLifetimeMinutes: 60,
    });
    expect([...result.principals].sort()).toEqual(['alice', 'bob', 'carol', 'dave', 'erin', 'mallory']);
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
