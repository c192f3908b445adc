/**
 * The config of a `database` connector: named, parameterised, read-only queries written by the
 * operator. The agent picks a query and gives its parameters; it never sends SQL.
 */
import * as z from 'zod';
import { connectorBase, operationBase, operationNameSchema } from '../../../lib/config/operation-schema';
import { checkQueryText, placeholdersOf } from './database-query';

const classificationSchema = operationBase.classification;

export const databaseOperationSchema = z.strictObject({
  ...operationBase,
  /** Read only: an agent is never given SQL write privileges (the seed's rule for databases). */
  access: z.literal('read', {
    error: 'expected "read": a database operation only reads (an agent never gets SQL write privileges)',
  }),
  action: z.enum(['List', 'Read'], { error: 'expected List or Read: a database operation only reads' }),
  /**
   * One SELECT (or WITH ... SELECT) statement; parameters are `:name` placeholders bound by the
   * database, never spliced into the text.
   */
  sql: z.string().min(1).max(10_000),
  /**
   * The classification of every column the query returns. A column classified above what the caller
   * is cleared for is withheld; a column the query returns that is not listed fails the call.
   */
  columns: z
    .record(z.string().regex(/^[a-z_][a-z0-9_]*$/, 'expected a lower-case column name'), classificationSchema)
    .refine((columns) => Object.keys(columns).length > 0, 'expected at least one column'),
  /** Most rows this operation returns. @default - the connector's maxRows */
  maxRows: z.number().int().positive().max(1000).optional(),
});

export const databaseConnectorSchema = z.strictObject({
  kind: z.literal('database'),
  ...connectorBase,
  /** In AWS: Aurora PostgreSQL through the RDS Data API, as a read-only database user. */
  aws: z.strictObject({
    clusterArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:cluster:[a-z][a-z0-9-]{0,62}$/,
        'expected an Aurora cluster ARN such as arn:aws:rds:eu-west-1:111111111111:cluster:ledger-replica',
      ),
    /** The Secrets Manager secret of a database user that may only read (GRANT SELECT). */
    secretArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/,
        'expected the full ARN of a Secrets Manager secret (ending in its 6-character suffix)',
      ),
    database: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'expected a database name'),
  }),
  /** In the local pilot: an embedded PostgreSQL (PGlite) seeded from a SQL file under AIRLOCK_HOME. */
  local: z.strictObject({
    seedFile: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.sql$/,
        'expected a file name ending in .sql, such as ledger.sql',
      ),
  }),
  /** Most rows one call returns; more are cut off and the result says `truncated: true`. */
  maxRows: z.number().int().positive().max(1000).default(100),
  /** How long one query may run before it is cancelled. */
  statementTimeoutMs: z.number().int().min(100).max(30_000).default(5_000),
  operations: z.record(operationNameSchema, databaseOperationSchema),
});

export type DatabaseConnectorConfig = z.infer<typeof databaseConnectorSchema>;
export type DatabaseOperationConfig = z.infer<typeof databaseOperationSchema>;

/** Checks each query's text and that its placeholders and declared parameters match. */
export function checkDatabaseConfig(
  config: DatabaseConnectorConfig,
  report: (path: readonly (string | number)[], message: string) => void,
): void {
  for (const [name, op] of Object.entries(config.operations)) {
    const problem = checkQueryText(op.sql);
    if (problem) {
      report(['operations', name, 'sql'], problem);
      continue;
    }
    const placeholders = new Set(placeholdersOf(op.sql));
    for (const placeholder of placeholders) {
      if (!(placeholder in op.parameters)) {
        report(['operations', name, 'sql'], `placeholder :${placeholder} is not a declared parameter`);
      }
    }
    for (const parameter of Object.keys(op.parameters)) {
      if (!placeholders.has(parameter)) {
        report(['operations', name, 'parameters', parameter], `the query does not use :${parameter}`);
      }
    }
  }
}
