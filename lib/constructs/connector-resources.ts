import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3Module from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type {
  ConnectorResources as BoundResources,
  CdkToolkit,
  NagAcknowledger,
} from '../../lambdas/connectors/connector-infrastructure';
import { connectorKindOf } from '../../lambdas/connectors/connector-kind-lookup';
import type { ConnectorConfig } from '../config/schema';
import { FUNCTION_ENV } from '../contracts/environment';
import type { AirlockFunction } from './airlock-function';
import type { AirlockKeys } from './airlock-keys';

/** The CDK modules the connector kinds build with (their modules import only CDK types). */
export const CDK_TOOLKIT: CdkToolkit = {
  core: cdk,
  iam,
  kms,
  s3: s3Module,
  secretsmanager,
  // A kind asks for another module by its name; resolved here, in the CDK app, never in a Lambda bundle.
  load: <T>(module: string): T => {
    if (!/^aws-cdk-lib(\/aws-[a-z0-9-]+)?$/.test(module)) {
      throw new Error(`a connector kind may load modules of aws-cdk-lib only, not "${module}"`);
    }
    return require(module) as T;
  },
};

export interface ConnectorResourceSetProps {
  /** The pilot's connectors. */
  readonly connectors: Readonly<Record<string, ConnectorConfig>>;
  /** The data key that encrypts what the kinds create. */
  readonly keys: AirlockKeys;
  /** Bucket that receives server access logs of buckets the kinds create. */
  readonly accessLogsBucket: s3.IBucket;
  /** Records the findings the kinds accept. */
  readonly nag: NagAcknowledger;
}

/**
 * The AWS resources of every configured connector, each created by its kind's infrastructure
 * (lambdas/connectors/<kind>/<kind>-infrastructure.ts) under the kind's own construct in `scope`
 * (the stateful stack), and the one binding that gives a function its connectors: each kind's grants,
 * and `AIRLOCK_CONNECTORS`, what each connector's AWS adapter needs to find its resources.
 */
export class ConnectorResourceSet {
  /** Connector name → its resources, as a function is bound to them. */
  public readonly connectors: ReadonlyMap<string, BoundResources>;

  constructor(scope: Construct, props: ConnectorResourceSetProps) {
    const groups = new Map<string, Construct>();
    const connectors = new Map<string, BoundResources>();
    for (const [name, config] of Object.entries(props.connectors)) {
      const { infrastructure } = connectorKindOf(config.kind);
      let group = groups.get(infrastructure.groupId);
      if (!group) {
        group = new Construct(scope, infrastructure.groupId);
        groups.set(infrastructure.groupId, group);
      }
      connectors.set(
        name,
        infrastructure.create({
          cdk: CDK_TOOLKIT,
          scope: group,
          name,
          config,
          dataKey: props.keys.dataKey,
          grantDataKey: (grantee, via, use) => {
            if (use === 'decrypt') props.keys.grantDecrypt(grantee, via);
            else props.keys.grantEncryptDecrypt(grantee, via);
          },
          accessLogsBucket: props.accessLogsBucket,
          nag: props.nag,
        }),
      );
    }
    this.connectors = connectors;
  }

  /**
   * Binds a function that runs the connector pipeline: the grants of each connector it serves (every
   * connector unless `only` names some), and `AIRLOCK_CONNECTORS` (JSON `{connector: {what its
   * adapter needs}}`) for those alone.
   */
  public bindConnectors(fn: AirlockFunction, only?: readonly string[]): void {
    const bound: Record<string, Readonly<Record<string, string>>> = {};
    for (const [name, resources] of this.connectors) {
      if (only === undefined || only.includes(name)) bound[name] = resources.bind(fn);
    }
    fn.addEnvironment(FUNCTION_ENV.connectorResources, cdk.Stack.of(fn).toJsonString(bound));
  }
}

/** The Secrets Manager secret names the connectors' kinds create (to refuse another secret of the same name). */
export function connectorSecretNames(
  connectors: Readonly<Record<string, ConnectorConfig>>,
): Map<string, string> {
  const names = new Map<string, string>();
  for (const [name, config] of Object.entries(connectors)) {
    for (const secret of connectorKindOf(config.kind).infrastructure.secretNames?.(config) ?? []) {
      const taken = names.get(secret);
      if (taken) {
        throw new Error(
          `ConnectorSecrets: connectors.${name}.auth.secretName "${secret}" is used by another connector (${taken}); give each connector its own secret`,
        );
      }
      names.set(secret, name);
    }
  }
  return names;
}
