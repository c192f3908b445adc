/**
 * What a principal read recently: the documents each read returned, by name and sha256, so an approver
 * sees what the agent had read when it asked for a write. Hashes and names only, never the data (the same
 * facts as the audit records' `docHashes`).
 *
 * The reads are kept per principal in fixed windows as long as the longest token lifetime of any workflow,
 * not per access token: an agent that read with one token and asked with a fresh one (a refresh, a second
 * session, another workflow) must not show the approver an empty list. A held write lists the window it
 * falls in and the one before, so every read of every token still valid then is on the list.
 *
 * AWS: one item of the approvals table per principal and window, keyed `run#<list id>` (DynamoDB, dynalite
 * locally), kept until no held write can list it.
 */
import type { RunDocument } from './approval-desk';

/** A window's list keeps its first this many documents; an approver is shown at most these. */
export const MAX_RUN_DOCUMENTS = 50;

/** What a list holds: its first documents, and how many more were read that the list does not hold. */
export interface RunReads {
  readonly documents: RunDocument[];
  /**
   * Documents read after the list was full: an approver is told they exist, so an agent that pads its
   * run with cheap reads cannot hide the one it read next.
   */
  readonly notShown: number;
}

export interface RunReadLog {
  /** Adds what one read returned to a list (beyond {@link MAX_RUN_DOCUMENTS}, only counted). */
  append(listId: string, documents: readonly RunDocument[], keepUntil: Date): Promise<void>;
  /** What a list holds, in the order it was read. */
  list(listId: string): Promise<RunReads>;
}

/** The windows a principal's reads are kept in. */
export interface ReadWindows {
  /** The list this read goes to. */
  readonly current: string;
  /** The list of the window before, which a held write lists too. */
  readonly previous: string;
  /** When the previous window began: the list holds every read since. */
  readonly since: Date;
  /** When no held write can list the current window any more. */
  readonly keepUntil: Date;
}

/**
 * The read windows of `principal` at `now`, `windowMinutes` long (the longest `maxTokenLifetimeMinutes`
 * of the config). A token lives at most one window, so the current and previous windows together hold
 * every read of every token that is still valid.
 */
export function readWindows(principal: string, windowMinutes: number, now: Date): ReadWindows {
  const windowMs = windowMinutes * 60_000;
  const index = Math.floor(now.getTime() / windowMs);
  const id = (i: number) => `principal#${principal}#${windowMinutes}m#${i}`;
  return {
    current: id(index),
    previous: id(index - 1),
    since: new Date((index - 1) * windowMs),
    // Listed as `current` until the window ends and as `previous` for one window more.
    keepUntil: new Date((index + 2) * windowMs + 60_000),
  };
}

/** Two lists as one, earlier first: the first {@link MAX_RUN_DOCUMENTS} shown, every other one counted. */
export function joinReads(earlier: RunReads, later: RunReads): RunReads {
  const all = [...earlier.documents, ...later.documents];
  return {
    documents: all.slice(0, MAX_RUN_DOCUMENTS),
    notShown: earlier.notShown + later.notShown + Math.max(0, all.length - MAX_RUN_DOCUMENTS),
  };
}
