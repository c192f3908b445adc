import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface AccessLogsBucketProps {
  /**
   * Days server access logs are kept.
   * @default 365
   */
  readonly retentionDays?: number;
}

/**
 * The target of the other buckets' server access logs. S3 log delivery supports only SSE-S3 on
 * the target bucket, so this one bucket is not encrypted with the CMK.
 */
export class AccessLogsBucket extends Construct {
  /** The bucket (construct id `Resource`). */
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: AccessLogsBucketProps = {}) {
    super(scope, id);
    const days = props.retentionDays ?? 365;
    if (!Number.isInteger(days) || days < 1) {
      throw new Error(
        `AccessLogsBucket: retentionDays must be a whole number of days of 1 or more (got ${days})`,
      );
    }
    this.bucket = new s3.Bucket(this, 'Resource', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      lifecycleRules: [{ expiration: Duration.days(days), noncurrentVersionExpiration: Duration.days(1) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
