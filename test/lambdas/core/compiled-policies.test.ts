/**
 * A deciding Lambda function decides over policies compiled when it was bundled (validated then, at
 * synth) instead of validating them at every cold start. Compiled, written as JSON and read back, the
 * policies must decide exactly as the policy files do, carry the same version hash (which binds an
 * approval to its rules), and refuse what the files would have refused.
 */
import { COMPILED_POLICIES_FORMAT, type CompiledPolicies } from '../../../lambdas/core/compiled-policies';
import { compilePolicies } from '../../../lambdas/core/policy-compiler';
import { PolicyEngine } from '../../../lambdas/core/policy-engine';
import type { PolicyRequest } from '../../../lambdas/core/policy-request';
import { PolicyValidationError } from '../../../lambdas/core/policy-validation-error';
import { entities, PERMIT_WRITES, shipped, sourcesWith } from '../support/policy-fixtures';

/** As the bundle carries them: JSON, read back. */
function bundled(compiled: CompiledPolicies): CompiledPolicies {
  return JSON.parse(JSON.stringify(compiled)) as CompiledPolicies;
}

describe('Function: compilePolicies, Method: PolicyEngine.fromCompiled', () => {
  const fromFiles = PolicyEngine.create({ ...shipped, entities });
  const fromCompiled = PolicyEngine.fromCompiled(bundled(compilePolicies(shipped, entities)), entities);

  it('decides a grid of requests exactly as the engine over the policy files', () => {
    // Prepare
    const resources: PolicyRequest['resource'][] = [
      { kind: 'workflow', id: 'expense-summary' },
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
      { approval: 'pending', scope: ['erp:write'], amountCents: 500_000 },
      { approval: 'approved', scope: ['erp:write'], amountCents: 500_000 },
      { approval: 'none', format: 'csv', scope: ['receipts:export'] },
      { approval: 'none', destinationHost: 'evil.example.net' },
      { approval: 'none', durationMinutes: 600, scope: ['receipts:read'] },
    ];
    let compared = 0;

    // Act & Assess
    for (const principal of ['alice', 'bob', 'mallory']) {
      for (const action of ['RequestCredential', 'List', 'Read', 'Write', 'Export'] as const) {
        for (const resource of resources) {
          for (const context of contexts) {
            const request: PolicyRequest = {
              principal,
              action,
              resource,
              workflow: 'expense-summary',
              context,
            };
            expect({ request, ...fromCompiled.decide(request) }).toEqual({
              request,
              ...fromFiles.decide(request),
            });
            compared++;
          }
        }
      }
    }
    expect(compared).toBe(3 * 5 * 9 * 7);
  });

  it('carries the version hash and the policies of the files', () => {
    // Assess
    expect(fromCompiled.versionHash).toBe(fromFiles.versionHash);
    expect(fromCompiled.policies).toEqual(fromFiles.policies);
  });

  it('refuses invalid policies when compiling, naming the file', () => {
    // Prepare
    const invalid = sourcesWith(
      PERMIT_WRITES,
      '@id("typo")\npermit (principal, action, resource) when { context.amountCent > 1 };',
    );

    // Act & Assess
    expect(() => compilePolicies(invalid, entities)).toThrow(PolicyValidationError);
    expect(() => compilePolicies(invalid, entities)).toThrow(/policies\/test-1\.cedar/);
  });

  it('checks entities other than the compiled ones against the schema, refusing what does not fit', () => {
    // Prepare
    const compiled = bundled(compilePolicies(shipped, entities));
    const changed = {
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
    expect(() => PolicyEngine.fromCompiled(compiled, changed)).toThrow(
      /entities built from the pilot config: .*allowedHosts/,
    );
  });

  it('refuses compiled policies of another format', () => {
    // Prepare
    const other = { ...bundled(compilePolicies(shipped, entities)), format: 'airlock-compiled-policies/0' };

    // Act & Assess
    expect(other.format).not.toBe(COMPILED_POLICIES_FORMAT);
    expect(() => PolicyEngine.fromCompiled(other as unknown as CompiledPolicies, entities)).toThrow(
      /bundle the function again/,
    );
  });
});
