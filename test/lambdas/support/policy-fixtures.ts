/**
 * The shipped policies and pilot config as the policy engine's tests use them, and the requests most
 * of those tests ask.
 */
import { readPolicyFiles } from '../../../lambdas/adapters/policy-files';
import { buildEntities } from '../../../lambdas/core/policy-entities';
import type { PolicyRequest } from '../../../lambdas/core/policy-request';
import type { PolicySources } from '../../../lambdas/core/policy-validation';
import { loadConfig } from '../../../lib/config/load-config';

export const shipped = readPolicyFiles();
export const config = loadConfig();
export const entities = buildEntities(config);

/** alice, bob or mallory books a journal entry in the ERP (a write with an amount). */
export function journalEntry(
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

/** A read of a receipt (personal data) for the expense-summary workflow. */
export function readReceipt(principal: string): PolicyRequest {
  return {
    principal,
    action: 'Read',
    resource: { kind: 'resource', connector: 'receipts', id: 'read', classification: 'pii' },
    workflow: 'expense-summary',
    context: { approval: 'none' },
  };
}

/** The shipped schema with other policies. */
export function sourcesWith(...policies: string[]): PolicySources {
  return {
    schemaText: shipped.schemaText,
    policies: policies.map((text, i) => ({ fileName: `policies/test-${i}.cedar`, text })),
  };
}

/** A policy that permits every write, for sets that test what forbids do to it. */
export const PERMIT_WRITES = `@id("permit-writes")
permit (principal, action == Airlock::Action::"Write", resource);`;
