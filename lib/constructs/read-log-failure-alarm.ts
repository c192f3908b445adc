import { Duration, Tags } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AirlockMetrics } from '../metrics/airlock-metrics';

export interface ReadLogFailureAlarmProps {
  /** The workflow whose calls are watched. */
  readonly workflow: string;
  /** Deployment stage, named in the description. */
  readonly stage: string;
  /** Topic the alarm and its recovery go to. */
  readonly topic: sns.ITopic;
  /**
   * Metric definitions.
   * @default - new AirlockMetrics()
   */
  readonly metrics?: AirlockMetrics;
}

/**
 * Alarms when the connector proxy could not note a read in the read log, or could not look the list up
 * for a held write (the `ReadLogFailures` metric). Either way a manager deciding a held write sees less
 * than the agent read, or is told the list is unknown, while the calls go on. Any one is worth a look,
 * so the threshold is one in five minutes; no data is no failure.
 */
export class ReadLogFailureAlarm extends Construct {
  /** The alarm (construct id `Resource`). */
  public readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ReadLogFailureAlarmProps) {
    super(scope, id);
    const metrics = props.metrics ?? new AirlockMetrics();
    this.alarm = new cloudwatch.Alarm(this, 'Resource', {
      metric: metrics.metricReadLogFailures(props.workflow, { period: ReadLogFailureAlarm.PERIOD }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `Airlock ${props.stage}: a call of the ${props.workflow} workflow could not note what it read in the read log, or look the list up for a held write (approvals table). Managers deciding held writes meanwhile see fewer documents than the agents read, or "unknown". Check the connector function's log ("run read log failed") and the approvals table's throttling; before approving, read the requester's audit records (docs/approvals-page.md).`,
    });
    this.alarm.addAlarmAction(new actions.SnsAction(props.topic));
    this.alarm.addOkAction(new actions.SnsAction(props.topic));
    Tags.of(this).add('airlock:workflow', props.workflow);
  }

  /** Period of the alarm's metric. */
  public static readonly PERIOD = Duration.minutes(5);
}
