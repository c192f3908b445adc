import { Aws, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { AirlockFunction } from './airlock-function';

/** The services that encrypt Airlock's data with the data key on a caller's behalf. */
export const DATA_KEY_SERVICES = ['dynamodb', 's3', 'sns', 'sqs'] as const;

export interface AirlockKeysProps {
  /** Deployment stage; names the signing key's alias `alias/airlock-<stage>-token-signing`. */
  readonly stage: string;
}

/**
 * Airlock's two KMS keys: a symmetric customer managed key (rotation on) that encrypts secrets,
 * tables, logs, buckets, queues and topics, and the asymmetric P-256 key that signs access tokens
 * (ES256) and audit digests. The private half of the signing key never leaves KMS.
 */
export class AirlockKeys extends Construct {
  /** Symmetric CMK for data at rest (construct id `Resource`). */
  public readonly dataKey: kms.Key;
  /** Asymmetric ECC_NIST_P256 SIGN_VERIFY key for access tokens and audit digests. */
  public readonly signingKey: kms.Key;
  /** `alias/airlock-<stage>-token-signing`. */
  public readonly signingKeyAlias: kms.Alias;

  constructor(scope: Construct, id: string, props: AirlockKeysProps) {
    super(scope, id);
    this.dataKey = new kms.Key(this, 'Resource', {
      description: `Airlock ${props.stage}: encrypts secrets, tables, logs, buckets, queues and topics`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch Logs encrypts log groups with the key itself, so it needs the key policy to allow it,
    // limited by encryption context to log groups of this account and region.
    this.dataKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsOfThisAccount',
        principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        actions: [
          'kms:Encrypt',
          'kms:Decrypt',
          'kms:ReEncryptFrom',
          'kms:ReEncryptTo',
          'kms:GenerateDataKey',
          'kms:DescribeKey',
        ],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*`,
          },
        },
      }),
    );
    // AWS services that publish to the encrypted SNS topics: SNS asks KMS for a data key on their behalf.
    // What they may publish to is decided by each topic's policy (NotificationTopic), which names the
    // source account and ARNs; the key only lets those deliveries be encrypted.
    // EventBridge (kill-switch alerts): its KMS requests carry no aws:SourceAccount / aws:SourceArn,
    // so a condition on them here would drop every notification silently.
    this.dataKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowEventBridgeToPublishToEncryptedTopics',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );
    // CloudWatch alarms (anomaly and signing-rate alarms): limited to alarms of this account.
    this.dataKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublishToEncryptedTopics',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    // AWS Budgets (per-workflow budgets): Budgets cannot publish to a topic encrypted with the
    // AWS-managed SNS key, only to one under a customer managed key whose policy allows it, like this.
    this.dataKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowBudgetsToPublishToEncryptedTopics',
        principals: [new iam.ServicePrincipal('budgets.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );

    this.signingKey = new kms.Key(this, 'TokenSigningKey', {
      description: `Airlock ${props.stage}: signs access tokens (ES256) and audit digests`,
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.signingKeyAlias = this.signingKey.addAlias(`alias/airlock-${props.stage}-token-signing`);
  }

  /** Allows `kms:Sign` with the signing key. */
  public grantSign(grantee: iam.IGrantable): iam.Grant {
    return this.signingKey.grant(grantee, 'kms:Sign');
  }

  /** Allows `kms:GetPublicKey` on the signing key, and nothing else (verification is local). */
  public grantGetPublicKey(grantee: iam.IGrantable): iam.Grant {
    return this.signingKey.grant(grantee, 'kms:GetPublicKey');
  }

  /**
   * Allows using the data key for reading and writing encrypted data through AWS services
   * (DynamoDB, S3, SNS, SQS), with exact actions instead of the `kms:GenerateDataKey*` and
   * `kms:ReEncrypt*` wildcards of the service grants. Only through those services
   * (`kms:ViaService`): no code of Airlock calls KMS with the data key itself, so a function cannot
   * decrypt a ciphertext of it that it gets hold of.
   */
  public grantEncryptDecrypt(grantee: iam.IGrantable): iam.Grant {
    return this.grantDataKeyThroughServices(grantee, [
      'kms:Decrypt',
      'kms:Encrypt',
      'kms:GenerateDataKey',
      'kms:DescribeKey',
    ]);
  }

  /**
   * Allows decrypting data encrypted with the data key (reading encrypted objects and items), through
   * the services that hold it only (`kms:ViaService`, as {@link grantEncryptDecrypt}).
   */
  public grantDecrypt(grantee: iam.IGrantable): iam.Grant {
    return this.grantDataKeyThroughServices(grantee, ['kms:Decrypt', 'kms:DescribeKey']);
  }

  private grantDataKeyThroughServices(grantee: iam.IGrantable, actions: string[]): iam.Grant {
    const region = Stack.of(this).region;
    return iam.Grant.addToPrincipal({
      grantee,
      actions,
      resourceArns: [this.dataKey.keyArn],
      conditions: {
        StringEquals: {
          'kms:ViaService': DATA_KEY_SERVICES.map((service) => `${service}.${region}.amazonaws.com`),
        },
      },
    });
  }

  /** Binds a token signer: `AIRLOCK_SIGNING_KEY_ID` (the key ARN) with `kms:Sign` and `kms:GetPublicKey`. */
  public bindSigner(fn: AirlockFunction): void {
    fn.addEnvironment('AIRLOCK_SIGNING_KEY_ID', this.signingKey.keyArn);
    this.grantSign(fn);
    this.grantGetPublicKey(fn);
  }

  /** Binds a token verifier: `AIRLOCK_SIGNING_KEY_ID` (the key ARN) with `kms:GetPublicKey` only. */
  public bindVerifier(fn: AirlockFunction): void {
    fn.addEnvironment('AIRLOCK_SIGNING_KEY_ID', this.signingKey.keyArn);
    this.grantGetPublicKey(fn);
  }
}
