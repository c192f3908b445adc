import { Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
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
}

/** An SNS topic encrypted with the CMK that accepts only TLS publishers. */
export class NotificationTopic extends Construct {
  /** The topic (construct id `Resource`). */
  public readonly topic: sns.Topic;
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
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
  }

  /** The topic's ARN. */
  public get topicArn(): string {
    return this.topic.topicArn;
  }

  /**
   * Allows `sns:Publish` to this topic, with the exact KMS actions publishing to an encrypted
   * topic needs (instead of `topic.grantPublish`'s `kms:GenerateDataKey*`), through SNS only.
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
