/**
 * What the cost-report function does on its schedules, over ports:
 * - on the 1st of each month, builds last month's cost report (the same {@link buildCostReport} as
 *   `airlock cost report`) and publishes it as a plain-text e-mail: a summary per workflow with cost
 *   centre, owner, budget used, value and ROI, the operations that cost most, and the CSV rows finance
 *   files (one per workflow and the total);
 * - every few hours, computes each workflow's month to date and the month's forecast and writes them as
 *   metrics (`MonthToDateCostUsd`, `MonthForecastCostUsd`), which the dashboard shows and the
 *   month-to-date alarm watches: a dashboard or alarm cannot sum "since the 1st" itself.
 */
import type { AirlockConfig } from '../../lib/config/schema';
import {
  buildCostReport,
  COST_DEFINITIONS,
  type CostReport,
  type CostSource,
  formatRoi,
  formatShare,
  formatUsd,
  type ReportRange,
  utcDay,
} from './cost-report';
import { formatCostCsv } from './cost-report-csv';
import type { Clock } from './ports';

/** A message for people (an e-mail through SNS): a subject line and a plain-text body. */
export interface CostReportNotice {
  readonly subject: string;
  readonly message: string;
}

/** Where the monthly report goes (an SNS topic finance subscribes to by e-mail). */
export interface CostReportPublisher {
  /** @throws DependencyError when the message could not be handed over. */
  publish(notice: CostReportNotice): Promise<void>;
}

/** One workflow's month so far, as a metric point. */
export interface MonthToDateFigure {
  readonly workflow: string;
  /** The UTC month, `YYYY-MM`. */
  readonly month: string;
  readonly monthToDateUsd: number;
  readonly forecastUsd: number;
  readonly monthlyBudgetUsd: number;
  /** When the figures were computed (the metric's timestamp). */
  readonly timestamp: Date;
}

/** Where the month-to-date figures go (CloudWatch EMF in AWS). */
export interface MonthToDateSink {
  record(figures: readonly MonthToDateFigure[]): void;
}

/** SNS refuses a subject longer than 100 characters. */
export const MAX_NOTICE_SUBJECT = 100;
/**
 * SNS takes messages up to 256 KiB; the report stays under this many bytes (UTF-8), room left for the
 * envelope. A longer CSV is cut, and the message says where to get the whole of it.
 */
export const MAX_NOTICE_BYTES = 240_000;

const MS_PER_DAY = 86_400_000;

/** The calendar month before the one `now` falls in (UTC), first to last day. */
export function previousMonth(now: Date): ReportRange {
  const firstOfThisMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const lastDay = new Date(firstOfThisMonth - MS_PER_DAY);
  return { from: `${utcDay(lastDay).slice(0, 7)}-01`, to: utcDay(lastDay) };
}

/** From the 1st of the month `now` falls in (UTC) to `now`'s day. */
export function monthToDate(now: Date): ReportRange {
  const today = utcDay(now);
  return { from: `${today.slice(0, 7)}-01`, to: today };
}

/** The last millisecond of a UTC day: the report's "now" for a month that has ended. */
function endOfDay(day: string): Date {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) + MS_PER_DAY - 1);
}

export interface MonthlyCostReportDeps {
  readonly config: Pick<AirlockConfig, 'stage' | 'workflows' | 'prices'>;
  /** Airlock's metrics, with the provider-measured LLM usage when there is any. */
  readonly source: CostSource;
  /** Names where the figures came from, in the message. */
  readonly sourceLabel: string;
  readonly publisher: CostReportPublisher;
  readonly clock: Clock;
}

/** What a monthly run sent. */
export interface MonthlyCostReportResult {
  readonly range: ReportRange;
  readonly subject: string;
  readonly totalCostUsd: number;
  readonly workflows: number;
  readonly messageBytes: number;
}

/**
 * Builds last month's report and publishes it. A source that cannot answer fails the run (and the
 * schedule retries it): a report with missing figures would read as less spend than there was.
 */
export async function sendMonthlyCostReport(deps: MonthlyCostReportDeps): Promise<MonthlyCostReportResult> {
  const range = previousMonth(deps.clock.now());
  const result = await deps.source.dailyTotals(range);
  const report = buildCostReport(deps.config, result.totals, range, {
    measuredLlm: result.measuredLlm,
    measuredLlmSource: result.measuredLlmSource,
    // The month has ended: its budget status is the whole month against the budget.
    now: endOfDay(range.to),
  });
  const notice = monthlyCostReportNotice(report, {
    stage: deps.config.stage,
    source: deps.sourceLabel,
    skippedRecords: result.skippedRecords,
  });
  await deps.publisher.publish(notice);
  return {
    range,
    subject: notice.subject,
    totalCostUsd: report.totalCostUsd,
    workflows: report.workflows.length,
    messageBytes: Buffer.byteLength(notice.message, 'utf8'),
  };
}

export interface MonthToDateDeps {
  readonly config: Pick<AirlockConfig, 'workflows' | 'prices'>;
  readonly source: CostSource;
  readonly sink: MonthToDateSink;
  readonly clock: Clock;
}

/**
 * Computes each configured workflow's month to date and forecast from the 1st (UTC) to now, and
 * records them. Every configured workflow gets a point, zero included, so the dashboard and the alarm
 * read a fresh value rather than the last non-zero one.
 */
export async function recordMonthToDate(deps: MonthToDateDeps): Promise<MonthToDateFigure[]> {
  const now = deps.clock.now();
  const range = monthToDate(now);
  const result = await deps.source.dailyTotals(range);
  const report = buildCostReport(deps.config, result.totals, range, {
    measuredLlm: result.measuredLlm,
    measuredLlmSource: result.measuredLlmSource,
    now,
  });
  const figures = report.workflows.flatMap((w): MonthToDateFigure[] =>
    w.budget
      ? [
          {
            workflow: w.workflow,
            month: w.budget.month,
            monthToDateUsd: w.budget.monthToDateUsd,
            forecastUsd: w.budget.forecastUsd,
            monthlyBudgetUsd: w.budget.monthlyBudgetUsd,
            timestamp: now,
          },
        ]
      : [],
  );
  deps.sink.record(figures);
  return figures;
}

/** The e-mail of a month's report: plain text, readable in any mail client, with the CSV rows at the end. */
export function monthlyCostReportNotice(
  report: CostReport,
  meta: { readonly stage: string; readonly source: string; readonly skippedRecords: number },
): CostReportNotice {
  const month = report.range.from.slice(0, 7);
  const subject = clip(
    `Airlock ${meta.stage}: cost report ${month}, ${formatUsd(report.totalCostUsd)} (ROI ${formatRoi(report.summary.roi)})`,
    MAX_NOTICE_SUBJECT,
  );
  const lines: string[] = [
    `Airlock cost report for ${month} (UTC days ${report.range.from} to ${report.range.to}), stage ${meta.stage}.`,
    `Figures from ${meta.source}${report.measuredLlmSource ? `; LLM usage measured by ${report.measuredLlmSource}` : ''}.`,
    '',
    `Total: cost ${formatUsd(report.totalCostUsd)}, value ${formatUsd(report.totalValueUsd)} (assumed), ROI ${formatRoi(report.summary.roi)}; ${count(report.summary.runs)} runs, ${count(report.summary.invocations)} calls, ${count(report.summary.denials)} denied, ${count(report.summary.approvalsRequested)} approvals requested.`,
    '',
    'Per workflow',
  ];
  for (const w of report.workflows) {
    lines.push(
      '',
      `* ${w.workflow}${w.inConfig ? '' : ' (not in the config)'}`,
      `  Cost centre ${w.costCentre ?? 'n/a'}, owner ${w.owner ?? 'n/a'}`,
      `  Cost ${formatUsd(w.cost.total)}${w.budget ? ` of a ${formatUsd(w.budget.monthlyBudgetUsd)} budget (${formatShare(w.budget.shareUsed)} used)` : ''}`,
      `  Of which LLM: ${formatUsd(w.cost.llmMeasured)} measured, ${formatUsd(w.cost.llm)} self-reported`,
      `  Runs ${count(w.runs)}, calls ${count(w.invocations)}, denied ${count(w.denials)}, approvals ${count(w.approvalsRequested)}, failures ${count(w.failures)}`,
      `  Cost per run ${w.costPerRunUsd === null ? 'n/a' : formatUsd(w.costPerRunUsd)}; value ${formatUsd(w.valueUsd)} (assumed: ${count(w.minutesSaved)} minutes saved); ROI ${formatRoi(w.roi)}${w.roiUndefinedBecause ? ` (${w.roiUndefinedBecause})` : ''}`,
    );
  }
  if (report.topOperations.length > 0) {
    lines.push('', 'Operations that cost most');
    for (const o of report.topOperations) {
      lines.push(
        `  ${o.workflow} ${o.connector}/${o.operation}: ${formatUsd(o.costUsd)} (${formatShare(o.shareOfWorkflowCost)} of the workflow), ${count(o.invocations)} calls, ${count(o.denials)} denied`,
      );
    }
  }
  const notes = [
    ...report.notes,
    ...(meta.skippedRecords > 0
      ? [`${meta.skippedRecords} unreadable metric record(s) were skipped and are not counted.`]
      : []),
  ];
  if (notes.length > 0) lines.push('', 'Notes', ...notes.map((n) => `  ${n}`));
  lines.push(
    '',
    'Value is an assumption: runs × minutesSavedPerRun ÷ 60 × hourlyRateUsd from the config; runs and cost are measured. ROI = (value − cost) ÷ cost, in percent.',
    COST_DEFINITIONS,
    `Day by day: npx airlock cost report --from ${report.range.from} --to ${report.range.to} --format csv (or --format html).`,
    '',
    'CSV (RFC 4180): one row per workflow and the total',
    '',
  );
  const head = lines.join('\n');
  // The workflow rows and the total: what finance files. The day rows are the CLI's.
  const csv = formatCostCsv({ ...report, days: [] });
  return { subject, message: fitted(head, csv) };
}

/** The head and as much of the CSV as fits in {@link MAX_NOTICE_BYTES}, whole lines only. */
function fitted(head: string, csv: string): string {
  const whole = `${head}\n${csv}`;
  if (Buffer.byteLength(whole, 'utf8') <= MAX_NOTICE_BYTES) return whole;
  const cut = '\n(The CSV was cut to fit an e-mail; the command above gives all of it.)\n';
  const rows = csv.split('\r\n');
  let kept = '';
  for (const row of rows) {
    const next = `${kept}${row}\r\n`;
    if (Buffer.byteLength(`${head}\n${next}${cut}`, 'utf8') > MAX_NOTICE_BYTES) break;
    kept = next;
  }
  return `${head}\n${kept}${cut}`;
}

/** SNS takes a subject of printable ASCII only, at most `max` characters. */
function clip(text: string, max: number): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= max ? ascii : `${ascii.slice(0, max - 3)}...`;
}

function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
