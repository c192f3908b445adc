/**
 * The database connector kind: each operation runs one query written in the config, with the
 * caller's validated parameters bound as values. Results are bounded (rows, time), every column is
 * classified, and a column classified above the caller's clearances is withheld before DLP scans the
 * rest.
 */
import { ConfigError } from '../../../lib/config/config-error';
import { UNCLEARED_CLASSIFICATIONS } from '../../../lib/contracts/classifications';
import { AirlockError } from '../../core/errors';
import type { Connector, ConnectorResult, InvokeOptions, UpstreamCall } from '../connector';
import {
  createOperationParameters,
  type OperationInputSchema,
  type OperationParameters,
  type ParameterValue,
  type ParameterValues,
} from '../operation-parameters';
import type { ConnectorPolicyContext } from '../policy-context';
import type { DatabaseConnectorConfig, DatabaseOperationConfig } from './database-config';
import { checkQueryText, placeholdersOf } from './database-query';
import type { SqlDatabase } from './sql-database';

/** What everyone may see without a clearance. */

interface PreparedQuery {
  readonly config: DatabaseOperationConfig;
  readonly parameters: OperationParameters;
  readonly maxRows: number;
}

/** A query's result as the agent receives it. */
export interface DatabaseQueryResult {
  readonly columns: readonly { readonly name: string; readonly classification: string }[];
  readonly rows: readonly Readonly<Record<string, unknown>>[];
  readonly rowCount: number;
  /** More rows matched than the operation returns; narrow the parameters. */
  readonly truncated: boolean;
}

/** The note that stands for a value the caller is not cleared for. */
export function withheldColumnValue(classification: string): string {
  return `[withheld: ${classification} column]`;
}

/** A value as JSON can carry it, so DLP scans text and the agent reads what the database held. */
function jsonScalar(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return JSON.stringify(value);
}

/** A configured database connector (see the config's `kind: database`). */
export class DatabaseConnector implements Connector {
  public readonly kind = 'database';
  public readonly operations: readonly string[];
  private readonly prepared: ReadonlyMap<string, PreparedQuery>;

  constructor(
    public readonly name: string,
    private readonly config: DatabaseConnectorConfig,
    private readonly database: SqlDatabase,
  ) {
    const prepared = new Map<string, PreparedQuery>();
    for (const [operation, op] of Object.entries(config.operations)) {
      const label = `${name}/${operation}`;
      // The schema's checkConfig reports these at load; a connector built another way refuses too.
      const problem = checkQueryText(op.sql);
      if (problem) throw new ConfigError(`The config of ${label}: sql: ${problem}.`);
      const unknown = placeholdersOf(op.sql).filter((p) => !(p in op.parameters));
      if (unknown.length > 0) {
        throw new ConfigError(
          `The config of ${label}: sql uses :${unknown[0]}, which is not a declared parameter.`,
        );
      }
      prepared.set(operation, {
        config: op,
        parameters: createOperationParameters(label, op.parameters),
        maxRows: op.maxRows ?? config.maxRows,
      });
    }
    this.prepared = prepared;
    this.operations = [...prepared.keys()];
  }

  inputSchema(operation: string): OperationInputSchema {
    return this.operation(operation).parameters.jsonSchema;
  }

  parseParameters(operation: string, params: unknown): ParameterValues {
    return this.operation(operation).parameters.parse(params);
  }

  /** The configured query and the values bound to it: what an approver would see. */
  describe(operation: string, params: unknown): UpstreamCall {
    const { config } = this.operation(operation);
    const values = this.parseParameters(operation, params);
    return {
      method: 'QUERY',
      path: `${this.name}/${operation}`,
      body: { sql: config.sql, parameters: values },
    };
  }

  /** A query acts on the operation: the database has no resources finer than its configured queries. */
  policyContext(operation: string): ConnectorPolicyContext {
    return { resourceId: operation };
  }

  resourceProblem(_operation: string, _params: ParameterValues, resource: string): string | undefined {
    return `Your token is narrowed to the resource ${JSON.stringify(resource)}, which names nothing in ${this.name} (a database connector has no resources finer than its queries). Request a token without "resource" for ${this.name}.`;
  }

  async invoke(operation: string, params: unknown, options: InvokeOptions): Promise<ConnectorResult> {
    const { config, maxRows } = this.operation(operation);
    const values = this.parseParameters(operation, params);
    const label = `Connector "${this.name}" operation "${operation}"`;
    if (options.signal?.aborted)
      throw new AirlockError('upstream_error', `${label}: the call was cancelled.`);
    const parameters: Record<string, ParameterValue | null> = {};
    for (const placeholder of placeholdersOf(config.sql))
      parameters[placeholder] = values[placeholder] ?? null;
    const answer = await this.database.query({
      sql: config.sql,
      parameters,
      maxRows,
      statementTimeoutMs: this.config.statementTimeoutMs,
      label,
    });
    const unclassified = answer.columns.filter((column) => !(column in config.columns));
    if (unclassified.length > 0) {
      // Fail closed: a column nobody classified could hold anything.
      throw new AirlockError(
        'upstream_error',
        `${label}: the query returned column(s) ${unclassified.map((c) => JSON.stringify(c)).join(', ')} that its config does not classify (operations.${operation}.columns).`,
      );
    }
    const cleared = new Set(options.clearedFor ?? UNCLEARED_CLASSIFICATIONS);
    let withheld = 0;
    const rows = answer.rows.map((row) => {
      const visible: Record<string, unknown> = {};
      for (const column of answer.columns) {
        const classification = config.columns[column]!;
        if (cleared.has(classification)) visible[column] = jsonScalar(row[column]);
        else {
          visible[column] = withheldColumnValue(classification);
          withheld += 1;
        }
      }
      return visible;
    });
    const result: DatabaseQueryResult = {
      columns: answer.columns.map((column) => ({ name: column, classification: config.columns[column]! })),
      rows,
      rowCount: rows.length,
      truncated: answer.truncated,
    };
    const raw = JSON.stringify(answer.rows, (_key, value) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
    return {
      result,
      // The audit record keeps the hash of what the database returned, before anything was withheld.
      documents: [{ id: `query:${this.name}/${operation}`, bytes: raw }],
      bytesOut: Buffer.byteLength(raw),
      withheld,
    };
  }

  close(): void {
    this.database.close?.();
  }

  private operation(operation: string): PreparedQuery {
    const prepared = this.prepared.get(operation);
    if (!prepared) {
      throw new AirlockError(
        'not_found',
        `Connector "${this.name}" has no operation "${operation}"; expected one of: ${this.operations.join(', ')}.`,
      );
    }
    return prepared;
  }
}
