import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { ConnectorConfig } from '../config/schema';
import { FUNCTION_ENV } from '../contracts/environment';
import type { AirlockFunction } from './airlock-function';
import type { AirlockKeys } from './airlock-keys';

export interface ConnectorDataProps {
  /** The pilot's connectors; `file-store` ones get read access to one bucket prefix. */
  readonly connectors: Readonly<Record<string, ConnectorConfig>>;
  /** The keys: the data key encrypts the buckets this construct creates. */
  readonly keys: AirlockKeys;
  /** Bucket that receives the created buckets' server access logs. */
  readonly accessLogsBucket: s3.IBucket;
}

interface FileStoreLocation {
  readonly bucket: s3.IBucket;
  readonly prefix: string;
  /** True when the stack created (and encrypts with the CMK) the bucket. */
  readonly owned: boolean;
}

/**
 * The data file-store connectors read: for each `file-store` connector, its configured bucket or
 * an encrypted bucket created here, and a key prefix that is all the connector may see.
 */
export class ConnectorData extends Construct {
  /** Connector name → its bucket and prefix. */
  public readonly locations: ReadonlyMap<string, FileStoreLocation>;
  private readonly keys: AirlockKeys;

  constructor(scope: Construct, id: string, props: ConnectorDataProps) {
    super(scope, id);
    this.keys = props.keys;
    const locations = new Map<string, FileStoreLocation>();
    for (const [connector, config] of Object.entries(props.connectors)) {
      if (config.kind !== 'file-store') continue;
      const { bucketName, prefix } = config.aws;
      if (!prefix.endsWith('/') || prefix.startsWith('/') || prefix.includes('*')) {
        throw new Error(
          `ConnectorData: connectors.${connector}.aws.prefix "${prefix}" must be a relative key prefix ending with / and without *`,
        );
      }
      const bucket = bucketName
        ? s3.Bucket.fromBucketName(this, connector, bucketName)
        : new s3.Bucket(this, connector, {
            encryption: s3.BucketEncryption.KMS,
            encryptionKey: props.keys.dataKey,
            bucketKeyEnabled: true,
            enforceSSL: true,
            versioned: true,
            blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
            serverAccessLogsBucket: props.accessLogsBucket,
            serverAccessLogsPrefix: `connector-${connector}/`,
            removalPolicy: RemovalPolicy.RETAIN,
          });
      locations.set(connector, { bucket, prefix, owned: !bucketName });
    }
    this.locations = locations;
  }

  /**
   * Allows one connector's data to be listed and read below its prefix, and nothing else:
   * `s3:GetObject` on `<bucket>/<prefix>*` and `s3:ListBucket` conditioned on `s3:prefix`.
   * Written by hand because `bucket.grantRead` adds `s3:GetBucket*` and `s3:List*` on the whole bucket.
   */
  public grantReadPrefix(connector: string, grantee: iam.IGrantable): iam.Grant {
    const location = this.locations.get(connector);
    if (!location) {
      throw new Error(
        `ConnectorData: no file-store connector "${connector}"; expected one of: ${[...this.locations.keys()].join(', ') || '(none)'}`,
      );
    }
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject'],
      resourceArns: [location.bucket.arnForObjects(`${location.prefix}*`)],
    });
    // Listing is a bucket-level action; the condition keeps it to keys below the connector's prefix.
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [location.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${location.prefix}*`] } },
      }),
    );
    if (location.owned) this.keys.grantDecrypt(grantee, 's3');
    return grant;
  }

  /**
   * Binds the connector function: `AIRLOCK_CONNECTOR_BUCKETS` (JSON `{connector: bucketName}`) with
   * read access below each connector's prefix.
   */
  public bindConnector(fn: AirlockFunction): void {
    const buckets: Record<string, string> = {};
    for (const [connector, location] of this.locations) {
      buckets[connector] = location.bucket.bucketName;
      this.grantReadPrefix(connector, fn);
    }
    fn.addEnvironment(FUNCTION_ENV.connectorBuckets, Stack.of(fn).toJsonString(buckets));
  }
}
