/**
 * The cost report's summary tables as rows of text cells: the same columns, in the same order, with the
 * same formatting, for the plain-text report (`airlock cost report`), the HTML report and the monthly
 * e-mail, so no output can show a figure another leaves out.
 */
import { type CostReport, formatRoi, formatShare, formatUsd, type WorkflowCostFigures } from './cost-report';

/** A table: its column headings, its body rows, and an optional summary row. */
export interface CostTable {
  readonly head: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly summary?: readonly string[];
  /** Index of the first column of figures (right-aligned in every output). */
  readonly firstNumeric: number;
}

/** A whole number as finance reads it (`12,345`). */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Shown where the config no longer names a workflow's cost centre or owner. */
export const NOT_IN_CONFIG = '(not in config)';

/** Per workflow: cost centre and owner on every row, measured figures, then the assumed value and ROI. */
export function workflowsTable(report: CostReport): CostTable {
  const row = (w: WorkflowCostFigures, costCentre: string, owner: string) => [
    w.workflow,
    costCentre,
    owner,
    formatCount(w.runs),
    formatCount(w.invocations),
    formatCount(w.denials),
    formatCount(w.approvalsRequested),
    formatUsd(w.cost.total),
    w.costPerRunUsd === null ? 'n/a' : formatUsd(w.costPerRunUsd),
    formatCount(w.minutesSaved),
    formatUsd(w.valueUsd),
    formatRoi(w.roi),
  ];
  return {
    head: [
      'Workflow',
      'Cost centre',
      'Owner',
      'Runs',
      'Calls',
      'Denied',
      'Approvals',
      'Cost',
      'Cost / run',
      'Minutes saved (assumed)',
      'Value (assumed)',
      'ROI',
    ],
    rows: report.workflows.map((w) => row(w, w.costCentre ?? NOT_IN_CONFIG, w.owner ?? NOT_IN_CONFIG)),
    ...(report.workflows.length > 0 && { summary: row(report.summary, '', '') }),
    firstNumeric: 3,
  };
}

/** This month's budget per workflow that has one: month to date, share used, forecast. */
export function budgetsTable(report: CostReport): CostTable {
  return {
    head: [
      'Workflow',
      'Cost centre',
      'Month',
      'Budget',
      'Month to date',
      'Used',
      'Forecast',
      'Forecast share',
    ],
    rows: report.workflows.flatMap((w) =>
      w.budget
        ? [
            [
              w.workflow,
              w.costCentre ?? NOT_IN_CONFIG,
              w.budget.month,
              formatUsd(w.budget.monthlyBudgetUsd),
              formatUsd(w.budget.monthToDateUsd),
              formatShare(w.budget.shareUsed),
              formatUsd(w.budget.forecastUsd),
              formatShare(w.budget.forecastShare),
            ],
          ]
        : [],
    ),
    firstNumeric: 3,
  };
}
