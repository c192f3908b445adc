import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { AirlockConfig } from '../config/schema';
import { FUNCTION_ENV } from '../contracts/environment';
import { AirlockFunction } from './airlock-function';
import type { NotificationTopic } from './notification-topic';

/** The input each schedule passes the function (lambdas/cost-report/cost-report-handler.ts reads it). */
export const COST_REPORT_SCHEDULE_INPUT = {
  monthlyReport: { task: 'monthly-report' },
  monthToDate: { task: 'month-to-date' },
} as const;

export interface MonthlyCostReportProps {
  /** The validated pilot config (bundled with the function; its workflows and prices make the report). */
  readonly config: AirlockConfig;
  /** Customer managed key that encrypts the function's log group. */
  readonly encryptionKey: kms.IKey;
  /** The topic the report is published to; finance subscribes to it by e-mail (`cost.reportRecipients`). */
  readonly topic: NotificationTopic;
  /**
   * Workflow → its Bedrock application inference profile ARN, whose measured token counts the report adds.
   * @default - none: the report has Airlock's estimate and self-reported LLM usage only
   */
  readonly inferenceProfileArns?: ReadonlyMap<string, string>;
}

/**
 * The cost-report function and its two schedules (EventBridge rules, UTC):
 * - **monthly report**, `cron(0 6 1 * ? *)`: at 06:00 UTC on the 1st it builds last month's report (the
 *   same code as `airlock cost report`) and publishes it to the cost-reports topic. Six hours after the
 *   month ends, the last EMF lines of the month have long been turned into metrics.
 * - **month to date**, `cron(15 0/6 * * ? *)`: every six hours it writes each workflow's month to date and
 *   forecast (`MonthToDateCostUsd`, `MonthForecastCostUsd`), which the dashboard shows and the
 *   month-to-date alarm watches.
 *
 * A function of its own rather than a task of the anchor or approvals function: it needs only
 * `cloudwatch:GetMetricData` and `sns:Publish` on the cost-reports topic, so neither of those gets
 * permissions it does not need, and its bundle carries no Cedar, no token codec and no DynamoDB client
 * (a small cold start, paid four times a day). A failed run is retried twice, then its event waits in
 * the dead-letter queue; the alarms that read its metric treat missing data as not breaching, and the
 * spend-rate alarm (WorkflowSpendAlarms) does not depend on it at all.
 */
export class MonthlyCostReport extends Construct {
  /** The function (lambdas/cost-report). */
  public readonly function: AirlockFunction;
  /** Runs the monthly report on the 1st. */
  public readonly monthlySchedule: events.Rule;
  /** Writes the month to date every six hours. */
  public readonly monthToDateSchedule: events.Rule;

  constructor(scope: Construct, id: string, props: MonthlyCostReportProps) {
    super(scope, id);
    const { config } = props;
    this.function = new AirlockFunction(this, 'Function', {
      config,
      name: 'cost-report',
      encryptionKey: props.encryptionKey,
      logRetentionDays: config.functions.logRetentionDays,
      // A month of daily sums for every workflow and operation: a few GetMetricData pages.
      timeout: Duration.seconds(60),
      deadLetterQueue: true,
    });
    props.topic.bindPublisher(this.function, FUNCTION_ENV.costReportsTopicArn);
    this.bindMetricsReader(props.inferenceProfileArns ?? new Map());

    const target = (input: Record<string, string>) =>
      new targets.LambdaFunction(this.function.function, {
        event: events.RuleTargetInput.fromObject(input),
        deadLetterQueue: this.function.deadLetterQueue,
        retryAttempts: 2,
      });
    this.monthlySchedule = new events.Rule(this, 'MonthlySchedule', {
      description: `Airlock ${config.stage}: sends last month's cost report to the cost-reports topic on the 1st`,
      schedule: events.Schedule.cron({ minute: '0', hour: '6', day: '1', month: '*', year: '*' }),
    });
    this.monthlySchedule.addTarget(target(COST_REPORT_SCHEDULE_INPUT.monthlyReport));
    this.monthToDateSchedule = new events.Rule(this, 'MonthToDateSchedule', {
      description: `Airlock ${config.stage}: writes each workflow's month-to-date spend and forecast as metrics`,
      schedule: events.Schedule.cron({ minute: '15', hour: '0/6' }),
    });
    this.monthToDateSchedule.addTarget(target(COST_REPORT_SCHEDULE_INPUT.monthToDate));
  }

  /**
   * `cloudwatch:GetMetricData` (Airlock's usage metrics and Bedrock's token counts) with
   * `AIRLOCK_INFERENCE_PROFILE_ARNS`, the profiles whose tokens it reads.
   */
  private bindMetricsReader(profiles: ReadonlyMap<string, string>): void {
    if (profiles.size > 0) {
      this.function.addEnvironment(
        FUNCTION_ENV.inferenceProfiles,
        Stack.of(this).toJsonString(Object.fromEntries(profiles)),
      );
    }
    this.function.function.addToRolePolicy(
      new iam.PolicyStatement({
        // GetMetricData has no resource-level permissions and no narrowing condition key: AWS accepts only
        // "*" (test/infra/wildcard-allowlist.json). It reads metric values, nothing else.
        actions: ['cloudwatch:GetMetricData'],
        resources: ['*'],
      }),
    );
  }
}
