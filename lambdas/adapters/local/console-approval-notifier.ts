/**
 * The local pilot's approval notifier: prints the same notice SNS sends in AWS, so whoever runs
 * `npm start` sees what an approver would receive and the command to decide it.
 */
import type { ApprovalNotifier, ApprovalRecord } from '../../core/approval-desk';
import { approvalNotice } from '../../core/approval-notice';

export interface ConsoleApprovalNotifierProps {
  /**
   * Receives the notice (subject line, blank line, message).
   * @default writes to standard output
   */
  readonly write?: (text: string) => void;
}

/** {@link ApprovalNotifier} that prints {@link approvalNotice} instead of publishing it. */
export class ConsoleApprovalNotifier implements ApprovalNotifier {
  private readonly write: (text: string) => void;

  constructor(props: ConsoleApprovalNotifierProps = {}) {
    this.write = props.write ?? ((text) => process.stdout.write(`${text}\n`));
  }

  async notify(approval: ApprovalRecord): Promise<void> {
    const { subject, message } = approvalNotice(approval);
    this.write(`${subject}\n\n${message}`);
  }
}
