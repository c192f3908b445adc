/**
 * The database port in AWS: Aurora PostgreSQL through the RDS Data API, as the read-only database
 * user whose secret the connector is bound to. Each query runs in its own transaction, made read-only
 * with a statement timeout before the query, and always rolled back.
 */
import type { Field, RDSDataClient, SqlParameter } from '@aws-sdk/client-rds-data';
import type {
  AwsScope,
  DeclaresIamPermissions,
  IamActions,
  IamPermission,
} from '../../adapters/aws/iam-permissions';
import { permissionsOf } from '../../adapters/aws/iam-permissions';
import { type ClientSource, clientOf, onDemand } from '../../adapters/aws/on-demand';
import type { ParameterValue } from '../operation-parameters';
import { withRowLimit } from './database-query';
import { databaseError, type QueryRows, type ReadOnlyQuery, type SqlDatabase } from './sql-database';

type SqlDatabaseMethod = 'query';

/**
 * The IAM actions `query` sends: the Data API's transaction calls on the cluster, and the read of
 * the read-only user's secret that the Data API makes with the caller's permissions.
 */
/** The RDS Data API client package, loaded on a database's first query (lambdas/adapters/aws/on-demand.ts). */
export const loadRdsDataSdk = onDemand(() => import('@aws-sdk/client-rds-data'));

export const RDS_DATA_DATABASE_ACTIONS = {
  query: [
    'rds-data:BeginTransaction',
    'rds-data:ExecuteStatement',
    'rds-data:RollbackTransaction',
    'secretsmanager:GetSecretValue',
  ],
} as const satisfies IamActions<SqlDatabaseMethod>;

export interface RdsDataDatabaseProps {
  /** Created once per function and injected (tests pass a mocked client), or on the first query. */
  readonly client: ClientSource<RDSDataClient>;
  readonly clusterArn: string;
  /** The read-only database user's secret. */
  readonly secretArn: string;
  readonly database: string;
}

function sqlParameter(name: string, value: ParameterValue | null): SqlParameter {
  if (value === null) return { name, value: { isNull: true } };
  if (typeof value === 'boolean') return { name, value: { booleanValue: value } };
  if (typeof value === 'number') {
    return { name, value: Number.isInteger(value) ? { longValue: value } : { doubleValue: value } };
  }
  return { name, value: { stringValue: value } };
}

function fieldValue(field: Field): unknown {
  if (field.isNull) return null;
  if (field.stringValue !== undefined) return field.stringValue;
  if (field.longValue !== undefined) return field.longValue;
  if (field.doubleValue !== undefined) return field.doubleValue;
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.blobValue !== undefined) return Buffer.from(field.blobValue).toString('base64');
  if (field.arrayValue !== undefined) return JSON.stringify(field.arrayValue);
  return null;
}

/** The SQLSTATE in a Data API error message ("ERROR: ... SQLState: 25006"), when there is one. */
function sqlStateOf(error: unknown): string | undefined {
  const message = (error as { message?: unknown } | undefined)?.message;
  if (typeof message !== 'string') return undefined;
  return /SQLState:\s*([0-9A-Z]{5})/i.exec(message)?.[1];
}

export class RdsDataDatabase implements SqlDatabase, DeclaresIamPermissions<SqlDatabaseMethod> {
  constructor(private readonly props: RdsDataDatabaseProps) {}

  iamPermissions(methods: readonly SqlDatabaseMethod[], _scope: AwsScope): IamPermission[] {
    return permissionsOf('RdsDataDatabase', RDS_DATA_DATABASE_ACTIONS, methods, (action) => [
      { resource: action.startsWith('secretsmanager:') ? this.props.secretArn : this.props.clusterArn },
    ]);
  }

  async query(query: ReadOnlyQuery): Promise<QueryRows> {
    const { clusterArn, secretArn, database } = this.props;
    const target = { resourceArn: clusterArn, secretArn, database };
    const [{ BeginTransactionCommand, ExecuteStatementCommand, RollbackTransactionCommand }, client] =
      await Promise.all([loadRdsDataSdk(), clientOf(this.props.client)]).catch(() => {
        throw databaseError(query.label, undefined);
      });
    let transactionId: string | undefined;
    try {
      transactionId = (await client.send(new BeginTransactionCommand(target))).transactionId;
      if (!transactionId) throw new Error('BeginTransaction returned no transaction id');
      await client.send(
        new ExecuteStatementCommand({ ...target, transactionId, sql: 'SET TRANSACTION READ ONLY' }),
      );
      await client.send(
        new ExecuteStatementCommand({
          ...target,
          transactionId,
          sql: `SET LOCAL statement_timeout = ${Math.trunc(query.statementTimeoutMs)}`,
        }),
      );
      const answer = await client.send(
        new ExecuteStatementCommand({
          ...target,
          transactionId,
          sql: withRowLimit(query.sql, query.maxRows + 1),
          parameters: Object.entries(query.parameters).map(([name, value]) => sqlParameter(name, value)),
          includeResultMetadata: true,
        }),
      );
      const columns = (answer.columnMetadata ?? []).map((c) => c.label ?? c.name ?? '');
      const rows = (answer.records ?? []).map((record) =>
        Object.fromEntries(columns.map((column, i) => [column, fieldValue(record[i] ?? { isNull: true })])),
      );
      return { columns, rows: rows.slice(0, query.maxRows), truncated: rows.length > query.maxRows };
    } catch (error) {
      throw databaseError(query.label, sqlStateOf(error));
    } finally {
      if (transactionId) {
        // Nothing to keep: the transaction only read. A failed rollback ends with the transaction's timeout.
        await client
          .send(new RollbackTransactionCommand({ resourceArn: clusterArn, secretArn, transactionId }))
          .catch(() => undefined);
      }
    }
  }
}
