/**
 * Reads the local pilot's `<home>/metrics.log`: the same CloudWatch EMF lines the connector function
 * prints in Lambda, one per line. A line that is not a well-formed Airlock EMF record is skipped and
 * counted, never guessed at: the report says how many it left out.
 */
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { CLI_ENV } from '../../../lib/contracts/environment';
import { METRICS_NAMESPACE, USAGE_METRIC_NAMES, type UsageMetricName } from '../../../lib/contracts/metrics';
import {
  type CostSource,
  type CostSourceResult,
  dailyTotalsOf,
  type MetricRecord,
  type ReportRange,
} from '../../core/cost-report';
import { DependencyError } from '../../core/errors';

const KNOWN_METRICS: ReadonlySet<string> = new Set(USAGE_METRIC_NAMES);
const WORKFLOW_DIMENSIONS = 'workflow';
/**
 * The names the config schema allows: the sink only writes those, so anything else did not come
 * from Airlock (and would otherwise reach a terminal, a spreadsheet or an HTML page).
 */
const DIMENSION_PATTERNS: Readonly<Record<string, RegExp>> = {
  workflow: /^[a-z][a-z0-9-]{0,62}$/,
  connector: /^[a-z][a-z0-9-]{0,62}$/,
  operation: /^[a-zA-Z][a-zA-Z0-9]{0,62}$/,
};
const OPERATION_DIMENSIONS = 'workflow,connector,operation';

/**
 * The outcome of parsing one line: its records (one per dimension set), a line of another
 * namespace (ignored), or malformed.
 */
export type MetricsLogLine =
  | { readonly kind: 'records'; readonly records: readonly MetricRecord[] }
  | { readonly kind: 'other' }
  | { readonly kind: 'malformed'; readonly reason: string };

/**
 * Parses one EMF line. Only Airlock lines under the dimension sets the sink writes are read: `workflow`,
 * `workflow, connector, operation`, or both in one line (the sink's format since it writes one line per
 * usage point; older logs hold one line per set). The line yields one record per set, as CloudWatch
 * files its values once under each set; lines of other namespaces are `other`.
 */
export function parseMetricsLogLine(line: string): MetricsLogLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { kind: 'malformed', reason: 'not JSON' };
  }
  if (!isObject(parsed) || !isObject(parsed._aws)) return { kind: 'malformed', reason: 'no _aws metadata' };
  const { Timestamp, CloudWatchMetrics } = parsed._aws;
  if (
    !Array.isArray(CloudWatchMetrics) ||
    CloudWatchMetrics.length !== 1 ||
    !isObject(CloudWatchMetrics[0])
  ) {
    return { kind: 'malformed', reason: 'expected one CloudWatchMetrics directive' };
  }
  const directive = CloudWatchMetrics[0];
  if (directive.Namespace !== METRICS_NAMESPACE) return { kind: 'other' };
  if (typeof Timestamp !== 'number' || !Number.isFinite(Timestamp)) {
    return { kind: 'malformed', reason: 'no numeric Timestamp' };
  }
  const dimensions = directive.Dimensions;
  if (!Array.isArray(dimensions) || dimensions.length === 0) {
    return { kind: 'malformed', reason: 'expected a list of dimension sets' };
  }
  const dimensionSets: string[] = [];
  for (const set of dimensions) {
    if (!Array.isArray(set) || !set.every((name) => typeof name === 'string')) {
      return { kind: 'malformed', reason: 'a dimension set is not a list of names' };
    }
    const dimensionSet = set.join(',');
    if (dimensionSet !== WORKFLOW_DIMENSIONS && dimensionSet !== OPERATION_DIMENSIONS) {
      return { kind: 'malformed', reason: `unexpected dimension set [${dimensionSet}]` };
    }
    // The sink never repeats a set; a repeated one would count the line's values twice.
    if (dimensionSets.includes(dimensionSet)) {
      return { kind: 'malformed', reason: `duplicate dimension set [${dimensionSet}]` };
    }
    dimensionSets.push(dimensionSet);
  }
  const names = dimensionSets.includes(OPERATION_DIMENSIONS)
    ? OPERATION_DIMENSIONS.split(',')
    : [WORKFLOW_DIMENSIONS];
  for (const name of names) {
    const value = parsed[name];
    if (typeof value !== 'string' || !DIMENSION_PATTERNS[name].test(value)) {
      return { kind: 'malformed', reason: `dimension ${name} is not a valid ${name} name` };
    }
  }
  if (!Array.isArray(directive.Metrics)) return { kind: 'malformed', reason: 'no Metrics list' };
  const values: Partial<Record<UsageMetricName, number>> = {};
  for (const metric of directive.Metrics) {
    const name = isObject(metric) ? metric.Name : undefined;
    if (typeof name !== 'string') return { kind: 'malformed', reason: 'a metric without a Name' };
    if (!KNOWN_METRICS.has(name)) continue;
    const value = parsed[name];
    // A negative or non-finite cost cannot be summed into a bill; leave the line out.
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      return { kind: 'malformed', reason: `metric ${name} is not a number of 0 or more` };
    }
    values[name as UsageMetricName] = value;
  }
  const runId = parsed.runId;
  if (runId !== undefined && (typeof runId !== 'string' || runId.length === 0)) {
    return { kind: 'malformed', reason: 'runId is not a non-empty string' };
  }
  const timestamp = new Date(Timestamp);
  return {
    kind: 'records',
    records: dimensionSets.map(
      (dimensionSet): MetricRecord => ({
        timestamp,
        workflow: parsed.workflow as string,
        ...(dimensionSet === OPERATION_DIMENSIONS
          ? { connector: parsed.connector as string, operation: parsed.operation as string }
          : {}),
        ...(typeof runId === 'string' ? { runId } : {}),
        values: { ...values },
      }),
    ),
  };
}

/** {@link CostSource} over the local pilot's metrics log. */
export class MetricsLogCostSource implements CostSource {
  constructor(private readonly file: string) {}

  /** Reads the whole log (streamed, so a large log is fine). Throws {@link DependencyError} when it does not exist. */
  async dailyTotals(range: ReportRange): Promise<CostSourceResult> {
    try {
      await access(this.file);
    } catch (error) {
      throw new DependencyError(
        'metrics-log',
        `No metrics log at ${this.file}: start the local pilot (npm start) with this ${CLI_ENV.home} and make some calls first.`,
        { cause: error },
      );
    }
    const records: MetricRecord[] = [];
    let skippedRecords = 0;
    const lines = createInterface({ input: createReadStream(this.file, 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      const parsed = parseMetricsLogLine(line);
      if (parsed.kind === 'records') records.push(...parsed.records);
      else if (parsed.kind === 'malformed') skippedRecords += 1;
    }
    return { totals: dailyTotalsOf(records, range), skippedRecords };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
