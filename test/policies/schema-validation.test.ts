/**
 * The shipped policies type-check against the shipped schema, and a broken policy file is refused
 * with the file and line to fix, so the app refuses to start or synth with it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPolicyFiles } from '../../lambdas/adapters/policy-files';
import { PolicyEngine } from '../../lambdas/core/policy-engine';
import type { PolicySources } from '../../lambdas/core/policy-validation';
import { PolicyValidationError } from '../../lambdas/core/policy-validation-error';

const shipped = readPolicyFiles();

/** The shipped set with one more file. */
function withFile(fileName: string, text: string): PolicySources {
  return { ...shipped, policies: [...shipped.policies, { fileName, text }] };
}

function validationErrorOf(create: () => unknown): PolicyValidationError {
  try {
    create();
  } catch (error) {
    if (error instanceof PolicyValidationError) return error;
    throw error;
  }
  throw new Error('expected a PolicyValidationError, but the policies were accepted');
}

describe('Class: PolicyEngine', () => {
  describe('Method: create (validation)', () => {
    it("accepts the shipped policies under Cedar's strict validator", () => {
      // Act
      const engine = PolicyEngine.create(shipped);

      // Assess
      expect(engine.policies.map((p) => p.id)).toEqual(
        expect.arrayContaining([
          'workflow-members-request-credentials',
          'finance-read-receipts',
          'finance-lookup-gl-codes',
          'erp-write-over-threshold-needs-approval',
          'export-format-must-be-allowed',
          'egress-only-to-allowed-hosts',
          'erp-daily-total-over-threshold-needs-approval',
          'destination-host-must-be-allowed',
          'deny-outside-workflow-groups',
        ]),
      );
      expect(engine.policies.find((p) => p.id === 'erp-write-over-threshold-needs-approval')).toEqual({
        id: 'erp-write-over-threshold-needs-approval',
        effect: 'forbid',
        fileName: join('policies', 'erp.cedar'),
        line: expect.any(Number),
        approverGroup: 'managers',
      });
    });

    it('refuses an attribute the schema does not declare, naming the file and line', () => {
      // Prepare
      const sources = withFile(
        'policies/broken.cedar',
        [
          '// A policy written against an attribute that does not exist.',
          '@id("reads-by-department")',
          'permit (principal, action == Airlock::Action::"Read", resource is Airlock::Resource)',
          'when { principal.department == "finance" };',
        ].join('\n'),
      );

      // Act
      const error = validationErrorOf(() => PolicyEngine.create(sources));

      // Assess
      expect(error.message).toMatch(/^Invalid Cedar policies: policies\/broken\.cedar:4:8: .*department/);
      expect(error.issues).toHaveLength(1);
    });

    it('refuses a syntax error, naming the file and line', () => {
      // Prepare
      const sources = withFile(
        'policies/typo.cedar',
        '@id("ok")\npermit (principal, action, resource)\nwhen { context.approval == "approved" };\n\n@id("broken")\npermit (principal, action, resource) when { context. };\n',
      );

      // Act
      const error = validationErrorOf(() => PolicyEngine.create(sources));

      // Assess
      expect(error.message).toMatch(/policies\/typo\.cedar:\d+:\d+: .*unexpected token/);
      expect(error.issues[0]).toMatchObject({ fileName: 'policies/typo.cedar', line: 6, column: 54 });
    });

    it('points at the right line and column after non-ASCII text', () => {
      // Prepare: Cedar reports byte offsets; a comment with multi-byte characters must not shift the column.
      const sources = withFile(
        'policies/unicode.cedar',
        '// Prüfung der Beträge → Freigabe\n@id("amounts")\nforbid (principal, action, resource) when { context.amountCents > 5 };\n',
      );

      // Act
      const error = validationErrorOf(() => PolicyEngine.create(sources));

      // Assess
      expect(error.issues[0]).toMatchObject({ fileName: 'policies/unicode.cedar', line: 3, column: 45 });
      expect(error.message).toMatch(/amountCents/);
    });

    it('refuses a policy without an @id, so every decision can name its policy', () => {
      // Prepare
      const sources = withFile('policies/anonymous.cedar', '\n\npermit (principal, action, resource);\n');

      // Act
      const error = validationErrorOf(() => PolicyEngine.create(sources));

      // Assess
      expect(error.message).toBe(
        'Invalid Cedar policies: policies/anonymous.cedar:3:1: policy has no @id annotation; add @id("what-it-decides") so decisions can name it',
      );
    });

    it('refuses an @id used twice, naming both places', () => {
      // Prepare
      const sources = withFile(
        'policies/copy.cedar',
        '@id("finance-read-receipts")\npermit (principal, action, resource);\n',
      );

      // Act
      const error = validationErrorOf(() => PolicyEngine.create(sources));

      // Assess
      expect(error.message).toMatch(
        /policies\/copy\.cedar:1:1: duplicate @id\("finance-read-receipts"\), first used at policies\/receipts\.cedar:\d+/,
      );
    });

    it('refuses @approval on a permit policy', () => {
      // Prepare
      const sources = withFile(
        'policies/approval.cedar',
        '@id("approve-everything")\n@approval("managers")\npermit (principal, action, resource);\n',
      );

      // Act
      const error = validationErrorOf(() => PolicyEngine.create(sources));

      // Assess
      expect(error.message).toMatch(/approval\.cedar:1:1: @approval belongs on a forbid policy/);
    });

    it('refuses a broken schema, naming the schema file', () => {
      // Prepare
      const sources: PolicySources = {
        ...shipped,
        schemaText: shipped.schemaText.replace('approvalThresholdCents: Long', 'approvalThresholdCents: Lng'),
      };

      // Act
      const error = validationErrorOf(() => PolicyEngine.create(sources));

      // Assess
      expect(error.message).toMatch(/policies\/airlock\.cedarschema:\d+:\d+: .*Lng/);
    });

    it('reports every problem, not only the first', () => {
      // Prepare
      const sources = withFile(
        'policies/two.cedar',
        '@id("a")\npermit (principal, action, resource) when { resource.nope };\n@id("b")\npermit (principal, action, resource) when { principal.nope2 };\n',
      );

      // Act
      const error = validationErrorOf(() => PolicyEngine.create(sources));

      // Assess
      expect(error.issues.length).toBeGreaterThanOrEqual(2);
      expect(error.message).toMatch(/\(and \d+ more problems?\)$/);
      expect(error.details.split('\n').every((line) => line.startsWith('policies/two.cedar:'))).toBe(true);
    });
  });
});

describe('Function: readPolicyFiles', () => {
  let directory: string;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'airlock-policies-'));
  });

  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('reads the schema and the policy files in name order, skipping sub-folders', () => {
    // Prepare
    writeFileSync(join(directory, 'airlock.cedarschema'), shipped.schemaText);
    writeFileSync(join(directory, 'b.cedar'), '@id("b")\npermit (principal, action, resource);\n');
    writeFileSync(join(directory, 'a.cedar'), '@id("a")\npermit (principal, action, resource);\n');
    mkdirSync(join(directory, 'tests'));
    writeFileSync(join(directory, 'tests', 'c.cedar'), 'not a policy');

    // Act
    const sources = readPolicyFiles(directory);

    // Assess
    expect(sources.schemaFileName).toBe(join(directory, 'airlock.cedarschema'));
    expect(sources.policies.map((p) => p.fileName)).toEqual([
      join(directory, 'a.cedar'),
      join(directory, 'b.cedar'),
    ]);
  });

  it('names the file on disk whose policy does not validate', () => {
    // Prepare
    writeFileSync(join(directory, 'airlock.cedarschema'), shipped.schemaText);
    writeFileSync(
      join(directory, 'bad.cedar'),
      '@id("bad")\n\npermit (principal, action, resource)\nwhen { resource.owner == principal };\n',
    );

    // Act
    const error = validationErrorOf(() => PolicyEngine.create(readPolicyFiles(directory)));

    // Assess
    expect(error.message).toContain(`${join(directory, 'bad.cedar')}:4:8:`);
  });

  it('refuses a folder without a schema', () => {
    // Prepare
    writeFileSync(join(directory, 'a.cedar'), '@id("a")\npermit (principal, action, resource);\n');

    // Act & Assess
    expect(() => readPolicyFiles(directory)).toThrow(
      /no Cedar schema found; expected one \*\.cedarschema file/,
    );
  });

  it('refuses a folder that does not exist', () => {
    // Act & Assess
    expect(() => readPolicyFiles(join(directory, 'missing'))).toThrow(
      /missing: cannot read the policy folder \(ENOENT\)/,
    );
  });
});
