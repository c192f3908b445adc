/**
 * The approvals function: approvers list held calls and decide them (`/v1/approvals...`). Deciding
 * notifies nobody (creating a held call, in the connector pipeline, notifies the approver group), so
 * this function reads no notifier. It reads the kill switch: a sealed workflow's approvals are not decided.
 */
import { createApprovalsHandler } from '../approvals/approvals-handler';
import type { ApiHandler } from '../broker/broker-handler';
import { ApprovalDesk } from '../core/approval-desk';
import type { SharedServices } from './shared-services';

export interface ApprovalsComposition {
  readonly desk: ApprovalDesk;
  readonly handler: ApiHandler;
}

export function composeApprovals(services: SharedServices): ApprovalsComposition {
  const { config, settings } = services;
  const desk = new ApprovalDesk({
    store: services.bounded('approvalStore', () => services.ports.approvalStore),
    notifier: { notify: async () => undefined },
    config,
    clock: services.clock,
  });
  const handler = createApprovalsHandler({
    desk,
    ledger: services.ledger,
    killSwitch: services.killSwitch,
    config,
    maxBodyBytes: config.api.maxBodyBytes,
    logUnexpected: settings.log.unexpected,
  });
  return { desk, handler };
}
