import fc from 'fast-check';
import {
  decideCredentialGrant,
  parseCredentialRequest,
  workflowScopes,
} from '../../../lambdas/core/credential-request';
import { AirlockError } from '../../../lambdas/core/errors';
import { loadConfig } from '../../../lib/config/load-config';
import type { AirlockConfig } from '../../../lib/config/schema';
import { refusal } from '../support/refusal';

const config = loadConfig('config/airlock.config.yaml');
const MAX_MINUTES = config.workflows['expense-summary'].maxTokenLifetimeMinutes;

describe('Function: decideCredentialGrant', () => {
  it('grants what the workflow allows, for the minutes asked', () => {
    // Act
    const grant = decideCredentialGrant(config, 'alice', {
      workflow: 'expense-summary',
      scopes: ['receipts:read', 'erp:read'],
      durationMinutes: 30,
    });

    // Assess
    expect(grant).toEqual({
      workflow: 'expense-summary',
      scope: ['erp:read', 'receipts:read'],
      lifetimeSeconds: 1800,
    });
  });

  it('passes the resource through and asks for each scope once', () => {
    // Act
    const grant = decideCredentialGrant(config, 'bob', {
      workflow: 'expense-summary',
      resource: 'receipts/2026-q3/',
      scopes: ['receipts:read', 'receipts:read', 'erp:write'],
      durationMinutes: MAX_MINUTES,
    });

    // Assess
    expect(grant).toEqual({
      workflow: 'expense-summary',
      resource: 'receipts/2026-q3/',
      scope: ['erp:write', 'receipts:read'],
      lifetimeSeconds: MAX_MINUTES * 60,
    });
  });

  it('refuses a duration above the workflow maximum and says what may be asked', () => {
    // Act
    const error = refusal(() =>
      decideCredentialGrant(config, 'alice', {
        workflow: 'expense-summary',
        scopes: ['receipts:read'],
        durationMinutes: MAX_MINUTES + 1,
      }),
    );

    // Assess
    expect(error.code).toBe('invalid_request');
    expect(error.status).toBe(400);
    expect(error.message).toContain(`at most ${MAX_MINUTES} minutes`);
    expect(error.message).toContain('durationMinutes');
  });

  it.each([
    ['a write the workflow does not allow', 'receipts:write'],
    ['an export the workflow does not allow', 'erp:export'],
    ['a connector the workflow does not use', 'payroll:read'],
  ])('refuses %s with the scope as the reason', (_name, scope) => {
    // Act
    const error = refusal(() =>
      decideCredentialGrant(config, 'alice', {
        workflow: 'expense-summary',
        scopes: ['receipts:read', scope],
        durationMinutes: 10,
      }),
    );

    // Assess
    expect(error.code).toBe('forbidden');
    expect(error.status).toBe(403);
    expect(error.reasons).toEqual([`scope_not_allowed:${scope}`]);
    expect(error.message).toContain(
      'erp:read, erp:write, everything:read, everything:write, handbook:read, ledger:read, receipts:read',
    );
  });

  it('answers an unknown workflow with not_found', () => {
    // Act
    const error = refusal(() =>
      decideCredentialGrant(config, 'alice', {
        workflow: 'payroll-run',
        scopes: ['receipts:read'],
        durationMinutes: 10,
      }),
    );

    // Assess
    expect(error.code).toBe('not_found');
    expect(error.message).toContain('"payroll-run"');
  });

  it('refuses a principal the config does not know, whatever the body says', () => {
    // Act
    const error = refusal(() =>
      decideCredentialGrant(config, 'eve', {
        workflow: 'expense-summary',
        scopes: ['receipts:read'],
        durationMinutes: 10,
      }),
    );

    // Assess
    expect(error.code).toBe('forbidden');
    expect(error.reasons).toEqual(['unknown_principal']);
  });

  it.each([
    ['an inherited property name', 'constructor'],
    ['a prototype key', '__proto__'],
  ])('does not mistake %s for a principal', (_name, principal) => {
    // Act / Assess
    expect(
      refusal(() =>
        decideCredentialGrant(config, principal, {
          workflow: 'expense-summary',
          scopes: ['receipts:read'],
          durationMinutes: 10,
        }),
      ).code,
    ).toBe('forbidden');
  });

  it('does not mistake an inherited property name for a workflow', () => {
    // Act / Assess
    expect(
      refusal(() =>
        decideCredentialGrant(config, 'alice', {
          workflow: 'constructor',
          scopes: ['receipts:read'],
          durationMinutes: 10,
        }),
      ).code,
    ).toBe('not_found');
  });

  it('never grants more scope or time than the workflow allows (property)', () => {
    // Prepare
    const allowed = workflowScopes(config, 'expense-summary');
    const scope = fc.constantFrom(
      'receipts:read',
      'receipts:write',
      'receipts:export',
      'erp:read',
      'erp:write',
      'erp:export',
      'other:read',
    );
    const body = fc.record({
      workflow: fc.constantFrom('expense-summary', 'unknown'),
      scopes: fc.array(scope, { minLength: 1, maxLength: 6 }),
      durationMinutes: fc.integer({ min: -5, max: 24 * 60 }),
    });

    // Act / Assess
    fc.assert(
      fc.property(body, (request) => {
        let grant: ReturnType<typeof decideCredentialGrant>;
        try {
          grant = decideCredentialGrant(config, 'alice', request);
        } catch (error) {
          // Every refusal follows the error contract; nothing else escapes.
          expect(error).toBeInstanceOf(AirlockError);
          return;
        }
        expect(grant.scope.every((s) => allowed.has(s))).toBe(true);
        expect(grant.lifetimeSeconds).toBeLessThanOrEqual(MAX_MINUTES * 60);
        expect(grant.lifetimeSeconds).toBe(request.durationMinutes * 60);
      }),
    );
  });

  it('refuses any body that is not a valid request with a 400, never anything else (property)', () => {
    // Act / Assess
    fc.assert(
      fc.property(fc.anything(), (body) => {
        const error = refusal(() => decideCredentialGrant(config, 'alice', body));
        expect(error.code).toBe('invalid_request');
      }),
    );
  });
});

describe('Function: parseCredentialRequest', () => {
  it.each([
    [
      'an unknown field',
      { workflow: 'expense-summary', scopes: ['receipts:read'], durationMinutes: 5, principal: 'bob' },
      /principal: unknown field "principal"/,
    ],
    [
      'a missing workflow',
      { scopes: ['receipts:read'], durationMinutes: 5 },
      /workflow: missing; expected the name of a workflow/,
    ],
    [
      'missing scopes',
      { workflow: 'expense-summary', durationMinutes: 5 },
      /scopes: missing; expected an array/,
    ],
    [
      'no scopes',
      { workflow: 'expense-summary', scopes: [], durationMinutes: 5 },
      /scopes: expected at least one/,
    ],
    [
      'a scope that is not <connector>:<access>',
      { workflow: 'expense-summary', scopes: ['receipts:delete'], durationMinutes: 5 },
      /scopes\[0\]: expected <connector>:<read\|write\|export>/,
    ],
    [
      'a fractional duration',
      { workflow: 'expense-summary', scopes: ['receipts:read'], durationMinutes: 1.5 },
      /durationMinutes: expected a whole number of minutes/,
    ],
    [
      'a zero duration',
      { workflow: 'expense-summary', scopes: ['receipts:read'], durationMinutes: 0 },
      /durationMinutes: expected at least 1 minute/,
    ],
    [
      'a duration given as text',
      { workflow: 'expense-summary', scopes: ['receipts:read'], durationMinutes: '30' },
      /durationMinutes: expected a whole number of minutes/,
    ],
    [
      'a resource with a control character',
      { workflow: 'expense-summary', resource: 'a\nb', scopes: ['receipts:read'], durationMinutes: 5 },
      /resource: expected no control characters/,
    ],
    ['a body that is not an object', ['expense-summary'], /body: expected a JSON object/],
    ['an empty body', null, /body: expected a JSON object/],
  ])('refuses %s, naming the field and what was expected', (_name, body, message) => {
    // Act
    const error = refusal(() => parseCredentialRequest(body));

    // Assess
    expect(error.code).toBe('invalid_request');
    expect(error.message).toMatch(message);
  });
});

describe('Function: workflowScopes', () => {
  it("is the workflow's connectors × the access of the operations it allows", () => {
    // Act
    const scopes = workflowScopes(config, 'expense-summary');

    // Assess
    expect([...scopes].sort()).toEqual([
      'erp:read',
      'erp:write',
      'everything:read',
      'everything:write',
      'handbook:read',
      'ledger:read',
      'receipts:read',
      'usage:report',
    ]);
  });

  it('holds usage:report only for a workflow that enables usage reports', () => {
    // Prepare
    const off: AirlockConfig = {
      ...config,
      workflows: {
        'expense-summary': {
          ...config.workflows['expense-summary'],
          usageReports: { ...config.workflows['expense-summary'].usageReports, enabled: false },
        },
      },
    };

    // Act
    const error = refusal(() =>
      decideCredentialGrant(off, 'alice', {
        workflow: 'expense-summary',
        scopes: ['receipts:read', 'usage:report'],
        durationMinutes: 15,
      }),
    );

    // Assess
    expect([...workflowScopes(off, 'expense-summary')]).not.toContain('usage:report');
    expect(error).toMatchObject({ code: 'forbidden', reasons: ['scope_not_allowed:usage:report'] });
  });

  it('grants usage:report only when asked for', () => {
    // Act
    const grant = decideCredentialGrant(config, 'alice', {
      workflow: 'expense-summary',
      scopes: ['receipts:read'],
      durationMinutes: 15,
    });

    // Assess
    expect(grant.scope).toEqual(['receipts:read']);
  });

  it('grants nothing for a connector or operation missing from the config (fail closed)', () => {
    // Prepare
    const broken: AirlockConfig = {
      ...config,
      workflows: {
        'expense-summary': {
          ...config.workflows['expense-summary'],
          connectors: { receipts: ['list', 'shred'], payroll: ['read'] },
        },
      },
    };

    // Act
    const scopes = workflowScopes(broken, 'expense-summary');

    // Assess
    expect([...scopes]).toEqual(['receipts:read', 'usage:report']);
    expect(workflowScopes(broken, 'unknown').size).toBe(0);
  });
});
