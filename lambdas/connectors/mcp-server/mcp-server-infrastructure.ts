/**
 * The mcp-server kind in AWS: one Secrets Manager secret per connector that authenticates to its
 * upstream (`{"value": ...}` for a static header, `{clientId, clientSecret}` for OAuth client
 * credentials), created with a placeholder the operator replaces, so credentials never pass through
 * CloudFormation. An upstream without credentials gets nothing. (CDK types only: see
 * connector-infrastructure.ts.)
 */
import { type ConnectorInfrastructure, upstreamCredentialSecret } from '../connector-infrastructure';
import type { McpServerConnectorConfig } from './mcp-server-config';

export const mcpServerInfrastructure: ConnectorInfrastructure<McpServerConnectorConfig> = {
  groupId: 'McpServerSecrets',
  secretNames: (config) => (config.auth.type === 'none' ? [] : [config.auth.secretName]),
  create(context) {
    const { cdk, scope, name, config } = context;
    const { auth } = config;
    if (auth.type === 'none') return { bind: () => ({}) };
    return upstreamCredentialSecret(context, {
      secretName: auth.secretName,
      description: `Airlock ${cdk.core.Stack.of(scope).stackName}: credentials of the ${name} connector for its MCP server (${config.url})`,
      placeholder:
        auth.type === 'header'
          ? { secretStringTemplate: '{}', generateStringKey: 'value', excludePunctuation: true }
          : {
              secretStringTemplate: JSON.stringify({ clientId: 'replace-me' }),
              generateStringKey: 'clientSecret',
              excludePunctuation: true,
            },
      rotationReason:
        "The upstream MCP server's credential is issued by that server's owner, so rotating it needs that system; it is rotated there following docs/mcp-servers.md, then put into this secret.",
    });
  },
};
