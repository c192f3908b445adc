/**
 * The cost-report function's handler: its two EventBridge schedules pass a constant input naming the task,
 * `{"task":"monthly-report"}` on the 1st of each month and `{"task":"month-to-date"}` every six hours.
 * A failure throws: EventBridge retries the invocation, then the dead-letter queue keeps the event.
 */
import {
  type MonthlyCostReportDeps,
  type MonthlyCostReportResult,
  type MonthToDateDeps,
  recordMonthToDate,
  sendMonthlyCostReport,
} from '../core/monthly-cost-report';

/** The tasks, as the schedules name them in their input. */
export const COST_REPORT_TASKS = {
  monthlyReport: 'monthly-report',
  monthToDate: 'month-to-date',
} as const;

export type CostReportTask = (typeof COST_REPORT_TASKS)[keyof typeof COST_REPORT_TASKS];

/** What the handler logs (Powertools Logger in Lambda). */
export interface CostReportLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
}

export type CostReportHandlerDeps = MonthlyCostReportDeps &
  Pick<MonthToDateDeps, 'sink'> & { readonly logger: CostReportLogger };

/** What the handler did; returned so the invocation's result shows it. */
export type CostReportOutcome =
  | ({ readonly outcome: 'sent' } & MonthlyCostReportResult)
  | { readonly outcome: 'recorded'; readonly workflows: number; readonly month: string | null }
  | { readonly outcome: 'ignored'; readonly reason: string };

export type CostReportHandler = (event: unknown) => Promise<CostReportOutcome>;

export function createCostReportHandler(deps: CostReportHandlerDeps): CostReportHandler {
  return async (event) => {
    const task =
      typeof event === 'object' && event !== null ? (event as Record<string, unknown>).task : undefined;
    if (task === COST_REPORT_TASKS.monthlyReport) {
      const sent = await sendMonthlyCostReport(deps);
      deps.logger.info('Sent the monthly cost report', { ...sent });
      return { outcome: 'sent', ...sent };
    }
    if (task === COST_REPORT_TASKS.monthToDate) {
      const figures = await recordMonthToDate({ ...deps, sink: deps.sink });
      deps.logger.info('Recorded the month to date', {
        workflows: figures.map((f) => ({ workflow: f.workflow, monthToDateUsd: f.monthToDateUsd })),
      });
      return { outcome: 'recorded', workflows: figures.length, month: figures[0]?.month ?? null };
    }
    const reason = `unexpected event (task ${JSON.stringify(task ?? null)}); expected {"task":"${COST_REPORT_TASKS.monthlyReport}"} or {"task":"${COST_REPORT_TASKS.monthToDate}"}`;
    deps.logger.warn('The cost-report function ignored an event it does not handle', { reason });
    return { outcome: 'ignored', reason };
  };
}
