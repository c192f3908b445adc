/**
 * Lists who a notification topic reaches, for `airlock doctor`: an e-mail address or HTTPS endpoint
 * receives nothing until it confirms its subscription, and SNS shows an unconfirmed one as
 * `PendingConfirmation`. Read-only; the endpoints are returned as SNS shows them.
 */
import {
  ListSubscriptionsByTopicCommand,
  type ListSubscriptionsByTopicCommandOutput,
  type SNSClient,
} from '@aws-sdk/client-sns';
import { describeAwsError } from './aws-permission-error';
import {
  type AwsScope,
  type DeclaresIamPermissions,
  type IamActions,
  type IamPermission,
  permissionsOf,
} from './iam-permissions';

type SubscriptionReaderMethod = 'subscriptions';

/** The IAM actions each method sends, on the topic. */
export const SNS_SUBSCRIPTION_READER_ACTIONS = {
  subscriptions: ['sns:ListSubscriptionsByTopic'],
} as const satisfies IamActions<SubscriptionReaderMethod>;

/** What SNS shows as the ARN of a subscription that has not been confirmed. */
const PENDING = 'PendingConfirmation';

export interface SnsSubscriptionReaderProps {
  readonly client: SNSClient;
  /** The topics it may read; others are refused, so its IAM declaration holds. */
  readonly topicArns: readonly string[];
}

/** One subscription of a topic. */
export interface TopicSubscription {
  /** `email`, `https`, `sqs`, ... */
  readonly protocol: string;
  /** The address or URL (SNS masks nothing here; the operator configured it). */
  readonly endpoint: string;
  /** False while SNS waits for the endpoint to confirm. */
  readonly confirmed: boolean;
}

export class SnsSubscriptionReader implements DeclaresIamPermissions<SubscriptionReaderMethod> {
  private readonly client: SNSClient;
  private readonly topicArns: readonly string[];

  constructor(props: SnsSubscriptionReaderProps) {
    this.client = props.client;
    this.topicArns = props.topicArns;
  }

  iamPermissions(methods: readonly SubscriptionReaderMethod[], _scope?: AwsScope): IamPermission[] {
    return permissionsOf('SnsSubscriptionReader', SNS_SUBSCRIPTION_READER_ACTIONS, methods, () =>
      this.topicArns.map((resource) => ({ resource })),
    );
  }

  /**
   * Every subscription of the topic (all pages).
   * @throws Error naming the IAM action when SNS refuses; RangeError for a topic it was not given
   */
  async subscriptions(topicArn: string): Promise<TopicSubscription[]> {
    if (!this.topicArns.includes(topicArn)) {
      throw new RangeError(`SnsSubscriptionReader: ${topicArn} is not one of the topics it was given`);
    }
    const subscriptions: TopicSubscription[] = [];
    let token: string | undefined;
    do {
      let page: ListSubscriptionsByTopicCommandOutput;
      try {
        page = await this.client.send(
          new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: token }),
        );
      } catch (error) {
        throw new Error(
          describeAwsError(error, {
            action: 'sns:ListSubscriptionsByTopic',
            resource: topicArn,
            role: 'auditor',
          }),
          { cause: error },
        );
      }
      for (const s of page.Subscriptions ?? []) {
        subscriptions.push({
          protocol: s.Protocol ?? '',
          endpoint: s.Endpoint ?? '',
          confirmed: s.SubscriptionArn !== undefined && s.SubscriptionArn !== PENDING,
        });
      }
      token = page.NextToken;
    } while (token);
    return subscriptions;
  }
}
