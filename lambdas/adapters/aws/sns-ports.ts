/** The port over SNS: the notice that a call waits for an approver's decision. */
import { FUNCTION_ENV } from '../../../lib/contracts/environment';
import type { AwsPortBuilder } from './aws-ports';
import { snsClientOnDemand } from './sdk-on-demand';
import { SnsApprovalNotifier } from './sns-approval-notifier';

export const approvalNotifier: AwsPortBuilder<'approvalNotifier'> = (context) =>
  context.expose(
    'approvalNotifier',
    'SnsApprovalNotifier',
    new SnsApprovalNotifier({
      client: context.client('sns', snsClientOnDemand),
      topicArn: context.required(FUNCTION_ENV.approvalsTopicArn),
      // With a chat channel in the config the binding sets its topic; a missing one is a deployment bug.
      ...(context.config.approvals.chat
        ? { chatTopicArn: context.required(FUNCTION_ENV.approvalsChatTopicArn) }
        : {}),
      // The notice names the approvals page (with an `oauth` section) and the mTLS API for the CLI.
      target: {
        ...(context.config.oauth ? { pageUrl: context.config.oauth.publicUrl } : {}),
        cli: { kind: 'server', url: `https://${context.config.domain.name}` },
      },
    }),
  );
