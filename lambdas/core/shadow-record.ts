/**
 * The audit record of a shadow (log-only) policy's decision: when the policies under `policies/shadow/`
 * would have decided a request differently, a `policy_shadowed` record says what they would have done,
 * next to the record of what was done. Trying a policy in shadow never changes an outcome: a record
 * that cannot be written is given up (the decision's own record, written next on the same ledger,
 * refuses the request if the ledger is down).
 */
import type { AuditDecision, AuditEvent } from './audit-record';
import type { PolicyDecision } from './policy-engine';

/** The audit decision a policy decision is recorded as. */
function auditDecisionOf(decision: PolicyDecision['decision']): AuditDecision {
  return decision === 'approval_required' ? 'pending' : decision;
}

/** Whether the shadow policies would have refused what was let through (the `ShadowRefusals` metric). */
export function isShadowRefusal(decision: PolicyDecision): boolean {
  return decision.shadow?.decision === 'deny' && decision.decision !== 'deny';
}

/**
 * Appends the `policy_shadowed` record of a decision whose shadow policies would have decided
 * otherwise. Resolves to whether a record was written; never rejects.
 */
export async function recordShadowDecision(
  ledger: { append(event: AuditEvent): Promise<unknown> },
  base: Pick<AuditEvent, 'principal' | 'workflow' | 'connector' | 'operation' | 'requestId'>,
  decision: PolicyDecision,
): Promise<boolean> {
  const shadow = decision.shadow;
  if (!shadow) return false;
  try {
    await ledger.append({
      ...base,
      type: 'policy_shadowed',
      decision: auditDecisionOf(shadow.decision),
      // The shadow policies that would have decided; a shadow set that failed to evaluate names why.
      reasons: shadow.policies.length > 0 ? [...shadow.policies] : [...shadow.reasons],
      docHashes: [],
      details: {
        enforced: decision.decision,
        wouldBe: shadow.decision,
        shadowPolicies: [...shadow.policies],
        reasons: [...shadow.reasons],
        ...(shadow.approverGroup ? { approverGroup: shadow.approverGroup } : {}),
      },
    });
    return true;
  } catch {
    return false;
  }
}
