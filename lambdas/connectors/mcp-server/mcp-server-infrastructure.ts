/**
 * The mcp-server kind in AWS: one Secrets Manager secret per connector that authenticates to its
 * upstream (`{"value": ...}` for a static header, `{clientId, clientSecret}` for OAuth client
 * credentials), created with a placeholder the operator replaces, so credentials never pass through
 * CloudFormation. An upstream without credentials gets nothing. (CDK types only: see
 * connector-infrastructure.ts.)
 */
import { CONNECTOR_SECRET_RESOURCES, type ConnectorInfrastructure } from '../connector-infrastructure';
import type { McpServerConnectorConfig } from './mcp-server-config';

export const mcpServerInfrastructure: ConnectorInfrastructure<McpServerConnectorConfig> = {
  groupId: 'McpServerSecrets',
  secretNames: (config) => (config.auth.type === 'none' ? [] : [config.auth.secretName]),
  create({ cdk, scope, name, config, dataKey, nag }) {
    const { auth } = config;
    if (auth.type === 'none') return { bind: () => ({}) };
    const { iam, secretsmanager } = cdk;
    const stack = cdk.core.Stack.of(scope);
    const secret = new secretsmanager.Secret(scope, name, {
      secretName: auth.secretName,
      description: `Airlock ${stack.stackName}: credentials of the ${name} connector for its MCP server (${config.url})`,
      encryptionKey: dataKey,
      // The generated value is a placeholder: the operator puts the real credential in after deployment.
      generateSecretString:
        auth.type === 'header'
          ? { secretStringTemplate: '{}', generateStringKey: 'value', excludePunctuation: true }
          : {
              secretStringTemplate: JSON.stringify({ clientId: 'replace-me' }),
              generateStringKey: 'clientSecret',
              excludePunctuation: true,
            },
      // A failed first create must not leave a secret of this fixed name behind to block the retry.
      removalPolicy: cdk.core.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    const reason =
      "The upstream MCP server's credential is issued by that server's owner, so rotating it needs that system; it is rotated there following docs/mcp-servers.md, then put into this secret.";
    nag.acknowledge(
      secret,
      { id: 'AwsSolutions-SMG4', reason },
      { id: 'NIST.800.53.R5-SecretsManagerRotationEnabled', reason },
    );
    return {
      // On the principal, as the http-api kind does: a grant on the secret would edit the key policy
      // across stacks and make the stateful stack depend on the API stack.
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
          [CONNECTOR_SECRET_RESOURCES.name]: auth.secretName,
          [CONNECTOR_SECRET_RESOURCES.arn]: secret.secretArn,
        };
      },
    };
  },
};
