import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { AirlockMetrics, type OperationRef } from '../metrics/airlock-metrics';

/** What the dashboard shows of one workflow. */
export interface CostDashboardWorkflow {
  /** Workflow name (the `workflow` dimension). */
  readonly name: string;
  /** Principal accountable for the workflow. */
  readonly owner: string;
  readonly costCentre: string;
  /** Minutes of manual work one run saves (`minutesSavedPerRun`). */
  readonly minutesSavedPerRun: number;
  /** Monthly budget in USD, shown next to the figures. */
  readonly monthlyBudgetUsd: number;
  /** Name of the workflow's AWS Budget, so finance can find it. */
  readonly budgetName: string;
  /** The operations the workflow may call, each shown in the top-operations widget. */
  readonly operations: readonly OperationRef[];
  /**
   * Whether the workflow calls an upstream MCP server: its guardrails graph then shows calls refused
   * because a pinned tool changed upstream.
   * @default false
   */
  readonly watchesToolDefinitions?: boolean;
  /**
   * The workflow's Bedrock inference profile and its model's prices: the measured LLM cost.
   * @default - no measured LLM cost shown
   */
  readonly llm?: {
    readonly profileArn: string;
    /** The profile's id. @default - the last segment of `profileArn` */
    readonly profileId?: string;
    readonly inputPerMillionTokens: number;
    readonly outputPerMillionTokens: number;
  };
}

export interface CostDashboardProps {
  /** Dashboard name, e.g. `Airlock-pilot-finance`. */
  readonly dashboardName: string;
  /** The workflows, one section each. */
  readonly workflows: readonly CostDashboardWorkflow[];
  /** Value of one hour of the manual work the workflows replace (`prices.hourlyRateUsd`). */
  readonly hourlyRateUsd: number;
  /**
   * Metric definitions.
   * @default - new AirlockMetrics()
   */
  readonly metrics?: AirlockMetrics;
}

const DAY = Duration.days(1);

/**
 * The finance dashboard: for each workflow, the estimated cost per day by component, runs, cost per
 * run, value against cost (ROI) and the operations that cost most, with a text widget saying what
 * each figure means. Costs are Airlock's own estimate from the config's price table, per call; the
 * workflow's AWS Budget tracks the bill itself.
 */
export class CostDashboard extends Construct {
  /** The dashboard (construct id `Resource`). */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: CostDashboardProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(props.dashboardName)) {
      throw new Error(
        `CostDashboard: dashboardName "${props.dashboardName}" may only contain letters, digits, - and _ (at most 255)`,
      );
    }
    if (!(props.hourlyRateUsd >= 0)) {
      throw new Error(`CostDashboard: hourlyRateUsd must be 0 or more (got ${props.hourlyRateUsd})`);
    }
    const metrics = props.metrics ?? new AirlockMetrics();
    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.days(30),
      periodOverride: cloudwatch.PeriodOverride.INHERIT,
    });
    for (const workflow of props.workflows) {
      for (const row of workflowRows(metrics, workflow, props.hourlyRateUsd))
        this.dashboard.addWidgets(...row);
    }
  }
}

/** Value in USD of one run: minutes saved × hourly rate / 60. */
export function valuePerRunUsd(minutesSavedPerRun: number, hourlyRateUsd: number): number {
  return (minutesSavedPerRun * hourlyRateUsd) / 60;
}

/** A number as metric math reads it: plain decimal, never exponent notation. */
function mathNumber(value: number): string {
  return value.toFixed(6).replace(/\.?0+$/, '');
}

function usd(amount: number): string {
  return amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function workflowRows(
  metrics: AirlockMetrics,
  workflow: CostDashboardWorkflow,
  hourlyRateUsd: number,
): cloudwatch.IWidget[][] {
  const { name } = workflow;
  const valuePerRun = valuePerRunUsd(workflow.minutesSavedPerRun, hourlyRateUsd);
  const runs = metrics.metricRuns(name, { period: DAY });
  const airlockCost = metrics.metricEstimatedCost(name, { period: DAY });
  const llmCost = workflow.llm
    ? metrics.metricMeasuredLlmCost(workflow.llm.profileArn, workflow.llm, { period: DAY })
    : undefined;
  // The workflow's whole cost: Airlock's attributed estimate plus the LLM tokens Bedrock measured.
  const cost = llmCost
    ? new cloudwatch.MathExpression({
        expression: 'FILL(airlock, 0) + llm',
        usingMetrics: { airlock: airlockCost, llm: llmCost },
        period: DAY,
        label: 'Cost (Airlock + measured LLM)',
      })
    : airlockCost;

  const explanation = new cloudwatch.TextWidget({
    width: 24,
    height: 6,
    markdown: [
      `## Workflow \`${name}\``,
      `Owner **${workflow.owner}**, cost centre **${workflow.costCentre}**, budget **${usd(workflow.monthlyBudgetUsd)} USD** a month.`,
      '',
      '- **Run**: one access token’s work for the workflow, i.e. every request an assistant makes with the same token (the `Runs` metric). CloudWatch counts a run once per function instance that served it, so a long run can count slightly more than once. **Calls** are the requests themselves (`Invocations`).',
      '- **Estimated cost**: what Airlock computes per call from the price table (lib/config/aws-prices.ts for `prices.region`): API Gateway, WAF, Lambda, DynamoDB, KMS, Secrets Manager, CloudWatch Logs (EMF included), X-Ray, S3 and self-reported LLM tokens; shared infrastructure attributed by use. An estimate, not the bill.',
      `- **Value** = runs × ${workflow.minutesSavedPerRun} minutes saved per run × ${usd(hourlyRateUsd)} USD an hour ÷ 60 = **${usd(valuePerRun)} USD per run**.`,
      `- **LLM (measured)**: ${workflow.llm ? 'the tokens Bedrock counted for the workflow’s application inference profile (`AWS/Bedrock`), priced from `prices.models`.' : 'none: the workflow has no `llm` in the config, so only self-reported LLM usage is in the cost.'}`,
      '- **ROI** = (value − cost) ÷ cost, in percent, per day; +100 % means the workflow returns twice what it costs. Value is an assumption (minutes saved per run from the config); runs and cost are measured. No ROI on a day without measured LLM cost.',
      `- **Month to date**: spend since 00:00 UTC on the 1st, its share of the ${usd(workflow.monthlyBudgetUsd)} USD budget and the month’s linear forecast, as the cost-report function last computed them (every 6 hours, from the same figures as \`airlock cost report\`): a dashboard’s time range cannot start on the 1st by itself. The row below it sums the dashboard’s time range instead.`,
      `- **The bill**: the AWS Budget \`${workflow.budgetName}\` tracks actual spend on resources tagged \`airlock:workflow=${name}\` (the tag must be activated as a cost allocation tag in Billing) and alerts at 80 % spent and 100 % forecast.`,
    ].join('\n'),
  });

  const costByComponent = new cloudwatch.GraphWidget({
    title: `${name}: estimated cost per day by component (USD)`,
    width: 12,
    height: 6,
    stacked: true,
    left: [...metrics.metricCostComponents(name, { period: DAY }), ...(llmCost ? [llmCost] : [])],
    leftYAxis: { min: 0, label: 'USD', showUnits: false },
  });

  const runsPerDay = new cloudwatch.GraphWidget({
    title: `${name}: runs and calls per day`,
    width: 6,
    height: 6,
    left: [runs, metrics.metricCalls(name, { period: DAY })],
    leftYAxis: { min: 0, showUnits: false },
  });

  const costPerRun = new cloudwatch.GraphWidget({
    title: `${name}: estimated cost per run (USD)`,
    width: 6,
    height: 6,
    left: [
      new cloudwatch.MathExpression({
        // No runs that day: no point, rather than a division by zero.
        expression: 'IF(runs > 0, cost / runs)',
        usingMetrics: { runs, cost },
        period: DAY,
        label: 'Cost per run',
      }),
    ],
    leftYAxis: { min: 0, label: 'USD', showUnits: false },
    legendPosition: cloudwatch.LegendPosition.HIDDEN,
  });

  const valueAgainstCost = new cloudwatch.GraphWidget({
    title: `${name}: value against estimated cost per day (USD)`,
    width: 12,
    height: 6,
    left: [
      new cloudwatch.MathExpression({
        expression: `runs * ${mathNumber(valuePerRun)}`,
        usingMetrics: { runs },
        period: DAY,
        label: 'Value (minutes saved × hourly rate)',
      }),
      new cloudwatch.MathExpression({
        expression: 'cost',
        usingMetrics: { cost },
        period: DAY,
        label: 'Estimated cost',
      }),
    ],
    leftYAxis: { min: 0, label: 'USD', showUnits: false },
  });

  const roi = new cloudwatch.GraphWidget({
    title: `${name}: ROI per day`,
    width: 6,
    height: 6,
    left: [
      new cloudwatch.MathExpression({
        expression: llmCost
          ? `IF(cost > 0 AND llm > 0, 100 * (runs * ${mathNumber(valuePerRun)} - cost) / cost)`
          : `IF(cost > 0, 100 * (runs * ${mathNumber(valuePerRun)} - cost) / cost)`,
        usingMetrics: llmCost ? { runs, cost, llm: llmCost } : { runs, cost },
        period: DAY,
        label: 'ROI (%)',
      }),
    ],
    leftYAxis: { showUnits: false },
    legendPosition: cloudwatch.LegendPosition.HIDDEN,
  });

  const topOperations = new cloudwatch.GraphWidget({
    title: `${name}: estimated cost by operation over the time range (USD)`,
    width: 6,
    height: 6,
    view: cloudwatch.GraphWidgetView.BAR,
    setPeriodToTimeRange: true,
    left: workflow.operations.map((op) => metrics.metricOperationCost(name, op, { period: DAY })),
  });

  const guardrails = new cloudwatch.GraphWidget({
    title: `${name}: denials, approvals, failures and shadow-policy refusals per day`,
    width: 12,
    height: 6,
    left: [
      metrics.metricDenials(name, { period: DAY }),
      metrics.metricApprovalsRequested(name, { period: DAY }),
      metrics.metricFailures(name, { period: DAY }),
      metrics.metricShadowRefusals(name, { period: DAY }),
      ...(workflow.watchesToolDefinitions
        ? [metrics.metricToolDefinitionChanges(name, { period: DAY })]
        : []),
    ],
    leftYAxis: { min: 0, showUnits: false },
  });

  const bytesOut = new cloudwatch.GraphWidget({
    title: `${name}: bytes returned to the agent per day`,
    width: 12,
    height: 6,
    left: [metrics.metricBytesOut(name, { period: DAY })],
    leftYAxis: { min: 0 },
    legendPosition: cloudwatch.LegendPosition.HIDDEN,
  });

  // The latest snapshot of the month so far (not a sum over the time range): Maximum of the last period.
  const monthToDate = metrics.metricMonthToDateCost(name);
  const monthToDateWidget = new cloudwatch.SingleValueWidget({
    title: `${name}: this month (UTC) against the ${usd(workflow.monthlyBudgetUsd)} USD budget`,
    width: 24,
    height: 3,
    metrics: [
      monthToDate,
      new cloudwatch.MathExpression({
        expression: `100 * mtd / ${mathNumber(workflow.monthlyBudgetUsd)}`,
        usingMetrics: { mtd: monthToDate },
        period: monthToDate.period,
        label: 'Budget used this month (%)',
      }),
      metrics.metricMonthForecastCost(name),
    ],
  });

  const budget = new cloudwatch.SingleValueWidget({
    title: `${name}: spend over the time range against the budget`,
    width: 12,
    height: 3,
    setPeriodToTimeRange: true,
    metrics: [
      new cloudwatch.MathExpression({
        expression: 'total',
        usingMetrics: { total: cost },
        period: DAY,
        label: 'Spend (USD)',
      }),
      new cloudwatch.MathExpression({
        expression: `100 * total / ${mathNumber(workflow.monthlyBudgetUsd)}`,
        usingMetrics: { total: cost },
        period: DAY,
        label: `Share of the ${usd(workflow.monthlyBudgetUsd)} USD budget (%)`,
      }),
    ],
  });

  return [
    [explanation],
    [monthToDateWidget],
    [budget],
    [costByComponent, runsPerDay, costPerRun],
    [valueAgainstCost, roi, topOperations],
    [guardrails, bytesOut],
  ];
}
