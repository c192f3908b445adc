/**
 * What a run read: the documents each read of one access token (one agent run, the cost metric's run
 * id) returned, by name and sha256, so an approver sees what the agent had read when it asked for a
 * write. Hashes and names only, never the data (the same facts as the audit records' `docHashes`).
 *
 * AWS: items of the approvals table keyed `run#<token id>` (DynamoDB, dynalite locally), kept until the
 * token and any approval it asked for have expired.
 */
import type { RunDocument } from './approval-desk';

/** A run's list keeps its first this many documents; an approver is shown at most these. */
export const MAX_RUN_DOCUMENTS = 50;

/** What a run read: its first documents, and how many more it read that the list does not hold. */
export interface RunReads {
  readonly documents: RunDocument[];
  /**
   * Documents read after the list was full: an approver is told they exist, so an agent that pads its
   * run with cheap reads cannot hide the one it read next.
   */
  readonly notShown: number;
}

export interface RunReadLog {
  /** Adds what one read returned to the run's list (beyond {@link MAX_RUN_DOCUMENTS}, only counted). */
  append(runId: string, documents: readonly RunDocument[], keepUntil: Date): Promise<void>;
  /** What the run read, in the order it read it. */
  list(runId: string): Promise<RunReads>;
}
