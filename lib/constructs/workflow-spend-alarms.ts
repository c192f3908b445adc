import { Duration, Tags, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AirlockMetrics } from '../metrics/airlock-metrics';
import { WORKFLOW_COST_TAG } from './workflow-budget';

/** Days in an average month (365.25 ÷ 12): what a monthly budget is pro-rated over. */
export const DAYS_PER_MONTH = 30.4375;

export interface WorkflowSpendAlarmsProps {
  /** Deployment stage, named in the alarm descriptions. */
  readonly stage: string;
  /** The workflow (the `workflow` dimension). */
  readonly workflow: string;
  /** Monthly budget in USD (`workflows.<name>.monthlyBudgetUsd`). */
  readonly monthlyBudgetUsd: number;
  /**
   * The workflow's Bedrock inference profile and its model's prices: the measured LLM cost counts too.
   * @default - Airlock's estimate alone (a workflow without `llm`)
   */
  readonly llm?: {
    readonly profileArn: string;
    /** The profile's id. @default - the last segment of `profileArn` */
    readonly profileId?: string;
    readonly inputPerMillionTokens: number;
    readonly outputPerMillionTokens: number;
  };
  /**
   * Fire when a day's spend exceeds this many times the pro-rated daily budget (`cost.dailyBudgetAlarmFactor`).
   * @default 2
   */
  readonly dailyBudgetFactor?: number;
  /**
   * Fire when the month to date reaches this share of the monthly budget (`cost.monthToDateAlarmShare`).
   * @default 0.8
   */
  readonly monthToDateShare?: number;
  /** Topic the alarms and their recoveries go to. */
  readonly topic: sns.ITopic;
  /**
   * Metric definitions.
   * @default - new AirlockMetrics()
   */
  readonly metrics?: AirlockMetrics;
}

/**
 * Two threshold alarms on one workflow's spend as Airlock measures it (its own per-call estimate, which
 * attributes the shared functions, API, tables and keys by use, plus the LLM tokens Bedrock counted for
 * the workflow's inference profile), against its monthly budget:
 * - **spend rate**: the spend of one day (a 1-day period, metric math over `EstimatedCostUsd` and the
 *   Bedrock token counts) above `dailyBudgetFactor` × budget ÷ 30.4375. It needs nothing but the
 *   metrics the functions write, so it keeps working if the cost-report function does not.
 * - **month to date**: the `MonthToDateCostUsd` snapshot the cost-report function writes every six hours
 *   at or above `monthToDateShare` × budget: a dashboard or alarm cannot sum "since the 1st" itself.
 *
 * The AWS Budget of the workflow (WorkflowBudget) watches the bill, which sees only tagged resources;
 * these alarms watch what the workflow really uses of the shared ones.
 */
export class WorkflowSpendAlarms extends Construct {
  /** Spend of a day above the factor of the pro-rated daily budget. */
  public readonly spendRate: cloudwatch.Alarm;
  /** Month to date at or above the share of the monthly budget. */
  public readonly monthToDate: cloudwatch.Alarm;
  /** The spend-rate alarm's threshold in USD per day. */
  public readonly dailyThresholdUsd: number;
  /** The month-to-date alarm's threshold in USD. */
  public readonly monthToDateThresholdUsd: number;

  constructor(scope: Construct, id: string, props: WorkflowSpendAlarmsProps) {
    super(scope, id);
    const factor = props.dailyBudgetFactor ?? 2;
    const share = props.monthToDateShare ?? 0.8;
    if (!Token.isUnresolved(props.monthlyBudgetUsd) && !(props.monthlyBudgetUsd > 0)) {
      throw new Error(
        `WorkflowSpendAlarms: monthlyBudgetUsd of workflow "${props.workflow}" must be greater than 0 (got ${props.monthlyBudgetUsd}); set workflows.${props.workflow}.monthlyBudgetUsd`,
      );
    }
    if (!(factor > 0)) {
      throw new Error(
        `WorkflowSpendAlarms: dailyBudgetFactor must be greater than 0 (got ${factor}); set cost.dailyBudgetAlarmFactor`,
      );
    }
    if (!(share > 0)) {
      throw new Error(
        `WorkflowSpendAlarms: monthToDateShare must be greater than 0 (got ${share}); set cost.monthToDateAlarmShare`,
      );
    }
    const metrics = props.metrics ?? new AirlockMetrics();
    const { workflow, stage } = props;
    const budget = props.monthlyBudgetUsd;
    this.dailyThresholdUsd = round((factor * budget) / DAYS_PER_MONTH);
    this.monthToDateThresholdUsd = round(share * budget);
    const measured = props.llm ? ' plus the LLM tokens Bedrock measured on its inference profile' : '';

    this.spendRate = new cloudwatch.Alarm(this, 'SpendRate', {
      metric: metrics.metricWorkflowCost(workflow, props.llm, {
        period: Duration.days(1),
        label: 'Spend per day (USD)',
      }),
      threshold: this.dailyThresholdUsd,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      // No calls, no data: nothing is being spent.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `Airlock ${stage}: the ${workflow} workflow spent more than ${usd(this.dailyThresholdUsd)} USD in a day (${factor} × its ${usd(budget)} USD monthly budget ÷ ${DAYS_PER_MONTH} days), by Airlock's estimate${measured}. At this pace the budget does not last the month: check its runs (airlock cost report) and the owner's plans; engage its kill switch if the spend is not wanted (docs/runbooks/kill-switch.md).`,
    });

    this.monthToDate = new cloudwatch.Alarm(this, 'MonthToDate', {
      metric: metrics.metricMonthToDateCost(workflow),
      threshold: this.monthToDateThresholdUsd,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      // Between two snapshots there is nothing new to judge.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `Airlock ${stage}: the ${workflow} workflow has spent ${usd(this.monthToDateThresholdUsd)} USD or more this month (${Math.round(share * 100)} % of its ${usd(budget)} USD monthly budget), by Airlock's estimate${measured}. See the finance dashboard's month to date and forecast, and tell the workflow's owner.`,
    });

    for (const alarm of [this.spendRate, this.monthToDate]) {
      alarm.addAlarmAction(new actions.SnsAction(props.topic));
      alarm.addOkAction(new actions.SnsAction(props.topic));
      Tags.of(alarm).add(WORKFLOW_COST_TAG, workflow);
    }
  }
}

function round(usd: number): number {
  return Math.round(usd * 10_000) / 10_000;
}

function usd(amount: number): string {
  return amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 });
}
