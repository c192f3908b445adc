/**
 * The round trips doctor runs only when asked, because they change something:
 *
 * - approvals (`--approvals`): a write the policy holds is sent, an approver approves it over their
 *   own device certificate, the requester re-sends it once (the write then runs for real), and a
 *   second re-send must be refused (an approval is good for one call);
 * - kill switch (`--kill-switch`): the workflow's switch is engaged with `airlock kill-switch engage`,
 *   a credential for it must be refused within the cache time, the switch is released (always, even
 *   when a step failed), and a credential must be issued again. Tokens of that workflow issued before
 *   the engage stay revoked, as after any engage.
 */
import type { AirlockApiClient } from '../airlock-api-client';
import type { CliContext } from '../cli-context';
import { callApi, describeOutcome, errorCodeOf, noAnswer, type Outcome } from './api-session';
import { type CliRunner, runCommand } from './audit-check';
import { type DoctorCheck, failed, passed } from './doctor-check';

export const APPROVALS_CHECK = 'approvals-round-trip';
export const KILL_SWITCH_CHECK = 'kill-switch-round-trip';

/** The write to hold: `--approvals <connector/operation>` with `--approval-arguments <json>`. */
export interface ApprovalCall {
  readonly connector: string;
  readonly operation: string;
  readonly arguments: Readonly<Record<string, unknown>>;
}

/** The approver's API client for the approval's group, or the failed check saying whom to name. */
export type ApproverFor = (approverGroup: string) => Promise<AirlockApiClient | DoctorCheck>;

const REASON = 'airlock doctor: approval round trip';

export async function approvalsRoundTrip(
  requester: AirlockApiClient,
  approverFor: ApproverFor,
  workflow: string,
  call: ApprovalCall,
): Promise<DoctorCheck> {
  const path = `/v1/connectors/${call.connector}/${call.operation}`;
  const issued = await callApi(requester, 'POST', '/v1/credentials', {
    body: { workflow, scopes: [`${call.connector}:write`], durationMinutes: 5 },
  });
  const token = !noAnswer(issued) && issued.status === 201 ? issued.json?.accessToken : undefined;
  if (typeof token !== 'string') {
    return failed(
      APPROVALS_CHECK,
      `no credential with ${call.connector}:write: ${describeOutcome(issued)}`,
      `workflow ${workflow} must allow ${call.connector}/${call.operation} (workflows.${workflow}.connectors)`,
    );
  }
  const held = await callApi(requester, 'POST', path, { body: call.arguments, token });
  const approval =
    !noAnswer(held) && held.status === 202
      ? (held.json?.approval as { id?: unknown; approverGroup?: unknown } | undefined)
      : undefined;
  if (typeof approval?.id !== 'string' || typeof approval.approverGroup !== 'string') {
    const ran = !noAnswer(held) && held.status >= 200 && held.status < 300;
    return failed(
      APPROVALS_CHECK,
      ran
        ? `${call.connector}/${call.operation} ran without approval (${held.status}): the write was made`
        : `${call.connector}/${call.operation} was not held: ${describeOutcome(held)}`,
      ran
        ? 'give --approval-arguments above the workflow’s approval threshold (approvalAmountAbove), and check the policy that should hold it'
        : 'fix --approval-arguments (the operation’s parameters in the config) so the call is valid and above the approval threshold',
    );
  }
  const id = approval.id;
  const approver = await approverFor(approval.approverGroup);
  if (!('request' in approver)) return approver;
  try {
    const decided = await callApi(approver, 'POST', `/v1/approvals/${encodeURIComponent(id)}/decision`, {
      body: { decision: 'approve', reason: REASON },
    });
    if (noAnswer(decided) || decided.status !== 200) {
      return failed(
        APPROVALS_CHECK,
        `held as ${id}, but the approver could not approve it: ${describeOutcome(decided)}`,
        `the approver must be a member of "${approval.approverGroup}" other than the requester; ${id} stays pending until it expires (or reject it: npx airlock approvals reject ${id})`,
      );
    }
  } finally {
    approver.close();
  }
  const resent = await callApi(requester, 'POST', path, {
    body: call.arguments,
    token,
    headers: { 'Airlock-Approval': id },
  });
  if (noAnswer(resent) || resent.status !== 200) {
    return failed(
      APPROVALS_CHECK,
      `held as ${id} and approved, but the re-sent call failed: ${describeOutcome(resent)}`,
      'the connector function logs say why the approved call failed upstream',
    );
  }
  const replay = await callApi(requester, 'POST', path, {
    body: call.arguments,
    token,
    headers: { 'Airlock-Approval': id },
  });
  if (!noAnswer(replay) && replay.status >= 200 && replay.status < 300) {
    return failed(
      APPROVALS_CHECK,
      `approval ${id} was used twice (the second re-send answered ${replay.status}): the write ran twice`,
      'an approval must be consumed by the call it approved: this is a bug in the approvals store; engage the kill switch for writes and report it',
    );
  }
  return passed(
    APPROVALS_CHECK,
    `${call.connector}/${call.operation} held as ${id}, approved by a member of ${approval.approverGroup}, re-sent once (200), a second re-send refused (${describeOutcome(replay)})`,
  );
}

export interface KillSwitchRoundTrip {
  readonly api: AirlockApiClient;
  readonly workflow: string;
  readonly scopes: readonly string[];
  /** `--local`, or `--region <r>`: where `airlock kill-switch` acts. */
  readonly where: readonly string[];
  /** config killSwitch.cacheSeconds: how long the functions may still serve after a change. */
  readonly cacheSeconds: number;
  /** @default real time */
  readonly sleep?: (ms: number) => Promise<void>;
}

const POLL_MS = 500;
/** Beyond the cache time: a cold Lambda environment and clock differences. */
const GRACE_MS = 10_000;

export async function killSwitchRoundTrip(
  context: CliContext,
  runCli: CliRunner,
  trip: KillSwitchRoundTrip,
): Promise<DoctorCheck> {
  const sleep = trip.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadlineMs = trip.cacheSeconds * 1000 + GRACE_MS;
  const credential = () =>
    callApi(trip.api, 'POST', '/v1/credentials', {
      body: { workflow: trip.workflow, scopes: trip.scopes, durationMinutes: 5 },
    });
  /** Polls until `done` holds for an answer, or the deadline passes; returns the last answer and the time taken. */
  const until = async (
    done: (o: Outcome) => boolean,
  ): Promise<{ outcome: Outcome; ms: number; ok: boolean }> => {
    const started = Date.now();
    for (;;) {
      const outcome = await credential();
      const ms = Date.now() - started;
      if (done(outcome)) return { outcome, ms, ok: true };
      if (ms >= deadlineMs) return { outcome, ms, ok: false };
      await sleep(POLL_MS);
    }
  };
  const release =
    `npx airlock kill-switch release --workflow ${trip.workflow} ${trip.where.join(' ')}`.trim();

  const engaged = await runCommand(context, runCli, [
    'kill-switch',
    'engage',
    '--workflow',
    trip.workflow,
    '--reason',
    'airlock doctor: kill-switch round trip (released at once)',
    ...trip.where,
  ]);
  if (engaged.code !== 0) {
    return failed(
      KILL_SWITCH_CHECK,
      `kill-switch engage failed: ${engaged.stderr}`,
      'run doctor --kill-switch under the Airlock operator role (the OperatorRoleArn output)',
    );
  }
  let refused: { outcome: Outcome; ms: number; ok: boolean };
  try {
    refused = await until(
      (o) => !noAnswer(o) && o.status === 503 && errorCodeOf(o) === 'kill_switch_engaged',
    );
  } finally {
    const released = await runCommand(context, runCli, [
      'kill-switch',
      'release',
      '--workflow',
      trip.workflow,
      '--reason',
      'airlock doctor: kill-switch round trip done',
      ...trip.where,
    ]);
    if (released.code !== 0) {
      // biome-ignore lint/correctness/noUnsafeFinally: a switch left engaged is the one outcome the operator must hear about first
      return failed(
        KILL_SWITCH_CHECK,
        `the ${trip.workflow} kill switch is still ENGAGED: kill-switch release failed: ${released.stderr}`,
        `release it now: ${release}`,
      );
    }
  }
  if (!refused.ok) {
    return failed(
      KILL_SWITCH_CHECK,
      `engaged the ${trip.workflow} switch, but credentials were still answered ${describeOutcome(refused.outcome)} after ${Math.round(refused.ms / 1000)} s (released again)`,
      'the functions must read the kill-switch parameters (KillSwitch.bindReader) and refuse within killSwitch.cacheSeconds; check the broker logs',
    );
  }
  const reopened = await until((o) => !noAnswer(o) && o.status === 201);
  if (!reopened.ok) {
    return failed(
      KILL_SWITCH_CHECK,
      `released the ${trip.workflow} switch, but credentials are still refused after ${Math.round(reopened.ms / 1000)} s: ${describeOutcome(reopened.outcome)}`,
      `check npx airlock kill-switch status ${trip.where.join(' ')}; release the global switch too if it is engaged`,
    );
  }
  return passed(
    KILL_SWITCH_CHECK,
    `engaged for ${trip.workflow}: credentials refused (503 kill_switch_engaged) after ${(refused.ms / 1000).toFixed(1)} s; released: issued again after ${(reopened.ms / 1000).toFixed(1)} s`,
  );
}
