/**
 * The per-workflow cost report finance reads: what each workflow cost per UTC day, by component,
 * against the value of the manual work it replaced.
 *
 * Figures come from the usage metrics the broker and connector functions publish (see usage-meter.ts),
 * either as the EMF lines themselves (the local pilot's metrics.log) or as CloudWatch daily sums. Both
 * arrive here as {@link DailyMetricTotals}, one per day and dimension set, so the report is computed
 * the same way from either source.
 *
 * Definitions (the numbers a finance reader will ask about):
 * - run: one access token's work for a workflow (requests with the same token `jti`); see usage-meter.ts.
 *   The token request itself belongs to no run.
 * - calls: connector calls. Token requests and LLM usage reports are priced, but are not calls.
 * - denials: refused connector calls and refused token requests.
 * - LLM cost: self-reported. It is priced from what agents report (`POST /v1/usage`), which Airlock bounds
 *   but cannot check; every rendering labels it so.
 * - cost: the estimate from the config's price table, summed over every request, refused ones included
 *   (a refused request still costs an API Gateway request and a Lambda invocation). Token requests
 *   (with the KMS signature of each issued token), LLM usage reports and calls to operations that do
 *   not exist are in the workflow's cost but in no operation's.
 * - value: runs × `minutesSavedPerRun` / 60 × `prices.hourlyRateUsd`.
 * - ROI: (value − cost) / cost; undefined (null) when nothing was spent.
 */
import type { AirlockConfig } from '../../lib/config/schema';
import { USAGE_METRIC_NAMES, type UsageMetricName } from '../../lib/contracts/metrics';
import type { CostBreakdown } from './cost-estimate';
import { AirlockError } from './errors';
import { type UsagePoint, usageMetricValues } from './usage-meter';

/** Metric values by name. */
export type MetricValues = Record<UsageMetricName, number>;

/**
 * One published metric record: a request's values under one dimension set. An EMF line holds one
 * record per dimension set it names, so a connector call's line holds two.
 */
export interface MetricRecord {
  readonly timestamp: Date;
  readonly workflow: string;
  /** Set (with `operation`) on the `workflow, connector, operation` dimension set. */
  readonly connector?: string;
  readonly operation?: string;
  /** The run (token `jti`) the request belongs to, when known. */
  readonly runId?: string;
  readonly values: Partial<MetricValues>;
}

/** Sums of one UTC day under one dimension set: the workflow's (no connector) or an operation's. */
export interface DailyMetricTotals {
  /** UTC day, `YYYY-MM-DD`. */
  readonly day: string;
  readonly workflow: string;
  readonly connector?: string;
  readonly operation?: string;
  readonly values: MetricValues;
}

/** UTC days, both inclusive, as `YYYY-MM-DD`. */
export interface ReportRange {
  readonly from: string;
  readonly to: string;
}

/** What a cost source returns: the daily totals, and what it had to leave out. */
export interface CostSourceResult {
  readonly totals: readonly DailyMetricTotals[];
  /** Records that could not be read (e.g. malformed log lines); they are not in the totals. */
  readonly skippedRecords: number;
}

/** Where the metrics come from: the local metrics log, or CloudWatch. */
export interface CostSource {
  dailyTotals(range: ReportRange): Promise<CostSourceResult>;
}

/** One workflow on one UTC day (or, in {@link WorkflowCostSummary}, over the whole range). */
export interface WorkflowCostFigures {
  readonly workflow: string;
  readonly runs: number;
  /** Connector calls (token requests and LLM usage reports are not calls). */
  readonly invocations: number;
  /** Refused connector calls and refused token requests. */
  readonly denials: number;
  readonly approvalsRequested: number;
  readonly failures: number;
  readonly bytesOut: number;
  readonly llmInputTokens: number;
  readonly llmOutputTokens: number;
  readonly cost: CostBreakdown;
  /** Cost divided by runs; null when there was no run. */
  readonly costPerRunUsd: number | null;
  readonly minutesSaved: number;
  readonly valueUsd: number;
  /** (value − cost) / cost; null when nothing was spent. */
  readonly roi: number | null;
}

export interface WorkflowDayCost extends WorkflowCostFigures {
  readonly day: string;
}

export interface WorkflowCostSummary extends WorkflowCostFigures {
  /** False for a workflow found in the metrics but not in the config: its value is not counted. */
  readonly inConfig: boolean;
  readonly costCentre?: string;
  readonly monthlyBudgetUsd?: number;
}

export interface OperationCost {
  readonly workflow: string;
  readonly connector: string;
  readonly operation: string;
  readonly invocations: number;
  readonly denials: number;
  readonly bytesOut: number;
  readonly costUsd: number;
  /** Share of the workflow's cost over the range, 0..1 (0 when the workflow cost nothing). */
  readonly shareOfWorkflowCost: number;
}

export interface CostReport {
  readonly range: ReportRange;
  /** Rows with recorded usage, by day then workflow. */
  readonly days: readonly WorkflowDayCost[];
  /** Every workflow of the config, and any other found in the metrics, over the range. */
  readonly workflows: readonly WorkflowCostSummary[];
  /** Operations by cost over the range, most expensive first. */
  readonly topOperations: readonly OperationCost[];
  readonly totalCostUsd: number;
  readonly totalValueUsd: number;
  /** Things the reader should know (e.g. workflows missing from the config). */
  readonly notes: readonly string[];
}

/** The cost components in report order, with the metric each comes from. */
export const COST_COMPONENTS = [
  { key: 'lambda', metric: 'CostLambdaUsd', label: 'Lambda' },
  { key: 'apiGateway', metric: 'CostApiGatewayUsd', label: 'API Gateway' },
  { key: 'kms', metric: 'CostKmsUsd', label: 'KMS' },
  { key: 'secretsManager', metric: 'CostSecretsManagerUsd', label: 'Secrets Manager' },
  { key: 'dynamodb', metric: 'CostDynamoDbUsd', label: 'DynamoDB' },
  // The agents' own reports (POST /v1/usage): the only figure here Airlock did not measure itself.
  { key: 'llm', metric: 'CostLlmUsd', label: 'LLM (self-reported)' },
] as const satisfies readonly {
  key: Exclude<keyof CostBreakdown, 'total'>;
  metric: UsageMetricName;
  label: string;
}[];

/**
 * What the counts cover, and why the operations' costs add up to less than their workflow's: the
 * sentence every rendering of the report prints under its tables.
 */
export const COST_DEFINITIONS =
  'Calls are connector calls; Denied counts refused calls and refused token requests. A workflow’s cost also covers its token requests (KMS signing) and LLM usage reports, which no operation is charged for. LLM cost is self-reported: it is what the agents reported (bounded per report and per principal), not what Airlock measured.';

const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
const MS_PER_DAY = 86_400_000;
/** Longest range a report covers: CloudWatch keeps hourly (and so daily) data for 455 days. */
export const MAX_REPORT_DAYS = 366;
/** Days a report covers when `from` is not given. */
export const DEFAULT_REPORT_DAYS = 30;

/** The UTC day of an instant, `YYYY-MM-DD`. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** The instant a UTC day starts. */
export function startOfUtcDay(day: string): Date {
  return new Date(`${day}T00:00:00.000Z`);
}

/** Every UTC day of a range, in order. */
export function daysOf(range: ReportRange): string[] {
  const days: string[] = [];
  for (let t = startOfUtcDay(range.from).getTime(); t <= startOfUtcDay(range.to).getTime(); t += MS_PER_DAY) {
    days.push(utcDay(new Date(t)));
  }
  return days;
}

/**
 * Validates the report range a person typed. Defaults: `to` = today (UTC), `from` = 29 days before
 * `to` (30 days). Throws `invalid_request` naming the option to fix.
 */
export function reportRange(input: { from?: string; to?: string }, now: Date): ReportRange {
  const to = input.to === undefined ? utcDay(now) : parseDay('--to', input.to);
  const from =
    input.from === undefined
      ? utcDay(new Date(startOfUtcDay(to).getTime() - (DEFAULT_REPORT_DAYS - 1) * MS_PER_DAY))
      : parseDay('--from', input.from);
  if (from > to) {
    throw new AirlockError('invalid_request', `--from ${from} is after --to ${to}; swap them.`);
  }
  const span = (startOfUtcDay(to).getTime() - startOfUtcDay(from).getTime()) / MS_PER_DAY + 1;
  if (span > MAX_REPORT_DAYS) {
    throw new AirlockError(
      'invalid_request',
      `The range ${from}..${to} covers ${span} days; a report covers at most ${MAX_REPORT_DAYS}. Narrow --from/--to.`,
    );
  }
  return { from, to };
}

function parseDay(option: string, value: string): string {
  const match = DAY_PATTERN.exec(value);
  // A calendar day round-trips through Date unchanged; 2026-02-30 does not.
  if (!match || Number.isNaN(Date.parse(`${value}T00:00:00Z`)) || utcDay(startOfUtcDay(value)) !== value) {
    throw new AirlockError('invalid_request', `${option}: expected a UTC day as YYYY-MM-DD, got "${value}".`);
  }
  return value;
}

function emptyValues(): MetricValues {
  return Object.fromEntries(USAGE_METRIC_NAMES.map((name) => [name, 0])) as MetricValues;
}

/**
 * The metric records one usage point is published as: its workflow's, and its operation's when it
 * has one (the same two dimension sets as the EMF sink).
 */
export function metricRecordsOf(point: UsagePoint): MetricRecord[] {
  const base = {
    timestamp: point.timestamp,
    workflow: point.workflow,
    values: usageMetricValues(point),
    ...(point.runId !== undefined ? { runId: point.runId } : {}),
  };
  return point.connector && point.operation
    ? [base, { ...base, connector: point.connector, operation: point.operation }]
    : [base];
}

/**
 * Sums metric records per UTC day and dimension set, keeping the days of `range`. Runs of a
 * workflow's day are its distinct run ids when the records carry them (exact), else the sum of
 * the `Runs` metric (what CloudWatch can give).
 */
export function dailyTotalsOf(records: Iterable<MetricRecord>, range: ReportRange): DailyMetricTotals[] {
  const groups = new Map<string, { totals: DailyMetricTotals; runIds: Set<string> }>();
  for (const record of records) {
    const day = utcDay(record.timestamp);
    if (day < range.from || day > range.to) continue;
    const operationLevel = record.connector !== undefined && record.operation !== undefined;
    const key = JSON.stringify([day, record.workflow, record.connector ?? null, record.operation ?? null]);
    let group = groups.get(key);
    if (!group) {
      group = {
        totals: {
          day,
          workflow: record.workflow,
          ...(operationLevel ? { connector: record.connector, operation: record.operation } : {}),
          values: emptyValues(),
        },
        runIds: new Set(),
      };
      groups.set(key, group);
    }
    const values = group.totals.values;
    for (const name of USAGE_METRIC_NAMES) values[name] += record.values[name] ?? 0;
    if (record.runId !== undefined) group.runIds.add(record.runId);
  }
  return [...groups.values()].map(({ totals, runIds }) =>
    runIds.size > 0 && totals.connector === undefined
      ? { ...totals, values: { ...totals.values, Runs: runIds.size } }
      : totals,
  );
}

/**
 * Builds the report from daily totals: per workflow per day, per workflow over the range, and the
 * operations that cost most. Workflow figures come from the workflow dimension set only, so a
 * request is never counted twice.
 */
export function buildCostReport(
  config: Pick<AirlockConfig, 'workflows' | 'prices'>,
  totals: readonly DailyMetricTotals[],
  range: ReportRange,
  options: { topOperations?: number } = {},
): CostReport {
  const inRange = totals.filter((t) => t.day >= range.from && t.day <= range.to);
  const workflowTotals = inRange.filter((t) => t.connector === undefined || t.operation === undefined);
  const operationTotals = inRange.filter((t) => t.connector !== undefined && t.operation !== undefined);

  const byWorkflowDay = new Map<string, { workflow: string; day: string; values: MetricValues }>();
  for (const t of workflowTotals) {
    const key = `${t.day}\u0000${t.workflow}`;
    const entry = byWorkflowDay.get(key) ?? { workflow: t.workflow, day: t.day, values: emptyValues() };
    addInto(entry.values, t.values);
    byWorkflowDay.set(key, entry);
  }
  const days = [...byWorkflowDay.values()]
    .sort((a, b) => (a.day === b.day ? a.workflow.localeCompare(b.workflow) : a.day.localeCompare(b.day)))
    .map(({ workflow, day, values }) => ({ day, ...figuresOf(config, workflow, values) }));

  const workflowNames = new Set([...Object.keys(config.workflows), ...workflowTotals.map((t) => t.workflow)]);
  const workflows: WorkflowCostSummary[] = [...workflowNames].sort().map((workflow) => {
    const values = emptyValues();
    for (const t of workflowTotals) if (t.workflow === workflow) addInto(values, t.values);
    const workflowConfig = config.workflows[workflow];
    return {
      ...figuresOf(config, workflow, values),
      inConfig: workflowConfig !== undefined,
      ...(workflowConfig
        ? { costCentre: workflowConfig.costCentre, monthlyBudgetUsd: workflowConfig.monthlyBudgetUsd }
        : {}),
    };
  });

  const byOperation = new Map<
    string,
    { workflow: string; connector: string; operation: string; values: MetricValues }
  >();
  for (const t of operationTotals) {
    const connector = t.connector as string;
    const operation = t.operation as string;
    const key = JSON.stringify([t.workflow, connector, operation]);
    const entry = byOperation.get(key) ?? {
      workflow: t.workflow,
      connector,
      operation,
      values: emptyValues(),
    };
    addInto(entry.values, t.values);
    byOperation.set(key, entry);
  }
  const workflowCost = new Map(workflows.map((w) => [w.workflow, w.cost.total]));
  const topOperations = [...byOperation.values()]
    .map(({ workflow, connector, operation, values }): OperationCost => {
      const spent = workflowCost.get(workflow) ?? 0;
      return {
        workflow,
        connector,
        operation,
        invocations: values.Invocations,
        denials: values.Denials,
        bytesOut: values.BytesOut,
        costUsd: values.EstimatedCostUsd,
        shareOfWorkflowCost: spent > 0 ? values.EstimatedCostUsd / spent : 0,
      };
    })
    .sort(
      (a, b) =>
        b.costUsd - a.costUsd ||
        a.workflow.localeCompare(b.workflow) ||
        `${a.connector}/${a.operation}`.localeCompare(`${b.connector}/${b.operation}`),
    )
    .slice(0, options.topOperations ?? 10);

  const notes = workflows
    .filter((w) => !w.inConfig)
    .map(
      (w) =>
        `Workflow "${w.workflow}" is in the metrics but not in the config: its cost is shown, its value is not counted.`,
    );
  return {
    range,
    days,
    workflows,
    topOperations,
    totalCostUsd: sum(workflows.map((w) => w.cost.total)),
    totalValueUsd: sum(workflows.map((w) => w.valueUsd)),
    notes,
  };
}

function figuresOf(
  config: Pick<AirlockConfig, 'workflows' | 'prices'>,
  workflow: string,
  values: MetricValues,
): WorkflowCostFigures {
  const cost: CostBreakdown = {
    lambda: values.CostLambdaUsd,
    apiGateway: values.CostApiGatewayUsd,
    kms: values.CostKmsUsd,
    secretsManager: values.CostSecretsManagerUsd,
    dynamodb: values.CostDynamoDbUsd,
    llm: values.CostLlmUsd,
    total: values.EstimatedCostUsd,
  };
  const runs = values.Runs;
  const minutesSaved = runs * (config.workflows[workflow]?.minutesSavedPerRun ?? 0);
  const valueUsd = (minutesSaved / 60) * config.prices.hourlyRateUsd;
  return {
    workflow,
    runs,
    invocations: values.Invocations,
    denials: values.Denials,
    approvalsRequested: values.ApprovalsRequested,
    failures: values.Failures,
    bytesOut: values.BytesOut,
    llmInputTokens: values.LlmInputTokens,
    llmOutputTokens: values.LlmOutputTokens,
    cost,
    costPerRunUsd: runs > 0 ? cost.total / runs : null,
    minutesSaved,
    valueUsd,
    roi: cost.total > 0 ? (valueUsd - cost.total) / cost.total : null,
  };
}

function addInto(target: MetricValues, values: MetricValues): void {
  for (const name of USAGE_METRIC_NAMES) target[name] += values[name];
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/**
 * Dollars as a reader expects them: cents from one cent up (`$1,234.56`), two significant digits
 * below (`$0.00036`), so a pilot's tiny per-request costs do not all read as `$0.00`.
 */
export function formatUsd(usd: number): string {
  const sign = usd < 0 ? '-' : '';
  const abs = Math.abs(usd);
  if (abs === 0) return '$0.00';
  if (abs >= 0.01) {
    return `${sign}$${abs.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  }
  return `${sign}$${abs.toLocaleString('en-US', { maximumSignificantDigits: 2, maximumFractionDigits: 20 })}`;
}

/** ROI as a signed percentage (`+1,250%`), or `n/a` when nothing was spent. */
export function formatRoi(roi: number | null): string {
  if (roi === null) return 'n/a';
  const percent = Math.round(roi * 100);
  return `${percent > 0 ? '+' : ''}${percent.toLocaleString('en-US')}%`;
}
