/**
 * Key schemas of Airlock's DynamoDB tables. The CDK constructs in lib/ declare the same names
 * (test/infra checks they agree); the local pilot creates these tables in dynalite.
 */
export const AUDIT_TABLE = {
  partitionKey: 'chainId', // S: one chain per writer (a Lambda execution environment, a CLI run)
  sortKey: 'seq', // N: 1, 2, 3, ... appended with attribute_not_exists
} as const;

export const APPROVALS_TABLE = {
  partitionKey: 'id', // S
  statusIndex: { name: 'byStatus', partitionKey: 'status', sortKey: 'createdAt' }, // S, S
  ttlAttribute: 'ttl', // N, epoch seconds
} as const;

export const REVOCATIONS_TABLE = {
  partitionKey: 'pk', // S: "jti#<jti>" or "principal#<name>"
  ttlAttribute: 'ttl', // N, epoch seconds
} as const;
