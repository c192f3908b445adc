/**
 * `airlock approvals list|show|approve|reject`: the approver's side of human-in-the-loop approvals.
 *
 * Approvers act through the approvals API over mutual TLS with their own device certificate, never
 * with operator credentials: the API takes the approver's identity from that certificate, and that is
 * what makes separation of duties hold (nobody approves their own request, only the approver group
 * decides). `--local --principal <name>` talks to the local pilot with that principal's certificate;
 * `--server URL --cert FILE --key FILE` to a deployment (see cli-target.ts).
 */
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { ApprovalRecord, ApprovalStatus } from '../lambdas/core/approval-desk';
import {
  DOCUMENTS_HEADING,
  documentsUnavailableLine,
  notShownLine,
  readsScope,
} from '../lambdas/core/approval-notice';
import { canonicalJson } from '../lambdas/core/canonical-json';
import type { AirlockApiClient } from './airlock-api-client';
import { type CliContext, CliError, EXIT } from './cli-context';
import { addTargetOptions, resolveTarget, type TargetOptions } from './cli-target';
import { airlockApiClient } from './operator-ports';

const STATUSES: readonly ApprovalStatus[] = ['pending', 'approved', 'rejected', 'executed'];

/** The approvals API refuses longer reasons; checked here so the approver hears it before anything is sent. */
const MAX_REASON_LENGTH = 1000;

/** A request without a response in this time fails with a sentence, instead of hanging the terminal. */
const REQUEST_TIMEOUT_MS = 15_000;

interface DecisionOptions extends TargetOptions {
  readonly reason: string;
  readonly yes?: boolean;
}

/** The approvals API as one approver reaches it. */
type ApprovalsTarget = AirlockApiClient;

/** Registers `airlock approvals list|show|approve|reject`. */
export function registerApprovalsCommands(program: Command, context: CliContext): void {
  const approvals = program
    .command('approvals')
    .description(
      'Decide calls held for a human, as yourself: over mutual TLS with your own device certificate ' +
        '(--local --principal <name>, or --server URL --cert FILE --key FILE).',
    );

  /** Pages read by one listing: 2,000 approvals at most. */
  const MAX_PAGES = 20;

  withTarget(
    approvals
      .command('list')
      .description('List the approvals you may decide (and your own requests).')
      .option('--status <status>', `one of ${STATUSES.join(', ')}`, 'pending'),
  ).action(async (options: TargetOptions & { status: string }) => {
    const status = parseStatus(options.status);
    await withApi(context, options, async (target) => {
      // Every page (the API answers at most 100 a page), up to a bound a person can still read.
      const list: ApprovalRecord[] = [];
      let next: string | null | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const answer = await target.request<{ approvals: ApprovalRecord[]; next?: string | null }>(
          'GET',
          `/v1/approvals?status=${encodeURIComponent(status)}${next ? `&cursor=${encodeURIComponent(next)}` : ''}`,
        );
        list.push(...answer.approvals);
        next = answer.next;
        if (!next) break;
      }
      const who = target.principal ? ` (as ${target.principal})` : '';
      context.result(
        list.length === 0
          ? `No ${status} approvals you may see${who}.`
          : [
              `${list.length} ${status} approval${list.length === 1 ? '' : 's'}${who}:`,
              ...list.map(summaryLine),
            ],
        { approvals: list },
      );
    });
  });

  withTarget(
    approvals
      .command('show <id>')
      .description('Show one approval: who asks, the exact call that will run, and its sha256.'),
  ).action(async (id: string, options: TargetOptions) => {
    await withApi(context, options, async (target) => {
      const approval = await fetchApproval(target, id);
      context.result(describeApproval(approval), { approval });
    });
  });

  withTarget(
    approvals
      .command('approve <id>')
      .description('Approve a held call after reading its full preview; the requester may then run it once.')
      .option('--reason <text>', 'why it is fine (required): the requester and the auditors read it')
      .option('--yes', 'approve without asking (required when not on a terminal)'),
  ).action(async (id: string, options: DecisionOptions) => {
    const reason = parseReason(options.reason);
    // A prompt is only shown to a person: stdin and stderr both terminals, and no --json.
    const stdin = context.stdin;
    const interactive = Boolean(stdin.isTTY && context.io.stderr.isTTY) && !context.json;
    if (!options.yes && !interactive) {
      throw new CliError(
        `approve: ${context.json ? 'with --json' : 'not on a terminal, so'} nobody can confirm; read the preview with \`airlock approvals show ${id}\` and pass --yes to approve`,
        EXIT.usage,
      );
    }
    await withApi(context, options, async (target) => {
      const approval = await fetchApproval(target, id);
      assertPreviewHash(approval);
      // The approver sees the full call before deciding, on stderr so stdout keeps only the result.
      if (!context.json) context.notice(describeApproval(approval).join('\n'));
      if (!options.yes && approval.status === 'pending') {
        await confirm(stdin, context.io.stderr, id, target.principal);
      }
      const decided = await decide(target, id, 'approve', reason);
      context.result(
        `Approved ${decided.id}${by(target)}: ${decided.principal} may now re-send the call once, before ${decided.expiresAt}.`,
        { approval: decided },
      );
    });
  });

  withTarget(
    approvals
      .command('reject <id>')
      .description('Reject a held call; the requester is told your reason and must not retry it.')
      .option('--reason <text>', 'why not (required): the requester and the auditors read it'),
  ).action(async (id: string, options: DecisionOptions) => {
    const reason = parseReason(options.reason);
    await withApi(context, options, async (target) => {
      const decided = await decide(target, id, 'reject', reason);
      context.result(
        `Rejected ${decided.id}${by(target)} (${decided.connector}/${decided.operation} requested by ${decided.principal}): "${reason}".`,
        { approval: decided },
      );
    });
  });
}

/** The options every approvals command takes to say where the API is and who the approver is. */
function withTarget(command: Command): Command {
  return addTargetOptions(command, { acts: 'api' });
}

/** Resolves where to go and with which certificate, runs `work`, and always closes the connections. */
async function withApi(
  context: CliContext,
  options: TargetOptions,
  work: (target: ApprovalsTarget) => Promise<void>,
): Promise<void> {
  const server = await resolveTarget(context, options, { acts: 'api' }, { requireRunningPilot: true });
  const target = airlockApiClient(server, { timeoutMs: REQUEST_TIMEOUT_MS });
  try {
    await work(target);
  } finally {
    target.close();
  }
}

async function fetchApproval(target: ApprovalsTarget, id: string): Promise<ApprovalRecord> {
  const { approval } = await target.request<{ approval: ApprovalRecord }>(
    'GET',
    `/v1/approvals/${encodeURIComponent(id)}`,
  );
  return approval;
}

async function decide(
  target: ApprovalsTarget,
  id: string,
  decision: 'approve' | 'reject',
  reason: string,
): Promise<ApprovalRecord> {
  const { approval } = await target.request<{ approval: ApprovalRecord }>(
    'POST',
    `/v1/approvals/${encodeURIComponent(id)}/decision`,
    { decision, reason },
  );
  return approval;
}

/**
 * Refuses to approve when the preview's sha256 is not the hash of the call shown: what the approver
 * reads must be what the approval binds.
 */
function assertPreviewHash(approval: ApprovalRecord): void {
  const actual = createHash('sha256').update(canonicalJson(approval.preview.call)).digest('hex');
  if (actual !== approval.preview.sha256) {
    throw new CliError(
      `approval ${approval.id}: its preview's sha256 ${approval.preview.sha256} is not the hash of the call shown (${actual}); not approving`,
    );
  }
}

async function confirm(
  stdin: NodeJS.ReadableStream,
  stderr: NodeJS.WritableStream,
  id: string,
  principal: string | undefined,
): Promise<void> {
  const prompt = createInterface({ input: stdin, output: stderr, terminal: false });
  try {
    const answer = await prompt.question(
      `Approve ${id}${principal ? ` as ${principal}` : ''}? Type "yes" to approve: `,
    );
    if (!/^\s*y(es)?\s*$/i.test(answer)) {
      throw new CliError(`not approved: ${id} is unchanged`, EXIT.failed);
    }
  } finally {
    prompt.close();
  }
}

function parseStatus(value: string): ApprovalStatus {
  if (!STATUSES.includes(value as ApprovalStatus)) {
    throw new CliError(`--status: expected one of ${STATUSES.join(', ')}, got "${value}"`, EXIT.usage);
  }
  return value as ApprovalStatus;
}

function parseReason(value: string | undefined): string {
  const reason = value?.trim() ?? '';
  if (reason.length === 0) {
    throw new CliError(
      '--reason "..." is required: the requester and the auditors read why you decided',
      EXIT.usage,
    );
  }
  if (reason.length > MAX_REASON_LENGTH) {
    throw new CliError(`--reason: at most ${MAX_REASON_LENGTH} characters, got ${reason.length}`, EXIT.usage);
  }
  return reason;
}

function by(target: ApprovalsTarget): string {
  return target.principal ? ` as ${target.principal}` : '';
}

function summaryLine(approval: ApprovalRecord): string {
  return [
    `  ${approval.id}`,
    approval.status,
    `${approval.connector}/${approval.operation}`,
    `by ${approval.principal}`,
    `workflow ${approval.workflow}`,
    `approvers ${approval.approverGroup}`,
    `expires ${approval.expiresAt}`,
  ].join('  ');
}

/** Everything an approver needs to decide, the exact call first among equals. */
function describeApproval(approval: ApprovalRecord): string[] {
  const call = approval.preview.call;
  const lines = [
    `Approval:   ${approval.id}`,
    `Status:     ${approval.status}`,
    `Requested:  ${approval.createdAt} by ${approval.principal} (request ${approval.requestId})`,
    `Workflow:   ${approval.workflow}`,
    `Operation:  ${approval.connector}/${approval.operation}`,
    `Approvers:  members of "${approval.approverGroup}" (not the requester)`,
    `Held by:    ${approval.reasons.join(', ') || '(no policy id)'}`,
    `Expires:    ${approval.expiresAt}`,
  ];
  if (approval.decidedBy) {
    lines.push(
      `Decided:    ${approval.status === 'rejected' ? 'rejected' : 'approved'} by ${approval.decidedBy} at ${approval.decidedAt}: "${approval.decisionReason ?? ''}"`,
    );
  }
  if (approval.executedAt) lines.push(`Executed:   ${approval.executedAt}`);
  if (approval.documents && approval.documents.length > 0) {
    lines.push(
      '',
      `${DOCUMENTS_HEADING}: documents ${readsScope(approval)} (sha256 as the audit trail holds it):`,
      ...approval.documents.map(
        (d) => `  ${d.id} (${d.connector}/${d.operation}, ${d.readAt}) sha256 ${d.sha256}`,
      ),
    );
  }
  if (approval.documentsNotShown) lines.push(`  ${notShownLine(approval, approval.documentsNotShown)}`);
  if (approval.documentsUnavailable)
    lines.push('', `${DOCUMENTS_HEADING}: ${documentsUnavailableLine(approval)}`);
  lines.push(
    '',
    'The exact call that will run:',
    `  Method:   ${call.method}`,
    ...(call.url ? [`  URL:      ${call.url}`] : []),
    ...(call.path !== undefined ? [`  Path:     ${call.path}`] : []),
    ...(call.body !== undefined
      ? [
          '  Body:',
          ...JSON.stringify(call.body, null, 2)
            .split('\n')
            .map((line) => `    ${line}`),
        ]
      : []),
    `  sha256:   ${approval.preview.sha256} (of the canonical JSON of this call)`,
  );
  return lines;
}
