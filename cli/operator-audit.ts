/**
 * What the operator commands that change Airlock (`kill-switch`, `revoke`) share: who is acting, and
 * the audit record of what they did, written by the CLI on a chain of its own.
 */
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { AuditLedger, type AuditStore, newChainId } from '../lambdas/core/audit-ledger';
import type { AuditEvent, AuditRecord } from '../lambdas/core/audit-record';
import { systemClock } from '../lambdas/core/ports';
import { CLI_ENV } from '../lib/contracts/environment';
import { type CliContext, CliError, describeFailure, EXIT } from './cli-context';

/** Where the record of a change went: the local ledger (chain and seq), or who records it in AWS. */
export type AuditOutcome =
  | { readonly recorded: true; readonly chainId: string; readonly seq: number; readonly hash: string }
  | { readonly recordedBy: string };

/**
 * A ledger with a chain of its own for this CLI run (chains are per writer, so a CLI run never races a
 * function or the local pilot for a position).
 */
export function operatorLedger(store: AuditStore): AuditLedger {
  return new AuditLedger({ store, chainId: newChainId('cli', randomUUID()), clock: systemClock });
}

/**
 * Appends the record of a change that already happened.
 * @throws CliError (exit 1) saying the change is in effect but not recorded, when the append fails.
 */
export async function appendOrFail(
  ledger: AuditLedger,
  event: AuditEvent,
  whatHappened: string,
): Promise<AuditOutcome & { recorded: true }> {
  let record: AuditRecord;
  try {
    record = await ledger.append(event);
  } catch (error) {
    throw notRecorded(whatHappened, error);
  }
  return { recorded: true, chainId: record.chainId, seq: record.seq, hash: record.hash };
}

/** The error for a change that is in effect but has no audit record: exit 1, and what to do about it. */
export function notRecorded(whatHappened: string, error: unknown): CliError {
  return new CliError(
    `${whatHappened} But its audit record could not be written (${describeFailure(error)}): note the change in the incident ticket.`,
    EXIT.failed,
    { cause: error },
  );
}

/**
 * Who is acting, for the parameter value, the revocation item and the audit record:
 * `--changed-by`, else the operator variable ({@link CLI_ENV}), else the OS user name.
 * @throws CliError (usage) when none of them names anyone.
 */
export function operatorIdentity(context: CliContext, flag: string | undefined): string {
  const candidates = [flag, context.io.env[CLI_ENV.operator], osUserName()];
  const found = candidates.map((c) => c?.trim()).find((c) => c !== undefined && c !== '');
  if (found === undefined) {
    throw new CliError(
      `who is acting is unknown: pass --changed-by <who> or set ${CLI_ENV.operator}`,
      EXIT.usage,
    );
  }
  return found;
}

function osUserName(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry (some containers): the operator must say who they are.
    return undefined;
  }
}
