/**
 * The policy engine remembers Cedar's answers by the exact request it asked. These tests hold it to the
 * only thing that makes that safe: every answer is the one Cedar gives when asked afresh.
 */
import { PolicyEngine } from '../../../lambdas/core/policy-engine';
import type { PolicyRequest } from '../../../lambdas/core/policy-request';
import { entities, readReceipt, shipped } from '../support/policy-fixtures';

function requests(): PolicyRequest[] {
  const grid: PolicyRequest[] = [];
  for (const principal of ['alice', 'bob', 'mallory', 'carol']) {
    for (const workflow of ['expense-summary', 'customer-follow-up']) {
      for (const action of ['Read', 'List', 'Write', 'Export'] as const) {
        for (const connector of ['receipts', 'erp', 'hr']) {
          for (const classification of ['internal', 'pii'] as const) {
            for (const approval of ['none', 'approved'] as const) {
              for (const amountCents of [undefined, 500, 500_000]) {
                grid.push({
                  principal,
                  action,
                  resource: { kind: 'resource', connector, id: 'some/object', classification },
                  workflow,
                  context: {
                    approval,
                    scope: [`${connector}:${action.toLowerCase()}`],
                    ...(amountCents === undefined ? {} : { amountCents, dailyAmountCents: amountCents * 2 }),
                  },
                });
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
