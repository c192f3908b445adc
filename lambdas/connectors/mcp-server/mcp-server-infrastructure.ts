/**
 * The mcp-server kind in AWS: one Secrets Manager secret per connector that authenticates to its
 * upstream (`{"value": ...}` for a static header, `{clientId, clientSecret}` for OAuth client
 * credentials or token exchange), created with a placeholder the operator replaces, so credentials never
 * pass through CloudFormation. An upstream without credentials gets nothing. A token-exchange connector
 * also gets its own asymmetric KMS key that signs its subject assertions: never the access-token key, so
 * a connector function, which talks to third parties, can never mint an Airlock token. (CDK types only:
 * see connector-infrastructure.ts.)
 */
import {
  type ConnectorInfrastructure,
  type ConnectorResources,
  upstreamCredentialSecret,
} from '../connector-infrastructure';
import type { McpServerConnectorConfig } from './mcp-server-config';

/** The resource key under which a token-exchange connector's subject assertion key ARN is bound. */
export const SUBJECT_ASSERTION_KEY_RESOURCE = 'subjectAssertionKeyArn';

export const mcpServerInfrastructure: ConnectorInfrastructure<McpServerConnectorConfig> = {
  groupId: 'McpServerSecrets',
  secretNames: (config) => (config.auth.type === 'none' ? [] : [config.auth.secretName]),
  network(name, config) {
    if (!config.vpc) return undefined;
    const portOf = (url: string) => {
      const parsed = new URL(url);
      return Number(parsed.port || (parsed.protocol === 'http:' ? 80 : 443));
    };
    const urls = [config.url, ...('tokenUrl' in config.auth ? [config.auth.tokenUrl] : [])];
    return {
      ...config.vpc,
      ports: [...new Set(urls.map(portOf))],
      field: `connectors.${name}.vpc`,
    };
  },
  create(context) {
    const { cdk, scope, name, config } = context;
    const { auth } = config;
    if (auth.type === 'none') return { bind: () => ({}) };
    const stack = cdk.core.Stack.of(scope);
    const secret = upstreamCredentialSecret(context, {
      secretName: auth.secretName,
      description: `Airlock ${stack.stackName}: credentials of the ${name} connector for its MCP server (${config.url})`,
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
    if (auth.type !== 'oauth2-token-exchange') return secret;
    return subjectAssertionKey(context, secret);
  },
};

/** A token-exchange connector's own P-256 signing key; its binding grants `kms:Sign` on it alone. */
function subjectAssertionKey(
  { cdk, scope, name }: Parameters<ConnectorInfrastructure<McpServerConnectorConfig>['create']>[0],
  secret: ConnectorResources,
): ConnectorResources {
  const { kms, iam } = cdk;
  const stack = cdk.core.Stack.of(scope);
  const key = new kms.Key(scope, `${name}-SubjectAssertionKey`, {
    description: `Airlock ${stack.stackName}: signs the ${name} connector's subject assertions for RFC 8693 token exchange at its upstream's authorization server`,
    keySpec: kms.KeySpec.ECC_NIST_P256,
    keyUsage: kms.KeyUsage.SIGN_VERIFY,
    // The authorization server trusts this key's public half: it outlives a stack update, not a failed create.
    removalPolicy: cdk.core.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    alias: `alias/${stack.stackName}-${name}-subject-assertion`,
  });
  return {
    bind(grantee) {
      // On the principal: `key.grant` would edit the key policy across stacks (a cycle), as for secrets.
      iam.Grant.addToPrincipal({ grantee, actions: ['kms:Sign'], resourceArns: [key.keyArn] });
      return { ...secret.bind(grantee), [SUBJECT_ASSERTION_KEY_RESOURCE]: key.keyArn };
    },
  };
}
