/**
 * Tells approvers that a call waits for them, over an SNS topic (email, chat or a ticketing system
 * subscribe to it). The message carries everything an approver needs to decide without opening the
 * API: who asks, in which workflow, the exact call and its hash, the expiry, and the CLI commands.
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import { NOTICE_ATTRIBUTES, NOTICE_KINDS, type NoticeKind } from '../../../lib/contracts/notices';
import type { ApprovalNotifier, ApprovalRecord } from '../../core/approval-desk';
import { approvalNotice, chatNotice, decisionNotice, type NoticeTarget } from '../../core/approval-notice';
import { DependencyError } from '../../core/errors';
import { describeAwsError } from './aws-permission-error';
import {
  type DeclaresIamPermissions,
  type IamActions,
  type IamPermission,
  permissionsOf,
} from './iam-permissions';
import { type ClientSource, clientOf } from './on-demand';
import { loadSnsSdk } from './sdk-on-demand';

/** The IAM actions each method sends, on the approvals topic. */
export const SNS_NOTIFIER_ACTIONS = {
  notify: ['sns:Publish'],
  notifyDecision: ['sns:Publish'],
} as const satisfies IamActions<keyof ApprovalNotifier>;

// Re-exported so existing importers of the SNS notifier keep working; the notice itself is core.
export { type ApprovalNotice, approvalNotice, MAX_SUBJECT_LENGTH } from '../../core/approval-notice';

export interface SnsApprovalNotifierProps {
  readonly client: ClientSource<SNSClient>;
  readonly topicArn: string;
  /**
   * The approvers' chat topic (config `approvals.chat`): pending notices and reminders go there too, in
   * the chat integration's format. Decisions never do: they are for their requester alone.
   * @default - no chat channel
   */
  readonly chatTopicArn?: string;
  /** Where the notice sends the approver (the approvals page, the API's `--server`). @default the CLI alone */
  readonly target?: NoticeTarget;
}

/** {@link ApprovalNotifier} publishing {@link approvalNotice} to an SNS topic. */
export class SnsApprovalNotifier implements ApprovalNotifier, DeclaresIamPermissions<keyof ApprovalNotifier> {
  private readonly client: ClientSource<SNSClient>;
  private readonly topicArn: string;
  private readonly chatTopicArn?: string;
  private readonly target?: NoticeTarget;

  constructor(props: SnsApprovalNotifierProps) {
    this.client = props.client;
    this.topicArn = props.topicArn;
    this.chatTopicArn = props.chatTopicArn;
    this.target = props.target;
  }

  iamPermissions(methods: readonly (keyof ApprovalNotifier)[]): IamPermission[] {
    return permissionsOf('SnsApprovalNotifier', SNS_NOTIFIER_ACTIONS, methods, (_action, method) => [
      { resource: this.topicArn },
      ...(method === 'notify' && this.chatTopicArn ? [{ resource: this.chatTopicArn }] : []),
    ]);
  }

  /**
   * Publishes with the `approverGroup` and `workflow` message attributes, so a subscription's filter
   * policy can route each group's approvals to that group only.
   * @throws DependencyError when SNS refuses or cannot be reached.
   */
  async notify(approval: ApprovalRecord): Promise<void> {
    // Both channels are tried: a chat outage must not keep the e-mail from going, nor the reverse.
    const outcomes = await Promise.allSettled([
      this.publish(approval, approvalNotice(approval, this.target), NOTICE_KINDS.pending),
      ...(this.chatTopicArn
        ? [
            this.publish(
              approval,
              { message: JSON.stringify(chatNotice(approval, this.target)) },
              NOTICE_KINDS.pending,
              this.chatTopicArn,
            ),
          ]
        : []),
    ]);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * Publishes the decision with `kind: decision` and the `requester` attribute, so the requester's (or
   * the workflow owner's) subscription can filter on it.
   */
  async notifyDecision(approval: ApprovalRecord): Promise<void> {
    await this.publish(approval, decisionNotice(approval), NOTICE_KINDS.decision);
  }

  private async publish(
    approval: ApprovalRecord,
    { subject, message }: { subject?: string; message: string },
    kind: NoticeKind,
    topicArn: string = this.topicArn,
  ): Promise<void> {
    try {
      const [{ PublishCommand }, client] = await Promise.all([loadSnsSdk(), clientOf(this.client)]);
      await client.send(
        new PublishCommand({
          TopicArn: topicArn,
          ...(subject ? { Subject: subject } : {}),
          Message: message,
          MessageAttributes: {
            [NOTICE_ATTRIBUTES.approverGroup]: { DataType: 'String', StringValue: approval.approverGroup },
            [NOTICE_ATTRIBUTES.workflow]: { DataType: 'String', StringValue: approval.workflow },
            [NOTICE_ATTRIBUTES.kind]: { DataType: 'String', StringValue: kind },
            [NOTICE_ATTRIBUTES.requester]: { DataType: 'String', StringValue: approval.principal },
          },
        }),
      );
    } catch (error) {
      throw new DependencyError(
        'approvals-notifier',
        describeAwsError(error, { action: 'sns:Publish', resource: `topic ${topicArn}` }),
        { cause: error },
      );
    }
  }
}
