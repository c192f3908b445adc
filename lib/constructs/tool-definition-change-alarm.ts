import { Duration, Tags } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AirlockMetrics } from '../metrics/airlock-metrics';

export interface ToolDefinitionChangeAlarmProps {
  /** The workflow whose calls are watched. */
  readonly workflow: string;
  /** The workflow's mcp-server connectors, named in the alarm's description. */
  readonly connectors: readonly string[];
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
 * Alarms on the first call of a workflow refused because an upstream MCP server changed a pinned tool's
 * definition (the `ToolDefinitionChanges` metric): a rug pull, or an upgrade nobody reviewed. Any one is
 * worth a look, so the threshold is one refusal in five minutes; no data is no change.
 */
export class ToolDefinitionChangeAlarm extends Construct {
  /** The alarm (construct id `Resource`). */
  public readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ToolDefinitionChangeAlarmProps) {
    super(scope, id);
    if (props.connectors.length === 0) {
      throw new Error(
        `ToolDefinitionChangeAlarm: the ${props.workflow} workflow has no mcp-server connector to watch; create the alarm only for workflows that use one`,
      );
    }
    const metrics = props.metrics ?? new AirlockMetrics();
    this.alarm = new cloudwatch.Alarm(this, 'Resource', {
      metric: metrics.metricToolDefinitionChanges(props.workflow, {
        period: ToolDefinitionChangeAlarm.PERIOD,
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `Airlock ${props.stage}: a call of the ${props.workflow} workflow was refused because an upstream MCP server (${props.connectors.join(', ')}) changed a pinned tool's definition. Nobody's agent reaches the changed tool; review the change ("airlock connectors pin <connector> --check"), then pin again or take it up with the server's owner (docs/mcp-servers.md).`,
    });
    this.alarm.addAlarmAction(new actions.SnsAction(props.topic));
    this.alarm.addOkAction(new actions.SnsAction(props.topic));
    Tags.of(this).add('airlock:workflow', props.workflow);
  }

  /** Period of the alarm's metric. */
  public static readonly PERIOD = Duration.minutes(5);
}
