/**
 * Key schemas of Airlock's DynamoDB tables, defined once: the CDK constructs create the tables from
 * them, the DynamoDB adapters read and write by them, and the local pilot creates the same tables in
 * dynalite.
 */

export const AUDIT_TABLE = {
  /** S: one chain per writer (a Lambda execution environment, a CLI run). */
  partitionKey: 'chainId',
  /** N: 1, 2, 3, ... appended with attribute_not_exists. */
  sortKey: 'seq',
} as const;

export const APPROVALS_TABLE = {
  /** S: the approval id. */
  partitionKey: 'id',
  /** Pending (and other) approvals by status, oldest first. */
  statusIndex: { name: 'byStatus', partitionKey: 'status', sortKey: 'createdAt' },
  /** N, epoch seconds. */
  ttlAttribute: 'ttl',
} as const;

export const REVOCATIONS_TABLE = {
  /** S: `jti#<jti>`, `principal#<name>` (or another kind of entry, `<kind>#<id>`). */
  partitionKey: 'pk',
  /** N, epoch seconds. */
  ttlAttribute: 'ttl',
} as const;

export const OAUTH_TABLE = {
  /** S: `<kind>#<id>` (client, authorization request, code, refresh-token family, ...). */
  partitionKey: 'pk',
  /** N, epoch seconds. */
  ttlAttribute: 'ttl',
} as const;

export const COUNTERS_TABLE = {
  /** S: `<kind>#<scope...>#<YYYY-MM-DD>`, e.g. `spend#expense-summary#2026-11-02`. */
  partitionKey: 'pk',
  /** N: the counter's value, changed only by atomic ADD. */
  valueAttribute: 'n',
  /** N, epoch seconds. */
  ttlAttribute: 'ttl',
} as const;
