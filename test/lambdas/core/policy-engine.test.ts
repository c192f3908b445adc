import { PolicyEngine } from '../../../lambdas/core/policy-engine';
import type { PolicyRequest } from '../../../lambdas/core/policy-request';
import { PolicyValidationError } from '../../../lambdas/core/policy-validation-error';
import {
  entities,
  journalEntry,
  PERMIT_WRITES,
  readReceipt,
  shipped,
  sourcesWith,
} from '../support/policy-fixtures';

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

    it('attack: a remote connector without a device certificate wrote to the ERP; context.channel lets policy keep writes on the device channel', () => {
      // Prepare
      const deviceOnlyWrites = PolicyEngine.create({
        ...sourcesWith(
          PERMIT_WRITES,
          `@id("writes-only-from-devices")
forbid (principal, action == Airlock::Action::"Write", resource)
unless { context has channel && context.channel == "device" };`,
        ),
        entities,
      });
      const write = journalEntry('alice', 500);

      // Act
      const fromOAuth = deviceOnlyWrites.decide({
        ...write,
        context: { ...write.context, channel: 'oauth' },
      });
      const fromDevice = deviceOnlyWrites.decide({
        ...write,
        context: { ...write.context, channel: 'device' },
      });

      // Assess
      expect(fromOAuth).toMatchObject({ decision: 'deny', reasons: ['writes-only-from-devices'] });
      expect(fromDevice).toEqual({ decision: 'allow', reasons: ['permit-writes'] });
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
