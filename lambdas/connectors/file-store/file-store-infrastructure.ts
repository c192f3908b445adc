/**
 * The file-store kind in AWS: the connector's configured bucket, or an encrypted, versioned bucket
 * created for it, and read access below its key prefix and nothing else. (CDK types only: see
 * connector-infrastructure.ts.)
 */
import type { ConnectorInfrastructure } from '../connector-infrastructure';
import type { FileStoreConnectorConfig } from './file-store-config';

/** The resource key the binding sets: the name of the connector's bucket. */
export const FILE_STORE_BUCKET_RESOURCE = 'bucket';

export const fileStoreInfrastructure: ConnectorInfrastructure<FileStoreConnectorConfig> = {
  groupId: 'ConnectorData',
  create({ cdk, scope, name, config, dataKey, grantDataKey, accessLogsBucket, nag }) {
    const { bucketName, prefix } = config.aws;
    if (!prefix.endsWith('/') || prefix.startsWith('/') || prefix.includes('*')) {
      throw new Error(
        `ConnectorData: connectors.${name}.aws.prefix "${prefix}" must be a relative key prefix ending with / and without *`,
      );
    }
    const { s3, iam } = cdk;
    const bucket = bucketName
      ? s3.Bucket.fromBucketName(scope, name, bucketName)
      : new s3.Bucket(scope, name, {
          encryption: s3.BucketEncryption.KMS,
          encryptionKey: dataKey,
          bucketKeyEnabled: true,
          enforceSSL: true,
          versioned: true,
          blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
          serverAccessLogsBucket: accessLogsBucket,
          serverAccessLogsPrefix: `connector-${name}/`,
          removalPolicy: cdk.core.RemovalPolicy.RETAIN,
        });
    if (!bucketName) {
      nag.acknowledge(bucket, {
        id: 'NIST.800.53.R5-S3BucketReplicationEnabled',
        reason:
          'A single-region pilot: objects are versioned (digests also under Object Lock COMPLIANCE); cross-region replication is a production decision for the deploying organisation.',
      });
    }
    const objects = bucket.arnForObjects(`${prefix}*`);
    return {
      // Written by hand because `bucket.grantRead` adds `s3:GetBucket*` and `s3:List*` on the whole bucket.
      bind(grantee) {
        iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [objects] });
        // Listing is a bucket-level action; the condition keeps it to keys below the connector's prefix.
        grantee.grantPrincipal.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['s3:ListBucket'],
            resources: [bucket.bucketArn],
            conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
          }),
        );
        if (!bucketName) grantDataKey(grantee, 's3', 'decrypt');
        nag.acknowledgeWildcardResource(
          grantee,
          objects,
          `The ${name} connector reads any object below its configured prefix "${prefix}" and nothing else in the bucket.`,
        );
        return { [FILE_STORE_BUCKET_RESOURCE]: bucket.bucketName };
      },
    };
  },
};
