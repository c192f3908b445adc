/**
 * The machinery of the permission proof: a synthesized deployment resolved to one fake account
 * (cloudformation-resolver.ts), the policies that decide a role's requests in it (the role's identity
 * policies, and the resource policy of the key, bucket, topic, queue or secret asked for), and an IAM
 * policy simulator that evaluates them.
 *
 * The simulator is @cloud-copilot/iam-simulate, licensed AGPL-3.0-or-later. It is a devDependency used
 * by these tests only: nothing under lib/ or lambdas/ imports it, so it is never bundled into a
 * function or shipped with the kit.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { IamPermission } from '../../lambdas/adapters/aws/iam-permissions';
import { CloudFormationResolver, type DeploymentScope, type StackTemplate } from './cloudformation-resolver';

/** The fake account every proof deploys into. */
export const PROOF_SCOPE: DeploymentScope = {
  partition: 'aws',
  region: 'eu-west-1',
  account: '111122223333',
};

/** A policy document, resolved. */
export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: readonly PolicyStatement[];
}

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** One (action, resource) an identity statement allows, with its condition. */
export interface Grant {
  readonly action: string;
  readonly resource: string;
  readonly condition?: PolicyStatement['Condition'];
}

/** Why a requirement is on the list. */
export type RequirementKind =
  /** An adapter method of a port the composition reads declares it (lambdas/adapters/aws). */
  | 'code'
  /** AWS uses a customer managed key for the caller when it serves a `code` request on encrypted data. */
  | 'key-use'
  /** AWS documents it for that service's use of the key; accepted when granted, not required. */
  | 'documented'
  /** What the Lambda platform does with the execution role (logs, traces, dead letters); see the allowlist. */
  | 'platform';

export interface Requirement extends IamPermission {
  readonly kind: RequirementKind;
}

/** How AWS services use a customer managed key on the caller's behalf, by the caller's action. */
interface KeyUse {
  /** Each request of the action makes the service call these with the caller's permissions. */
  readonly required: readonly string[];
  /** Listed by AWS for the service's use of a customer managed key; accepted, not required. */
  readonly documented?: readonly string[];
}

/**
 * Sources: the AWS KMS Developer Guide, "How <service> uses AWS KMS", for each service below. DynamoDB
 * decrypts the table key with the caller's kms:Decrypt on every read and write (aws/aws-cdk#10010
 * shows PutItem failing without it) and lists Encrypt, GenerateDataKey and DescribeKey among the
 * minimum permissions of a customer managed key; S3 (SSE-KMS) needs GenerateDataKey to write an
 * object and Decrypt to read one; SNS publishers need GenerateDataKey and Decrypt on an encrypted
 * topic; Secrets Manager decrypts a secret with the caller's kms:Decrypt; SQS senders need
 * GenerateDataKey and Decrypt on an encrypted queue.
 */
function keyUseOf(action: string): KeyUse | undefined {
  const [service] = action.split(':');
  if (service === 'dynamodb')
    return {
      required: ['kms:Decrypt'],
      documented: ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
    };
  switch (action) {
    case 's3:GetObject':
      return { required: ['kms:Decrypt'] };
    case 's3:PutObject':
      return { required: ['kms:GenerateDataKey'] };
    case 'sns:Publish':
      return { required: ['kms:GenerateDataKey', 'kms:Decrypt'] };
    case 'secretsmanager:GetSecretValue':
      return { required: ['kms:Decrypt'] };
    case 'sqs:SendMessage':
      return { required: ['kms:GenerateDataKey', 'kms:Decrypt'] };
    default:
      return undefined;
  }
}

/** Airlock's synthesized stacks, resolved into {@link PROOF_SCOPE}, with the policies that decide requests. */
export class ResolvedDeployment {
  readonly resolver: CloudFormationResolver;
  /** Resource ARN → the key that encrypts it (tables, buckets, topics, queues, secrets). */
  private readonly keys = new Map<string, string>();
  /** Resource ARN → its resource policy (key policies, bucket, topic, queue and secret policies). */
  private readonly resourcePolicies = new Map<string, PolicyDocument>();

  constructor(stacks: readonly StackTemplate[]) {
    this.resolver = new CloudFormationResolver(stacks, PROOF_SCOPE);
    for (const { stackName } of stacks) this.index(stackName);
  }

  /** The ARN of a role, and the documents of every policy attached to it. */
  identityPolicies(stackName: string, roleLogicalId: string): PolicyDocument[] {
    const r = this.resolver;
    const role = r.resource(stackName, roleLogicalId);
    if (role.Properties?.ManagedPolicyArns !== undefined)
      throw new Error(
        `${roleLogicalId} has managed policies; the proof reads inline and attached policies only`,
      );
    const documents: PolicyDocument[] = [];
    for (const inline of (role.Properties?.Policies ?? []) as { PolicyDocument: unknown }[]) {
      documents.push(r.resolve(stackName, inline.PolicyDocument) as PolicyDocument);
    }
    for (const [, resource] of r.resources(stackName)) {
      if (resource.Type !== 'AWS::IAM::Policy') continue;
      const roles = (resource.Properties?.Roles ?? []) as { Ref?: string }[];
      if (!roles.some((ref) => ref.Ref === roleLogicalId)) continue;
      documents.push(r.resolve(stackName, resource.Properties?.PolicyDocument) as PolicyDocument);
    }
    return documents;
  }

  /** Every (action, resource) the role's identity policies allow; a Deny fails (none is expected). */
  grantsOf(stackName: string, roleLogicalId: string): Grant[] {
    return this.identityPolicies(stackName, roleLogicalId).flatMap((document) =>
      document.Statement.flatMap((statement) => {
        if (statement.Effect !== 'Allow')
          throw new Error(`${roleLogicalId} has a ${statement.Effect} statement`);
        return [statement.Action ?? []].flat().flatMap((action) =>
          [statement.Resource ?? []].flat().map((resource) => ({
            action,
            resource,
            ...(statement.Condition ? { condition: statement.Condition } : {}),
          })),
        );
      }),
    );
  }

  /**
   * What AWS does with a customer managed key for each request of `requirements` that reaches encrypted
   * data: the key actions it needs (`key-use`, simulated through the service with `kms:ViaService`) and
   * those AWS lists for the service's use of the key (`documented`, accepted when granted).
   */
  keyUses(requirements: readonly Requirement[]): Requirement[] {
    return requirements.flatMap((requirement) => {
      const use = keyUseOf(requirement.action);
      const key = use && this.keys.get(baseArnOf(requirement.resource));
      if (!use || !key) return [];
      const service = requirement.action.split(':')[0];
      const context = {
        'kms:ViaService': `${service}.${PROOF_SCOPE.region}.amazonaws.com`,
        'kms:CallerAccount': PROOF_SCOPE.account,
      };
      const neededBy = `${requirement.neededBy} (${requirement.action} on ${requirement.resource}, encrypted with this key)`;
      return [
        ...use.required.map((action) => ({
          action,
          resource: key,
          context,
          neededBy,
          kind: 'key-use' as const,
        })),
        ...(use.documented ?? []).map((action) => ({
          action,
          resource: key,
          context,
          neededBy,
          kind: 'documented' as const,
        })),
      ];
    });
  }

  /**
   * Whether IAM allows `principal` the request: its identity policies, the resource's policy (a key
   * policy must allow a KMS request, directly or by trusting the account's IAM policies), TLS on.
   */
  async decide(
    principal: string,
    identity: readonly PolicyDocument[],
    requirement: IamPermission,
  ): Promise<string> {
    const resource = concreteResource(requirement.resource);
    const result = await runSimulation(
      {
        request: {
          principal,
          action: requirement.action,
          resource: { resource, accountId: PROOF_SCOPE.account },
          contextVariables: {
            'aws:SecureTransport': 'true',
            'aws:PrincipalArn': principal,
            'aws:PrincipalAccount': PROOF_SCOPE.account,
            ...requirement.context,
          },
        },
        identityPolicies: identity.map((policy, i) => ({ name: `policy-${i}`, policy })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: this.resourcePolicies.get(baseArnOf(requirement.resource)),
      },
      {},
    );
    if (result.resultType === 'error') {
      throw new Error(
        `the simulator refused ${requirement.action} on ${resource}: ${JSON.stringify(result.errors)}`,
      );
    }
    return result.overallResult;
  }

  /** Indexes the keys and resource policies of one stack's resources by their ARNs. */
  private index(stackName: string): void {
    const r = this.resolver;
    const keyArn = (value: unknown) => {
      const id = r.resolveString(stackName, value);
      return id.startsWith('arn:')
        ? id
        : `arn:${PROOF_SCOPE.partition}:kms:${PROOF_SCOPE.region}:${PROOF_SCOPE.account}:key/${id}`;
    };
    for (const [logicalId, resource] of r.resources(stackName)) {
      // biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are untyped JSON, read by type below
      const props = (resource.Properties ?? {}) as Record<string, any>;
      switch (resource.Type) {
        case 'AWS::KMS::Key':
          this.resourcePolicies.set(
            r.arnOf(stackName, logicalId),
            r.resolve(stackName, props.KeyPolicy) as PolicyDocument,
          );
          break;
        case 'AWS::DynamoDB::Table':
          if (props.SSESpecification?.KMSMasterKeyId)
            this.keys.set(r.arnOf(stackName, logicalId), keyArn(props.SSESpecification.KMSMasterKeyId));
          break;
        case 'AWS::S3::Bucket': {
          const sse =
            props.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault;
          if (sse?.KMSMasterKeyID) this.keys.set(r.arnOf(stackName, logicalId), keyArn(sse.KMSMasterKeyID));
          break;
        }
        case 'AWS::SNS::Topic':
        case 'AWS::SQS::Queue':
          if (props.KmsMasterKeyId)
            this.keys.set(r.arnOf(stackName, logicalId), keyArn(props.KmsMasterKeyId));
          break;
        case 'AWS::SecretsManager::Secret':
          if (props.KmsKeyId) this.keys.set(r.arnOf(stackName, logicalId), keyArn(props.KmsKeyId));
          break;
        case 'AWS::S3::BucketPolicy':
          this.resourcePolicies.set(
            `arn:${PROOF_SCOPE.partition}:s3:::${r.resolveString(stackName, props.Bucket)}`,
            r.resolve(stackName, props.PolicyDocument) as PolicyDocument,
          );
          break;
        case 'AWS::SNS::TopicPolicy':
          for (const topic of props.Topics as unknown[])
            this.resourcePolicies.set(
              r.resolveString(stackName, topic),
              r.resolve(stackName, props.PolicyDocument) as PolicyDocument,
            );
          break;
        case 'AWS::SQS::QueuePolicy':
          for (const queue of props.Queues as { Ref: string }[])
            this.resourcePolicies.set(
              r.arnOf(stackName, queue.Ref),
              r.resolve(stackName, props.PolicyDocument) as PolicyDocument,
            );
          break;
        case 'AWS::SecretsManager::ResourcePolicy':
          this.resourcePolicies.set(
            r.resolveString(stackName, props.SecretId),
            r.resolve(stackName, props.ResourcePolicy) as PolicyDocument,
          );
          break;
      }
    }
  }
}

/** The ARN of the resource that owns a sub-resource: a table's index, a bucket's object. */
export function baseArnOf(arn: string): string {
  if (arn.startsWith('arn:aws:s3:::')) return arn.split('/')[0];
  const index = arn.indexOf('/index/');
  return index >= 0 ? arn.slice(0, index) : arn;
}

/** A resource pattern made concrete for the simulator: one name below a prefix pattern. */
export function concreteResource(resource: string): string {
  if (resource === '*' || !resource.endsWith('*')) return resource;
  const stem = resource.slice(0, -1);
  return stem.includes(':logs:') ? `${stem}log-stream:proof-sample` : `${stem}proof-sample.json`;
}
