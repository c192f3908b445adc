import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ConfigError, parseConfig } from '../../lib/config/load-config';
import type { AirlockConfig } from '../../lib/config/schema';
import { AnomalyAlarm } from '../../lib/constructs/anomaly-alarm';
import { CostDashboard } from '../../lib/constructs/cost-dashboard';
import { SigningRateAlarm } from '../../lib/constructs/signing-rate-alarm';
import { ToolDefinitionChangeAlarm } from '../../lib/constructs/tool-definition-change-alarm';
import { WorkflowBudget } from '../../lib/constructs/workflow-budget';
import { WorkflowSpendAlarms } from '../../lib/constructs/workflow-spend-alarms';
import { FUNCTION_ENV } from '../../lib/contracts/environment';
import {
  MONTH_TO_DATE_METRICS,
  READ_LOG_FAILURES_METRIC,
  SHADOW_REFUSALS_METRIC,
  TOOL_DEFINITION_CHANGES_METRIC,
  USAGE_METRIC_NAMES,
} from '../../lib/contracts/metrics';
import { AirlockMetrics } from '../../lib/metrics/airlock-metrics';
import {
  type AirlockTestApp,
  exampleConfig,
  mcpServerConfig,
  REPO_ROOT,
  synthesizeAirlock,
} from './airlock-test-app';
import { fromFoundationMatch } from './foundation-reference';

/**
 * The measured LLM cost of a sonnet workflow (3 and 15 USD per million): each day the larger of the token
 * counts Bedrock files under the profile's ARN (`tin`) and under its id (`tinid`).
 */
const MEASURED_LLM_COST =
  '(IF(FILL(tin, 0) > FILL(tinid, 0), FILL(tin, 0), FILL(tinid, 0)) * 3 + IF(FILL(tout, 0) > FILL(toutid, 0), FILL(tout, 0), FILL(toutid, 0)) * 15) / 1000000';

/** The example pilot plus a second workflow and non-default monitoring settings. */
function twoWorkflowConfig(): AirlockConfig {
  const config = exampleConfig();
  return {
    ...config,
    monitoring: { kmsSignQuotaPerSecond: 1000, kmsSignAlarmShare: 0.5, anomalyBandWidth: 3 },
    prices: { ...config.prices, hourlyRateUsd: 90 },
    workflows: {
      ...config.workflows,
      'travel-review': {
        ...config.workflows['expense-summary'],
        description: 'Reviews travel receipts',
        owner: 'alice',
        costCentre: 'FIN-077',
        monthlyBudgetUsd: 50,
        minutesSavedPerRun: 10,
        connectors: { receipts: ['list'] },
      },
    },
  };
}

type MetricRow = (string | Record<string, unknown>)[];
interface Widget {
  type: string;
  properties: {
    title?: string;
    markdown?: string;
    view?: string;
    stacked?: boolean;
    setPeriodToTimeRange?: boolean;
    metrics?: MetricRow[];
  };
}

/** The dashboard's widgets, with the region token CloudFormation fills in replaced by a placeholder. */
function dashboardWidgets(template: Template): Widget[] {
  const dashboards = template.findResources('AWS::CloudWatch::Dashboard');
  expect(Object.keys(dashboards)).toHaveLength(1);
  const body = Object.values(dashboards)[0].Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  const text = body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'REGION')).join('');
  return (JSON.parse(text) as { widgets: Widget[] }).widgets;
}

/** A metric row as `{namespace, name, dimensions, options}`, or `{expression, options}` for metric math. */
function parseRow(row: MetricRow): {
  namespace?: string;
  name?: string;
  dimensions: Record<string, string>;
  options: Record<string, unknown>;
} {
  const last = row.at(-1);
  const options = typeof last === 'object' ? last : {};
  const plain = row.filter((part): part is string => typeof part === 'string');
  const dimensions: Record<string, string> = {};
  for (let i = 2; i + 1 < plain.length; i += 2) dimensions[plain[i]] = plain[i + 1];
  return { namespace: plain[0], name: plain[1], dimensions, options };
}

/** An alarm's one metric of the `workflow` dimension, in the `Metrics` form CDK writes for a labelled metric. */
function singleMetric(name: string, workflow: string, period: number, stat: string) {
  return Match.objectLike({
    MetricStat: {
      Metric: { Namespace: 'Airlock', MetricName: name, Dimensions: [{ Name: 'workflow', Value: workflow }] },
      Period: period,
      Stat: stat,
    },
    ReturnData: true,
  });
}

function widgetTitled(widgets: Widget[], title: string): Widget {
  const found = widgets.filter((w) => w.properties.title === title);
  expect(found).toHaveLength(1);
  return found[0];
}

describe('Class: MonitoringStack', () => {
  let airlock: AirlockTestApp;
  let t: Template;
  let alertsTopicImport: unknown;

  beforeAll(() => {
    airlock = synthesizeAirlock(twoWorkflowConfig());
    t = airlock.monitoringTemplate;
    alertsTopicImport = fromFoundationMatch('AlertsTopic');
  });

  describe('Method: constructor', () => {
    it('matches the snapshot for the example pilot', () => {
      // Act
      const example = synthesizeAirlock();

      // Assess
      expect(example.monitoring.stackName).toBe('Airlock-pilot-Monitoring');
      expect(example.monitoringTemplate.toJSON()).toMatchSnapshot();
    });

    it('shows, for each workflow, its estimated cost per day stacked by component', () => {
      // Prepare
      const widgets = dashboardWidgets(t);

      for (const workflow of ['expense-summary', 'travel-review']) {
        // Act
        const graph = widgetTitled(widgets, `${workflow}: estimated cost per day by component (USD)`);
        const all = graph.properties.metrics?.map(parseRow) ?? [];
        // Airlock's own components; the measured LLM cost is Bedrock's metrics (tested below).
        const rows = all.filter((r) => r.namespace === 'Airlock');
        // Each under both spellings of ModelId: the profile's ARN and its id (docs/cost.md).
        const bedrock = all.filter((r) => r.namespace === 'AWS/Bedrock');
        expect(bedrock.map((r) => r.name)).toEqual([
          'InputTokenCount',
          'OutputTokenCount',
          'InputTokenCount',
          'OutputTokenCount',
        ]);

        // Assess
        expect(graph.properties.stacked).toBe(true);
        expect(rows.map((r) => r.name)).toEqual([
          'CostApiGatewayUsd',
          'CostWafUsd',
          'CostLambdaUsd',
          'CostDynamoDbUsd',
          'CostKmsUsd',
          'CostSecretsManagerUsd',
          'CostLogsUsd',
          'CostXRayUsd',
          'CostS3Usd',
          'CostLlmUsd',
        ]);
        for (const row of rows) {
          expect(row.namespace).toBe('Airlock');
          expect(row.dimensions).toEqual({ workflow });
          expect(row.options).toMatchObject({ stat: 'Sum', period: 86_400 });
        }
      }
    });

    it('computes cost per run, value and ROI with metric math from the workflow’s minutes saved and the hourly rate', () => {
      // Prepare
      const widgets = dashboardWidgets(t);
      const cases = [
        // 45 minutes × 90 USD an hour / 60 = 67.5 USD per run
        { workflow: 'expense-summary', valuePerRun: '67.5' },
        // 10 minutes × 90 USD an hour / 60 = 15 USD per run
        { workflow: 'travel-review', valuePerRun: '15' },
      ];

      for (const { workflow, valuePerRun } of cases) {
        // Act
        const expressionsOf = (title: string) =>
          (widgetTitled(widgets, title).properties.metrics ?? [])
            .map(parseRow)
            .map((r) => r.options.expression)
            .filter(Boolean);
        const runs = widgetTitled(widgets, `${workflow}: runs and calls per day`).properties.metrics?.map(
          parseRow,
        );

        // Assess
        expect(runs).toEqual([
          expect.objectContaining({ name: 'Runs', dimensions: { workflow } }),
          expect.objectContaining({ name: 'Invocations', dimensions: { workflow } }),
        ]);
        expect(expressionsOf(`${workflow}: estimated cost per run (USD)`)).toEqual([
          'IF(runs > 0, cost / runs)',
          // The cost is Airlock's estimate plus the tokens Bedrock measured, at the model's prices.
          'FILL(airlock, 0) + llm',
          MEASURED_LLM_COST,
        ]);
        expect(expressionsOf(`${workflow}: value against estimated cost per day (USD)`)).toEqual([
          `runs * ${valuePerRun}`,
          'cost',
          'FILL(airlock, 0) + llm',
          MEASURED_LLM_COST,
        ]);
        // ROI in percent, as in the report; none on a day without measured LLM cost.
        expect(expressionsOf(`${workflow}: ROI per day`)).toEqual([
          `IF(cost > 0 AND llm > 0, 100 * (runs * ${valuePerRun} - cost) / cost)`,
          'FILL(airlock, 0) + llm',
          MEASURED_LLM_COST,
        ]);
        const inputs = (widgetTitled(widgets, `${workflow}: ROI per day`).properties.metrics ?? [])
          .map(parseRow)
          .filter((r) => r.name);
        expect(inputs.map((r) => [r.options.id, r.name, r.options.period])).toEqual([
          ['runs', 'Runs', 86_400],
          ['airlock', 'EstimatedCostUsd', 86_400],
          ['tin', 'InputTokenCount', 86_400],
          ['tout', 'OutputTokenCount', 86_400],
          ['tinid', 'InputTokenCount', 86_400],
          ['toutid', 'OutputTokenCount', 86_400],
        ]);
      }
    });

    it('shows the cost of every configured operation of each workflow, and only those', () => {
      // Prepare
      const widgets = dashboardWidgets(t);
      const expected = {
        'expense-summary': [
          'receipts/list',
          'receipts/read',
          'erp/lookupGlCode',
          'erp/createJournalEntry',
          'ledger/spendByGlCode',
          'ledger/entriesByVendor',
          'handbook/search',
          'everything/echo',
          'everything/compressFile',
        ],
        'travel-review': ['receipts/list'],
      };

      for (const [workflow, operations] of Object.entries(expected)) {
        // Act
        const widget = widgetTitled(
          widgets,
          `${workflow}: estimated cost by operation over the time range (USD)`,
        );
        const rows = widget.properties.metrics?.map(parseRow) ?? [];

        // Assess
        expect(widget.properties.view).toBe('bar');
        expect(widget.properties.setPeriodToTimeRange).toBe(true);
        expect(rows.map((r) => `${r.dimensions.connector}/${r.dimensions.operation}`)).toEqual(operations);
        for (const row of rows) {
          expect(row.name).toBe('EstimatedCostUsd');
          expect(row.dimensions.workflow).toBe(workflow);
        }
      }
    });

    it('explains the figures of each workflow in a text widget', () => {
      // Prepare
      const texts = dashboardWidgets(t)
        .filter((w) => w.type === 'text')
        .map((w) => w.properties.markdown ?? '');

      // Assess
      // The example's three workflows and the one this test adds, in config order.
      expect(texts).toHaveLength(4);
      expect(texts[0]).toContain('## Workflow `expense-summary`');
      expect(texts[0]).toContain('**67.50 USD per run**');
      expect(texts[0]).toContain('**Run**: one access token’s work for the workflow');
      expect(texts[0]).toContain('`airlock-pilot-expense-summary`');
      expect(texts[1]).toContain('## Workflow `customer-follow-up`');
      expect(texts[2]).toContain('## Workflow `onboarding-checklist`');
      expect(texts[3]).toContain('## Workflow `travel-review`');
      expect(texts[3]).toContain('cost centre **FIN-077**, budget **50.00 USD** a month');
    });

    it('uses only metric names the functions publish, in their namespace', () => {
      // Prepare
      // What the functions write per call, and the month to date the cost-report function writes.
      const written = new Set<string>([
        ...USAGE_METRIC_NAMES,
        SHADOW_REFUSALS_METRIC,
        TOOL_DEFINITION_CHANGES_METRIC,
        ...Object.values(MONTH_TO_DATE_METRICS),
      ]);

      // Act
      const used = dashboardWidgets(t)
        .flatMap((w) => w.properties.metrics ?? [])
        .map(parseRow)
        .filter((r) => r.name);

      // Assess
      expect(used.length).toBeGreaterThan(10);
      for (const row of used) {
        // Airlock's metrics, or Bedrock's token counts of a workflow's inference profile.
        if (row.namespace === 'AWS/Bedrock') {
          expect(['InputTokenCount', 'OutputTokenCount']).toContain(row.name);
          continue;
        }
        expect(row.namespace).toBe('Airlock');
        expect(written).toContain(row.name);
      }
    });

    it('creates one monthly cost budget per workflow, filtered by its cost allocation tag, alerting at 80 % actual and 100 % forecast', () => {
      // Prepare
      const cases = [
        { workflow: 'expense-summary', limit: 200 },
        { workflow: 'customer-follow-up', limit: 100 },
        { workflow: 'onboarding-checklist', limit: 50 },
        { workflow: 'travel-review', limit: 50 },
      ];

      // Assess
      t.resourceCountIs('AWS::Budgets::Budget', cases.length);
      for (const { workflow, limit } of cases) {
        const subscribers = [{ SubscriptionType: 'SNS', Address: alertsTopicImport }];
        t.hasResourceProperties('AWS::Budgets::Budget', {
          Budget: {
            BudgetName: `airlock-pilot-${workflow}`,
            BudgetType: 'COST',
            TimeUnit: 'MONTHLY',
            BudgetLimit: { Amount: limit, Unit: 'USD' },
            CostFilters: { TagKeyValue: [`user:airlock:workflow$${workflow}`] },
          },
          NotificationsWithSubscribers: [
            {
              Notification: {
                NotificationType: 'ACTUAL',
                ComparisonOperator: 'GREATER_THAN',
                Threshold: 80,
                ThresholdType: 'PERCENTAGE',
              },
              Subscribers: subscribers,
            },
            {
              Notification: {
                NotificationType: 'FORECASTED',
                ComparisonOperator: 'GREATER_THAN',
                Threshold: 100,
                ThresholdType: 'PERCENTAGE',
              },
              Subscribers: subscribers,
            },
          ],
          ResourceTags: Match.arrayWith([{ Key: 'airlock:workflow', Value: workflow }]),
        });
      }
    });

    it.each([
      ['expense-summary', 'BytesOut'],
      ['expense-summary', 'Denials'],
      ['travel-review', 'BytesOut'],
      ['travel-review', 'Denials'],
    ])(
      'alarms on the %s workflow’s %s above its anomaly band of the configured width',
      (workflow, metricName) => {
        // Prepare
        const dimensions = [{ Name: 'workflow', Value: workflow }];

        // Assess
        t.hasResourceProperties('AWS::CloudWatch::AnomalyDetector', {
          SingleMetricAnomalyDetector: {
            Namespace: 'Airlock',
            MetricName: metricName,
            Dimensions: dimensions,
            Stat: 'Sum',
          },
        });
        t.hasResourceProperties('AWS::CloudWatch::Alarm', {
          ComparisonOperator: 'GreaterThanUpperThreshold',
          ThresholdMetricId: 'expr_1',
          EvaluationPeriods: 3,
          DatapointsToAlarm: 2,
          TreatMissingData: 'notBreaching',
          Metrics: Match.arrayWith([
            Match.objectLike({ Id: 'expr_1', Expression: 'ANOMALY_DETECTION_BAND(m0, 3)' }),
            Match.objectLike({
              Id: 'm0',
              MetricStat: {
                Metric: { Namespace: 'Airlock', MetricName: metricName, Dimensions: dimensions },
                Period: 300,
                Stat: 'Sum',
              },
            }),
          ]),
          AlarmActions: [alertsTopicImport],
          OKActions: [alertsTopicImport],
          Tags: Match.arrayWith([{ Key: 'airlock:workflow', Value: workflow }]),
        });
      },
    );

    it.each([
      ['ARN', 'InferenceProfileexpensesummary[0-9A-F]+InferenceProfileArn'],
      ['id', 'InferenceProfileexpensesummary[0-9A-F]+InferenceProfileId'],
    ])(
      'watches the expense-summary model’s measured input tokens for a runaway loop with the profile named by its %s (Bedrock’s ModelId may carry either)',
      (_by, output) => {
        // Assess
        t.hasResourceProperties('AWS::CloudWatch::AnomalyDetector', {
          SingleMetricAnomalyDetector: {
            Namespace: 'AWS/Bedrock',
            MetricName: 'InputTokenCount',
            Dimensions: [{ Name: 'ModelId', Value: fromFoundationMatch(output) }],
            Stat: 'Sum',
          },
        });
        t.hasResourceProperties('AWS::CloudWatch::Alarm', {
          ComparisonOperator: 'GreaterThanUpperThreshold',
          Metrics: Match.arrayWith([
            Match.objectLike({
              MetricStat: Match.objectLike({
                Metric: {
                  Namespace: 'AWS/Bedrock',
                  MetricName: 'InputTokenCount',
                  Dimensions: [{ Name: 'ModelId', Value: fromFoundationMatch(output) }],
                },
              }),
            }),
          ]),
          AlarmActions: [alertsTopicImport],
          Tags: Match.arrayWith([{ Key: 'airlock:workflow', Value: 'expense-summary' }]),
        });
      },
    );

    it('alarms when a workflow with an llm spends more in a day than the factor of its pro-rated budget, Airlock estimate plus measured LLM', () => {
      // Prepare: expense-summary has a 200 USD budget and the default factor 2: 2 × 200 ÷ 30.4375.
      const threshold = Math.round(((2 * 200) / 30.4375) * 10_000) / 10_000;

      // Assess
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: threshold,
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'FILL(airlock, 0) + llm', ReturnData: true }),
          Match.objectLike({
            Id: 'airlock',
            MetricStat: {
              Metric: {
                Namespace: 'Airlock',
                MetricName: 'EstimatedCostUsd',
                Dimensions: [{ Name: 'workflow', Value: 'expense-summary' }],
              },
              Period: 86400,
              Stat: 'Sum',
            },
          }),
          Match.objectLike({ Id: 'llm', Expression: MEASURED_LLM_COST }),
          // The profile's id, from the Foundation stack's profile.
          Match.objectLike({
            Id: 'tinid',
            MetricStat: Match.objectLike({
              Metric: Match.objectLike({
                MetricName: 'InputTokenCount',
                Dimensions: [{ Name: 'ModelId', Value: fromFoundationMatch('InferenceProfileId') }],
              }),
            }),
          }),
        ]),
        AlarmActions: [alertsTopicImport],
        OKActions: [alertsTopicImport],
        Tags: Match.arrayWith([{ Key: 'airlock:workflow', Value: 'expense-summary' }]),
      });
    });

    it('alarms on the Airlock estimate alone for a workflow without an llm', () => {
      // Prepare: onboarding-checklist has a 50 USD budget and no llm.
      const threshold = Math.round(((2 * 50) / 30.4375) * 10_000) / 10_000;

      // Assess
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: threshold,
        Metrics: [singleMetric('EstimatedCostUsd', 'onboarding-checklist', 86400, 'Sum')],
        AlarmActions: [alertsTopicImport],
      });
    });

    it.each([
      ['expense-summary', 200],
      ['travel-review', 50],
    ])(
      'alarms when the %s workflow’s month to date reaches the configured share of its %d USD budget',
      (workflow, budget) => {
        // Assess
        t.hasResourceProperties('AWS::CloudWatch::Alarm', {
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          Threshold: 0.8 * budget,
          Metrics: [singleMetric('MonthToDateCostUsd', workflow, 21600, 'Maximum')],
          EvaluationPeriods: 1,
          TreatMissingData: 'notBreaching',
          AlarmActions: [alertsTopicImport],
          OKActions: [alertsTopicImport],
          Tags: Match.arrayWith([{ Key: 'airlock:workflow', Value: workflow }]),
        });
      },
    );

    it('takes the spend alarms’ factor and share from the cost section', () => {
      // Act
      const app = synthesizeAirlock({
        ...exampleConfig(),
        cost: { reportRecipients: [], dailyBudgetAlarmFactor: 3, monthToDateAlarmShare: 1 },
      });

      // Assess
      app.monitoringTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: [singleMetric('MonthToDateCostUsd', 'customer-follow-up', 21600, 'Maximum')],
        Threshold: 100,
      });
      app.monitoringTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: [singleMetric('EstimatedCostUsd', 'customer-follow-up', 86400, 'Sum')],
        Threshold: Math.round(((3 * 100) / 30.4375) * 10_000) / 10_000,
      });
    });

    it('shows each workflow’s true month to date, its share of the budget and the forecast, from the snapshot metrics', () => {
      // Act
      const widget = widgetTitled(
        dashboardWidgets(t),
        'expense-summary: this month (UTC) against the 200.00 USD budget',
      );
      const rows = (widget.properties.metrics ?? []).map(parseRow);

      // Assess: the latest snapshot, not a sum over the dashboard's time range.
      expect(widget.type).toBe('metric');
      expect(widget.properties.setPeriodToTimeRange).toBeUndefined();
      expect(rows).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            namespace: 'Airlock',
            name: 'MonthToDateCostUsd',
            dimensions: { workflow: 'expense-summary' },
            options: expect.objectContaining({ stat: 'Maximum' }),
          }),
          expect.objectContaining({
            name: 'MonthForecastCostUsd',
            dimensions: { workflow: 'expense-summary' },
          }),
          expect.objectContaining({
            options: expect.objectContaining({ expression: '100 * mtd / 200' }),
          }),
        ]),
      );
    });

    it('creates each anomaly detector before its alarm', () => {
      // Prepare
      const detectors = Object.keys(t.findResources('AWS::CloudWatch::AnomalyDetector'));
      const anomalyAlarms = Object.values(
        t.findResources('AWS::CloudWatch::Alarm', {
          Properties: { ComparisonOperator: 'GreaterThanUpperThreshold' },
        }),
      );

      // Assess
      // Bytes out and denials per workflow (four), and measured LLM input tokens for the two with an llm,
      // the profile named by its ARN and by its id.
      expect(detectors).toHaveLength(12);
      expect(anomalyAlarms).toHaveLength(12);
      for (const alarm of anomalyAlarms) {
        expect(alarm.DependsOn).toHaveLength(1);
        expect(detectors).toContain(alarm.DependsOn[0]);
      }
    });

    it('alarms when KMS ECC calls per second exceed the configured share of the configured quota', () => {
      // Assess: 1000/s × 0.5
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Threshold: 500,
        ComparisonOperator: 'GreaterThanThreshold',
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'calls / PERIOD(calls)', ReturnData: true }),
          Match.objectLike({
            Id: 'calls',
            ReturnData: false,
            MetricStat: {
              Metric: {
                Namespace: 'AWS/Usage',
                MetricName: 'CallCount',
                Dimensions: [
                  { Name: 'Class', Value: 'None' },
                  { Name: 'Resource', Value: 'CryptographicOperationsEcc' },
                  { Name: 'Service', Value: 'KMS' },
                  { Name: 'Type', Value: 'API' },
                ],
              },
              Period: 60,
              Stat: 'Sum',
            },
          }),
        ]),
        AlarmActions: [alertsTopicImport],
      });
    });

    it('defaults the signing-rate alarm to 80 % of a 300 per second quota', () => {
      // Act
      const example = synthesizeAirlock();

      // Assess
      expect(example.monitoring.signingRateAlarm.thresholdPerSecond).toBe(240);
      example.monitoringTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', { Threshold: 240 });
    });

    it('depends on the foundation stack only', () => {
      // Assess
      expect(airlock.monitoring.dependencies.map((s) => s.stackName)).toEqual(['Airlock-pilot-Foundation']);
    });
  });
});

describe('Class: MonthlyCostReport', () => {
  let airlock: AirlockTestApp;

  beforeAll(() => {
    airlock = synthesizeAirlock();
  });

  const functionId = () =>
    airlock.monitoring.getLogicalId(
      airlock.monitoring.costReport.function.function.node.defaultChild as CfnElement,
    );

  describe('Method: constructor', () => {
    it("runs last month's report at 06:00 UTC on the 1st, with the task in the input, retried twice into its dead-letter queue", () => {
      // Assess
      airlock.monitoringTemplate.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'cron(0 6 1 * ? *)',
        State: 'ENABLED',
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [functionId(), 'Arn'] },
            Input: JSON.stringify({ task: 'monthly-report' }),
            RetryPolicy: { MaximumRetryAttempts: 2 },
            DeadLetterConfig: { Arn: Match.anyValue() },
          }),
        ],
      });
    });

    it('writes the month to date every six hours', () => {
      // Assess
      airlock.monitoringTemplate.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'cron(15 0/6 * * ? *)',
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [functionId(), 'Arn'] },
            Input: JSON.stringify({ task: 'month-to-date' }),
          }),
        ],
      });
    });

    it('is its own function (lambdas/cost-report) that may read metrics and publish to the cost-reports topic only', () => {
      // Prepare
      const statements = Object.values(
        airlock.monitoringTemplate.findResources('AWS::IAM::Policy', {
          Properties: {
            Roles: [
              {
                Ref: airlock.monitoring.getLogicalId(
                  airlock.monitoring.costReport.function.role.node.defaultChild as CfnElement,
                ),
              },
            ],
          },
        }),
      ).flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[] }[]);
      const actions = statements.flatMap((st) => [st.Action].flat()).sort();

      // Assess
      airlock.monitoringTemplate.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'Airlock cost-report',
        Timeout: 60,
        Environment: {
          Variables: Match.objectLike({
            [FUNCTION_ENV.costReportsTopicArn]: fromFoundationMatch('CostReportsTopic'),
            [FUNCTION_ENV.inferenceProfiles]: Match.anyValue(),
          }),
        },
      });
      expect([...new Set(actions)]).toEqual([
        'cloudwatch:GetMetricData',
        'kms:Decrypt',
        'kms:GenerateDataKey',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sns:Publish',
        'sqs:SendMessage',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ]);
    });
  });
});

describe('Class: FoundationStack', () => {
  describe('Method: constructor', () => {
    let foundation: Template;

    beforeAll(() => {
      foundation = synthesizeAirlock().foundationTemplate;
    });

    it.each([
      ['budgets.amazonaws.com', 'budgets::'],
      ['cloudwatch.amazonaws.com', 'cloudwatch:'],
    ])('lets %s publish to the alerts topic for this account only', (service, arnPart) => {
      // Prepare
      const policies = Object.values(foundation.findResources('AWS::SNS::TopicPolicy'));

      // Act
      const statements = policies
        .flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, unknown>[])
        .filter((st) => (st.Principal as { Service?: string } | undefined)?.Service === service);

      // Assess
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatchObject({
        Effect: 'Allow',
        Action: 'sns:Publish',
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', expect.arrayContaining([`:${arnPart}`])] } },
        },
      });
    });

    it('subscribes cost.reportRecipients by e-mail to a cost-reports topic encrypted with the data key', () => {
      // Prepare
      const topics = foundation.findResources('AWS::SNS::Topic', {
        Properties: { DisplayName: 'Airlock pilot: cost reports' },
      });
      const [topicId] = Object.keys(topics);

      // Assess
      expect(Object.keys(topics)).toHaveLength(1);
      // The data key, as the other topics use it.
      const alerts = Object.values(
        foundation.findResources('AWS::SNS::Topic', { Properties: { DisplayName: 'Airlock pilot: alerts' } }),
      );
      expect(topics[topicId].Properties.KmsMasterKeyId).toEqual({
        'Fn::GetAtt': [expect.any(String), 'Arn'],
      });
      expect(topics[topicId].Properties.KmsMasterKeyId).toEqual(alerts[0].Properties.KmsMasterKeyId);
      foundation.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'finance@example.com',
        TopicArn: { Ref: topicId },
        RedrivePolicy: { deadLetterTargetArn: Match.anyValue() },
      });
    });

    it('lets Budgets and CloudWatch use the data key for the encrypted topics, for this account only, and no EventBridge', () => {
      // Act
      const statements = Object.values(foundation.findResources('AWS::KMS::Key')).flatMap(
        (key) => key.Properties.KeyPolicy.Statement as Record<string, unknown>[],
      );
      const byService = (service: string) =>
        statements.filter((st) => (st.Principal as { Service?: string } | undefined)?.Service === service);

      // Assess
      for (const [service, arnPart] of [
        ['budgets.amazonaws.com', ':budgets::'],
        ['cloudwatch.amazonaws.com', ':cloudwatch:'],
      ]) {
        expect(byService(service)).toEqual([
          expect.objectContaining({
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', expect.arrayContaining([arnPart])] } },
            },
          }),
        ]);
      }
      // EventBridge publishes through a role of its own (its KMS requests carry no source to condition on).
      expect(byService('events.amazonaws.com')).toEqual([]);
    });
  });
});

describe('Class: WorkflowBudget', () => {
  describe('Method: constructor', () => {
    it.each([
      [{ monthlyLimitUsd: 0 }, /monthlyLimitUsd of workflow "w" must be greater than 0 \(got 0\)/],
      [{ workflow: 'w'.repeat(100) }, /longer than the 100 characters AWS Budgets allows/],
    ])('refuses %j', (overrides, message) => {
      // Prepare
      const stack = new Stack(new App(), 'Probe');
      const topic = new sns.Topic(stack, 'Topic');

      // Act & Assess
      expect(
        () =>
          new WorkflowBudget(stack, 'Budget', {
            stage: 'test',
            workflow: 'w',
            monthlyLimitUsd: 10,
            topic,
            ...overrides,
          }),
      ).toThrow(message);
    });
  });
});

describe('Class: WorkflowSpendAlarms', () => {
  describe('Method: constructor', () => {
    it.each([
      [{ monthlyBudgetUsd: 0 }, /monthlyBudgetUsd of workflow "w" must be greater than 0 \(got 0\)/],
      [
        { dailyBudgetFactor: 0 },
        /dailyBudgetFactor must be greater than 0 \(got 0\); set cost\.dailyBudgetAlarmFactor/,
      ],
      [
        { monthToDateShare: -1 },
        /monthToDateShare must be greater than 0 \(got -1\); set cost\.monthToDateAlarmShare/,
      ],
    ])('refuses %j', (overrides, message) => {
      // Prepare
      const stack = new Stack(new App(), 'Probe');
      const topic = new sns.Topic(stack, 'Topic');

      // Act & Assess
      expect(
        () =>
          new WorkflowSpendAlarms(stack, 'Alarms', {
            stage: 'test',
            workflow: 'w',
            monthlyBudgetUsd: 10,
            topic,
            ...overrides,
          }),
      ).toThrow(message);
    });
  });
});

describe('Class: SigningRateAlarm', () => {
  describe('Method: constructor', () => {
    it.each([
      [{ quotaPerSecond: 0 }, /quotaPerSecond must be greater than 0 \(got 0\)/],
      [{ alarmShare: 1.5 }, /alarmShare must be more than 0 and at most 1 \(got 1.5\)/],
      [{ alarmShare: 0 }, /alarmShare must be more than 0 and at most 1 \(got 0\)/],
    ])('refuses %j', (overrides, message) => {
      // Prepare
      const stack = new Stack(new App(), 'Probe');
      const topic = new sns.Topic(stack, 'Topic');

      // Act & Assess
      expect(
        () =>
          new SigningRateAlarm(stack, 'Alarm', { quotaPerSecond: 300, alarmShare: 0.8, topic, ...overrides }),
      ).toThrow(message);
    });
  });
});

describe('Class: AnomalyAlarm', () => {
  describe('Method: constructor', () => {
    it.each([
      [{ bandWidth: 0 }, /bandWidth must be greater than 0 standard deviations \(got 0\)/],
      [
        { evaluationPeriods: 2, datapointsToAlarm: 3 },
        /datapointsToAlarm \(3\) cannot exceed evaluationPeriods \(2\)/,
      ],
    ])('refuses %j', (overrides, message) => {
      // Prepare
      const stack = new Stack(new App(), 'Probe');
      const topic = new sns.Topic(stack, 'Topic');

      // Act & Assess
      expect(
        () =>
          new AnomalyAlarm(stack, 'Alarm', {
            metric: new AirlockMetrics().metricDenials('w'),
            description: 'test',
            topic,
            ...overrides,
          }),
      ).toThrow(message);
    });
  });
});

describe('Class: CostDashboard', () => {
  describe('Method: constructor', () => {
    it.each([
      [
        { dashboardName: 'Airlock pilot' },
        /dashboardName "Airlock pilot" may only contain letters, digits, - and _/,
      ],
      [{ hourlyRateUsd: -1 }, /hourlyRateUsd must be 0 or more \(got -1\)/],
    ])('refuses %j', (overrides, message) => {
      // Prepare
      const stack = new Stack(new App(), 'Probe');

      // Act & Assess
      expect(
        () =>
          new CostDashboard(stack, 'Dashboard', {
            dashboardName: 'ok',
            workflows: [],
            hourlyRateUsd: 60,
            ...overrides,
          }),
      ).toThrow(message);
    });
  });
});

describe('Function: parseConfig', () => {
  const raw = () => {
    const { parse } = require('yaml') as typeof import('yaml');
    return parse(readFileSync(path.join(REPO_ROOT, 'config', 'airlock.config.yaml'), 'utf8')) as Record<
      string,
      unknown
    >;
  };

  it('fills in the monitoring defaults when the config leaves them out', () => {
    // Prepare
    const input = raw();
    delete input.monitoring;

    // Act
    const config = parseConfig(input);

    // Assess
    expect(config.monitoring).toEqual({
      kmsSignQuotaPerSecond: 300,
      kmsSignAlarmShare: 0.8,
      anomalyBandWidth: 2,
    });
  });

  it.each([
    [{ kmsSignAlarmShare: 1.2 }, /monitoring\.kmsSignAlarmShare: expected a share of at most 1/],
    [
      { kmsSignQuotaPerSecond: 0 },
      /monitoring\.kmsSignQuotaPerSecond: expected a request rate per second greater than 0/,
    ],
    [{ kmsSignQuotaPerSecond: 300, alarmShare: 0.5 }, /monitoring\.alarmShare/],
  ])('refuses monitoring %j naming the field', (monitoring, message) => {
    // Prepare
    const input = { ...raw(), monitoring };

    // Act & Assess
    expect(() => parseConfig(input)).toThrow(ConfigError);
    expect(() => parseConfig(input)).toThrow(message);
  });

  it('fills in the cost defaults when the config leaves them out', () => {
    // Prepare
    const input = raw();
    delete input.cost;

    // Act
    const config = parseConfig(input);

    // Assess
    expect(config.cost).toEqual({
      reportRecipients: [],
      dailyBudgetAlarmFactor: 2,
      monthToDateAlarmShare: 0.8,
    });
  });

  it.each([
    [{ reportRecipients: ['finance'] }, /cost\.reportRecipients\[0\]: Invalid email address/],
    [
      { dailyBudgetAlarmFactor: 0 },
      /cost\.dailyBudgetAlarmFactor: expected a factor of the pro-rated daily budget greater than 0/,
    ],
    [{ monthToDateAlarmShare: 0 }, /cost\.monthToDateAlarmShare: expected a share greater than 0/],
    [{ recipients: [] }, /cost\.recipients/],
  ])('refuses cost %j naming the field', (cost, message) => {
    // Prepare
    const input = { ...raw(), cost };

    // Act & Assess
    expect(() => parseConfig(input)).toThrow(ConfigError);
    expect(() => parseConfig(input)).toThrow(message);
  });
});

describe('Class: ReadLogFailureAlarm', () => {
  describe('Method: constructor', () => {
    let airlock: AirlockTestApp;
    let alertsTopicImport: Record<string, unknown>;

    beforeAll(() => {
      airlock = synthesizeAirlock();
      alertsTopicImport = fromFoundationMatch('AlertsTopic');
    });

    it('alarms on the first read the approvers could not be shown, in five minutes, for every workflow', () => {
      // Prepare
      const workflows = Object.keys(exampleConfig().workflows);
      expect(workflows.length).toBeGreaterThan(1);

      // Assess
      for (const workflow of workflows) {
        airlock.monitoringTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Metrics: [singleMetric(READ_LOG_FAILURES_METRIC, workflow, 300, 'Sum')],
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          EvaluationPeriods: 1,
          TreatMissingData: 'notBreaching',
          AlarmDescription: Match.stringLikeRegexp(
            `${workflow} workflow could not note what it read in the read log`,
          ),
          AlarmActions: [alertsTopicImport],
          OKActions: [alertsTopicImport],
          Tags: Match.arrayWith([{ Key: 'airlock:workflow', Value: workflow }]),
        });
        expect(airlock.monitoring.workflowAlarms.get(workflow)?.readLogFailures).toBeDefined();
      }
    });
  });
});

describe('Class: ToolDefinitionChangeAlarm', () => {
  describe('Method: constructor', () => {
    let withMcp: AirlockTestApp;
    let alertsTopicImport: Record<string, unknown>;

    beforeAll(() => {
      withMcp = synthesizeAirlock(mcpServerConfig());
      alertsTopicImport = fromFoundationMatch('AlertsTopic');
    });

    it('alarms on the first refusal of a changed upstream tool in five minutes, to the alerts topic', () => {
      // Assess
      withMcp.monitoringTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: [
          Match.objectLike({
            MetricStat: {
              Metric: {
                Namespace: 'Airlock',
                MetricName: TOOL_DEFINITION_CHANGES_METRIC,
                Dimensions: [{ Name: 'workflow', Value: 'expense-summary' }],
              },
              Period: 300,
              Stat: 'Sum',
            },
          }),
        ],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
        AlarmDescription: Match.stringLikeRegexp(
          'upstream MCP server \\(everything, tickets\\) changed a pinned tool',
        ),
        AlarmActions: [alertsTopicImport],
        OKActions: [alertsTopicImport],
        Tags: Match.arrayWith([{ Key: 'airlock:workflow', Value: 'expense-summary' }]),
      });
      expect(withMcp.monitoring.workflowAlarms.get('expense-summary')?.toolDefinitionChanges).toBeDefined();
    });

    it('is made only for workflows that use an mcp-server connector', () => {
      // Act
      const example = synthesizeAirlock();

      // Assess
      const watching = (template: Template) =>
        Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((alarm) =>
          JSON.stringify(alarm).includes(`"MetricName":"${TOOL_DEFINITION_CHANGES_METRIC}"`),
        );
      // The example's expense-summary reaches server-everything; its other workflows use no MCP server.
      const alarmed = watching(example.monitoringTemplate).map(
        (alarm) => JSON.stringify(alarm).match(/"Name":"workflow","Value":"([^"]+)"/)?.[1],
      );
      expect(alarmed).toEqual(['expense-summary']);
      expect(Object.keys(exampleConfig().workflows).length).toBeGreaterThan(1);
    });

    it("shows the refusals in the workflow's guardrails graph", () => {
      // Act
      const widgets = dashboardWidgets(withMcp.monitoringTemplate);

      // Assess
      const guardrails = widgets.find((w) => w.properties.title?.startsWith('expense-summary: denials'));
      expect(guardrails?.properties.metrics?.map((row) => parseRow(row).name)).toContain(
        TOOL_DEFINITION_CHANGES_METRIC,
      );
    });

    it('refuses a workflow without an mcp-server connector', () => {
      // Prepare
      const stack = new Stack(new App(), 'Probe');
      const topic = new sns.Topic(stack, 'Topic');

      // Act & Assess
      expect(
        () =>
          new ToolDefinitionChangeAlarm(stack, 'Alarm', {
            workflow: 'expense-summary',
            connectors: [],
            stage: 'pilot',
            topic,
          }),
      ).toThrow(/the expense-summary workflow has no mcp-server connector to watch/);
    });
  });
});
