/**
 * `airlock cost report`: what each workflow cost per UTC day, by component, against the value of
 * the time it saved. Reads the local pilot's metrics log (`--local`) or CloudWatch with the
 * operator's AWS credentials (`cloudwatch:GetMetricData`), and prints a table, CSV (RFC 4180), a
 * self-contained HTML report, or JSON (`--json`).
 */
import { writeFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import {
  buildCostReport,
  COST_COMPONENTS,
  COST_DEFINITIONS,
  type CostReport,
  formatRoi,
  formatUsd,
  type ReportRange,
  reportRange,
  utcDay,
} from '../lambdas/core/cost-report';
import { formatCostCsv } from '../lambdas/core/cost-report-csv';
import { budgetsTable, formatCount, workflowsTable } from '../lambdas/core/cost-report-tables';
import { AirlockError } from '../lambdas/core/errors';
import { renderCostReportHtml } from '../local/cost-report-html';
import { type CliContext, CliError, EXIT } from './cli-context';
import { addTargetOptions, resolveTarget, type TargetOptions } from './cli-target';
import { withOperatorPorts } from './operator-ports';

export { COST_CSV_COLUMNS, formatCostCsv } from '../lambdas/core/cost-report-csv';

export const COST_REPORT_FORMATS = ['table', 'csv', 'html'] as const;
export type CostReportFormat = (typeof COST_REPORT_FORMATS)[number];

interface ReportOptions extends TargetOptions {
  readonly from?: string;
  readonly to?: string;
  readonly format: CostReportFormat;
  readonly out?: string;
  readonly top: string;
}

/** Registers `airlock cost report`. */
export function registerCostCommands(
  program: Command,
  context: CliContext,
  now: () => Date = () => new Date(),
): void {
  const cost = program.command('cost').description('Per-workflow cost reporting for finance.');
  addTargetOptions(
    cost
      .command('report')
      .description(
        'Cost per workflow per UTC day by component, cost per run, value of time saved and ROI, and the operations that cost most.',
      )
      .option('--from <YYYY-MM-DD>', 'first UTC day (default: 29 days before --to)')
      .option('--to <YYYY-MM-DD>', 'last UTC day (default: today, UTC)')
      .addOption(
        new Option('--format <format>', 'output format').choices([...COST_REPORT_FORMATS]).default('table'),
      )
      .option('--out <file>', 'write the report to this file instead of stdout')
      .option('--top <n>', 'how many operations the top-operations table lists', '10'),
    { acts: 'state' },
  ).action((options: ReportOptions) => runReport(context, options, now()));
}

async function runReport(context: CliContext, options: ReportOptions, now: Date): Promise<void> {
  const top = Number(options.top);
  if (!Number.isInteger(top) || top < 1 || top > 1000) {
    throw new CliError(`--top: expected a whole number from 1 to 1000, got "${options.top}"`, EXIT.usage);
  }
  const range = usage(() => reportRange({ from: options.from, to: options.to }, now));
  const config = context.loadConfig();
  const target = await resolveTarget(context, options, { acts: 'state' });
  const { result, label } = await withOperatorPorts(target, async (ports) => {
    const { source, label } = ports.costSource(config);
    // The budget's month to date needs the current month too, whatever the range.
    const read = readRange(range, now);
    context.progress(`Reading ${label} for ${read.from}..${read.to} ...`);
    try {
      return { label, result: await source.dailyTotals(read) };
    } catch (error) {
      throw new CliError(error instanceof Error ? error.message : String(error), EXIT.failed, {
        cause: error,
      });
    }
  });
  if (result.skippedRecords > 0) {
    context.notice(
      `airlock: skipped ${result.skippedRecords} malformed line(s) in ${label}; they are not counted in the report.`,
    );
  }
  const report = buildCostReport(config, result.totals, range, {
    topOperations: top,
    measuredLlm: result.measuredLlm,
    measuredLlmSource: result.measuredLlmSource,
    now,
  });
  for (const note of report.notes) context.notice(`airlock: ${note}`);

  const rendered = render(report, options.format, {
    source: label,
    now,
    skippedRecords: result.skippedRecords,
  });
  const data = { source: label, skippedRecords: result.skippedRecords, ...report };
  if (options.out) {
    try {
      await writeFile(options.out, rendered, 'utf8');
    } catch (error) {
      throw new CliError(
        `--out: cannot write ${options.out} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); check the folder exists and is writable.`,
        EXIT.usage,
        { cause: error },
      );
    }
    context.result(
      `Wrote the ${options.format} cost report for ${range.from}..${range.to} to ${options.out}.`,
      {
        out: options.out,
        format: options.format,
        ...data,
      },
    );
    return;
  }
  if (context.json) context.result('', data);
  else context.io.stdout.write(rendered);
}

/** The days to read: the report's range and the current UTC month up to today. */
export function readRange(range: ReportRange, now: Date): ReportRange {
  const today = utcDay(now);
  const monthStart = `${today.slice(0, 7)}-01`;
  // ISO days order as strings: the earlier of the two starts, the later of the two ends.
  return { from: [range.from, monthStart].sort()[0], to: [range.to, today].sort()[1] };
}

function usage<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    if (error instanceof AirlockError) throw new CliError(error.message, EXIT.usage, { cause: error });
    throw error;
  }
}

/** Renders the report in one of the text formats. */
export function render(
  report: CostReport,
  format: CostReportFormat,
  meta: { source: string; now: Date; skippedRecords: number },
): string {
  switch (format) {
    case 'csv':
      return formatCostCsv(report);
    case 'html':
      return renderCostReportHtml(report, {
        generatedAt: meta.now,
        source: meta.source,
        skippedRecords: meta.skippedRecords,
      });
    default:
      return formatCostTable(report, meta.source);
  }
}

/** The report as aligned plain-text tables: per workflow per day, per workflow, top operations. */
export function formatCostTable(report: CostReport, source: string): string {
  const lines = [
    `Airlock cost report ${report.range.from}..${report.range.to} (UTC days) from ${source}`,
    '',
  ];
  lines.push('Per workflow per day');
  lines.push(
    ...alignedTable(
      [
        'Day',
        'Workflow',
        'Runs',
        'Calls',
        'Denied',
        'Approvals',
        'Bytes out',
        ...COST_COMPONENTS.map((c) => c.label),
        'Cost',
        'Cost/run',
        'Value',
        'ROI',
      ],
      report.days.map((d) => [
        d.day,
        d.workflow,
        formatCount(d.runs),
        formatCount(d.invocations),
        formatCount(d.denials),
        formatCount(d.approvalsRequested),
        formatCount(d.bytesOut),
        ...COST_COMPONENTS.map((c) => formatUsd(d.cost[c.key])),
        formatUsd(d.cost.total),
        d.costPerRunUsd === null ? 'n/a' : formatUsd(d.costPerRunUsd),
        formatUsd(d.valueUsd),
        formatRoi(d.roi),
      ]),
      2,
    ),
  );
  const workflows = workflowsTable(report);
  lines.push('', 'Per workflow');
  lines.push(
    ...alignedTable(
      workflows.head,
      [...workflows.rows, ...(workflows.summary ? [workflows.summary] : [])],
      workflows.firstNumeric,
    ),
  );
  const budgets = budgetsTable(report);
  lines.push('', 'Budgets this month (UTC)');
  lines.push(...alignedTable(budgets.head, budgets.rows, budgets.firstNumeric));
  lines.push('', 'Top operations by cost');
  lines.push(
    ...alignedTable(
      ['Workflow', 'Operation', 'Calls', 'Denied', 'Bytes out', 'Cost', 'Share'],
      report.topOperations.map((o) => [
        o.workflow,
        `${o.connector}/${o.operation}`,
        formatCount(o.invocations),
        formatCount(o.denials),
        formatCount(o.bytesOut),
        formatUsd(o.costUsd),
        `${(o.shareOfWorkflowCost * 100).toFixed(1)}%`,
      ]),
      2,
    ),
  );
  lines.push(
    '',
    `Total: cost ${formatUsd(report.totalCostUsd)}, value ${formatUsd(report.totalValueUsd)} (assumed), ROI ${formatRoi(report.summary.roi)}.`,
    ...(report.measuredLlmSource ? [`LLM usage measured by: ${report.measuredLlmSource}.`] : []),
    'A run is one access token’s work for a workflow; value (an assumption) = runs × minutesSavedPerRun ÷ 60 × hourlyRateUsd; ROI = (value − cost) ÷ cost, in percent.',
    COST_DEFINITIONS,
  );
  return `${lines.join('\n')}\n`;
}

/** Columns padded to their widest cell; columns from `firstNumeric` on are right-aligned. */
function alignedTable(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  firstNumeric: number,
): string[] {
  if (rows.length === 0) return ['  (no usage recorded in this range)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i >= firstNumeric ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}
