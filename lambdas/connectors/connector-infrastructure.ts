/**
 * What a connector kind creates in AWS, and how a function is bound to it: the CDK half of a kind.
 *
 * The kinds' modules are imported by the Lambda bundles too (the config schema is built from them),
 * so they never import aws-cdk-lib themselves: every CDK type here is a type-only import, and the CDK
 * app hands each kind the modules it builds with ({@link CdkToolkit}). A Lambda bundle therefore
 * carries a kind's few lines of infrastructure code, never the CDK library.
 */
import type * as cdk from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct, IConstruct } from 'constructs';

/** The CDK modules a kind builds with, from the CDK app. */
export interface CdkToolkit {
  readonly core: typeof cdk;
  readonly iam: typeof iam;
  readonly kms: typeof kms;
  readonly s3: typeof s3;
  readonly secretsmanager: typeof secretsmanager;
  /** Another module of the CDK library, e.g. `aws-cdk-lib/aws-ec2` (for a kind that needs it). */
  load<T>(module: string): T;
}

/** A cdk-nag finding a kind accepts, with the reason a reviewer accepts it. */
export interface NagFinding {
  readonly id: string;
  readonly reason: string;
}

/** Records reviewed cdk-nag findings (lib/nag/acknowledgements.ts keeps the rules of it). */
export interface NagAcknowledger {
  acknowledge(construct: IConstruct, ...findings: NagFinding[]): void;
  /** `AwsSolutions-IAM5[Resource::<arn>]` of a key-prefix wildcard resource in a grantee's policy. */
  acknowledgeWildcardResource(grantee: iam.IGrantable, resourceArn: string, reason: string): void;
}

/** The AWS services through which a function may use the data key (`kms:ViaService`). */
export type DataKeyService = 'dynamodb' | 's3' | 'sns' | 'sqs';

/** What a kind gets to create one connector's resources with. */
export interface ConnectorInfrastructureContext<C> {
  readonly cdk: CdkToolkit;
  /** The kind's construct in the stateful (Foundation) stack; create the connector's resources in it. */
  readonly scope: Construct;
  readonly name: string;
  readonly config: C;
  /** The customer managed key that encrypts Airlock's data. */
  readonly dataKey: kms.IKey;
  /** Grants the data key through one service only. */
  grantDataKey(grantee: iam.IGrantable, via: DataKeyService, use: 'decrypt' | 'encrypt-decrypt'): void;
  /** Where buckets the kind creates send their server access logs. */
  readonly accessLogsBucket: s3.IBucket;
  readonly nag: NagAcknowledger;
}

/**
 * The resource keys a kind binds for a secret its connector reads through the shared secret source
 * (Secrets Manager): the secret's name in the config and its ARN, which the grant names exactly.
 */
export const CONNECTOR_SECRET_RESOURCES = { name: 'secretName', arn: 'secretArn' } as const;

/** One connector's resources, as a function is bound to them. */
export interface ConnectorResources {
  /**
   * Grants a function what the kind's AWS adapter calls (and nothing else), and returns what the
   * adapter needs to find the resources; the CDK app puts it in the function's environment, and the
   * kind's `aws.adapters` receives it as `resources`.
   */
  bind(grantee: iam.IGrantable): Readonly<Record<string, string>>;
}

/** A VPC a connector's upstream is reached through (the functions that run connectors join it). */
export interface ConnectorNetworkNeed {
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  /** @default - a security group the stack creates */
  readonly securityGroupIds?: readonly string[];
  /** TCP ports the upstream listens on, opened outbound in a security group the stack creates. */
  readonly ports: readonly number[];
  /** Where the config names the VPC, for error messages (`connectors.<name>.vpc`). */
  readonly field: string;
}

/** The CDK half of a connector kind. */
export interface ConnectorInfrastructure<C> {
  /**
   * The construct id, in the stateful stack, the kind's resources live under (one child per
   * connector). A public contract: a renamed id replaces the resources.
   */
  readonly groupId: string;
  /** Secrets Manager secret names the kind creates for a connector (checked against other secrets). */
  secretNames?(config: C): readonly string[];
  /**
   * The VPC the connector's upstream is reached through, if its config names one: the functions that
   * run connectors get a network interface there (lib/constructs/connector-network.ts).
   * @default - none: the upstream is reached over the internet
   */
  network?(name: string, config: C): ConnectorNetworkNeed | undefined;
  /** Creates one connector's resources. Throws with the field to fix when the config cannot be deployed. */
  create(context: ConnectorInfrastructureContext<C>): ConnectorResources;
}

/** What differs between kinds whose connector reads its upstream's credentials from one secret. */
export interface UpstreamCredentialSecret {
  readonly secretName: string;
  readonly description: string;
  /** The placeholder the stack generates; the operator puts the real credential in after deployment. */
  readonly placeholder: secretsmanager.SecretStringGenerator;
  /** Why the secret is not rotated by AWS (the cdk-nag acknowledgement's reason). */
  readonly rotationReason: string;
}

/**
 * One Secrets Manager secret holding an upstream's credentials, encrypted with the data key and created
 * with a placeholder (credentials never pass through CloudFormation), and its binding: `GetSecretValue`
 * on that secret and `kms:Decrypt` through Secrets Manager only.
 */
export function upstreamCredentialSecret(
  { cdk, scope, name, dataKey, nag }: ConnectorInfrastructureContext<unknown>,
  { secretName, description, placeholder, rotationReason }: UpstreamCredentialSecret,
): ConnectorResources {
  const { iam, secretsmanager } = cdk;
  const stack = cdk.core.Stack.of(scope);
  const secret = new secretsmanager.Secret(scope, name, {
    secretName,
    description,
    encryptionKey: dataKey,
    generateSecretString: placeholder,
    // A failed first create must not leave a secret of this fixed name behind to block the retry.
    removalPolicy: cdk.core.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
  });
  nag.acknowledge(
    secret,
    { id: 'AwsSolutions-SMG4', reason: rotationReason },
    { id: 'NIST.800.53.R5-SecretsManagerRotationEnabled', reason: rotationReason },
  );
  return {
    // On the principal, because `secret.grantRead` also edits the key policy when the grantee lives in
    // another stack, which would make the stateful stack depend on the API stack.
    bind(grantee) {
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['secretsmanager:GetSecretValue'],
        resourceArns: [secret.secretArn],
      });
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [dataKey.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` },
          },
        }),
      );
      return {
        [CONNECTOR_SECRET_RESOURCES.name]: secretName,
        [CONNECTOR_SECRET_RESOURCES.arn]: secret.secretArn,
      };
    },
  };
}
