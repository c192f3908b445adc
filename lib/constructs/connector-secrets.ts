import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { ConnectorConfig } from '../config/schema';
import { FUNCTION_ENV } from '../contracts/environment';
import type { AirlockFunction } from './airlock-function';

export interface ConnectorSecretsProps {
  /** The pilot's connectors; one secret is created per `http-api` connector. */
  readonly connectors: Readonly<Record<string, ConnectorConfig>>;
  /** Customer managed key that encrypts the secrets. */
  readonly encryptionKey: kms.IKey;
}

/**
 * One Secrets Manager secret per HTTP API connector, holding the upstream OAuth2 client
 * credentials `{clientId, clientSecret}`. The stack creates the secret with a placeholder value;
 * an operator puts the real credentials in it, so they never pass through CloudFormation.
 */
export class ConnectorSecrets extends Construct {
  /** Connector name → its secret. */
  public readonly secrets: ReadonlyMap<string, secretsmanager.Secret>;
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: ConnectorSecretsProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    const secrets = new Map<string, secretsmanager.Secret>();
    const names = new Set<string>();
    for (const [connector, config] of Object.entries(props.connectors)) {
      if (config.kind !== 'http-api') continue;
      if (names.has(config.auth.secretName)) {
        throw new Error(
          `ConnectorSecrets: connectors.${connector}.auth.secretName "${config.auth.secretName}" is used by another connector; give each connector its own secret`,
        );
      }
      names.add(config.auth.secretName);
      secrets.set(
        connector,
        new secretsmanager.Secret(this, connector, {
          secretName: config.auth.secretName,
          description: `Airlock ${Stack.of(this).stackName}: OAuth2 client credentials of the ${connector} connector (${config.baseUrl})`,
          encryptionKey: props.encryptionKey,
          // The generated value is a placeholder: the operator replaces clientSecret after deployment.
          generateSecretString: {
            secretStringTemplate: JSON.stringify({ clientId: 'replace-me' }),
            generateStringKey: 'clientSecret',
            excludePunctuation: true,
          },
          // Kept when the connector or the stack goes, but not after a failed first create: the name is
          // fixed by the config, so a secret kept from that attempt would fail the retry ("already exists").
          removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        }),
      );
    }
    this.secrets = secrets;
  }

  /**
   * Allows reading the secret of one connector: `secretsmanager:GetSecretValue` on it and
   * `kms:Decrypt` through Secrets Manager only. Written on the principal because
   * `secret.grantRead` also edits the key policy when the grantee lives in another stack, which
   * would make the stateful stack depend on the API stack.
   */
  public grantRead(connector: string, grantee: iam.IGrantable): iam.Grant {
    const secret = this.secrets.get(connector);
    if (!secret) {
      throw new Error(
        `ConnectorSecrets: no secret for connector "${connector}"; expected one of: ${[...this.secrets.keys()].join(', ') || '(none)'}`,
      );
    }
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [secret.secretArn],
    });
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [this.encryptionKey.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
        },
      }),
    );
    return grant;
  }

  /**
   * Binds the connector function: `AIRLOCK_CONNECTOR_SECRETS` (JSON `{connector: secretArn}`) with
   * read access to exactly those secrets.
   */
  public bindConnector(fn: AirlockFunction): void {
    const arns: Record<string, string> = {};
    for (const [connector, secret] of this.secrets) {
      arns[connector] = secret.secretArn;
      this.grantRead(connector, fn);
    }
    fn.addEnvironment(FUNCTION_ENV.connectorSecrets, Stack.of(fn).toJsonString(arns));
  }
}
