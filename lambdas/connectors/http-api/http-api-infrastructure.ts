/**
 * The http-api kind in AWS: one Secrets Manager secret per connector, holding the upstream OAuth2
 * client credentials `{clientId, clientSecret}`. The stack creates it with a placeholder value; an
 * operator puts the real credentials in it, so they never pass through CloudFormation. (CDK types only:
 * see connector-infrastructure.ts.)
 */
import { type ConnectorInfrastructure, upstreamCredentialSecret } from '../connector-infrastructure';
import type { HttpApiConnectorConfig } from './http-api-config';

export const httpApiInfrastructure: ConnectorInfrastructure<HttpApiConnectorConfig> = {
  groupId: 'ConnectorSecrets',
  secretNames: (config) => [config.auth.secretName],
  create(context) {
    const { cdk, scope, name, config } = context;
    return upstreamCredentialSecret(context, {
      secretName: config.auth.secretName,
      description: `Airlock ${cdk.core.Stack.of(scope).stackName}: OAuth2 client credentials of the ${name} connector (${config.baseUrl})`,
      placeholder: {
        secretStringTemplate: JSON.stringify({ clientId: 'replace-me' }),
        generateStringKey: 'clientSecret',
        excludePunctuation: true,
      },
      rotationReason:
        'The upstream OAuth2 client secret is issued by the enterprise system (the ERP), so rotating it needs that system; it is rotated there by its owner following docs/runbooks, then put into this secret.',
    });
  },
};
