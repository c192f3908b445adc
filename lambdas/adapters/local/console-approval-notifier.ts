/**
 * The local pilot's approval notifier: prints the same notice SNS sends in AWS, so whoever runs
 * `npm start` sees what an approver would receive and the command to decide it.
 */
import type { ApprovalNotifier, ApprovalRecord } from '../../core/approval-desk';
import {
  approvalNotice,
  type ChatNotification,
  chatNotice,
  decisionNotice,
  type NoticeTarget,
} from '../../core/approval-notice';

export interface ConsoleApprovalNotifierProps {
  /**
   * Receives the notice (subject line, blank line, message).
   * @default writes to standard output
   */
  readonly write?: (text: string) => void;
  /** Where the notice sends the approver (the approvals page, `--local`). @default the CLI alone */
  readonly target?: NoticeTarget | ((approval: ApprovalRecord) => NoticeTarget);
  /**
   * Receives the approvers' chat notice (config `approvals.chat`), the JSON AWS's chat integration would
   * post; pending notices and reminders only, never decisions, as in AWS.
   * @default - no chat channel
   */
  readonly chat?: (notice: ChatNotification) => void;
}

/** {@link ApprovalNotifier} that prints {@link approvalNotice} (and hands over the chat notice) instead of publishing them. */
export class ConsoleApprovalNotifier implements ApprovalNotifier {
  private readonly write: (text: string) => void;
  private readonly target: ConsoleApprovalNotifierProps['target'];
  private readonly chat: ConsoleApprovalNotifierProps['chat'];

  constructor(props: ConsoleApprovalNotifierProps = {}) {
    this.write = props.write ?? ((text) => process.stdout.write(`${text}\n`));
    this.target = props.target;
    this.chat = props.chat;
  }

  async notify(approval: ApprovalRecord): Promise<void> {
    const target = typeof this.target === 'function' ? this.target(approval) : this.target;
    const { subject, message } = approvalNotice(approval, target);
    this.write(`${subject}\n\n${message}`);
    this.chat?.(chatNotice(approval, target));
  }

  async notifyDecision(approval: ApprovalRecord): Promise<void> {
    const { subject, message } = decisionNotice(approval);
    this.write(`${subject}\n\n${message}`);
  }
}
