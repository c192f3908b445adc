/**
 * The words an approver reads when a call waits for them. Pure, so the SNS notifier (AWS) and the
 * console notifier (local pilot) send exactly the same notice.
 */
import type { ApprovalRecord } from './approval-desk';
import { canonicalJson } from './canonical-json';

/** SNS refuses longer subjects; every channel keeps to it so the notice is the same everywhere. */
export const MAX_SUBJECT_LENGTH = 100;

/** SNS's message limit is 256 KiB; a larger preview is left to `approvals show` (headroom for the rest). */
const MAX_PREVIEW_BYTES = 200 * 1024;

/** The words an approver reads: a one-line subject and the plain-text body. */
export interface ApprovalNotice {
  readonly subject: string;
  readonly message: string;
}

/**
 * The notice for an approval. The call is printed as canonical JSON, the exact bytes `sha256` covers,
 * so an approver can check the hash themself (`printf '%s' '<call>' | sha256sum`).
 */
export function approvalNotice(approval: ApprovalRecord): ApprovalNotice {
  const what = `${approval.connector}/${approval.operation}`;
  const call = canonicalJson(approval.preview.call);
  const shownCall =
    Buffer.byteLength(call) <= MAX_PREVIEW_BYTES
      ? call
      : `(${Buffer.byteLength(call)} bytes, too large for this message: run the "show" command below to see it)`;
  const message = [
    `${approval.principal} asks to run ${what} in workflow "${approval.workflow}".`,
    `A member of the group "${approval.approverGroup}" must approve or reject it; nobody approves their own request.`,
    '',
    `Approval:   ${approval.id}`,
    `Requested:  ${approval.createdAt} by ${approval.principal} (request ${approval.requestId})`,
    `Workflow:   ${approval.workflow}`,
    `Operation:  ${what}`,
    `Held by:    ${approval.reasons.join(', ') || '(no policy id)'}`,
    `Expires:    ${approval.expiresAt} (after that the agent must ask again)`,
    '',
    'The exact call that will run (canonical JSON):',
    shownCall,
    `sha256: ${approval.preview.sha256}`,
    '',
    'To decide:',
    `  npx airlock approvals show ${approval.id}`,
    `  npx airlock approvals approve ${approval.id} --reason "why it is fine"`,
    `  npx airlock approvals reject ${approval.id} --reason "why not"`,
    '',
  ].join('\n');
  return { subject: subjectLine(`Airlock: approval needed for ${what} by ${approval.principal}`), message };
}

/** SNS subjects are printable ASCII on one line, at most 100 characters. */
function subjectLine(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length <= MAX_SUBJECT_LENGTH
    ? printable
    : `${printable.slice(0, MAX_SUBJECT_LENGTH - 3)}...`;
}
