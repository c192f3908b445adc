import { Duration, Tags } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface AnomalyAlarmProps {
  /** The metric watched; its statistic and period are the detector's and the alarm's. */
  readonly metric: cloudwatch.Metric;
  /** What an alarm means and what to do, shown in the notification. */
  readonly description: string;
  /** Topic the alarm and its recovery go to. */
  readonly topic: sns.ITopic;
  /**
   * Width of the band in standard deviations.
   * @default 2
   */
  readonly bandWidth?: number;
  /**
   * Consecutive periods looked at.
   * @default 3
   */
  readonly evaluationPeriods?: number;
  /**
   * How many of those periods must be above the band.
   * @default 2
   */
  readonly datapointsToAlarm?: number;
  /**
   * Workflow the alarm belongs to; tagged `airlock:workflow`.
   * @default - no workflow tag
   */
  readonly workflow?: string;
}

/**
 * An anomaly detector on one metric and an alarm when the metric rises above the band
 * (`ANOMALY_DETECTION_BAND`). Only rises count: a workflow that suddenly sends out more data or
 * gets more denials than it usually does is what IT must look at; less is not an incident.
 */
export class AnomalyAlarm extends Construct {
  /** The period to watch metrics at: short enough to act on, long enough for a stable band. */
  public static readonly DEFAULT_PERIOD = Duration.minutes(5);
  /** The detector, created before the alarm so CloudWatch does not create an unmanaged one. */
  public readonly detector: cloudwatch.CfnAnomalyDetector;
  /** The alarm (construct id `Resource`). */
  public readonly alarm: cloudwatch.AnomalyDetectionAlarm;

  constructor(scope: Construct, id: string, props: AnomalyAlarmProps) {
    super(scope, id);
    const bandWidth = props.bandWidth ?? 2;
    if (!(bandWidth > 0)) {
      throw new Error(
        `AnomalyAlarm: bandWidth must be greater than 0 standard deviations (got ${bandWidth})`,
      );
    }
    const evaluationPeriods = props.evaluationPeriods ?? 3;
    const datapointsToAlarm = props.datapointsToAlarm ?? 2;
    if (datapointsToAlarm > evaluationPeriods) {
      throw new Error(
        `AnomalyAlarm: datapointsToAlarm (${datapointsToAlarm}) cannot exceed evaluationPeriods (${evaluationPeriods})`,
      );
    }
    const { metric } = props;
    this.detector = new cloudwatch.CfnAnomalyDetector(this, 'Detector', {
      singleMetricAnomalyDetector: {
        namespace: metric.namespace,
        metricName: metric.metricName,
        dimensions: Object.entries(metric.dimensions ?? {}).map(([name, value]) => ({
          name,
          value: String(value),
        })),
        stat: metric.statistic,
      },
    });
    this.alarm = new cloudwatch.AnomalyDetectionAlarm(this, 'Resource', {
      metric,
      stdDevs: bandWidth,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
      evaluationPeriods,
      datapointsToAlarm,
      // No traffic means no data points: nothing unusual is happening.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: props.description,
    });
    this.alarm.node.addDependency(this.detector);
    this.alarm.addAlarmAction(new actions.SnsAction(props.topic));
    this.alarm.addOkAction(new actions.SnsAction(props.topic));
    if (props.workflow) Tags.of(this.alarm).add('airlock:workflow', props.workflow);
  }
}
