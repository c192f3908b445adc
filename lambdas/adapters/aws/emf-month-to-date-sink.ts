/**
 * Writes each workflow's month to date and the month's forecast as CloudWatch EMF (namespace `Airlock`,
 * dimension `workflow`): one document per workflow on stdout, which CloudWatch turns into the
 * `MonthToDateCostUsd` and `MonthForecastCostUsd` metrics without a PutMetricData call.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, MONTH_TO_DATE_METRICS } from '../../../lib/contracts/metrics';
import type { MonthToDateFigure, MonthToDateSink } from '../../core/monthly-cost-report';
import {
  type DeclaresIamPermissions,
  type IamActions,
  type IamPermission,
  permissionsOf,
} from './iam-permissions';

/** None: the lines go to the function's own log, which the runtime writes with the role's logs permissions. */
export const EMF_MONTH_TO_DATE_SINK_ACTIONS = {
  record: [],
} as const satisfies IamActions<keyof MonthToDateSink>;

export interface EmfMonthToDateSinkOptions {
  /** Where a serialized EMF line goes; default: Powertools' own stdout publishing (Lambda). */
  readonly emit?: (line: string) => void;
}

export class EmfMonthToDateSink implements MonthToDateSink, DeclaresIamPermissions<keyof MonthToDateSink> {
  private readonly metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'airlock' });

  constructor(private readonly options: EmfMonthToDateSinkOptions = {}) {
    // The dashboard and the alarm query exactly `workflow`: no service dimension.
    this.metrics.clearDefaultDimensions();
  }

  iamPermissions(methods: readonly (keyof MonthToDateSink)[]): IamPermission[] {
    return permissionsOf('EmfMonthToDateSink', EMF_MONTH_TO_DATE_SINK_ACTIONS, methods, () => []);
  }

  record(figures: readonly MonthToDateFigure[]): void {
    const m = this.metrics;
    for (const figure of figures) {
      try {
        m.setDefaultDimensions({ workflow: figure.workflow });
        m.setTimestamp(figure.timestamp);
        m.addMetric(MONTH_TO_DATE_METRICS.monthToDate, MetricUnit.NoUnit, figure.monthToDateUsd);
        m.addMetric(MONTH_TO_DATE_METRICS.forecast, MetricUnit.NoUnit, figure.forecastUsd);
        m.addMetadata('month', figure.month);
        m.addMetadata('monthlyBudgetUsd', String(figure.monthlyBudgetUsd));
        if (this.options.emit) this.options.emit(JSON.stringify(m.serializeMetrics()));
        else m.publishStoredMetrics();
      } finally {
        m.clearMetrics();
        m.clearDimensions();
        m.clearMetadata();
        m.clearDefaultDimensions();
      }
    }
  }
}
