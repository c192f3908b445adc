/**
 * The policy engine remembers Cedar's answers by the exact request it asked. These tests hold it to the
 * only thing that makes that safe: every answer is the one Cedar gives when asked afresh.
 */
import { statefulIsAuthorized } from '@cedar-policy/cedar-wasm/nodejs';
import { PolicyEngine } from '../../../lambdas/core/policy-engine';
import type { PolicyRequest } from '../../../lambdas/core/policy-request';
import type { PolicySources } from '../../../lambdas/core/policy-validation';
import { entities, readReceipt, shipped } from '../support/policy-fixtures';

// Cedar itself, counted: how often the engine really asks it.
jest.mock('@cedar-policy/cedar-wasm/nodejs', () => {
  const actual = jest.requireActual('@cedar-policy/cedar-wasm/nodejs');
  return { ...actual, statefulIsAuthorized: jest.fn(actual.statefulIsAuthorized) };
});
const cedarAsked = statefulIsAuthorized as jest.MockedFunction<typeof statefulIsAuthorized>;

/** A board paper, the document the policies below name. */
const BOARD_MINUTES = 'board/2026-11-minutes.txt';

/** Ways a policy can name one document: each must keep that document's decisions its own. */
const NAMING_ONE_DOCUMENT: ReadonlyArray<[string, string]> = [
  [
    'in its scope',
    `@id("board-minutes-scope")
forbid (principal, action == Airlock::Action::"Read", resource == Airlock::Resource::"receipts/${BOARD_MINUTES}");`,
  ],
  [
    'in a condition',
    `@id("board-minutes-when")
forbid (principal, action == Airlock::Action::"Read", resource)
when { resource == Airlock::Resource::"receipts/${BOARD_MINUTES}" };`,
  ],
  [
    'in a set in a condition',
    `@id("board-minutes-set")
forbid (principal, action == Airlock::Action::"Read", resource is Airlock::Resource)
when { [Airlock::Resource::"receipts/${BOARD_MINUTES}", Airlock::Resource::"erp/board"].contains(resource) };`,
  ],
  [
    'in an unless',
    `@id("board-minutes-unless")
forbid (principal, action, resource)
unless { resource != Airlock::Resource::"receipts/${BOARD_MINUTES}" };`,
  ],
];

/** The shipped policies and one more. */
function shippedWith(name: string, text: string): PolicySources {
  return { ...shipped, policies: [...shipped.policies, { fileName: `policies/${name}.cedar`, text }] };
}

function readOf(id: string, principal = 'alice'): PolicyRequest {
  const read = readReceipt(principal);
  return { ...read, resource: { ...read.resource, id } as PolicyRequest['resource'] };
}

function requests(): PolicyRequest[] {
  const grid: PolicyRequest[] = [];
  for (const principal of ['alice', 'bob', 'mallory', 'carol']) {
    for (const workflow of ['expense-summary', 'customer-follow-up']) {
      for (const action of ['Read', 'List', 'Write', 'Export'] as const) {
        for (const connector of ['receipts', 'erp', 'hr']) {
          for (const classification of ['internal', 'pii'] as const) {
            for (const approval of ['none', 'approved'] as const) {
              for (const amountCents of [undefined, 500, 500_000]) {
                // Every request twice, but for the document: the board minutes and another one.
                for (const id of [BOARD_MINUTES, 'some/object']) {
                  grid.push({
                    principal,
                    action,
                    resource: { kind: 'resource', connector, id, classification },
                    workflow,
                    context: {
                      approval,
                      scope: [`${connector}:${action.toLowerCase()}`],
                      ...(amountCents === undefined
                        ? {}
                        : { amountCents, dailyAmountCents: amountCents * 2 }),
                    },
                  });
                }
              }
            }
          }
        }
      }
    }
  }
  return grid;
}

/** A fixed permutation (a linear congruential generator), so a failure can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('Class: PolicyEngine, remembered decisions', () => {
  const forgetful = PolicyEngine.create({ ...shipped, entities, decisionsRemembered: 0 });

  it.each([
    ['the default memory', undefined],
    ['a memory of three answers (emptied again and again)', 3],
  ])(
    'answers every request, asked three times in random orders, as an engine that remembers nothing: %s',
    (_, size) => {
      // Prepare
      const engine = PolicyEngine.create({ ...shipped, entities, decisionsRemembered: size });
      const grid = requests();
      const expected = new Map(grid.map((r) => [r, forgetful.decide(r)]));

      // Act + Assess
      for (const seed of [1, 2, 3]) {
        for (const request of shuffled(grid, seed))
          expect(engine.decide(request)).toEqual(expected.get(request));
      }
      // The grid reaches allow, deny and approval_required alike.
      const decisions = new Set([...expected.values()].map((d) => d.decision));
      expect(decisions).toEqual(new Set(['allow', 'deny', 'approval_required']));
    },
  );

  it('attack: an answer remembered for one principal, workflow, resource or context is never given to another', () => {
    // Prepare: alice's read is allowed and remembered
    const engine = PolicyEngine.create({ ...shipped, entities });
    expect(engine.decide(readReceipt('alice')).decision).toBe('allow');
    const read = readReceipt('alice');

    // Act
    const others = [
      { ...read, principal: 'mallory' },
      { ...read, workflow: 'customer-follow-up' },
      { ...read, resource: { ...read.resource, connector: 'hr' } },
      { ...read, context: { ...read.context, scope: [] } },
    ].map((request) => [engine.decide(request as PolicyRequest), forgetful.decide(request as PolicyRequest)]);

    // Assess
    for (const [remembering, fresh] of others) expect(remembering).toEqual(fresh);
    expect(others.map(([d]) => d!.decision)).toContain('deny');
  });

  it.each(NAMING_ONE_DOCUMENT)(
    'answers as an engine that remembers nothing when a policy names a document %s',
    (_, text) => {
      // Prepare
      const sources = shippedWith('board', text);
      const engine = PolicyEngine.create({ ...sources, entities });
      const fresh = PolicyEngine.create({ ...sources, entities, decisionsRemembered: 0 });
      const grid = requests();

      // Act + Assess
      for (const seed of [4]) {
        for (const request of shuffled(grid, seed))
          expect(engine.decide(request)).toEqual(fresh.decide(request));
      }
    },
  );

  it.each(NAMING_ONE_DOCUMENT)(
    'attack: a read of the board minutes, forbidden by a policy that names them %s, was answered with the allow remembered for another receipt',
    (_, text) => {
      // Prepare: another receipt's read is allowed, and remembered
      const engine = PolicyEngine.create({ ...shippedWith('board', text), entities });
      expect(engine.decide(readOf('2026-q3/hotel.txt')).decision).toBe('allow');

      // Act
      const minutes = engine.decide(readOf(BOARD_MINUTES));

      // Assess
      expect(minutes.decision).toBe('deny');
      expect(minutes.reasons[0]).toMatch(/^board-minutes-/);
      expect(engine.decide(readOf('2026-q3/taxi.txt')).decision).toBe('allow');
    },
  );

  it('asks Cedar once for a run reading many documents of one connector and classification, where no policy names a document', () => {
    // Prepare
    const engine = PolicyEngine.create({ ...shipped, entities });
    const documents = Array.from({ length: 40 }, (_, i) => `2026-q3/receipt-${i}.txt`);
    cedarAsked.mockClear();

    // Act
    const decisions = documents.map((id) => engine.decide(readOf(id)));

    // Assess
    expect(decisions.every((d) => d.decision === 'allow')).toBe(true);
    expect(cedarAsked).toHaveBeenCalledTimes(1);
    // Another principal, another classification: asked again.
    engine.decide(readOf(documents[0]!, 'bob'));
    engine.decide({
      ...readOf(documents[0]!),
      resource: {
        ...readOf(documents[0]!).resource,
        classification: 'internal',
      } as PolicyRequest['resource'],
    });
    expect(cedarAsked).toHaveBeenCalledTimes(3);
  });

  it('asks Cedar for every document when a policy names one', () => {
    // Prepare
    const engine = PolicyEngine.create({ ...shippedWith('board', NAMING_ONE_DOCUMENT[0]![1]), entities });
    const documents = Array.from({ length: 40 }, (_, i) => `2026-q3/receipt-${i}.txt`);
    cedarAsked.mockClear();

    // Act
    for (const id of documents) engine.decide(readOf(id));
    for (const id of documents) engine.decide(readOf(id));

    // Assess: each document once, then from memory
    expect(cedarAsked).toHaveBeenCalledTimes(documents.length);
  });

  it('attack: a document id with a lone surrogate, which Cedar cannot evaluate, got the allow remembered for another receipt', () => {
    // Prepare
    const engine = PolicyEngine.create({ ...shipped, entities });
    expect(engine.decide(readOf('2026-q3/hotel.txt')).decision).toBe('allow');

    // Act
    const broken = engine.decide(readOf('2026-q3/\uD800.txt'));

    // Assess
    expect(broken).toMatchObject({ decision: 'deny', reasons: ['invalid-request'] });
    expect(forgetful.decide(readOf('2026-q3/\uD800.txt')).decision).toBe('deny');
  });

  it('hands out copies: changing an answer changes no later one', () => {
    // Prepare
    const engine = PolicyEngine.create({ ...shipped, entities });
    const first = engine.decide(readReceipt('alice'));

    // Act
    first.reasons.push('tampered');

    // Assess
    expect(engine.decide(readReceipt('alice')).reasons).not.toContain('tampered');
  });
});
