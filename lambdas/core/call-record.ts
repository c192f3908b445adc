/**
 * The audit trail of one connector call: every record the call writes, each with the same principal,
 * workflow, operation, request id and intent. Only configured operation names reach a record (and the
 * metric dimensions): a caller cannot put arbitrary text in the ledger by naming operations that do
 * not exist. An intent the ledger would refuse (a token or a key anywhere in it) is refused up front;
 * a refusal is always recorded, in a bounded form (credentials masked, sizes cut) when it must be.
 */
import { MAX_INTENT_LENGTH } from '../../lib/contracts/limits';
import type { AuditAppender } from './audit-ledger';
import { type AuditEvent, auditEventProblemOf, boundedAuditEvent } from './audit-record';
import type { Caller } from './caller';
import { AirlockError, DependencyError } from './errors';
import type { PolicyDecision } from './policy-engine';

type CallBase = Omit<AuditEvent, 'type' | 'decision' | 'reasons' | 'docHashes'>;

export class CallRecord {
  /** The fields every record of the call shares. */
  readonly base: CallBase;
  /**
   * Whether the call's outcome is on the record already (its upstream failure): the caller's error
   * handling must not record the same failure again as a refusal.
   */
  settled = false;

  constructor(
    private readonly ledger: AuditAppender,
    caller: Caller,
    call: {
      readonly connector: string;
      readonly operation: string;
      readonly intent?: string;
      readonly requestId: string;
    },
    /** Whether the config declares the operation the call names. */
    known: boolean,
  ) {
    this.base = {
      principal: caller.principal,
      workflow: caller.workflow,
      ...(known ? { connector: call.connector, operation: call.operation } : {}),
      requestId: call.requestId,
      ...(call.intent ? { intent: call.intent.slice(0, MAX_INTENT_LENGTH) } : {}),
    };
  }

  /** The configured names of the call (none for an unknown operation), for the metric dimensions. */
  get names(): { connector?: string; operation?: string } {
    return { connector: this.base.connector, operation: this.base.operation };
  }

  /** @throws AirlockError `invalid_request` when the intent could not be recorded */
  assertRecordableIntent(): void {
    if (!recordableIntent(this.base.intent)) {
      throw new AirlockError(
        'invalid_request',
        'intent: it looks like it contains a token or a private key; describe the purpose of the call in words instead.',
      );
    }
  }

  /** A call held for approval. */
  async held(
    decision: PolicyDecision,
    details: { approvalId: string; argumentsHash: string; approverGroup: string },
  ) {
    await this.ledger.append({
      ...this.base,
      type: 'connector_pending',
      decision: 'pending',
      reasons: [...decision.reasons],
      docHashes: [],
      details,
    });
  }

  /** A write about to run upstream: recorded first, so nothing runs without a record. */
  async beforeUpstream(decision: PolicyDecision, details: { argumentsHash: string; approvalId?: string }) {
    await this.ledger.append({
      ...this.base,
      type: 'connector_allowed',
      decision: 'allow',
      reasons: [...decision.reasons],
      docHashes: [],
      details: {
        argumentsHash: details.argumentsHash,
        stage: 'before_upstream',
        ...(details.approvalId ? { approvalId: details.approvalId } : {}),
      },
    });
  }

  /** The upstream failed: recorded once, naming the cause (the refusal code, or the dependency). */
  async failed(error: unknown, argumentsHash: string) {
    this.settled = true;
    await this.ledger.append({
      ...this.base,
      type: 'connector_failed',
      decision: 'error',
      reasons: failureReasons(error),
      docHashes: [],
      details: { argumentsHash },
    });
  }

  /** A read answered, or a write completed: with the hash of every document returned, never the data. */
  async completed(
    write: boolean,
    decision: PolicyDecision,
    docHashes: string[],
    details: { argumentsHash: string; redactions: number; withheld: number; bytesOut: number },
  ) {
    await this.ledger.append({
      ...this.base,
      type: write ? 'connector_completed' : 'connector_allowed',
      decision: 'allow',
      reasons: [...decision.reasons],
      docHashes,
      details,
    });
  }

  /**
   * A refusal, in a bounded form when the request carried what a record may not hold (a token in the
   * intent, too many reasons). Resolves to whether it was recorded (the call is refused either way).
   */
  async refused(error: AirlockError): Promise<boolean> {
    try {
      await this.ledger.append(
        boundedAuditEvent({
          ...this.base,
          type: 'connector_denied',
          decision: 'deny',
          reasons: [error.code, ...(error.reasons ?? [])],
          docHashes: [],
        }),
      );
      return true;
    } catch {
      return false;
    }
  }
}

/** Why a call failed upstream, in the reasons' vocabulary: `dependency:<name>` for one that could not answer. */
function failureReasons(error: unknown): string[] {
  if (error instanceof AirlockError) return [error.code, ...(error.reasons ?? [])];
  if (error instanceof DependencyError) return [`dependency:${error.dependency.replaceAll(' ', '-')}`];
  return ['upstream_error'];
}

/** An intent the audit ledger would refuse (a token or a key anywhere in it). */
function recordableIntent(intent: string | undefined): boolean {
  if (intent === undefined) return true;
  return (
    auditEventProblemOf({
      type: 'connector_allowed',
      principal: 'probe',
      workflow: 'probe',
      decision: 'allow',
      reasons: [],
      requestId: 'probe',
      docHashes: [],
      intent,
    }) === undefined
  );
}
