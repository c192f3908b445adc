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
   * topic needs (instead of `topic.grantPublish`'s `kms:GenerateDataKey*`).
   */
  public grantPublish(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['sns:Publish'],
      resourceArns: [this.topic.topicArn],
    });
    this.encryptionKey.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey');
    return grant;
  }

  /** Binds a publisher: the environment variable `envName` (the topic ARN) with `sns:Publish`. */
  public bindPublisher(fn: AirlockFunction, envName: string): void {
    fn.addEnvironment(envName, this.topic.topicArn);
    this.grantPublish(fn);
  }
}
