/**
 * Resolves synthesized CloudFormation values to what a deployment in one (fake) account and region
 * would hold: `Ref`, `Fn::GetAtt`, `Fn::ImportValue` and `Fn::GetStackOutput` across the app's stacks, `Fn::Join`, `Fn::Sub`,
 * `Fn::Select`, `Fn::Split` and the pseudo parameters. Physical names CloudFormation would generate
 * are made up deterministically from the stack and logical id, so the same resource always resolves
 * to the same name in every stack that refers to it.
 */
import { createHash } from 'node:crypto';

/** One stack's template, as `Template.toJSON()` gives it. */
export interface StackTemplate {
  readonly stackName: string;
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON
  readonly template: any;
}

export interface DeploymentScope {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

type Json = unknown;

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, Json>;
}

export class CloudFormationResolver {
  private readonly stacks: ReadonlyMap<string, StackTemplate>;

  constructor(
    stacks: readonly StackTemplate[],
    public readonly scope: DeploymentScope,
  ) {
    this.stacks = new Map(stacks.map((s) => [s.stackName, s]));
  }

  /** The resource `logicalId` of `stackName`. */
  resource(stackName: string, logicalId: string): Resource {
    const resource = this.stack(stackName).template.Resources?.[logicalId] as Resource | undefined;
    if (!resource) throw new Error(`${stackName} has no resource ${logicalId}`);
    return resource;
  }

  /** Every resource of `stackName`, by logical id. */
  resources(stackName: string): [string, Resource][] {
    return Object.entries(this.stack(stackName).template.Resources ?? {}) as [string, Resource][];
  }

  /** `value` with every intrinsic function resolved, as evaluated in `stackName`. */
  resolve(stackName: string, value: Json): Json {
    if (Array.isArray(value)) return value.map((v) => this.resolve(stackName, v));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, Json>);
    if (entries.length === 1) {
      const [fn, arg] = entries[0];
      switch (fn) {
        case 'Ref':
          return this.ref(stackName, String(arg));
        case 'Fn::GetAtt': {
          const [logicalId, attribute] = Array.isArray(arg) ? arg : String(arg).split('.');
          return this.getAtt(stackName, String(logicalId), String(attribute));
        }
        case 'Fn::ImportValue':
          return this.importValue(String(this.resolve(stackName, arg)));
        case 'Fn::GetStackOutput': {
          const { StackName, OutputName } = arg as { StackName: Json; OutputName: Json };
          return this.stackOutput(String(this.resolve(stackName, StackName)), String(OutputName));
        }
        case 'Fn::Join': {
          const [separator, parts] = arg as [string, Json[]];
          return (this.resolve(stackName, parts) as Json[]).map(String).join(separator);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [Json, Json];
          return (this.resolve(stackName, list) as Json[])[Number(this.resolve(stackName, index))];
        }
        case 'Fn::Split': {
          const [separator, text] = arg as [string, Json];
          return String(this.resolve(stackName, text)).split(separator);
        }
        case 'Fn::Sub':
          return this.sub(stackName, arg);
        default:
          if (fn.startsWith('Fn::') || fn === 'Condition')
            throw new Error(`${stackName}: the resolver does not know ${fn}`);
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(stackName, v)]));
  }

  /** A string value, resolved; throws when it is not one. */
  resolveString(stackName: string, value: Json): string {
    const resolved = this.resolve(stackName, value);
    if (typeof resolved !== 'string')
      throw new Error(`${stackName}: expected a string, got ${JSON.stringify(resolved)}`);
    return resolved;
  }

  /** The physical name CloudFormation gives `logicalId` (its name property when the template sets one). */
  physicalName(stackName: string, logicalId: string): string {
    const resource = this.resource(stackName, logicalId);
    const props = resource.Properties ?? {};
    const named = NAME_PROPERTY[resource.Type];
    if (named && props[named] !== undefined) return this.resolveString(stackName, props[named]);
    const generated = `${stackName}-${logicalId}-${shortHash(`${stackName}/${logicalId}`).toUpperCase()}`;
    // Bucket names are lower case and at most 63 characters.
    return resource.Type === 'AWS::S3::Bucket' ? generated.toLowerCase().slice(0, 63) : generated;
  }

  private ref(stackName: string, name: string): Json {
    const { partition, region, account } = this.scope;
    switch (name) {
      case 'AWS::Partition':
        return partition;
      case 'AWS::Region':
        return region;
      case 'AWS::AccountId':
        return account;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stackName;
      case 'AWS::NoValue':
        return undefined;
    }
    const parameter = this.stack(stackName).template.Parameters?.[name];
    if (parameter) {
      if (parameter.Default === undefined) throw new Error(`${stackName}: parameter ${name} has no default`);
      return parameter.Default;
    }
    const resource = this.resource(stackName, name);
    const physical = this.physicalName(stackName, name);
    switch (resource.Type) {
      case 'AWS::KMS::Key':
        return keyIdOf(stackName, name);
      case 'AWS::SNS::Topic':
      case 'AWS::SecretsManager::Secret':
        return this.arnOf(stackName, name);
      case 'AWS::SQS::Queue':
        return `https://sqs.${region}.amazonaws.com/${account}/${physical}`;
      default:
        return physical;
    }
  }

  private getAtt(stackName: string, logicalId: string, attribute: string): Json {
    const resource = this.resource(stackName, logicalId);
    switch (attribute) {
      case 'Arn':
      case 'TopicArn':
        return this.arnOf(stackName, logicalId);
      case 'KeyId':
        return keyIdOf(stackName, logicalId);
      case 'TopicName':
      case 'QueueName':
        return this.physicalName(stackName, logicalId);
      case 'GroupId':
        // EC2 names a security group by an id it generates.
        return `sg-${shortHash(`${stackName}/${logicalId}`).slice(0, 17)}`;
      case 'InferenceProfileArn':
        // Bedrock names an application inference profile by an id it generates.
        return `arn:${this.scope.partition}:bedrock:${this.scope.region}:${this.scope.account}:application-inference-profile/${logicalId.toLowerCase().slice(0, 12)}`;
      case 'RegionalDomainName':
      case 'DomainName':
        return `${this.physicalName(stackName, logicalId).toLowerCase()}.example.amazonaws.com`;
      default:
        throw new Error(`${stackName}: the resolver does not know ${resource.Type}.${attribute}`);
    }
  }

  /** The ARN of a resource, as CloudFormation's `Arn` attribute gives it. */
  arnOf(stackName: string, logicalId: string): string {
    const { partition, region, account } = this.scope;
    const resource = this.resource(stackName, logicalId);
    const name = this.physicalName(stackName, logicalId);
    switch (resource.Type) {
      case 'AWS::DynamoDB::Table':
        return `arn:${partition}:dynamodb:${region}:${account}:table/${name}`;
      case 'AWS::KMS::Key':
        return `arn:${partition}:kms:${region}:${account}:key/${keyIdOf(stackName, logicalId)}`;
      case 'AWS::S3::Bucket':
        return `arn:${partition}:s3:::${name}`;
      case 'AWS::SNS::Topic':
        return `arn:${partition}:sns:${region}:${account}:${name}`;
      case 'AWS::SQS::Queue':
        return `arn:${partition}:sqs:${region}:${account}:${name}`;
      case 'AWS::SecretsManager::Secret':
        return `arn:${partition}:secretsmanager:${region}:${account}:secret:${name}-${shortHash(name).slice(0, 6)}`;
      case 'AWS::Lambda::Function':
        return `arn:${partition}:lambda:${region}:${account}:function:${name}`;
      case 'AWS::IAM::Role':
        return `arn:${partition}:iam::${account}:role/${name}`;
      case 'AWS::Logs::LogGroup':
        return `arn:${partition}:logs:${region}:${account}:log-group:${name}:*`;
      case 'AWS::Events::Rule':
        return `arn:${partition}:events:${region}:${account}:rule/${name}`;
      case 'AWS::SSM::Parameter':
        return `arn:${partition}:ssm:${region}:${account}:parameter${name}`;
      default:
        return `arn:${partition}:${resource.Type.split('::')[1].toLowerCase()}:${region}:${account}:${name}`;
    }
  }

  /** `Fn::GetStackOutput`: another stack's output, read at deploy time (no export). */
  private stackOutput(outputStack: string, outputName: string): Json {
    const stack = this.stacks.get(outputStack);
    const output = stack?.template.Outputs?.[outputName] as { Value: Json } | undefined;
    if (!stack || !output) throw new Error(`stack ${outputStack} has no output ${outputName}`);
    return this.resolve(outputStack, output.Value);
  }

  private importValue(exportName: string): Json {
    for (const [stackName, { template }] of this.stacks) {
      for (const output of Object.values(template.Outputs ?? {}) as {
        Value: Json;
        Export?: { Name: Json };
      }[]) {
        if (output.Export && this.resolve(stackName, output.Export.Name) === exportName) {
          return this.resolve(stackName, output.Value);
        }
      }
    }
    throw new Error(`no stack exports ${exportName}`);
  }

  private sub(stackName: string, arg: Json): string {
    const [text, variables] = Array.isArray(arg)
      ? (arg as [string, Record<string, Json>])
      : [String(arg), {}];
    return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
      if (name in variables) return String(this.resolve(stackName, variables[name]));
      if (name.includes('.') && !name.startsWith('AWS::')) {
        const [logicalId, attribute] = name.split('.');
        return String(this.getAtt(stackName, logicalId, attribute));
      }
      return String(this.ref(stackName, name));
    });
  }

  private stack(stackName: string): StackTemplate {
    const stack = this.stacks.get(stackName);
    if (!stack) throw new Error(`no stack ${stackName}`);
    return stack;
  }
}

/** The property that names a resource, for the types whose template may set the name. */
const NAME_PROPERTY: Record<string, string> = {
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::SSM::Parameter': 'Name',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::Events::Rule': 'Name',
};

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** A key id shaped like KMS's (a UUID), fixed per key. */
function keyIdOf(stackName: string, logicalId: string): string {
  const h = createHash('sha256').update(`${stackName}/${logicalId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
