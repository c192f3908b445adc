/**
 * The local pilot's approval notifier: prints the same notice SNS sends in AWS, so whoever runs
 * `npm start` sees what an approver would receive and the command to decide it.
 */
import type { ApprovalNotifier, ApprovalRecord } from '../../core/approval-desk';
import { approvalNotice, decisionNotice, type NoticeTarget } from '../../core/approval-notice';

export interface ConsoleApprovalNotifierProps {
  /**
   * Receives the notice (subject line, blank line, message).
   * @default writes to standard output
   */
  readonly write?: (text: string) => void;
  /** Where the notice sends the approver (the approvals page, `--local`). @default the CLI alone */
  readonly target?: NoticeTarget | ((approval: ApprovalRecord) => NoticeTarget);
}

/** {@link ApprovalNotifier} that prints {@link approvalNotice} instead of publishing it. */
export class ConsoleApprovalNotifier implements ApprovalNotifier {
  private readonly write: (text: string) => void;
  private readonly target: ConsoleApprovalNotifierProps['target'];

  constructor(props: ConsoleApprovalNotifierProps = {}) {
    this.write = props.write ?? ((text) => process.stdout.write(`${text}\n`));
    this.target = props.target;
  }

  async notify(approval: ApprovalRecord): Promise<void> {
    const target = typeof this.target === 'function' ? this.target(approval) : this.target;
    const { subject, message } = approvalNotice(approval, target);
    this.write(`${subject}\n\n${message}`);
  }

  async notifyDecision(approval: ApprovalRecord): Promise<void> {
    const { subject, message } = decisionNotice(approval);
    this.write(`${subject}\n\n${message}`);
  }
}
