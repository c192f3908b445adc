/**
 * The words an approver reads when a call waits for them. Pure, so the SNS notifier (AWS) and the
 * console notifier (local pilot) send exactly the same notice.
 */
import { UNCLEARED_CLASSIFICATIONS } from '../../lib/contracts/classifications';
import { type ApprovalRecord, documentsAsSeenBy } from './approval-desk';
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

/** Where the approver decides: the approvals page, and how the CLI reaches the API that holds the call. */
export interface NoticeTarget {
  /** The approvals page's origin (config `oauth.publicUrl`), when it is served. */
  readonly pageUrl?: string;
  /**
   * The CLI flags that reach the API: `--server https://airlock.example.com` (the approver adds their
   * device certificate), or the local pilot's `--local` (each approver is named with `--principal`).
   */
  readonly cli?: { readonly kind: 'server'; readonly url: string } | { readonly kind: 'local' };
  /** The members of the approver group (the local pilot names each in its commands). */
  readonly approvers?: readonly string[];
}

function decideLines(approval: ApprovalRecord, target: NoticeTarget): string[] {
  const id = approval.id;
  const commands = (flags: string) => [
    `  npx airlock approvals show ${id} ${flags}`,
    `  npx airlock approvals approve ${id} ${flags} --reason "why it is fine"`,
    `  npx airlock approvals reject ${id} ${flags} --reason "why not"`,
  ];
  const lines = ['To decide:'];
  if (target.pageUrl) {
    lines.push(
      `  in a browser (sign in with your company account): ${target.pageUrl.replace(/\/$/, '')}/approvals/${id}`,
    );
    lines.push('  or with the CLI:');
  }
  const cli = target.cli;
  if (cli?.kind === 'local') {
    const approvers = (target.approvers ?? []).filter((name) => name !== approval.principal);
    for (const name of approvers.length > 0 ? approvers : ['<your principal>']) {
      lines.push(`  as ${name}:`, ...commands(`--local --principal ${name}`));
    }
  } else if (cli?.kind === 'server') {
    lines.push(...commands(`--server ${cli.url} --cert <your device certificate> --key <its key>`));
  } else {
    lines.push(...commands('').map((line) => line.replace(/ {2,}--/g, ' --').trimEnd()));
  }
  return lines;
}

/**
 * Text an agent or an upstream chose (the intent, looked-up names) on one line: it cannot add lines that
 * read like Airlock's own (a second "exact call", another "To decide" link).
 */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is replaced.
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ');
}

/** Whose reads an approval lists, and since when: "alice read since <time> (any token)". */
export function readsScope(approval: Pick<ApprovalRecord, 'principal' | 'documentsSince'>): string {
  return approval.documentsSince
    ? `${approval.principal} read through Airlock since ${approval.documentsSince} (any token, any workflow)`
    : 'the same run read';
}

/** The heading of the documents an approval lists, the same in every channel. */
export const DOCUMENTS_HEADING = 'Documents read before it asked';

/** What an approver is told of the documents read beyond those listed. */
export function notShownLine(
  approval: Pick<ApprovalRecord, 'principal' | 'documentsSince'>,
  count: number,
): string {
  return `and ${count} more document(s) ${readsScope(approval)}, not listed here (the audit trail names each one)`;
}

/** What an approver is told when the list is empty. */
export function nothingReadLine(approval: Pick<ApprovalRecord, 'principal' | 'documentsSince'>): string {
  return approval.documentsSince
    ? `None: ${approval.principal} read nothing through Airlock since ${approval.documentsSince}, with any token`
    : 'None: the agent read nothing through Airlock with this token before it asked';
}

/** What an approver is told when the document list could not be read (never that nothing was read). */
export function documentsUnavailableLine(approval: Pick<ApprovalRecord, 'principal'>): string {
  return `unknown: the list of documents ${approval.principal} read could not be looked up (the audit trail names every read)`;
}

/** The documents read before the call was held, one line each: name, operation, sha256. */
function documentLines(approval: ApprovalRecord): string[] {
  const documents = documentsAsSeenBy(approval, UNCLEARED_CLASSIFICATIONS).documents ?? [];
  if (approval.documentsUnavailable) return [`Read before: ${documentsUnavailableLine(approval)}`];
  if (documents.length === 0 && !approval.documentsNotShown) return [];
  return [
    `Read before: (documents ${readsScope(approval)}, with the sha256 the audit trail holds)`,
    ...documents.map((d) => `  ${oneLine(d.id)} (${d.connector}/${d.operation}) sha256 ${d.sha256}`),
    ...(approval.documentsNotShown ? [`  ${notShownLine(approval, approval.documentsNotShown)}`] : []),
  ];
}

/**
 * The notice for an approval. The call is printed as canonical JSON, the exact bytes `sha256` covers,
 * so an approver can check the hash themself (`printf '%s' '<call>' | sha256sum`).
 */
export function approvalNotice(approval: ApprovalRecord, target: NoticeTarget = {}): ApprovalNotice {
  const what = `${approval.connector}/${approval.operation}`;
  const call = canonicalJson(approval.preview.call);
  const shownCall =
    Buffer.byteLength(call) <= MAX_PREVIEW_BYTES
      ? call
      : `(${Buffer.byteLength(call)} bytes, too large for this message: run the "show" command below to see it)`;
  const message = [
    ...(approval.remindedAt
      ? [`Reminder: this approval expires at ${approval.expiresAt} and nobody has decided it yet.`, '']
      : []),
    `${approval.principal} asks to run ${what} in workflow "${approval.workflow}".`,
    `A member of the group "${approval.approverGroup}" must approve or reject it; nobody approves their own request.`,
    '',
    `Approval:   ${approval.id}`,
    `Requested:  ${approval.createdAt} by ${approval.principal} (request ${approval.requestId})`,
    `Workflow:   ${approval.workflow}`,
    `Operation:  ${what}`,
    ...(approval.intent ? [`Intent:     ${oneLine(approval.intent)}`] : []),
    ...Object.entries(approval.names ?? {}).map(
      ([name, label]) => `${`${name}:`.padEnd(12)}${oneLine(label)}`,
    ),
    ...documentLines(approval),
    `Held by:    ${approval.reasons.join(', ') || '(no policy id)'}`,
    `Expires:    ${approval.expiresAt} (after that the agent must ask again)`,
    '',
    'The exact call that will run (canonical JSON):',
    shownCall,
    `sha256: ${approval.preview.sha256}`,
    '',
    ...decideLines(approval, target),
    '',
  ].join('\n');
  const reminder = approval.remindedAt ? 'reminder, ' : '';
  return {
    subject: subjectLine(`Airlock: ${reminder}approval needed for ${what} by ${approval.principal}`),
    message,
  };
}

/**
 * The notice to the requester once an approver decided: who, what, why, and what to do next.
 */
export function decisionNotice(approval: ApprovalRecord): ApprovalNotice {
  const what = `${approval.connector}/${approval.operation}`;
  const approved = approval.status === 'approved';
  const verb = approved ? 'approved' : 'rejected';
  const message = [
    `${approval.decidedBy ?? 'An approver'} ${verb} ${approval.principal}'s request to run ${what} in workflow "${approval.workflow}".`,
    '',
    `Approval:   ${approval.id}`,
    `Decided:    ${approval.decidedAt ?? ''} by ${approval.decidedBy ?? ''}`,
    `Reason:     ${oneLine(approval.decisionReason ?? '')}`,
    ...(approval.intent ? [`Intent:     ${oneLine(approval.intent)}`] : []),
    `sha256:     ${approval.preview.sha256}`,
    '',
    approved
      ? `Next: the agent re-sends exactly the same call with the header "Airlock-Approval: ${approval.id}" (MCP: the argument approvalId) before ${approval.expiresAt}; it runs once.`
      : 'Next: nothing runs. Do not retry the same call; change it or talk to the approver.',
    '',
  ].join('\n');
  return {
    subject: subjectLine(
      `Airlock: ${approval.decidedBy ?? 'an approver'} ${verb} ${what} for ${approval.principal}`,
    ),
    message,
  };
}

/** SNS subjects are printable ASCII on one line, at most 100 characters. */
function subjectLine(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length <= MAX_SUBJECT_LENGTH
    ? printable
    : `${printable.slice(0, MAX_SUBJECT_LENGTH - 3)}...`;
}

/**
 * A custom notification of AWS's chat integration (Amazon Q Developer in chat applications, formerly
 * AWS Chatbot): it renders only messages of this shape and drops any other text an SNS topic carries.
 */
export interface ChatNotification {
  readonly version: '1.0';
  readonly source: 'custom';
  readonly id: string;
  readonly content: {
    readonly textType: 'client-markdown';
    readonly title: string;
    readonly description: string;
    readonly nextSteps: readonly string[];
    readonly keywords: readonly string[];
  };
  readonly metadata: {
    /** Messages of one approval form one thread (the first notice and its reminder). */
    readonly threadId: string;
    readonly summary: string;
  };
}

/** The chat shows the call up to this size; a larger one is read on the page or with `approvals show`. */
const MAX_CHAT_CALL_CHARS = 1500;

/** Markdown code spans cannot hold a backtick; chat clients would end the span early. */
function codeSpan(text: string): string {
  return `\`${text.replaceAll('`', "'")}\``;
}

/**
 * The notice for the approvers' chat channel: the same facts as {@link approvalNotice}, in the chat
 * integration's custom-notification format, with the page's link and the CLI commands as next steps.
 */
export function chatNotice(approval: ApprovalRecord, target: NoticeTarget = {}): ChatNotification {
  const what = `${approval.connector}/${approval.operation}`;
  const call = canonicalJson(approval.preview.call);
  const reminder = approval.remindedAt ? 'Reminder: ' : '';
  const description = [
    ...(approval.remindedAt ? [`*Expires at ${approval.expiresAt}* and nobody has decided it yet.`] : []),
    `*${approval.principal}* asks to run ${codeSpan(what)} in workflow *${approval.workflow}*; a member of *${approval.approverGroup}* decides (nobody approves their own request).`,
    // What the agent or an upstream wrote is shown as code: its markdown (bold lines, links) stays text.
    ...(approval.intent ? [`*Intent:* ${codeSpan(oneLine(approval.intent))}`] : []),
    ...Object.entries(approval.names ?? {}).map(([name, label]) => `*${name}:* ${codeSpan(oneLine(label))}`),
    ...(approval.documents && approval.documents.length > 0
      ? [
          `*${DOCUMENTS_HEADING} (${readsScope(approval)}):* ${(
            documentsAsSeenBy(approval, UNCLEARED_CLASSIFICATIONS).documents ?? []
          )
            .map((d) => `${codeSpan(oneLine(d.id))} (sha256 ${d.sha256.slice(0, 12)}…)`)
            .join(', ')}`,
        ]
      : []),
    ...(approval.documentsNotShown ? [`*${notShownLine(approval, approval.documentsNotShown)}*`] : []),
    ...(approval.documentsUnavailable
      ? [`*${DOCUMENTS_HEADING}:* ${documentsUnavailableLine(approval)}`]
      : []),
    `*Held by:* ${approval.reasons.join(', ') || '(no policy id)'}`,
    `*Expires:* ${approval.expiresAt}`,
    call.length <= MAX_CHAT_CALL_CHARS
      ? `*The exact call:* ${codeSpan(call)}`
      : `*The exact call:* ${call.length} characters, on the page or with \`approvals show\``,
    `*sha256:* ${codeSpan(approval.preview.sha256)}`,
  ].join('\n');
  const id = approval.id;
  const nextSteps = [
    ...(target.pageUrl
      ? [`Open ${target.pageUrl.replace(/\/$/, '')}/approvals/${id} and sign in with your company account`]
      : []),
    target.cli?.kind === 'server'
      ? `Or: npx airlock approvals show ${id} --server ${target.cli.url} --cert <your device certificate> --key <its key>`
      : target.cli?.kind === 'local'
        ? `Or: npx airlock approvals show ${id} --local --principal <your principal>`
        : `Or: npx airlock approvals show ${id}`,
  ];
  return {
    version: '1.0',
    source: 'custom',
    id,
    content: {
      textType: 'client-markdown',
      title: `${reminder}Approval needed: ${what} by ${approval.principal}`.slice(0, 250),
      description,
      nextSteps,
      keywords: [approval.workflow, approval.approverGroup, what],
    },
    metadata: {
      threadId: id,
      summary: `${what} by ${approval.principal} waits for ${approval.approverGroup}`,
    },
  };
}
