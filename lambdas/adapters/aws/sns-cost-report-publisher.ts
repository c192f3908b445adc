/** Publishes the monthly cost report to the cost-reports SNS topic, whose e-mail subscribers are finance. */
import type { SNSClient } from '@aws-sdk/client-sns';
import { DependencyError } from '../../core/errors';
import type { CostReportNotice, CostReportPublisher } from '../../core/monthly-cost-report';
import { describeAwsError } from './aws-permission-error';
import {
  type DeclaresIamPermissions,
  type IamActions,
  type IamPermission,
  permissionsOf,
} from './iam-permissions';
import { type ClientSource, clientOf } from './on-demand';
import { loadSnsSdk } from './sdk-on-demand';

/** The IAM actions each method sends, on the cost-reports topic. */
export const SNS_COST_REPORT_PUBLISHER_ACTIONS = {
  publish: ['sns:Publish'],
} as const satisfies IamActions<keyof CostReportPublisher>;

export interface SnsCostReportPublisherProps {
  readonly client: ClientSource<SNSClient>;
  readonly topicArn: string;
}

/** {@link CostReportPublisher} over SNS: the subject becomes the e-mail's subject, the message its body. */
export class SnsCostReportPublisher
  implements CostReportPublisher, DeclaresIamPermissions<keyof CostReportPublisher>
{
  constructor(private readonly props: SnsCostReportPublisherProps) {}

  iamPermissions(methods: readonly (keyof CostReportPublisher)[]): IamPermission[] {
    return permissionsOf('SnsCostReportPublisher', SNS_COST_REPORT_PUBLISHER_ACTIONS, methods, () => [
      { resource: this.props.topicArn },
    ]);
  }

  /** @throws DependencyError when SNS refuses or cannot be reached (the schedule then retries). */
  async publish(notice: CostReportNotice): Promise<void> {
    try {
      const [{ PublishCommand }, client] = await Promise.all([loadSnsSdk(), clientOf(this.props.client)]);
      await client.send(
        new PublishCommand({
          TopicArn: this.props.topicArn,
          Subject: notice.subject,
          Message: notice.message,
          MessageAttributes: { kind: { DataType: 'String', StringValue: 'monthly-cost-report' } },
        }),
      );
    } catch (error) {
      throw new DependencyError(
        'cost-report-publisher',
        describeAwsError(error, { action: 'sns:Publish', resource: `topic ${this.props.topicArn}` }),
        { cause: error },
      );
    }
  }
}
