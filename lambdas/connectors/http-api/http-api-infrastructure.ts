/**
 * The http-api kind in AWS: one Secrets Manager secret per connector, holding the upstream OAuth2
 * client credentials `{clientId, clientSecret}`. The stack creates it with a placeholder value; an
 * operator puts the real credentials in it, so they never pass through CloudFormation. (CDK types only:
 * see connector-infrastructure.ts.)
 */
import { CONNECTOR_SECRET_RESOURCES, type ConnectorInfrastructure } from '../connector-infrastructure';
import type { HttpApiConnectorConfig } from './http-api-config';

export const httpApiInfrastructure: ConnectorInfrastructure<HttpApiConnectorConfig> = {
  groupId: 'ConnectorSecrets',
  secretNames: (config) => [config.auth.secretName],
  create({ cdk, scope, name, config, dataKey, nag }) {
    const { iam, secretsmanager } = cdk;
    const stack = cdk.core.Stack.of(scope);
    const secret = new secretsmanager.Secret(scope, name, {
      secretName: config.auth.secretName,
      description: `Airlock ${stack.stackName}: OAuth2 client credentials of the ${name} connector (${config.baseUrl})`,
      encryptionKey: dataKey,
      // The generated value is a placeholder: the operator replaces clientSecret after deployment.
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ clientId: 'replace-me' }),
        generateStringKey: 'clientSecret',
        excludePunctuation: true,
      },
      // A failed first create must not leave a secret of this fixed name behind to block the retry.
      removalPolicy: cdk.core.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    const reason =
      'The upstream OAuth2 client secret is issued by the enterprise system (the ERP), so rotating it needs that system; it is rotated there by its owner following docs/runbooks, then put into this secret.';
    nag.acknowledge(
      secret,
      { id: 'AwsSolutions-SMG4', reason },
      { id: 'NIST.800.53.R5-SecretsManagerRotationEnabled', reason },
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
          [CONNECTOR_SECRET_RESOURCES.name]: config.auth.secretName,
          [CONNECTOR_SECRET_RESOURCES.arn]: secret.secretArn,
        };
      },
    };
  },
};
