import { Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AirlockMetrics } from '../metrics/airlock-metrics';

export interface SigningRateAlarmProps {
  /** The account's ECC request quota per second (`monitoring.kmsSignQuotaPerSecond`). */
  readonly quotaPerSecond: number;
  /** Share of the quota at which to alarm, in (0, 1] (`monitoring.kmsSignAlarmShare`). */
  readonly alarmShare: number;
  /** Topic the alarm and its recovery go to. */
  readonly topic: sns.ITopic;
  /**
   * Metric definitions.
   * @default - new AirlockMetrics()
   */
  readonly metrics?: AirlockMetrics;
}

/**
 * Alarms when KMS ECC calls (every access token the broker issues is one `kms:Sign`) approach the
 * account's request quota, so someone asks for more before KMS throttles and credential issuance
 * fails. The rate is each minute's count divided by 60: a burst shorter than a minute can still be
 * throttled below the threshold, which is why the default share leaves 20 % headroom.
 */
export class SigningRateAlarm extends Construct {
  /** The alarm (construct id `Resource`). */
  public readonly alarm: cloudwatch.Alarm;
  /** Calls per second at which the alarm fires. */
  public readonly thresholdPerSecond: number;

  constructor(scope: Construct, id: string, props: SigningRateAlarmProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.quotaPerSecond) && !(props.quotaPerSecond > 0)) {
      throw new Error(
        `SigningRateAlarm: quotaPerSecond must be greater than 0 (got ${props.quotaPerSecond}); set monitoring.kmsSignQuotaPerSecond to your account's quota`,
      );
    }
    if (!Token.isUnresolved(props.alarmShare) && !(props.alarmShare > 0 && props.alarmShare <= 1)) {
      throw new Error(
        `SigningRateAlarm: alarmShare must be more than 0 and at most 1 (got ${props.alarmShare}); set monitoring.kmsSignAlarmShare, e.g. 0.8`,
      );
    }
    this.thresholdPerSecond = props.quotaPerSecond * props.alarmShare;
    const metrics = props.metrics ?? new AirlockMetrics();
    this.alarm = new cloudwatch.Alarm(this, 'Resource', {
      metric: metrics.metricKmsEccCallsPerSecond(),
      threshold: this.thresholdPerSecond,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `KMS ECC calls (token signing) above ${this.thresholdPerSecond} per second, ${Math.round(props.alarmShare * 100)} % of the ${props.quotaPerSecond}/s quota. Ask for a quota increase (Service Quotas: AWS KMS, Cryptographic operations (ECC) request rate) or lower token issuance (longer token lifetimes).`,
    });
    this.alarm.addAlarmAction(new actions.SnsAction(props.topic));
    this.alarm.addOkAction(new actions.SnsAction(props.topic));
  }
}
