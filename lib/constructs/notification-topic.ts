import { Aws, Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { AirlockFunction } from './airlock-function';

export interface NotificationTopicProps {
  /** What the topic announces; becomes its display name. */
  readonly displayName: string;
  /** Customer managed key that encrypts the topic. */
  readonly encryptionKey: kms.IKey;
  /**
   * An email address subscribed to the topic.
   * @default - no subscription
   */
  readonly email?: string;
  /**
   * Who receives what the topic announces: e-mail addresses and HTTPS endpoints. Each confirms its
   * subscription (a link in the e-mail, a `SubscriptionConfirmation` request to the endpoint) before
   * anything is delivered; `airlock doctor` reports unconfirmed ones.
   * @default - none
   */
  readonly subscriptions?: readonly TopicSubscriber[];
}

/**
 * One subscriber of a notification topic, and optionally which messages it receives: a filter policy
 * on the messages' attributes (each attribute one of the listed values), so a subscriber is sent only
 * what is meant for it (e.g. `{ kind: ['decision'], requester: ['alice'] }`).
 */
export type TopicSubscriber = ({ readonly email: string } | { readonly https: string }) & {
  readonly filter?: Readonly<Record<string, readonly string[]>>;
};

/** An SNS topic encrypted with the CMK that accepts only TLS publishers. */
export class NotificationTopic extends Construct {
  /** The topic (construct id `Resource`). */
  public readonly topic: sns.Topic;
  /** Messages SNS could not deliver to a subscriber, when the topic has subscribers. */
  public readonly deliveryFailures?: sqs.Queue;
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: NotificationTopicProps) {
    super(scope, id);
    if (props.displayName.length > 100) {
      throw new Error(
        `NotificationTopic: displayName must be at most 100 characters (got ${props.displayName.length})`,
      );
    }
    this.encryptionKey = props.encryptionKey;
    this.topic = new sns.Topic(this, 'Resource', {
      displayName: props.displayName,
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    const subscribers: TopicSubscriber[] = [
      ...(props.email ? [{ email: props.email }] : []),
      ...(props.subscriptions ?? []),
    ];
    if (subscribers.length > 0) {
      // What SNS could not deliver (a mailbox or endpoint refusing it past SNS's retries) waits here
      // for 14 days instead of being dropped: an alert nobody received must still be findable.
      // SQS-managed encryption: SNS writes here itself, which a customer managed key would need to allow.
      this.deliveryFailures = new sqs.Queue(this, 'DeliveryFailures', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
    }
    const deadLetterQueue = this.deliveryFailures;
    const seen = new Map<string, string>();
    for (const subscriber of subscribers) {
      const endpoint = 'email' in subscriber ? subscriber.email : subscriber.https;
      const filter = JSON.stringify(subscriber.filter ?? {});
      // The same endpoint twice would be one SNS subscription declared twice: CloudFormation refuses it.
      // With two different filters SNS would keep one of them, so one of the two would miss its messages.
      const earlier = seen.get(endpoint.toLowerCase());
      if (earlier !== undefined) {
        if (earlier === filter) continue;
        throw new Error(
          `NotificationTopic: "${endpoint}" is subscribed twice with different filters (${earlier} and ${filter}); one subscription per address (give the second role another address)`,
        );
      }
      seen.set(endpoint.toLowerCase(), filter);
      const filterPolicy = subscriber.filter
        ? Object.fromEntries(
            Object.entries(subscriber.filter).map(([attribute, values]) => [
              attribute,
              sns.SubscriptionFilter.stringFilter({ allowlist: [...values] }),
            ]),
          )
        : undefined;
      if ('email' in subscriber) {
        this.topic.addSubscription(
          new subscriptions.EmailSubscription(subscriber.email, { deadLetterQueue, filterPolicy }),
        );
      } else {
        if (!Token.isUnresolved(subscriber.https) && !subscriber.https.startsWith('https://')) {
          throw new Error(
            `NotificationTopic: subscription endpoint "${subscriber.https}" must be an https:// URL (SNS delivers over TLS only here)`,
          );
        }
        this.topic.addSubscription(
          new subscriptions.UrlSubscription(subscriber.https, { deadLetterQueue, filterPolicy }),
        );
      }
    }
  }

  /** The topic's ARN. */
  public get topicArn(): string {
    return this.topic.topicArn;
  }

  /**
   * Allows `sns:Publish` to this topic, with the exact KMS actions publishing to an encrypted
   * topic needs (instead of `topic.grantPublish`'s `kms:GenerateDataKey*`), through SNS only
   * (`kms:ViaService`). Written on the principal, so the key policy never names a grantee.
   */
  public grantPublish(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['sns:Publish'],
      resourceArns: [this.topic.topicArn],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resourceArns: [this.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `sns.${Stack.of(this).region}.amazonaws.com` } },
    });
    return grant;
  }

  /**
   * Lets CloudWatch alarms of this account and region publish to the topic (alarm actions). The
   * data key's policy allows CloudWatch to encrypt the messages (AirlockKeys).
   */
  public allowCloudWatchAlarms(): void {
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: {
            'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
          },
        },
      }),
    );
  }

  /**
   * Lets AWS Budgets of this account publish budget notifications to the topic. Budgets needs a
   * topic in the same account, and (the topic being encrypted) the data key's policy to allow it.
   */
  public allowBudgets(): void {
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowBudgetsOfThisAccount',
        principals: [new iam.ServicePrincipal('budgets.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:budgets::${Aws.ACCOUNT_ID}:*` },
        },
      }),
    );
  }

  /** Binds a publisher: the environment variable `envName` (the topic ARN) with `sns:Publish`. */
  public bindPublisher(fn: AirlockFunction, envName: string): void {
    fn.addEnvironment(envName, this.topic.topicArn);
    this.grantPublish(fn);
  }
}
