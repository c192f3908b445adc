import { type Duration, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { AirlockConfig } from '../config/schema';
import { AnomalyAlarm } from '../constructs/anomaly-alarm';
import { CostDashboard } from '../constructs/cost-dashboard';
import { MonthlyCostReport } from '../constructs/monthly-cost-report';
import { ReadLogFailureAlarm } from '../constructs/read-log-failure-alarm';
import { SigningRateAlarm } from '../constructs/signing-rate-alarm';
import { ToolDefinitionChangeAlarm } from '../constructs/tool-definition-change-alarm';
import { WorkflowBudget } from '../constructs/workflow-budget';
import { WorkflowSpendAlarms } from '../constructs/workflow-spend-alarms';
import { AirlockMetrics } from '../metrics/airlock-metrics';
import type { FoundationStack } from './foundation-stack';
import { consumeWeakReferences } from './weak-references';

export interface MonitoringStackProps extends StackProps {
  /** The validated pilot config. */
  readonly config: AirlockConfig;
  /** Holds the alerts topic every alarm and budget notifies. */
  readonly foundation: FoundationStack;
}

/** The anomaly alarms of one workflow. */
export interface WorkflowAlarms {
  /** Bytes returned to agents far above the usual: possible exfiltration. */
  readonly bytesOut: AnomalyAlarm;
  /** Denials far above the usual: an agent probing what it may not do, or a broken policy. */
  readonly denials: AnomalyAlarm;
  /**
   * LLM input tokens (measured by Bedrock) far above the usual: a runaway loop. Workflows with an `llm`.
   * Bedrock's `ModelId` may name the profile by its ARN or by its id (docs/cost.md), so there is one
   * alarm on each; the one whose metric Bedrock does not write stays without data (not breaching).
   */
  readonly llmTokens?: { readonly byArn: AnomalyAlarm; readonly byId: AnomalyAlarm };
  /**
   * Any call refused because an upstream MCP server changed a pinned tool. Workflows that use an
   * mcp-server connector.
   */
  readonly toolDefinitionChanges?: ToolDefinitionChangeAlarm;
  /**
   * Any read the connector could not note in the read log, or held write whose list of documents read could
   * not be looked up: an approver shown less than the agent read.
   */
  readonly readLogFailures: ReadLogFailureAlarm;
}

/**
 * `Airlock-<stage>-Monitoring`: the finance dashboard, one AWS Budget per workflow, spend alarms per
 * workflow against its budget (a day's spend, the month to date), anomaly alarms on bytes out and
 * denials per workflow, and the KMS signing-rate alarm, all notifying the alerts topic; and the
 * cost-report function, which e-mails last month's report through the cost-reports topic on the 1st and
 * writes the month to date the dashboard and the month-to-date alarm read.
 *
 * A stack of its own rather than part of Api: it reads only metrics (by name) and the alerts topic,
 * so it depends on Foundation alone, can be deployed, changed or removed without touching the
 * functions, and a finance-only change (a budget) never shows up in the Api stack's diff.
 */
export class MonitoringStack extends Stack {
  public readonly metrics: AirlockMetrics;
  public readonly dashboard: CostDashboard;
  /** Workflow name → its budget. */
  public readonly budgets: ReadonlyMap<string, WorkflowBudget>;
  /** Workflow name → its anomaly alarms. */
  public readonly workflowAlarms: ReadonlyMap<string, WorkflowAlarms>;
  /** Workflow name → its spend alarms (a day's spend and the month to date against its budget). */
  public readonly spendAlarms: ReadonlyMap<string, WorkflowSpendAlarms>;
  public readonly signingRateAlarm: SigningRateAlarm;
  /** The cost-report function: last month's report by e-mail on the 1st, the month to date every 6 hours. */
  public readonly costReport: MonthlyCostReport;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const { config, foundation } = props;
    consumeWeakReferences(this);
    this.addStackDependency(foundation);
    Tags.of(this).add('airlock:stage', config.stage);
    const topic = foundation.alertsTopic.topic;
    this.metrics = new AirlockMetrics();

    /** The workflow's inference profile and its model's prices, when it has an `llm`. */
    const llmOf = (workflow: string) => {
      const profile = foundation.inferenceProfiles.get(workflow);
      const model = config.workflows[workflow]?.llm?.model;
      const price = model !== undefined ? config.prices.models[model] : undefined;
      return profile && price
        ? { llm: { profileArn: profile.profileArn, profileId: profile.profileId, ...price } }
        : {};
    };
    /**
     * The runaway-loop alarms of a workflow with an `llm`: Bedrock's input tokens on its profile, named
     * by ARN and by id (Bedrock's `ModelId` may carry either; only the one it writes ever has data).
     */
    const llmTokenAlarms = (workflow: string, period: Duration) => {
      const profile = foundation.inferenceProfiles.get(workflow);
      if (!profile) throw new Error(`MonitoringStack: workflow ${workflow} has no inference profile`);
      const alarm = (id: string, modelId: string, by: string) =>
        new AnomalyAlarm(this, id, {
          metric: this.metrics.metricBedrockTokens(modelId, 'input', { period }),
          bandWidth: config.monitoring.anomalyBandWidth,
          topic,
          workflow,
          description: `Airlock ${config.stage}: the ${workflow} workflow's model reads far more tokens than usual (measured by Bedrock on its inference profile, by ${by}). A runaway agent loop spends fast; check the runs and engage its kill switch if needed (docs/runbooks/kill-switch.md).`,
        });
      return {
        byArn: alarm(`LlmTokensAnomaly-${workflow}`, profile.profileArn, 'ARN'),
        byId: alarm(`LlmTokensAnomalyById-${workflow}`, profile.profileId, 'id'),
      };
    };
    /** The workflow's mcp-server connectors (whose tools are pinned). */
    const mcpConnectorsOf = (workflow: string) =>
      Object.keys(config.workflows[workflow]?.connectors ?? {}).filter(
        (connector) => config.connectors[connector]?.kind === 'mcp-server',
      );
    const budgets = new Map<string, WorkflowBudget>();
    const workflowAlarms = new Map<string, WorkflowAlarms>();
    const spendAlarms = new Map<string, WorkflowSpendAlarms>();
    for (const [workflow, w] of Object.entries(config.workflows)) {
      spendAlarms.set(
        workflow,
        new WorkflowSpendAlarms(this, `SpendAlarms-${workflow}`, {
          stage: config.stage,
          workflow,
          monthlyBudgetUsd: w.monthlyBudgetUsd,
          dailyBudgetFactor: config.cost.dailyBudgetAlarmFactor,
          monthToDateShare: config.cost.monthToDateAlarmShare,
          topic,
          metrics: this.metrics,
          ...llmOf(workflow),
        }),
      );
      budgets.set(
        workflow,
        new WorkflowBudget(this, `Budget-${workflow}`, {
          stage: config.stage,
          workflow,
          monthlyLimitUsd: w.monthlyBudgetUsd,
          topic,
        }),
      );
      const period = AnomalyAlarm.DEFAULT_PERIOD;
      workflowAlarms.set(workflow, {
        bytesOut: new AnomalyAlarm(this, `BytesOutAnomaly-${workflow}`, {
          metric: this.metrics.metricBytesOut(workflow, { period }),
          bandWidth: config.monitoring.anomalyBandWidth,
          topic,
          workflow,
          description: `Airlock ${config.stage}: the ${workflow} workflow returns far more data to agents than usual. Check the audit records for who reads what; engage its kill switch if nobody asked for it (docs/runbooks/kill-switch.md).`,
        }),
        denials: new AnomalyAlarm(this, `DenialsAnomaly-${workflow}`, {
          metric: this.metrics.metricDenials(workflow, { period }),
          bandWidth: config.monitoring.anomalyBandWidth,
          topic,
          workflow,
          description: `Airlock ${config.stage}: the ${workflow} workflow gets far more denials than usual. An agent may be probing what it may not do, or a policy change went wrong; check the audit records' reasons.`,
        }),
        readLogFailures: new ReadLogFailureAlarm(this, `ReadLogFailed-${workflow}`, {
          workflow,
          stage: config.stage,
          topic,
          metrics: this.metrics,
        }),
        ...(foundation.inferenceProfiles.has(workflow)
          ? {
              llmTokens: llmTokenAlarms(workflow, period),
            }
          : {}),
        ...(mcpConnectorsOf(workflow).length > 0
          ? {
              toolDefinitionChanges: new ToolDefinitionChangeAlarm(
                this,
                `ToolDefinitionChanged-${workflow}`,
                {
                  workflow,
                  connectors: mcpConnectorsOf(workflow),
                  stage: config.stage,
                  topic,
                  metrics: this.metrics,
                },
              ),
            }
          : {}),
      });
    }
    this.budgets = budgets;
    this.workflowAlarms = workflowAlarms;
    this.spendAlarms = spendAlarms;

    this.dashboard = new CostDashboard(this, 'FinanceDashboard', {
      dashboardName: `Airlock-${config.stage}-finance`,
      hourlyRateUsd: config.prices.hourlyRateUsd,
      metrics: this.metrics,
      workflows: Object.entries(config.workflows).map(([name, w]) => ({
        name,
        owner: w.owner,
        costCentre: w.costCentre,
        minutesSavedPerRun: w.minutesSavedPerRun,
        monthlyBudgetUsd: w.monthlyBudgetUsd,
        budgetName: budgets.get(name)?.budgetName ?? '',
        operations: Object.entries(w.connectors).flatMap(([connector, operations]) =>
          operations.map((operation) => ({ connector, operation })),
        ),
        watchesToolDefinitions: mcpConnectorsOf(name).length > 0,
        ...llmOf(name),
      })),
    });

    this.costReport = new MonthlyCostReport(this, 'CostReport', {
      config,
      encryptionKey: foundation.keys.dataKey,
      topic: foundation.costReportsTopic,
      inferenceProfileArns: new Map(
        [...foundation.inferenceProfiles].map(([workflow, profile]) => [workflow, profile.profileArn]),
      ),
    });

    this.signingRateAlarm = new SigningRateAlarm(this, 'SigningRateAlarm', {
      quotaPerSecond: config.monitoring.kmsSignQuotaPerSecond,
      alarmShare: config.monitoring.kmsSignAlarmShare,
      topic,
      metrics: this.metrics,
    });
  }
}
