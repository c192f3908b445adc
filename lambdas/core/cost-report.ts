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
 * - LLM cost, measured: the tokens the provider counted for the workflow's Bedrock application inference
 *   profile (CloudWatch `AWS/Bedrock`, or the local pilot's stand-in), priced from the config's model prices.
 * - LLM cost, self-reported: priced from what agents report (`POST /v1/usage`), which Airlock bounds but
 *   cannot check; every rendering labels it so.
 * - cost: the estimate from the config's price table, summed over every request, refused ones included
 *   (a refused request still costs an API Gateway request and a Lambda invocation). Token requests
 *   (with the KMS signature of each issued token), LLM usage reports and calls to operations that do
 *   not exist are in the workflow's cost but in no operation's.
 * - value: runs × `minutesSavedPerRun` / 60 × `prices.hourlyRateUsd`.
 * - ROI: (value − cost) / cost, shown as a percentage everywhere (the CSV's `roi_percent` too); null when
 *   nothing was spent, and null when the workflow had runs but no LLM usage was measured or reported: its
 *   largest cost is then missing, and a ratio against the rest would read as an absurd return.
 * - budget: month to date (the UTC month of the report's `now`), share of `monthlyBudgetUsd` used, and a
 *   linear forecast for the month (month to date ÷ days elapsed × days in the month).
 */
import type { AirlockConfig } from '../../lib/config/schema';
import { USAGE_METRIC_NAMES, type UsageMetricName } from '../../lib/contracts/metrics';
import { type CostBreakdown, llmCost } from './cost-estimate';
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

/** LLM tokens the provider measured for one workflow's inference profile on one UTC day. */
export interface MeasuredLlmUsage {
  readonly day: string;
  readonly workflow: string;
  /** The model whose price applies (`workflows.<w>.llm.model`, a key of `prices.models`). */
  readonly model: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/** What a cost source returns: the daily totals, and what it had to leave out. */
export interface CostSourceResult {
  readonly totals: readonly DailyMetricTotals[];
  /** Records that could not be read (e.g. malformed log lines); they are not in the totals. */
  readonly skippedRecords: number;
  /** LLM usage the provider measured, per workflow and day. @default - none */
  readonly measuredLlm?: readonly MeasuredLlmUsage[];
  /** Where the measured LLM usage came from, e.g. `Amazon Bedrock (CloudWatch AWS/Bedrock)`. */
  readonly measuredLlmSource?: string;
}

/** Where measured LLM usage comes from: CloudWatch's Bedrock metrics, or the local pilot's stand-in. */
export interface LlmUsageSource {
  /** A label for the report, naming the provider and how it was read. */
  readonly label: string;
  dailyUsage(range: ReportRange): Promise<MeasuredLlmUsage[]>;
}

/** A cost source that adds the measured LLM usage of `llm` to what `source` returns. */
export function withMeasuredLlm(source: CostSource, llm: LlmUsageSource): CostSource {
  return {
    async dailyTotals(range) {
      const [result, measuredLlm] = await Promise.all([source.dailyTotals(range), llm.dailyUsage(range)]);
      return { ...result, measuredLlm, measuredLlmSource: llm.label };
    },
  };
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
  /** LLM tokens the agents reported themselves. */
  readonly llmInputTokens: number;
  readonly llmOutputTokens: number;
  /** LLM tokens the provider measured. */
  readonly llmMeasuredInputTokens: number;
  readonly llmMeasuredOutputTokens: number;
  readonly cost: CostBreakdown;
  /** Cost divided by runs; null when there was no run. */
  readonly costPerRunUsd: number | null;
  readonly minutesSaved: number;
  readonly valueUsd: number;
  /** (value − cost) / cost; null when nothing was spent or no LLM usage was recorded for the runs. */
  readonly roi: number | null;
  /** Why ROI is null, in words; absent when it is not. */
  readonly roiUndefinedBecause?: string;
}

/** A workflow's spend in the current month against its monthly budget. */
export interface BudgetStatus {
  /** The UTC month, `YYYY-MM`. */
  readonly month: string;
  readonly monthlyBudgetUsd: number;
  readonly monthToDateUsd: number;
  /** Month to date ÷ budget (1 = all of it). */
  readonly shareUsed: number;
  /** Month to date ÷ days elapsed × days in the month. */
  readonly forecastUsd: number;
  /** Forecast ÷ budget. */
  readonly forecastShare: number;
}

export interface WorkflowDayCost extends WorkflowCostFigures {
  readonly day: string;
}

export interface WorkflowCostSummary extends WorkflowCostFigures {
  /** False for a workflow found in the metrics but not in the config: its value is not counted. */
  readonly inConfig: boolean;
  readonly costCentre?: string;
  readonly owner?: string;
  readonly monthlyBudgetUsd?: number;
  /** Month to date, share used and forecast; absent for a workflow not in the config. */
  readonly budget?: BudgetStatus;
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
  /** Every workflow added up over the range: the report's summary row. */
  readonly summary: WorkflowCostFigures;
  /** Where the measured LLM usage came from; absent when no source of it was read. */
  readonly measuredLlmSource?: string;
  /** Things the reader should know (e.g. workflows missing from the config). */
  readonly notes: readonly string[];
}

/** The cost components in report order, with the metric each comes from (none: measured by the provider). */
export const COST_COMPONENTS = [
  { key: 'apiGateway', metric: 'CostApiGatewayUsd', label: 'API Gateway' },
  { key: 'waf', metric: 'CostWafUsd', label: 'WAF' },
  { key: 'lambda', metric: 'CostLambdaUsd', label: 'Lambda' },
  { key: 'dynamodb', metric: 'CostDynamoDbUsd', label: 'DynamoDB' },
  { key: 'kms', metric: 'CostKmsUsd', label: 'KMS' },
  { key: 'secretsManager', metric: 'CostSecretsManagerUsd', label: 'Secrets Manager' },
  { key: 'logs', metric: 'CostLogsUsd', label: 'CloudWatch Logs' },
  { key: 'xray', metric: 'CostXRayUsd', label: 'X-Ray' },
  { key: 's3', metric: 'CostS3Usd', label: 'S3' },
  // Tokens the provider counted for the workflow's inference profile.
  { key: 'llmMeasured', metric: undefined, label: 'LLM (measured)' },
  // The agents' own reports (POST /v1/usage): the only figure here nobody measured.
  { key: 'llm', metric: 'CostLlmUsd', label: 'LLM (self-reported)' },
] as const satisfies readonly {
  key: Exclude<keyof CostBreakdown, 'total'>;
  metric: UsageMetricName | undefined;
  label: string;
}[];

/**
 * What the counts cover, and why the operations' costs add up to less than their workflow's: the
 * sentence every rendering of the report prints under its tables.
 */
export const COST_DEFINITIONS =
  'Calls are connector calls; Denied counts refused calls and refused token requests. A workflow’s cost also covers its token requests (KMS signing) and LLM usage reports, which no operation is charged for. LLM (measured) is what the provider counted for the workflow’s inference profile; LLM (self-reported) is what the agents reported (bounded per report and per principal), which nobody measured. ROI is n/a when nothing was spent, or when runs had no LLM usage at all (the largest cost would be missing).';

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

/** What {@link buildCostReport} may be given beyond the Airlock metrics. */
export interface CostReportOptions {
  /** How many operations the top-operations table lists. @default 10 */
  readonly topOperations?: number;
  /** LLM usage the provider measured, per workflow and day (any days: the budget reads the month's). */
  readonly measuredLlm?: readonly MeasuredLlmUsage[];
  readonly measuredLlmSource?: string;
  /**
   * The instant the budget's month to date runs to; `totals` should cover that month's days.
   * @default - no budget status
   */
  readonly now?: Date;
}

/**
 * Builds the report from daily totals: per workflow per day, per workflow over the range, and the
 * operations that cost most. Workflow figures come from the workflow dimension set only, so a
 * request is never counted twice. Totals outside the range count only towards the budget's month to date.
 */
export function buildCostReport(
  config: Pick<AirlockConfig, 'workflows' | 'prices'>,
  totals: readonly DailyMetricTotals[],
  range: ReportRange,
  options: CostReportOptions = {},
): CostReport {
  const notes: string[] = [];
  const measured = measuredByWorkflowDay(config, options.measuredLlm ?? [], notes);
  const workflowLevel = totals.filter((t) => t.connector === undefined || t.operation === undefined);
  const inRange = (day: string) => day >= range.from && day <= range.to;
  const workflowTotals = workflowLevel.filter((t) => inRange(t.day));
  const operationTotals = totals.filter(
    (t) => inRange(t.day) && t.connector !== undefined && t.operation !== undefined,
  );

  const byWorkflowDay = new Map<
    string,
    { workflow: string; day: string; values: MetricValues; llm: LlmTotals }
  >();
  const entryOf = (workflow: string, day: string) => {
    const key = `${day}\u0000${workflow}`;
    let entry = byWorkflowDay.get(key);
    if (!entry) {
      entry = { workflow, day, values: emptyValues(), llm: emptyLlm() };
      byWorkflowDay.set(key, entry);
    }
    return entry;
  };
  for (const t of workflowTotals) addInto(entryOf(t.workflow, t.day).values, t.values);
  for (const m of measured.values()) if (inRange(m.day)) addLlm(entryOf(m.workflow, m.day).llm, m);
  const days = [...byWorkflowDay.values()]
    .sort((a, b) => (a.day === b.day ? a.workflow.localeCompare(b.workflow) : a.day.localeCompare(b.day)))
    .map(({ workflow, day, values, llm }) => ({ day, ...figuresOf(config, workflow, values, llm) }));

  const workflowNames = new Set([
    ...Object.keys(config.workflows),
    ...workflowTotals.map((t) => t.workflow),
    ...[...measured.values()].filter((m) => inRange(m.day)).map((m) => m.workflow),
  ]);
  const workflows: WorkflowCostSummary[] = [...workflowNames].sort().map((workflow) => {
    const values = emptyValues();
    const llm = emptyLlm();
    for (const d of byWorkflowDay.values()) {
      if (d.workflow !== workflow) continue;
      addInto(values, d.values);
      addLlm(llm, d.llm);
    }
    const workflowConfig = Object.hasOwn(config.workflows, workflow) ? config.workflows[workflow] : undefined;
    return {
      ...figuresOf(config, workflow, values, llm),
      inConfig: workflowConfig !== undefined,
      ...(workflowConfig
        ? {
            costCentre: workflowConfig.costCentre,
            owner: workflowConfig.owner,
            monthlyBudgetUsd: workflowConfig.monthlyBudgetUsd,
            ...(options.now
              ? {
                  budget: budgetStatus(
                    workflowConfig.monthlyBudgetUsd,
                    options.now,
                    workflowLevel.filter((t) => t.workflow === workflow),
                    [...measured.values()].filter((m) => m.workflow === workflow),
                  ),
                }
              : {}),
          }
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

  for (const w of workflows) {
    if (!w.inConfig) {
      notes.push(
        `Workflow "${w.workflow}" is in the metrics but not in the config: its cost is shown, its value is not counted.`,
      );
    }
  }
  const allValues = emptyValues();
  const allLlm = emptyLlm();
  for (const d of byWorkflowDay.values()) {
    addInto(allValues, d.values);
    addLlm(allLlm, d.llm);
  }
  const summary = summaryOf(config, workflows, allValues, allLlm);
  return {
    range,
    days,
    workflows,
    topOperations,
    totalCostUsd: summary.cost.total,
    totalValueUsd: summary.valueUsd,
    summary,
    ...(options.measuredLlmSource !== undefined ? { measuredLlmSource: options.measuredLlmSource } : {}),
    notes,
  };
}

/** Measured LLM tokens and their price. */
interface LlmTotals {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

function emptyLlm(): LlmTotals {
  return { inputTokens: 0, outputTokens: 0, costUsd: 0 };
}

function addLlm(target: LlmTotals, add: LlmTotals): void {
  target.inputTokens += add.inputTokens;
  target.outputTokens += add.outputTokens;
  target.costUsd += add.costUsd;
}

/** Measured usage priced and summed per workflow and day; a model without a price is left out with a note. */
function measuredByWorkflowDay(
  config: Pick<AirlockConfig, 'prices'>,
  usage: readonly MeasuredLlmUsage[],
  notes: string[],
): Map<string, LlmTotals & { workflow: string; day: string }> {
  const byKey = new Map<string, LlmTotals & { workflow: string; day: string }>();
  const unpriced = new Set<string>();
  for (const u of usage) {
    let costUsd: number;
    try {
      costUsd = llmCost(config.prices, u);
    } catch {
      unpriced.add(u.model);
      continue;
    }
    const key = `${u.day}\u0000${u.workflow}`;
    const entry = byKey.get(key) ?? { workflow: u.workflow, day: u.day, ...emptyLlm() };
    addLlm(entry, { inputTokens: u.inputTokens, outputTokens: u.outputTokens, costUsd });
    byKey.set(key, entry);
  }
  for (const model of unpriced) {
    notes.push(
      `Measured LLM usage of model "${model}" has no price under prices.models: it is not in the cost.`,
    );
  }
  return byKey;
}

/** The figures of every workflow together: the summary row. */
function summaryOf(
  config: Pick<AirlockConfig, 'workflows' | 'prices'>,
  workflows: readonly WorkflowCostSummary[],
  values: MetricValues,
  llm: LlmTotals,
): WorkflowCostFigures {
  const figures = figuresOf(config, 'all workflows', values, llm);
  // Value counts only configured workflows (their minutes saved per run).
  const minutesSaved = sum(workflows.map((w) => w.minutesSaved));
  const valueUsd = sum(workflows.map((w) => w.valueUsd));
  return { ...figures, minutesSaved, valueUsd, ...roiOf(valueUsd, figures.cost, figures.runs) };
}

/** A workflow's month to date against its budget, with a linear forecast. */
export function budgetStatus(
  monthlyBudgetUsd: number,
  now: Date,
  workflowTotals: readonly DailyMetricTotals[],
  measured: readonly (LlmTotals & { day: string })[],
): BudgetStatus {
  const month = utcDay(now).slice(0, 7);
  const today = utcDay(now);
  const inMonth = (day: string) => day.startsWith(month) && day <= today;
  const monthToDateUsd =
    sum(workflowTotals.filter((t) => inMonth(t.day)).map((t) => t.values.EstimatedCostUsd)) +
    sum(measured.filter((m) => inMonth(m.day)).map((m) => m.costUsd));
  const daysInMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0)).getUTCDate();
  // Days elapsed, today counted by the share of it that has passed (at least an hour, so the first minutes
  // of a month do not forecast a month from a moment).
  const msToday = now.getTime() - startOfUtcDay(today).getTime();
  const elapsedDays = now.getUTCDate() - 1 + Math.max(msToday, 3_600_000) / MS_PER_DAY;
  const forecastUsd = (monthToDateUsd / elapsedDays) * daysInMonth;
  return {
    month,
    monthlyBudgetUsd,
    monthToDateUsd,
    shareUsed: monthlyBudgetUsd > 0 ? monthToDateUsd / monthlyBudgetUsd : 0,
    forecastUsd,
    forecastShare: monthlyBudgetUsd > 0 ? forecastUsd / monthlyBudgetUsd : 0,
  };
}

function roiOf(
  valueUsd: number,
  cost: CostBreakdown,
  runs: number,
): { roi: number | null; roiUndefinedBecause?: string } {
  if (!(cost.total > 0)) return { roi: null, roiUndefinedBecause: 'nothing was spent' };
  if (runs > 0 && cost.llm + cost.llmMeasured === 0) {
    return {
      roi: null,
      roiUndefinedBecause:
        'no LLM usage was measured or reported for its runs, so the largest cost is missing',
    };
  }
  return { roi: (valueUsd - cost.total) / cost.total };
}

function figuresOf(
  config: Pick<AirlockConfig, 'workflows' | 'prices'>,
  workflow: string,
  values: MetricValues,
  llm: LlmTotals = emptyLlm(),
): WorkflowCostFigures {
  const cost: CostBreakdown = {
    apiGateway: values.CostApiGatewayUsd,
    waf: values.CostWafUsd,
    lambda: values.CostLambdaUsd,
    dynamodb: values.CostDynamoDbUsd,
    kms: values.CostKmsUsd,
    secretsManager: values.CostSecretsManagerUsd,
    logs: values.CostLogsUsd,
    xray: values.CostXRayUsd,
    s3: values.CostS3Usd,
    llm: values.CostLlmUsd,
    llmMeasured: llm.costUsd,
    total: values.EstimatedCostUsd + llm.costUsd,
  };
  const runs = values.Runs;
  const workflowConfig = Object.hasOwn(config.workflows, workflow) ? config.workflows[workflow] : undefined;
  const minutesSaved = runs * (workflowConfig?.minutesSavedPerRun ?? 0);
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
    llmMeasuredInputTokens: llm.inputTokens,
    llmMeasuredOutputTokens: llm.outputTokens,
    cost,
    costPerRunUsd: runs > 0 ? cost.total / runs : null,
    minutesSaved,
    valueUsd,
    ...roiOf(valueUsd, cost, runs),
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

/** ROI as a signed percentage (`+1,250%`), the one unit every rendering uses; `n/a` when undefined. */
export function formatRoi(roi: number | null): string {
  if (roi === null) return 'n/a';
  const percent = Math.round(roi * 100);
  return `${percent > 0 ? '+' : ''}${percent.toLocaleString('en-US')}%`;
}

/** ROI in percent for machine-readable output (CSV, JSON consumers), or null. */
export function roiPercent(roi: number | null): number | null {
  return roi === null ? null : Math.round(roi * 10_000) / 100;
}

/** A share (0.42) as a percentage for people (`42%`). */
export function formatShare(share: number): string {
  return `${(share * 100).toLocaleString('en-US', { maximumFractionDigits: 1 })}%`;
}
