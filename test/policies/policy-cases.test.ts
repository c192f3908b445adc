/**
 * Runs every case in policies/tests/*.json through the policy engine, with the shipped policies and
 * the entities of the example pilot config, and holds the cases to cover every policy both ways.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPolicyFiles } from '../../lambdas/adapters/policy-files';
import { type PolicyDecision, PolicyEngine } from '../../lambdas/core/policy-engine';
import { buildEntities } from '../../lambdas/core/policy-entities';
import type { PolicyRequest } from '../../lambdas/core/policy-request';
import { loadConfig } from '../../lib/config/load-config';

interface PolicyCase {
  readonly name: string;
  /** The policy this case shows applying (deny / approval_required) or not standing in the way (allow). */
  readonly exercises?: string;
  readonly request: PolicyRequest;
  readonly expect: {
    decision: string;
    reasons: string[];
    approverGroup?: string;
    /** What the shadow policies would have decided instead; `null`: nothing different. */
    shadow?: PolicyDecision['shadow'] | null;
  };
}

const CASES_DIRECTORY = join('policies', 'tests');

const caseFiles = readdirSync(CASES_DIRECTORY)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => {
    const parsed = JSON.parse(readFileSync(join(CASES_DIRECTORY, name), 'utf8')) as {
      cases: PolicyCase[];
    };
    return { name, cases: parsed.cases };
  });

const engine = PolicyEngine.create({ ...readPolicyFiles(), entities: buildEntities(loadConfig()) });

describe('Class: PolicyEngine', () => {
  describe('Method: decide (policies/tests)', () => {
    describe.each(caseFiles.map((file) => [file.name, file.cases] as const))('%s', (_file, cases) => {
      it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, policyCase) => {
        // Act
        const result = engine.decide(policyCase.request);

        // Assess
        expect({
          decision: result.decision,
          reasons: result.reasons,
          ...(policyCase.expect.approverGroup === undefined ? {} : { approverGroup: result.approverGroup }),
          ...(policyCase.expect.shadow === undefined ? {} : { shadow: result.shadow ?? null }),
        }).toEqual({ ...policyCase.expect, reasons: [...policyCase.expect.reasons].sort() });
      });
    });

    it('has cases for every shipped policy, at least one allowed and one refused', () => {
      // Prepare
      const all = caseFiles.flatMap((file) => file.cases);

      // Act
      const coverage = engine.policies.map((policy) => {
        const mine = all.filter((c) => c.exercises === policy.id);
        return {
          id: policy.id,
          allowed: mine.some((c) => c.expect.decision === 'allow'),
          refused: mine.some((c) => c.expect.decision !== 'allow'),
        };
      });

      // Assess
      expect(coverage.filter((c) => !c.allowed || !c.refused)).toEqual([]);
      expect(coverage.length).toBeGreaterThan(0);
    });

    it('only names policies that exist in the cases', () => {
      // Prepare
      const ids = new Set([...engine.policies, ...engine.shadowPolicies].map((p) => p.id));

      // Act
      const unknown = caseFiles
        .flatMap((file) => file.cases)
        .map((c) => c.exercises)
        .filter((id): id is string => id !== undefined && !ids.has(id));

      // Assess
      expect(unknown).toEqual([]);
    });
  });
});
