/**
 * The approvals function: approvers list pending approvals and decide them. The approver is the
 * client certificate's subject; separation of duties and group membership are checked by the desk.
 *
 * A decision is recorded before it takes effect: the desk checks it, the `approval_decided` record is
 * committed, and only then does the approval change status (so an audit outage leaves the approval
 * pending, never decided without a record). A change that loses a race with another approver is
 * recorded as refused right after. While the kill switch is engaged for the approval's workflow,
 * nothing is decided (503): sealing a workflow also stops approvals that would let its calls run.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod';
import type { AirlockConfig } from '../../lib/config/schema';
import { MTLS_ROUTES, matchRoute, routesOf } from '../../lib/contracts/routes';
import type { ApiHandler } from '../broker/broker-handler';
import { clientCertificateOf, jsonBodyOf, requestIdOf } from '../core/api-request';
import { errorResponse, jsonResponse, type UnexpectedErrorLogger } from '../core/api-response';
import type {
  ApprovalDesk,
  ApprovalNotifier,
  ApprovalRecord,
  ApprovalStatus,
  PreparedDecision,
} from '../core/approval-desk';
import type { AuditAppender } from '../core/audit-ledger';
import { type AuditEvent, auditEventProblemOf, boundedAuditEvent } from '../core/audit-record';
import { certificateSubject } from '../core/certificate-thumbprint';
import { AirlockError } from '../core/errors';
import { type KillSwitch, KillSwitchEngagedError } from '../core/kill-switch';

export interface ApprovalsHandlerDeps {
  readonly desk: ApprovalDesk;
  readonly ledger: AuditAppender;
  /** Decisions are refused while the approval's workflow is sealed. */
  readonly killSwitch: Pick<KillSwitch, 'check'>;
  readonly config: AirlockConfig;
  readonly maxBodyBytes: number;
  readonly logUnexpected?: UnexpectedErrorLogger;
  /** Tells the requester what was decided. @default - nobody is told */
  readonly notifier?: Pick<ApprovalNotifier, 'notifyDecision'>;
  /** Reports a decision notice that could not be sent (the decision stands). */
  readonly onNotifyError?: (error: unknown) => void;
}

/** The routes of the approvals function (lib/contracts/routes.ts). */
export const APPROVALS_ROUTES = routesOf(MTLS_ROUTES, 'approvals');

const decisionSchema = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  reason: z.string().trim().min(1).max(1000),
});

const STATUSES: readonly ApprovalStatus[] = ['pending', 'approved', 'rejected', 'executed'];

export function createApprovalsHandler(deps: ApprovalsHandlerDeps): ApiHandler {
  return async (event) => {
    const requestId = requestIdOf(event);
    try {
      const route = matchRoute(APPROVALS_ROUTES, event);
      if (!route) {
        throw new AirlockError(
          'not_found',
          `No route ${event.httpMethod} ${event.path} on the approvals API.`,
        );
      }
      const principal = principalOf(deps.config, event);
      switch (route.id) {
        case 'listApprovals': {
          const query = event.queryStringParameters ?? {};
          const status = (query.status ?? 'pending') as ApprovalStatus;
          if (!STATUSES.includes(status)) {
            throw new AirlockError('invalid_request', `status: expected one of ${STATUSES.join(', ')}.`);
          }
          const limit = query.limit === undefined ? undefined : Number(query.limit);
          const page = await deps.desk.listFor(principal, status, {
            ...(limit === undefined ? {} : { limit }),
            ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
          });
          return jsonResponse(200, { approvals: page.approvals, next: page.next ?? null, requestId });
        }
        case 'showApproval':
          return jsonResponse(200, {
            approval: await deps.desk.show(principal, event.pathParameters?.id ?? ''),
            requestId,
          });
        case 'decideApproval': {
          const id = event.pathParameters?.id ?? '';
          let parsed: ReturnType<typeof decisionSchema.safeParse>;
          try {
            parsed = decisionSchema.safeParse(jsonBodyOf(event, deps.maxBodyBytes));
            if (!parsed.success) {
              throw new AirlockError(
                'invalid_request',
                'Expected {"decision": "approve" | "reject", "reason": "why, in a sentence"}.',
              );
            }
          } catch (error) {
            await recordRefusal(deps, error, { approver: principal, id, requestId });
            throw error;
          }
          const approval = await decideApproval(deps, { id, approver: principal, ...parsed.data, requestId });
          return jsonResponse(200, { approval: deps.desk.seenBy(principal, approval), requestId });
        }
      }
    } catch (error) {
      return errorResponse(error, requestId, deps.logUnexpected);
    }
  };
}

/** A decision as an approver made it (CLI over mutual TLS, or the approvals page). */
export interface DecisionInput {
  readonly id: string;
  readonly approver: string;
  readonly decision: 'approve' | 'reject';
  readonly reason: string;
  readonly requestId: string;
  /** Where the decision was made, for the audit record. @default 'certificate' */
  readonly channel?: 'certificate' | 'approvals-page';
  /** Checked against the approval before anything is recorded (the page: the IdP's groups agree). */
  readonly check?: (record: ApprovalRecord) => void;
}

/** Checks, records, then applies a decision; every refusal is recorded too. */
export async function decideApproval(
  deps: Pick<ApprovalsHandlerDeps, 'desk' | 'ledger' | 'killSwitch' | 'notifier' | 'onNotifyError'>,
  input: DecisionInput,
): Promise<ApprovalRecord> {
  const { id, approver, requestId } = input;
  const attempted = input.decision;
  let prepared: PreparedDecision | undefined;
  let record: ApprovalRecord | undefined;
  try {
    prepared = await deps.desk.prepareDecision(input);
    record = prepared.record;
    input.check?.(prepared.record);
    const killSwitch = await deps.killSwitch.check(prepared.record.workflow);
    if (killSwitch.engaged) throw new KillSwitchEngagedError(killSwitch);
    const decided = decidedEvent(prepared, approver, requestId, input.channel);
    const problem = auditEventProblemOf(decided);
    if (problem !== undefined) {
      throw new AirlockError(
        'invalid_request',
        'reason: it looks like it contains a token or a private key; say in words why you decide so.',
        { reasons: ['unrecordable-reason'] },
      );
    }
    // The decision's record first: nothing changes status unless the record is committed.
    await deps.ledger.append(decided);
  } catch (error) {
    await recordRefusal(deps, error, { approver, id, attempted, record, requestId, channel: input.channel });
    throw error;
  }
  let decided: ApprovalRecord;
  try {
    decided = await deps.desk.commitDecision(prepared);
  } catch (error) {
    // Someone else decided first: the record just written did not take effect, and says so next.
    await recordRefusal(deps, error, {
      approver,
      id,
      attempted,
      record: prepared.record,
      requestId,
      voids: 'approval_decided',
      channel: input.channel,
    });
    throw error;
  }
  // The requester is told; a notice that cannot be sent does not undo a recorded decision.
  await deps.notifier?.notifyDecision?.(decided).catch((error: unknown) => deps.onNotifyError?.(error));
  return decided;
}

function decidedEvent(
  prepared: PreparedDecision,
  approver: string,
  requestId: string,
  channel: DecisionInput['channel'],
): AuditEvent {
  const { record, changes } = prepared;
  return {
    type: 'approval_decided',
    principal: approver,
    workflow: record.workflow,
    connector: record.connector,
    operation: record.operation,
    decision: changes.status === 'approved' ? 'allow' : 'deny',
    reasons: [changes.status],
    requestId,
    docHashes: [record.preview.sha256],
    details: {
      approvalId: record.id,
      requester: record.principal,
      argumentsHash: record.argumentsHash,
      reason: changes.decisionReason ?? '',
      ...(channel === 'approvals-page' ? { channel } : {}),
    },
  };
}

/** Records a refused decision, in a bounded form (the id and reason are the client's). Never throws. */
export async function recordRefusal(
  deps: Pick<ApprovalsHandlerDeps, 'ledger'>,
  error: unknown,
  context: {
    approver: string;
    id: string;
    attempted?: string;
    record?: ApprovalRecord;
    requestId: string;
    voids?: string;
    channel?: DecisionInput['channel'];
  },
): Promise<void> {
  // A dependency that could not answer (the ledger itself, say) leaves nothing to record it in reliably.
  if (!(error instanceof AirlockError)) return;
  await deps.ledger
    .append(
      boundedAuditEvent({
        type: 'approval_refused',
        principal: context.approver,
        workflow: context.record?.workflow ?? '(approvals)',
        ...(context.record
          ? { connector: context.record.connector, operation: context.record.operation }
          : {}),
        decision: 'deny',
        reasons: [error.code, ...(error.reasons ?? [])],
        requestId: context.requestId,
        docHashes: [],
        details: {
          approvalId: context.id.slice(0, 80),
          ...(context.attempted ? { attempted: context.attempted } : {}),
          ...(context.voids ? { voids: context.voids } : {}),
          ...(context.channel === 'approvals-page' ? { channel: context.channel } : {}),
        },
      }),
    )
    .catch(() => undefined);
}

function principalOf(config: AirlockConfig, event: APIGatewayProxyEvent): string {
  const { commonName } = certificateSubject(clientCertificateOf(event));
  if (!Object.hasOwn(config.principals, commonName)) {
    throw new AirlockError('forbidden', `"${commonName}" is not a principal of this Airlock pilot.`, {
      reasons: ['unknown-principal'],
    });
  }
  return commonName;
}
