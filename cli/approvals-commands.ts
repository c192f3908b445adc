/**
 * `airlock approvals list|show|approve|reject`: the approver's side of human-in-the-loop approvals.
 *
 * Approvers act through the approvals API over mutual TLS with their own device certificate, never
 * with operator credentials: the API takes the approver's identity from that certificate, and that is
 * what makes separation of duties hold (nobody approves their own request, only the approver group
 * decides). `--local` talks to the local pilot as `--as <principal>`; `--server` to a deployment.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { ApprovalRecord, ApprovalStatus } from '../lambdas/core/approval-desk';
import { canonicalJson } from '../lambdas/core/canonical-json';
import { readPilotState } from '../local/local-state';
import { createMtlsFetch, type MtlsFetch } from '../local/mtls-fetch';
import { type CliContext, CliError, EXIT } from './cli-context';

const STATUSES: readonly ApprovalStatus[] = ['pending', 'approved', 'rejected', 'executed'];

/** The approvals API refuses longer reasons; checked here so the approver hears it before anything is sent. */
const MAX_REASON_LENGTH = 1000;

/** Device certificate names the local CA issues (lower-case letters, digits, hyphens). */
const PRINCIPAL_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** A request without a response in this time fails with a sentence, instead of hanging the terminal. */
const REQUEST_TIMEOUT_MS = 15_000;

/** Node error codes that mean "no server answered there". */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
]);

interface TargetOptions {
  readonly local?: boolean;
  readonly as?: string;
  readonly server?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
}

interface DecisionOptions extends TargetOptions {
  readonly reason: string;
  readonly yes?: boolean;
}

/** The approvals API as one approver reaches it. */
interface ApprovalsTarget {
  /** Base URL, e.g. `https://127.0.0.1:8443`. */
  readonly url: string;
  /** Who the certificate says the approver is (known for `--local` only). */
  readonly principal?: string;
  readonly fetch: MtlsFetch;
}

/** Registers `airlock approvals list|show|approve|reject`. */
export function registerApprovalsCommands(program: Command, context: CliContext): void {
  const approvals = program
    .command('approvals')
    .description(
      'Decide calls held for a human, as yourself: over mutual TLS with your own device certificate ' +
        '(--local --as <principal>, or --server URL --cert FILE --key FILE).',
    );

  withTarget(
    approvals
      .command('list')
      .description('List the approvals you may decide (and your own requests).')
      .option('--status <status>', `one of ${STATUSES.join(', ')}`, 'pending'),
  ).action(async (options: TargetOptions & { status: string }) => {
    const status = parseStatus(options.status);
    await withApi(context, options, async (target) => {
      const { approvals: list } = await callApi<{ approvals: ApprovalRecord[] }>(
        target,
        'GET',
        `/v1/approvals?status=${encodeURIComponent(status)}`,
      );
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
  return command
    .option('--local', 'the local pilot in AIRLOCK_HOME (its URL from pilot.json)')
    .option(
      '--as <principal>',
      'with --local: act as this principal, with its certificate under AIRLOCK_HOME/certs',
    )
    .option(
      '--server <url>',
      'the Airlock API of a deployment, e.g. https://airlock.example.com (or $AIRLOCK_SERVER)',
    )
    .option('--cert <file>', 'with --server: your device certificate, PEM (or $AIRLOCK_CERT)')
    .option('--key <file>', "with --server: your device certificate's private key, PEM (or $AIRLOCK_KEY)")
    .option(
      '--ca <file>',
      "with --server: the CA of the server's certificate, PEM (default: the system's; or $AIRLOCK_CA)",
    );
}

/** Resolves where to go and with which certificate, runs `work`, and always closes the connections. */
async function withApi(
  context: CliContext,
  options: TargetOptions,
  work: (target: ApprovalsTarget) => Promise<void>,
): Promise<void> {
  const target = options.local ? await localTarget(context, options) : await serverTarget(context, options);
  try {
    await work(target);
  } finally {
    target.fetch.close();
  }
}

async function localTarget(context: CliContext, options: TargetOptions): Promise<ApprovalsTarget> {
  if (options.server || options.cert || options.key || options.ca) {
    throw new CliError(
      '--local uses the local pilot and its certificates; drop --server/--cert/--key/--ca',
      EXIT.usage,
    );
  }
  const principal = options.as;
  if (!principal) {
    throw new CliError(
      '--local needs --as <principal>: approvers act with their own certificate (e.g. --as bob)',
      EXIT.usage,
    );
  }
  if (!PRINCIPAL_NAME.test(principal)) {
    throw new CliError(
      `--as: "${principal}" is not a principal name (lower-case letters, digits, hyphens)`,
      EXIT.usage,
    );
  }
  const home = context.home;
  const pilot = await readPilotState(home);
  if (!pilot) {
    throw new CliError(
      `the local pilot in ${home} is not running: start it with \`npm start\` (or set AIRLOCK_HOME to its folder)`,
      EXIT.failed,
    );
  }
  const certs = join(home, 'certs');
  const [cert, key, ca] = await Promise.all([
    readPem(join(certs, `${principal}.pem`), `--as ${principal}`, principal),
    readPem(join(certs, `${principal}.key.pem`), `--as ${principal}`, principal),
    readPem(join(certs, 'ca.pem'), 'the local CA'),
  ]);
  return {
    url: pilot.url,
    principal,
    fetch: createMtlsFetch({ cert, key, ca, timeoutMs: REQUEST_TIMEOUT_MS }),
  };
}

async function serverTarget(context: CliContext, options: TargetOptions): Promise<ApprovalsTarget> {
  if (options.as) {
    throw new CliError('--as is for --local; with --server your certificate says who you are', EXIT.usage);
  }
  const env = context.io.env;
  const server = options.server ?? env.AIRLOCK_SERVER;
  const certFile = options.cert ?? env.AIRLOCK_CERT;
  const keyFile = options.key ?? env.AIRLOCK_KEY;
  const caFile = options.ca ?? env.AIRLOCK_CA;
  if (!server) {
    throw new CliError(
      'say which Airlock to use: --local --as <principal> (the local pilot), or --server URL --cert FILE --key FILE',
      EXIT.usage,
    );
  }
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new CliError(
      `--server: "${server}" is not a URL (expected e.g. https://airlock.example.com)`,
      EXIT.usage,
    );
  }
  if (url.protocol !== 'https:') {
    throw new CliError(`--server: expected an https:// URL (mutual TLS), got "${server}"`, EXIT.usage);
  }
  if (!certFile || !keyFile) {
    throw new CliError(
      `--server needs your device certificate: --cert FILE and --key FILE (missing ${!certFile ? '--cert' : '--key'})`,
      EXIT.usage,
    );
  }
  const cwd = context.io.cwd;
  const [cert, key, ca] = await Promise.all([
    readPem(resolve(cwd, certFile), '--cert'),
    readPem(resolve(cwd, keyFile), '--key'),
    caFile ? readPem(resolve(cwd, caFile), '--ca') : Promise.resolve(undefined),
  ]);
  const base = url.origin + url.pathname.replace(/\/+$/, '');
  return { url: base, fetch: createMtlsFetch({ cert, key, ca, timeoutMs: REQUEST_TIMEOUT_MS }) };
}

async function readPem(file: string, what: string, principal?: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && principal) {
      throw new CliError(
        `${what}: no device certificate ${file}; issue one with \`airlock certs issue ${principal}\``,
        EXIT.usage,
      );
    }
    throw new CliError(`${what}: cannot read ${file} (${code ?? (error as Error).message})`, EXIT.usage);
  }
}

/** One request to the approvals API; an error answer or no answer becomes a one-line CliError. */
async function callApi<T>(
  target: ApprovalsTarget,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  let response: Response;
  try {
    response = await target.fetch(`${target.url}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw unreachable(target.url, error);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const contract = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    if (typeof contract?.message === 'string') {
      throw new CliError(
        `${contract.message} (${response.status} ${String(contract.code ?? '')})`.replace(' )', ')'),
      );
    }
    throw new CliError(
      `${target.url} answered ${response.status} without an Airlock error; is this an Airlock API?`,
    );
  }
  if (json === undefined) throw new CliError(`${target.url} answered ${response.status} without a JSON body`);
  return json as T;
}

function unreachable(url: string, error: unknown): CliError {
  const cause = (error as { cause?: NodeJS.ErrnoException }).cause ?? (error as NodeJS.ErrnoException);
  const code = cause?.code ?? '';
  if (UNREACHABLE.has(code)) {
    return new CliError(`cannot reach ${url} (${code}); is the Airlock API running there?`, EXIT.failed, {
      cause: error,
    });
  }
  // A TLS refusal (unknown CA, expired or revoked certificate) reads best in Node's own words.
  return new CliError(`cannot talk to ${url}: ${cause?.message ?? String(error)}`, EXIT.failed, {
    cause: error,
  });
}

async function fetchApproval(target: ApprovalsTarget, id: string): Promise<ApprovalRecord> {
  const { approval } = await callApi<{ approval: ApprovalRecord }>(
    target,
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
  const { approval } = await callApi<{ approval: ApprovalRecord }>(
    target,
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
