/**
 * The approvals function: approvers list held calls and decide them (`/v1/approvals...`). Deciding
 * tells the requester what was decided (creating a held call, in the connector pipeline, notifies the approver group).
 * With an `oauth` section it also serves the approvals page (sign-in at the corporate IdP). It reads the kill switch: a sealed workflow's approvals are not decided.
 */
import { matchRoute } from '../../lib/contracts/routes';
import { createApprovalsHandler } from '../approvals/approvals-handler';
import { APPROVALS_PAGE_ROUTES, createApprovalsPageHandler } from '../approvals/approvals-page-handler';
import type { ApiHandler } from '../broker/broker-handler';
import { ApprovalDesk } from '../core/approval-desk';
import type { SharedServices } from './shared-services';

export interface ApprovalsComposition {
  readonly desk: ApprovalDesk;
  readonly handler: ApiHandler;
  /**
   * Reminds approver groups of approvals about to expire (`approvals.reminderHoursBeforeExpiry`): the
   * function's schedule in AWS, a timer in the local pilot. Resolves to how many were reminded.
   */
  readonly remind: () => Promise<number>;
}

export function composeApprovals(services: SharedServices): ApprovalsComposition {
  const { config, settings } = services;
  const desk = new ApprovalDesk({
    store: services.bounded('approvalStore', () => services.ports.approvalStore),
    // Reminders before expiry go to the approver group through the same notifier as the first notice.
    notifier: services.ports.approvalNotifier,
    config,
    clock: services.clock,
    onNotifyError: (error) => settings.log.warn('a reminder was not sent', error),
  });
  const remind = async () =>
    config.approvals.reminderHoursBeforeExpiry > 0
      ? (await desk.remindDue(config.approvals.reminderHoursBeforeExpiry)).length
      : 0;
  const notices = {
    notifier: services.ports.approvalNotifier,
    onNotifyError: (error: unknown) => settings.log.warn('the decision notice was not sent', error),
  };
  const api = createApprovalsHandler({
    ...notices,
    desk,
    ledger: services.ledger,
    // The kill switch with its copies in the revocations table: a CLI engage is seen at the next request.
    killSwitch: services.revocationGuard,
    config,
    maxBodyBytes: config.api.maxBodyBytes,
    logUnexpected: settings.log.unexpected,
  });
  const oauth = config.oauth;
  if (!oauth) return { desk, handler: api, remind };
  // With an `oauth` section, the approvals page is served on the certificate-less entry point: approvers
  // sign in at the same corporate IdP. Its routes reach this function there; the JSON routes stay on mTLS.
  const page = createApprovalsPageHandler({
    ...notices,
    desk,
    ledger: services.ledger,
    killSwitch: services.revocationGuard,
    config,
    oauth,
    identityProvider: services.ports.identityProvider,
    macKey: services.ports.sessionMacKey,
    clock: services.clock,
    maxBodyBytes: config.api.maxBodyBytes,
    logUnexpected: settings.log.unexpected,
  });
  const handler: ApiHandler = (event) =>
    matchRoute(APPROVALS_PAGE_ROUTES, {
      httpMethod: event.httpMethod,
      resource: event.resource ?? event.path,
    })
      ? page(event)
      : api(event);
  return { desk, handler, remind };
}
