/**
 * The approvals function: approvers list pending approvals and decide them. The approver is the
 * client certificate's subject; separation of duties and group membership are checked by the desk.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { z } from 'zod';
import type { AirlockConfig } from '../../lib/config/schema';
import { MTLS_ROUTES, matchRoute, routesOf } from '../../lib/contracts/routes';
import type { ApiHandler } from '../broker/broker-handler';
import { clientCertificateOf, jsonBodyOf, requestIdOf } from '../core/api-request';
import { errorResponse, jsonResponse, type UnexpectedErrorLogger } from '../core/api-response';
import type { ApprovalDesk, ApprovalStatus } from '../core/approval-desk';
import type { AuditAppender } from '../core/audit-ledger';
import { certificateSubject } from '../core/certificate-thumbprint';
import { AirlockError } from '../core/errors';

export interface ApprovalsHandlerDeps {
  readonly desk: ApprovalDesk;
  readonly ledger: AuditAppender;
  readonly config: AirlockConfig;
  readonly maxBodyBytes: number;
  readonly logUnexpected?: UnexpectedErrorLogger;
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
          const status = (event.queryStringParameters?.status ?? 'pending') as ApprovalStatus;
          if (!STATUSES.includes(status)) {
            throw new AirlockError('invalid_request', `status: expected one of ${STATUSES.join(', ')}.`);
          }
          return jsonResponse(200, { approvals: await deps.desk.listFor(principal, status), requestId });
        }
        case 'showApproval':
          return jsonResponse(200, {
            approval: await deps.desk.show(principal, event.pathParameters?.id ?? ''),
            requestId,
          });
        case 'decideApproval': {
          const parsed = decisionSchema.safeParse(jsonBodyOf(event, deps.maxBodyBytes));
          if (!parsed.success) {
            throw new AirlockError(
              'invalid_request',
              'Expected {"decision": "approve" | "reject", "reason": "why, in a sentence"}.',
            );
          }
          const id = event.pathParameters?.id ?? '';
          let decided: Awaited<ReturnType<ApprovalDesk['decide']>>;
          try {
            decided = await deps.desk.decide({ id, approver: principal, ...parsed.data });
          } catch (error) {
            if (error instanceof AirlockError) {
              await deps.ledger
                .append({
                  type: 'approval_refused',
                  principal,
                  workflow: '(approvals)',
                  decision: 'deny',
                  reasons: [error.code, ...(error.reasons ?? [])],
                  requestId,
                  docHashes: [],
                  details: { approvalId: id.slice(0, 80), attempted: parsed.data.decision },
                })
                .catch(() => undefined);
            }
            throw error;
          }
          await deps.ledger.append({
            type: 'approval_decided',
            principal,
            workflow: decided.workflow,
            connector: decided.connector,
            operation: decided.operation,
            decision: decided.status === 'approved' ? 'allow' : 'deny',
            reasons: [decided.status],
            requestId,
            docHashes: [decided.preview.sha256],
            details: {
              approvalId: decided.id,
              requester: decided.principal,
              argumentsHash: decided.argumentsHash,
              reason: parsed.data.reason,
            },
          });
          return jsonResponse(200, { approval: decided, requestId });
        }
      }
    } catch (error) {
      return errorResponse(error, requestId, deps.logUnexpected);
    }
  };
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
