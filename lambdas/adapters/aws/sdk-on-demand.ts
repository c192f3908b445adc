/**
 * The AWS SDK clients a request may never need, loaded on first use (on-demand.ts) instead of parsed at
 * every cold start: SNS (a held write's notice, the monthly cost report), CloudWatch (Bedrock's token
 * counts for the spend cap, the cost report's metrics) and Secrets Manager (a connector's upstream
 * credentials, the identity provider's client secret). The clients a request does need (DynamoDB, SSM
 * for the kill switch, KMS for tokens) are imported at start.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SNSClient } from '@aws-sdk/client-sns';
import { onDemand } from './on-demand';

export const loadSnsSdk = onDemand(() => import('@aws-sdk/client-sns'));
export const loadCloudWatchSdk = onDemand(() => import('@aws-sdk/client-cloudwatch'));
export const loadSecretsManagerSdk = onDemand(() => import('@aws-sdk/client-secrets-manager'));

/** An SNS client built on the first publish. */
export const snsClientOnDemand = (): (() => Promise<SNSClient>) =>
  onDemand(async () => new (await loadSnsSdk()).SNSClient({}));

/** A CloudWatch client built on the first read. */
export const cloudWatchClientOnDemand = (): (() => Promise<CloudWatchClient>) =>
  onDemand(async () => new (await loadCloudWatchSdk()).CloudWatchClient({}));

/** A Secrets Manager client built on the first secret read. */
export const secretsManagerClientOnDemand = (): (() => Promise<SecretsManagerClient>) =>
  onDemand(async () => new (await loadSecretsManagerSdk()).SecretsManagerClient({}));
