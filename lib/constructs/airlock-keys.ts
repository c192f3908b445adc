import { Aws, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { FUNCTION_ENV } from '../contracts/environment';
import type { AirlockFunction } from './airlock-function';

export interface AirlockKeysProps {
  /** Deployment stage; names the signing key's alias `alias/airlock-<stage>-token-signing`. */
  readonly stage: string;
}

/** AWS services through which functions use the data key (`kms:ViaService`). */
export type DataKeyService = 'dynamodb' | 's3' | 'sns' | 'sqs';

/**
 * Airlock's KMS keys: a symmetric customer managed key (rotation on) that encrypts secrets,
 * tables, logs, buckets, queues and topics; the asymmetric P-256 key that signs access tokens
 * (ES256); and a second P-256 key that signs only audit digests, so the anchor function, which
 * must sign digests, cannot mint access tokens. Private halves never leave KMS.
 */
export class AirlockKeys extends Construct {
  /** Symmetric CMK for data at rest (construct id `Resource`). */
  public readonly dataKey: kms.Key;
  /** Asymmetric ECC_NIST_P256 SIGN_VERIFY key for access tokens. */
  public readonly signingKey: kms.Key;
  /** `alias/airlock-<stage>-token-signing`. */
  public readonly signingKeyAlias: kms.Alias;
  /** Asymmetric ECC_NIST_P256 SIGN_VERIFY key for audit digests only (`airlock audit verify` checks with it). */
  public readonly digestSigningKey: kms.Key;
  /** `alias/airlock-<stage>-audit-digest-signing`. */
  public readonly digestSigningKeyAlias: kms.Alias;

  constructor(scope: Construct, id: string, props: AirlockKeysProps) {
    super(scope, id);
    // Keys outlive the stack (what they encrypted or signed stays readable and verifiable), but not
    // a failed first create: nothing depends on them yet, and each retry would leave a billed orphan.
    const removalPolicy = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    this.dataKey = new kms.Key(this, 'Resource', {
      description: `Airlock ${props.stage}: encrypts secrets, tables, logs, buckets, queues and topics`,
      enableKeyRotation: true,
      removalPolicy,
    });
    // CloudWatch Logs encrypts log groups with the key itself, so it needs the key policy to allow it.
    // The encryption-context condition is the confused-deputy guard CloudWatch Logs documents: every
    // request names the log group it is for, and only log groups of this account and region match.
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
    // AWS services that publish to the encrypted SNS topics: SNS asks KMS for a data key on their
    // behalf, so the key policy names them, each bound to this account and its own resources. What
    // they may publish to is decided by each topic's policy (NotificationTopic). EventBridge
    // (kill-switch alerts) is not among them: its KMS requests carry no aws:SourceAccount or
    // aws:SourceArn, so it publishes through a role of its own (KillSwitch.onChange) whose identity
    // policy holds the key permission instead.
    this.dataKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublishToEncryptedTopics',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: {
            'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
          },
        },
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
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:budgets::${Aws.ACCOUNT_ID}:*` },
        },
      }),
    );

    this.signingKey = new kms.Key(this, 'TokenSigningKey', {
      description: `Airlock ${props.stage}: signs access tokens (ES256)`,
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      removalPolicy,
    });
    this.signingKeyAlias = this.signingKey.addAlias(`alias/airlock-${props.stage}-token-signing`);
    this.digestSigningKey = new kms.Key(this, 'DigestSigningKey', {
      description: `Airlock ${props.stage}: signs audit digests (ES256); never access tokens`,
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      removalPolicy,
    });
    this.digestSigningKeyAlias = this.digestSigningKey.addAlias(
      `alias/airlock-${props.stage}-audit-digest-signing`,
    );
  }

  /** Allows `kms:Sign` with the token signing key. */
  public grantSign(grantee: iam.IGrantable): iam.Grant {
    return this.signingKey.grant(grantee, 'kms:Sign');
  }

  /** Allows `kms:GetPublicKey` on the token signing key, and nothing else (verification is local). */
  public grantGetPublicKey(grantee: iam.IGrantable): iam.Grant {
    return this.signingKey.grant(grantee, 'kms:GetPublicKey');
  }

  /** Allows `kms:GetPublicKey` on the digest signing key: what `airlock audit verify` checks digests with. */
  public grantGetDigestPublicKey(grantee: iam.IGrantable): iam.Grant {
    return this.digestSigningKey.grant(grantee, 'kms:GetPublicKey');
  }

  /**
   * Allows using the data key for reading and writing encrypted data through one AWS service
   * (`kms:ViaService`), with exact actions instead of the `kms:GenerateDataKey*` and `kms:ReEncrypt*`
   * wildcards of the service grants. The grantee cannot use the key directly.
   */
  public grantEncryptDecrypt(grantee: iam.IGrantable, via: DataKeyService): iam.Grant {
    return this.grantDataKey(grantee, via, [
      'kms:Decrypt',
      'kms:Encrypt',
      'kms:GenerateDataKey',
      'kms:DescribeKey',
    ]);
  }

  /** Allows decrypting data encrypted with the data key (reading encrypted objects and items) through one service only. */
  public grantDecrypt(grantee: iam.IGrantable, via: DataKeyService): iam.Grant {
    return this.grantDataKey(grantee, via, ['kms:Decrypt', 'kms:DescribeKey']);
  }

  /**
   * Written on the principal, as `key.grant` does for a grantee in another stack (the Api stack's
   * roles), with the `kms:ViaService` condition `key.grant` cannot add.
   */
  private grantDataKey(grantee: iam.IGrantable, via: DataKeyService, actions: string[]): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions,
      resourceArns: [this.dataKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `${via}.${Stack.of(this).region}.amazonaws.com` } },
    });
  }

  /** Binds a token signer: `AIRLOCK_SIGNING_KEY_ID` (the key ARN) with `kms:Sign` and `kms:GetPublicKey`. */
  public bindSigner(fn: AirlockFunction): void {
    fn.addEnvironment(FUNCTION_ENV.signingKeyId, this.signingKey.keyArn);
    this.grantSign(fn);
    this.grantGetPublicKey(fn);
  }

  /** Binds a token verifier: `AIRLOCK_SIGNING_KEY_ID` (the key ARN) with `kms:GetPublicKey` only. */
  public bindVerifier(fn: AirlockFunction): void {
    fn.addEnvironment(FUNCTION_ENV.signingKeyId, this.signingKey.keyArn);
    this.grantGetPublicKey(fn);
  }

  /**
   * Binds the digest signer (the anchor): `AIRLOCK_SIGNING_KEY_ID`, the variable the anchor reads its
   * key from, names the digest key, with `kms:Sign` and `kms:GetPublicKey` on it and nothing on the
   * token key.
   */
  public bindDigestSigner(fn: AirlockFunction): void {
    fn.addEnvironment(FUNCTION_ENV.signingKeyId, this.digestSigningKey.keyArn);
    this.digestSigningKey.grant(fn, 'kms:Sign');
    this.grantGetDigestPublicKey(fn);
  }
}
