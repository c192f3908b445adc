/**
 * Shadow (log-only) policies: a policy under `policies/shadow/` is evaluated beside the enforced ones
 * and recorded when it would have decided otherwise, but it never changes an outcome.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPolicyFiles } from '../../../lambdas/adapters/policy-files';
import type { AuditEvent } from '../../../lambdas/core/audit-record';
import { compilePolicies } from '../../../lambdas/core/policy-compiler';
import { PolicyEngine } from '../../../lambdas/core/policy-engine';
import type { PolicyRequest } from '../../../lambdas/core/policy-request';
import type { PolicySources } from '../../../lambdas/core/policy-validation';
import { PolicyValidationError } from '../../../lambdas/core/policy-validation-error';
import { isShadowRefusal, recordShadowDecision } from '../../../lambdas/core/shadow-record';
import { entities, journalEntry, readReceipt, shipped } from '../support/policy-fixtures';

/** The shipped enforced policies, with these shadow policies and none of the shipped shadow ones. */
function withShadow(...texts: string[]): PolicySources {
  return {
    schemaText: shipped.schemaText,
    policies: shipped.policies,
    shadowPolicies: texts.map((text, i) => ({ fileName: `policies/shadow/try-${i}.cedar`, text })),
  };
}

const ONLY_CLEARED_READ_PII = `@id("shadow-only-cleared-read-pii")
forbid (principal, action == Airlock::Action::"Read", resource is Airlock::Resource)
when { resource.classification == "pii" }
unless { principal.clearances.contains("pii") };`;

describe('Shadow policies', () => {
  const enforcedOnly = PolicyEngine.create({ ...shipped, shadowPolicies: [], entities });
  const engine = PolicyEngine.create({ ...withShadow(ONLY_CLEARED_READ_PII), entities });

  describe('Method: PolicyEngine.decide', () => {
    it('a shadow forbid refuses nothing: the decision is the enforced one, with what it would have been', () => {
      // Act
      const result = engine.decide(readReceipt('alice'));

      // Assess
      expect(enforcedOnly.decide(readReceipt('alice'))).toEqual({
        decision: 'allow',
        reasons: ['finance-read-receipts'],
      });
      expect(result).toEqual({
        decision: 'allow',
        reasons: ['finance-read-receipts'],
        shadow: {
          decision: 'deny',
          policies: ['shadow-only-cleared-read-pii'],
          reasons: ['shadow-only-cleared-read-pii'],
        },
      });
      expect(isShadowRefusal(result)).toBe(true);
    });

    it('says nothing when the shadow policies would decide the same', () => {
      // Act: mallory is refused either way; a journal entry is not a read of personal data.
      const refused = engine.decide(readReceipt('mallory'));
      const entry = engine.decide(journalEntry('alice', 100));

      // Assess
      expect(refused).toEqual({ decision: 'deny', reasons: ['deny-outside-workflow-groups'] });
      expect(entry).toEqual(enforcedOnly.decide(journalEntry('alice', 100)));
      expect(entry.shadow).toBeUndefined();
    });

    it('reports a shadow "needs approval" forbid as a call it would have held', () => {
      // Prepare
      const lower = PolicyEngine.create({
        ...withShadow(`@id("shadow-lower-threshold")
@approval("managers")
forbid (principal, action == Airlock::Action::"Write", resource in Airlock::Connector::"erp")
when { context has amountCents && context.amountCents > 50000 }
unless { context.approval == "approved" };`),
        entities,
      });

      // Act
      const result = lower.decide(journalEntry('alice', 60_000));

      // Assess
      expect(result.decision).toBe('allow');
      expect(result.shadow).toEqual({
        decision: 'approval_required',
        policies: ['shadow-lower-threshold'],
        reasons: ['shadow-lower-threshold'],
        approverGroup: 'managers',
      });
      expect(isShadowRefusal(result)).toBe(false);
    });

    it('reports a shadow permit as what it would have allowed, and still refuses', () => {
      // Prepare: a permit for a group nobody is in does not change default deny; one for everyone would.
      const permitAll = PolicyEngine.create({
        ...withShadow(`@id("shadow-permit-erp-reads")
permit (principal, action == Airlock::Action::"Read", resource in Airlock::Connector::"erp");`),
        entities,
      });
      const request = {
        ...readReceipt('bob'),
        resource: { kind: 'resource' as const, connector: 'erp', id: 'x', classification: 'pii' as const },
      };

      // Act
      const result = permitAll.decide(request);

      // Assess
      expect(result.decision).toBe('deny');
      expect(result.reasons).toEqual(['default-deny']);
      expect(result.shadow).toEqual({
        decision: 'allow',
        policies: ['shadow-permit-erp-reads'],
        reasons: ['shadow-permit-erp-reads'],
      });
    });
  });

  describe('Method: PolicyEngine.create', () => {
    it('keeps shadow policies out of the version hash, so trying one voids no pending approval', () => {
      expect(engine.versionHash).toBe(enforcedOnly.versionHash);
      expect(engine.shadowPolicies.map((p) => p.id)).toEqual(['shadow-only-cleared-read-pii']);
      expect(engine.policies.some((p) => p.id === 'shadow-only-cleared-read-pii')).toBe(false);
    });

    it('refuses a shadow policy whose id an enforced policy already uses, naming both places', () => {
      // Prepare
      const duplicate = withShadow(`@id("finance-read-receipts")
forbid (principal, action, resource);`);

      // Act & Assess
      expect(() => PolicyEngine.create({ ...duplicate, entities })).toThrow(PolicyValidationError);
      expect(() => PolicyEngine.create({ ...duplicate, entities })).toThrow(
        /policies\/shadow\/try-0\.cedar:1:1: duplicate @id\("finance-read-receipts"\), first used at policies\/receipts\.cedar/,
      );
    });

    it('validates shadow policies against the schema like the others', () => {
      expect(() =>
        PolicyEngine.create({
          ...withShadow(`@id("shadow-typo")
forbid (principal, action, resource) when { context.nosuchfield == 1 };`),
          entities,
        }),
      ).toThrow(/policies\/shadow\/try-0\.cedar:2/);
    });

    it('decides the same from compiled policies, shadow included', () => {
      // Act
      const compiled = PolicyEngine.fromCompiled(
        JSON.parse(JSON.stringify(compilePolicies(withShadow(ONLY_CLEARED_READ_PII), entities))),
        entities,
      );

      // Assess
      expect(compiled.decide(readReceipt('alice'))).toEqual(engine.decide(readReceipt('alice')));
    });
  });

  describe('Function: readPolicyFiles', () => {
    it('reads policies/shadow/*.cedar as shadow policies, and nothing else of the folder', () => {
      // Prepare
      const dir = mkdtempSync(join(tmpdir(), 'airlock-shadow-'));
      try {
        writeFileSync(join(dir, 'airlock.cedarschema'), shipped.schemaText);
        writeFileSync(join(dir, 'a.cedar'), shipped.policies[0]!.text);
        mkdirSync(join(dir, 'shadow'));
        writeFileSync(join(dir, 'shadow', 'try.cedar'), ONLY_CLEARED_READ_PII);
        writeFileSync(join(dir, 'shadow', 'notes.md'), 'not a policy');

        // Act
        const sources = readPolicyFiles(dir);

        // Assess
        expect(sources.policies.map((p) => p.fileName)).toEqual([join(dir, 'a.cedar')]);
        expect(sources.shadowPolicies?.map((p) => p.fileName)).toEqual([join(dir, 'shadow', 'try.cedar')]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('Function: recordShadowDecision', () => {
    const base = { principal: 'alice', workflow: 'expense-summary', requestId: 'req-1' };

    it('writes a policy_shadowed record naming the enforced decision and what it would have been', async () => {
      // Prepare
      const appended: AuditEvent[] = [];

      // Act
      const written = await recordShadowDecision(
        { append: async (event) => appended.push(event) },
        { ...base, connector: 'receipts', operation: 'read' },
        engine.decide(readReceipt('alice')),
      );

      // Assess
      expect(written).toBe(true);
      expect(appended).toEqual([
        {
          ...base,
          connector: 'receipts',
          operation: 'read',
          type: 'policy_shadowed',
          decision: 'deny',
          reasons: ['shadow-only-cleared-read-pii'],
          docHashes: [],
          details: {
            enforced: 'allow',
            wouldBe: 'deny',
            shadowPolicies: ['shadow-only-cleared-read-pii'],
            reasons: ['shadow-only-cleared-read-pii'],
          },
        },
      ]);
    });

    it('writes nothing without a shadow difference, and never rejects when the ledger fails', async () => {
      // Prepare
      const failing = {
        append: async () => {
          throw new Error('ledger down');
        },
      };

      // Act
      const none = await recordShadowDecision(failing, base, enforcedOnly.decide(readReceipt('alice')));
      const failed = await recordShadowDecision(failing, base, engine.decide(readReceipt('alice')));

      // Assess
      expect(none).toBe(false);
      expect(failed).toBe(false);
    });
  });
});

describe('Class: PolicyEngine (one Cedar evaluation for the enforced and the shadow policies)', () => {
  const SHADOW_SETS = {
    'a forbid of personal data': [ONLY_CLEARED_READ_PII],
    'a permit of confidential reads': [
      `@id("shadow-permit-confidential-reads")
permit (principal, action == Airlock::Action::"Read", resource is Airlock::Resource)
when { resource.classification == "confidential" };`,
    ],
    'a forbid that needs approval above an amount, and a forbid of exports': [
      `@id("shadow-approve-small-writes")
@approval("managers")
forbid (principal, action == Airlock::Action::"Write", resource)
when { context has amountCents && context.amountCents > 1000 };`,
      `@id("shadow-no-exports")
forbid (principal, action == Airlock::Action::"Export", resource);`,
    ],
  };

  /** What the engine answered before it asked Cedar once: the enforced set decides, the whole set is compared. */
  function reference(enforcedOnly: PolicyEngine, whole: PolicyEngine, shadowIds: ReadonlySet<string>) {
    return (request: PolicyRequest) => {
      const decision = enforcedOnly.decide(request);
      const would = whole.decide(request);
      if (would.decision === decision.decision) return decision;
      return {
        ...decision,
        shadow: {
          decision: would.decision,
          policies: would.reasons.filter((id) => shadowIds.has(id)),
          reasons: would.reasons,
          ...(would.approverGroup ? { approverGroup: would.approverGroup } : {}),
        },
      };
    };
  }

  function requests(): PolicyRequest[] {
    const grid: PolicyRequest[] = [];
    for (const principal of ['alice', 'bob', 'mallory', 'carol', 'dave']) {
      for (const action of ['Read', 'List', 'Write', 'Export'] as const) {
        for (const connector of ['receipts', 'erp', 'hr']) {
          for (const classification of ['internal', 'confidential', 'pii'] as const) {
            for (const approval of ['none', 'pending', 'approved'] as const) {
              for (const amountCents of [undefined, 500, 500_000]) {
                grid.push({
                  principal,
                  action,
                  resource: { kind: 'resource', connector, id: 'some/object', classification },
                  workflow: 'expense-summary',
                  context: {
                    approval,
                    scope: [`${connector}:${action.toLowerCase()}`],
                    ...(amountCents === undefined ? {} : { amountCents }),
                  },
                });
              }
            }
          }
        }
      }
    }
    return grid;
  }

  it.each(Object.entries(SHADOW_SETS))(
    'decides every request as the two separate evaluations did: %s',
    (_, texts) => {
      // Prepare
      const engine = PolicyEngine.create({ ...withShadow(...texts), entities });
      const enforcedOnly = PolicyEngine.create({ ...shipped, shadowPolicies: [], entities });
      const whole = PolicyEngine.create({
        schemaText: shipped.schemaText,
        policies: [
          ...shipped.policies,
          ...texts.map((text, i) => ({ fileName: `policies/shadow-as-enforced-${i}.cedar`, text })),
        ],
        entities,
      });
      const expected = reference(enforcedOnly, whole, new Set(engine.shadowPolicies.map((p) => p.id)));

      // Act + Assess
      let differing = 0;
      for (const request of requests()) {
        const result = engine.decide(request);
        expect(result).toEqual(expected(request));
        if (result.shadow) differing++;
      }
      // The grid reaches the case the shadow policies are about.
      expect(differing).toBeGreaterThan(0);
    },
  );

  it('asks Cedar once for a read a shadow policy applies to, and again only when the shadow policies alone deny it', () => {
    // Prepare
    const engine = PolicyEngine.create({ ...withShadow(ONLY_CLEARED_READ_PII), entities });
    // Each evaluation is one Cedar call (statefulIsAuthorized).
    const calls = jest.spyOn(
      PolicyEngine.prototype as unknown as { evaluate(...args: unknown[]): unknown },
      'evaluate',
    );
    const internalRead: PolicyRequest = {
      ...readReceipt('alice'),
      resource: { kind: 'resource', connector: 'receipts', id: 'read', classification: 'internal' },
    };

    // Act
    const allowed = engine.decide(internalRead);
    const whenAllowed = calls.mock.calls.length;
    const shadowed = engine.decide(readReceipt('alice'));
    const whenShadowed = calls.mock.calls.length - whenAllowed;

    // Assess: the usual read is one evaluation; the read only a shadow forbid refuses is asked again,
    // since a denial by shadow forbids alone does not say whether the enforced policies permit it.
    expect(allowed).toEqual({ decision: 'allow', reasons: ['finance-read-receipts'] });
    expect(whenAllowed).toBe(1);
    expect(shadowed.decision).toBe('allow');
    expect(shadowed.shadow?.decision).toBe('deny');
    expect(whenShadowed).toBe(2);
    calls.mockRestore();
  });
});
