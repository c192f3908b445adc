import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { FUNCTION_ENV } from '../contracts/environment';
import type { AirlockFunction } from './airlock-function';

export interface IdentityProviderSecretProps {
  /** `oauth.identityProvider.clientSecretName`: the secret's name, as the OAuth function looks it up. */
  readonly secretName: string;
  /** The IdP's issuer, for the description. */
  readonly issuer: string;
  /** Customer managed key that encrypts the secret. */
  readonly encryptionKey: kms.IKey;
}

/**
 * The client secret Airlock signs in to the corporate IdP with (OIDC confidential client), as
 * `{"clientSecret": "..."}`. The stack creates it with a placeholder; an operator puts the secret
 * the IdP issued into it, so it never passes through CloudFormation or the config.
 */
export class IdentityProviderSecret extends Construct {
  /** The secret (construct id `Resource`). */
  public readonly secret: secretsmanager.Secret;
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: IdentityProviderSecretProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    this.secret = new secretsmanager.Secret(this, 'Resource', {
      secretName: props.secretName,
      description: `Airlock ${Stack.of(this).stackName}: OIDC client secret at ${props.issuer} (replace the placeholder)`,
      encryptionKey: props.encryptionKey,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({}),
        generateStringKey: 'clientSecret',
        excludePunctuation: true,
      },
      // Kept when the section or the stack goes, but not after a failed first create: the name is
      // fixed (the function finds the secret by it), so a secret kept from that attempt would make
      // the retry fail with "already exists".
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
  }

  /**
   * Allows `secretsmanager:GetSecretValue` on this secret and `kms:Decrypt` through Secrets Manager
   * only. On the principal rather than `secret.grantRead`, which would also edit the key policy of
   * the stateful stack for a grantee in another stack.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [this.secret.secretArn],
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

  /** Binds the OAuth function: `AIRLOCK_IDP_CLIENT_SECRET_ARN` with read access to the secret. */
  public bindReader(fn: AirlockFunction): void {
    fn.addEnvironment(FUNCTION_ENV.idpClientSecretArn, this.secret.secretArn);
    this.grantRead(fn);
  }
}
