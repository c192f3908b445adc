/**
 * The port of the `database` kind: runs one configured query, read-only, with a row limit and a
 * statement timeout. Adapters: the RDS Data API (AWS) and PGlite in a worker thread (local pilot).
 */
import { AirlockError } from '../../core/errors';
import type { ParameterValue } from '../operation-parameters';

/** One query as the connector hands it to an adapter. */
export interface ReadOnlyQuery {
  /** The configured SELECT with `:name` placeholders. */
  readonly sql: string;
  /** Every placeholder's value (`null` for an optional parameter not given). */
  readonly parameters: Readonly<Record<string, ParameterValue | null>>;
  /** Most rows wanted; the adapter fetches one more to tell whether there were more. */
  readonly maxRows: number;
  readonly statementTimeoutMs: number;
  /** Names the connector and operation in messages. */
  readonly label: string;
}

export interface QueryRows {
  /** Column names, in the query's order. */
  readonly columns: readonly string[];
  /** At most `maxRows` rows, each keyed by column name. */
  readonly rows: readonly Readonly<Record<string, unknown>>[];
  /** Whether the query had more rows than `maxRows`. */
  readonly truncated: boolean;
}

export interface SqlDatabase {
  /**
   * Runs the query in a read-only transaction, as a user that may only read, and rolls it back.
   * @throws AirlockError `forbidden` when the database refuses it as a write, `upstream_error` when it
   *   fails or times out
   */
  query(query: ReadOnlyQuery): Promise<QueryRows>;
  /** Stops what the adapter runs (the local worker). */
  close?(): void;
}

/** SQLSTATEs of a statement PostgreSQL refused because it would write or lacks the privilege. */
const WRITE_REFUSALS: Readonly<Record<string, string>> = {
  '25006': 'read-only transaction',
  '42501': 'read-only database user',
  '0A000': 'data-modifying statement in a read-only query',
};

/** SQLSTATE of a statement cancelled by `statement_timeout`. */
export const QUERY_CANCELED = '57014';

/** The contract's error for a database failure with SQLSTATE `code` (when the adapter has one). */
export function databaseError(label: string, code: string | undefined): AirlockError {
  const refusal = code === undefined ? undefined : WRITE_REFUSALS[code];
  if (refusal) {
    return new AirlockError(
      'forbidden',
      `${label}: the database refused the query (${refusal}); database operations only read, as a user that may only read.`,
      { reasons: ['database-read-only'] },
    );
  }
  if (code === QUERY_CANCELED) {
    return new AirlockError(
      'upstream_error',
      `${label}: the query ran past its statement timeout and was cancelled; narrow its parameters.`,
    );
  }
  // The database's own message can name tables and values: keep it out of the reply.
  return new AirlockError(
    'upstream_error',
    `${label}: the database could not run the query (${code ? `SQLSTATE ${code}` : 'it did not answer'}).`,
  );
}
