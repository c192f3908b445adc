/**
 * The permission proof: each function's role allows exactly what its code can send, proven against
 * the synthesized templates, not against a snapshot of them.
 *
 * For each function of a synthesized deployment (the example pilot, and the pilot with the OAuth
 * entry point): its environment is read from the template and resolved as a deployment in one
 * account would hold it; AwsPorts is built on that environment and the function's composition runs,
 * as its Lambda entry does at init; the ports it read, with the adapter methods each exposes and
 * their IAM declarations, give every (action, resource) it can send. An IAM policy simulator then
 * evaluates each against the role's policies and the resource's policy (key policies included, with
 * the key use AWS services make on the caller's behalf). The reverse holds too: every action on
 * every resource the role allows is one of those, or a platform permission with its reason
 * (permission-allowlist.ts).
 *
 * The operator and auditor roles are proven the same way against what each CLI command sends
 * (cli/aws-command-permissions.ts), with the resources named by the stack outputs the CLI reads
 * (and, for doctor, the topics it finds in the Foundation stack's resources). And
 * a role that needs the data key only through AWS services may not use it directly (kms:ViaService).
 *
 * It fails on the revocation check's grant as it was (GetItem, while the check sends BatchGetItem):
 *   sed -i "s/grant(grantee, 'dynamodb:BatchGetItem')/grant(grantee, 'dynamodb:GetItem')/" lib/constructs/revocation-list.ts
 *   npm run jest -- test/infra/permission-proof.test.ts
 * names "connector: dynamodb:BatchGetItem on arn:aws:dynamodb:...:table/...Revocations... is
 * ImplicitlyDenied (needed by DynamoDbRevocationStore.isRevoked); grant it in RevocationList.bindChecker".
 */
import * as path from 'node:path';
import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  CLI_AWS_COMMANDS,
  type CliAwsCommandName,
  type CliRole,
  cliAwsAdapters,
  cliCommandPermissions,
} from '../../cli/aws-command-permissions';
import { type AwsPortBuilders, AwsPorts } from '../../lambdas/adapters/aws/aws-ports';
import { awsSettings } from '../../lambdas/adapters/aws/aws-runtime';
import { ANCHOR_AWS_PORTS } from '../../lambdas/anchor/anchor-aws-ports';
import { APPROVALS_AWS_PORTS } from '../../lambdas/approvals/approvals-aws-ports';
import { BROKER_AWS_PORTS } from '../../lambdas/broker/broker-aws-ports';
import { composeAnchor } from '../../lambdas/composition/compose-anchor';
import { composeApprovals } from '../../lambdas/composition/compose-approvals';
import { composeBroker } from '../../lambdas/composition/compose-broker';
import { composeConnector, composeConnectorPipeline } from '../../lambdas/composition/compose-connector';
import { composeOAuth } from '../../lambdas/composition/compose-oauth';
import { SharedServices } from '../../lambdas/composition/shared-services';
import { CONNECTOR_AWS_PORTS } from '../../lambdas/connector/connector-aws-ports';
import { OAUTH_AWS_PORTS } from '../../lambdas/oauth/oauth-aws-ports';
import type { AirlockConfig } from '../../lib/config/schema';
import type { AirlockFunction, AirlockFunctionName } from '../../lib/constructs/airlock-function';
import { CLI_ENV, FUNCTION_ENV } from '../../lib/contracts/environment';
import {
  exampleConfig,
  mcpServerConfig,
  oauthConfig,
  REPO_ROOT,
  synthesizeAirlock,
} from './airlock-test-app';
import { type Grant, PROOF_SCOPE, type Requirement, ResolvedDeployment } from './iam-proof';
import { FUNCTION_PLATFORM_PERMISSIONS } from './permission-allowlist';

/** What each function's Lambda entry (lambdas/<name>/index.ts) composes at init, over the ports it hands over. */
const COMPOSE: Record<
  AirlockFunctionName,
  { readonly ports: AwsPortBuilders; readonly compose: (services: SharedServices) => void }
> = {
  broker: { ports: BROKER_AWS_PORTS, compose: (services) => composeBroker(services) },
  connector: { ports: CONNECTOR_AWS_PORTS, compose: (services) => composeConnector(services).close() },
  approvals: { ports: APPROVALS_AWS_PORTS, compose: (services) => composeApprovals(services) },
  anchor: {
    ports: ANCHOR_AWS_PORTS,
    compose: (services) => composeAnchor(services, { info: () => undefined, warn: () => undefined }),
  },
  oauth: {
    ports: OAUTH_AWS_PORTS,
    compose: (services) => {
      composeOAuth(services);
      // The same pipeline composeOAuth built: the OAuth workflow's connectors only.
      composeConnectorPipeline(services, [services.config.oauth?.workflow ?? '']).close();
    },
  },
};

/** The construct whose binding sets each variable, with its grant: where a missing permission goes. */
const BINDINGS: Partial<Record<string, string>> = {
  [FUNCTION_ENV.revocationsTable]: 'RevocationList.bindChecker (lib/constructs/revocation-list.ts)',
  [FUNCTION_ENV.auditTable]: 'AuditLedger.bindWriter / bindAnchor (lib/constructs/audit-ledger.ts)',
  [FUNCTION_ENV.approvalsTable]: 'ApprovalStore.bindReadWrite (lib/constructs/approval-store.ts)',
  [FUNCTION_ENV.oauthTable]: 'OAuthState.bindServer (lib/constructs/oauth-state.ts)',
  [FUNCTION_ENV.countersTable]: 'SharedCounters.bindCounter (lib/constructs/shared-counters.ts)',
  [FUNCTION_ENV.signingKeyId]: 'AirlockKeys.bindSigner / bindVerifier (lib/constructs/airlock-keys.ts)',
  [FUNCTION_ENV.digestBucket]: 'AuditLedger.bindAnchor (lib/constructs/audit-ledger.ts)',
  [FUNCTION_ENV.killSwitchPrefix]: 'KillSwitch.bindReader (lib/constructs/kill-switch.ts)',
  [FUNCTION_ENV.approvalsTopicArn]: 'NotificationTopic.bindPublisher (lib/constructs/notification-topic.ts)',
  [FUNCTION_ENV.connectorResources]:
    'ConnectorResourceSet.bindConnectors (lib/constructs/connector-resources.ts), which binds each connector by its kind (lambdas/connectors/<kind>/<kind>-infrastructure.ts)',
  [FUNCTION_ENV.idpClientSecretArn]:
    'IdentityProviderSecret.bindReader (lib/constructs/identity-provider-secret.ts)',
  [FUNCTION_ENV.sessionMacKeyId]: 'SessionMacKey.bindSealer (lib/constructs/session-mac-key.ts)',
};

interface FunctionUnderProof {
  /** The function, or the operator CLI role. */
  readonly name: string;
  readonly roleArn: string;
  readonly roleLogicalId: string;
  readonly environment: Record<string, string>;
  readonly requirements: readonly Requirement[];
  readonly grants: readonly Grant[];
}

/** The properties of an AWS::Lambda::Function the proof reads. */
interface FunctionProperties {
  readonly Environment: { readonly Variables: unknown };
  readonly LoggingConfig?: { readonly LogGroup?: { readonly Ref: string } };
  readonly DeadLetterConfig?: { readonly TargetArn: unknown };
}

function logicalIdOf(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

/** Builds the function's ports from its resolved environment, composes it, and lists what it needs. */
function proveFunction(
  deployment: ResolvedDeployment,
  stack: Stack,
  config: AirlockConfig,
  fn: AirlockFunction,
): FunctionUnderProof {
  const r = deployment.resolver;
  const functionId = logicalIdOf(stack, fn.function);
  const roleLogicalId = logicalIdOf(stack, fn.role);
  const props = r.resource(stack.stackName, functionId).Properties as unknown as FunctionProperties;
  const environment = r.resolve(stack.stackName, props.Environment.Variables) as Record<string, string>;
  // As the bundle holds them next to the handler: the validated config and the Cedar policies.
  const env = { ...environment, [FUNCTION_ENV.policyDir]: path.join(REPO_ROOT, 'policies') };
  const { ports: builders, compose } = COMPOSE[fn.name];
  const ports = new AwsPorts({ config, env, builders });
  compose(new SharedServices(awsSettings(config, env), ports));
  const code: Requirement[] = ports.iamPermissions(PROOF_SCOPE).map((p) => ({ ...p, kind: 'code' }));
  const platform = platformRequirements(deployment, stack.stackName, props);
  const requirements = [...code, ...platform];
  return {
    name: fn.name,
    roleArn: r.arnOf(stack.stackName, roleLogicalId),
    roleLogicalId,
    environment,
    requirements: [...requirements, ...deployment.keyUses(requirements)],
    grants: deployment.grantsOf(stack.stackName, roleLogicalId),
  };
}

/** The allowlist's platform permissions, on this function's own log group and dead-letter queue. */
function platformRequirements(
  deployment: ResolvedDeployment,
  stackName: string,
  props: FunctionProperties,
): Requirement[] {
  const r = deployment.resolver;
  const targets: Record<string, string | undefined> = {
    '*': '*',
    'own log group': props.LoggingConfig?.LogGroup
      ? r.arnOf(stackName, props.LoggingConfig.LogGroup.Ref)
      : undefined,
    'own dead-letter queue': props.DeadLetterConfig
      ? r.resolveString(stackName, props.DeadLetterConfig.TargetArn)
      : undefined,
  };
  return FUNCTION_PLATFORM_PERMISSIONS.flatMap(({ action, on, reason }) => {
    const resource = targets[on];
    return resource
      ? [{ action, resource, neededBy: `the Lambda platform: ${reason}`, kind: 'platform' as const }]
      : [];
  });
}

/**
 * What the CLI reads from its environment, as an operator exports it from the API stack's outputs
 * (each output's description names its variable; the OAuth function's is its hard-mode target).
 */
function cliEnvironment(deployment: ResolvedDeployment, stack: Stack): Record<string, string> {
  const outputs = Template.fromStack(stack).toJSON().Outputs as Record<
    string,
    { Value: unknown; Description?: string }
  >;
  const env: Record<string, string> = {};
  for (const [id, output] of Object.entries(outputs)) {
    const variable =
      /export as (AIRLOCK_[A-Z_]+)/.exec(output.Description ?? '')?.[1] ??
      (id === 'OAuthFunctionName' ? CLI_ENV.oauthFunction : undefined);
    if (variable) env[variable] = deployment.resolver.resolveString(stack.stackName, output.Value);
  }
  return env;
}

/**
 * What `airlock doctor` reads of the deployment before it builds its adapters: the API stack's
 * outputs, and the Foundation stack's topics (their ARNs, as CloudFormation lists the resources).
 */
function doctorFindings(deployment: ResolvedDeployment, api: Stack, foundation: Stack) {
  const r = deployment.resolver;
  const outputs = Object.fromEntries(
    Object.entries(
      Template.fromStack(api).toJSON().Outputs as Record<
        string,
        { Value: Parameters<typeof r.resolveString>[1] }
      >,
    ).map(([id, output]) => [id, r.resolveString(api.stackName, output.Value)]),
  );
  const topics = [...r.resources(foundation.stackName)]
    .filter(([, resource]) => resource.Type === 'AWS::SNS::Topic')
    .map(([logicalId]) => ({ logicalId, arn: r.arnOf(foundation.stackName, logicalId) }));
  return { outputs, topics };
}

/** A CLI role: what its commands send, as built from the stack outputs, and what it is granted. */
function proveCliRole(
  deployment: ResolvedDeployment,
  stack: Stack,
  foundation: Stack,
  config: AirlockConfig,
  role: CliRole,
  construct: { node: { defaultChild?: unknown } },
): FunctionUnderProof {
  const environment = cliEnvironment(deployment, stack);
  const adapters = cliAwsAdapters(config, environment, doctorFindings(deployment, stack, foundation));
  const commands = (Object.keys(CLI_AWS_COMMANDS) as CliAwsCommandName[]).filter(
    (command) => CLI_AWS_COMMANDS[command].role === role,
  );
  const code: Requirement[] = commands.flatMap((command) =>
    cliCommandPermissions(command, adapters, PROOF_SCOPE).map((p) => ({
      ...p,
      neededBy: `airlock ${command} (${p.neededBy})`,
      kind: 'code' as const,
    })),
  );
  const roleLogicalId = logicalIdOf(stack, construct);
  return {
    name: `${role} role`,
    roleArn: deployment.resolver.arnOf(stack.stackName, roleLogicalId),
    roleLogicalId,
    environment,
    requirements: [...code, ...deployment.keyUses(code)],
    grants: deployment.grantsOf(stack.stackName, roleLogicalId),
  };
}

/** Where a missing permission for `requirement` is granted: the binding whose variable names its resource. */
function whereToGrant(fn: FunctionUnderProof, requirement: Requirement): string {
  if (fn.name.endsWith(' role'))
    return `grant it to the ${fn.name} (lib/constructs/${fn.name.split(' ')[0]}-role.ts), or change the command's entry in cli/aws-command-permissions.ts`;
  if (requirement.kind === 'key-use')
    return `grant ${requirement.action} on the key through ${requirement.context?.['kms:ViaService']} (kms:ViaService) with the binding of the resource it encrypts`;
  const variable = Object.entries(fn.environment).find(
    ([name, value]) =>
      BINDINGS[name] && value !== '' && valuesOf(value).some((v) => requirement.resource.includes(v)),
  );
  return variable
    ? `grant it in ${BINDINGS[variable[0]]}, which sets ${variable[0]}`
    : 'grant it in the construct that binds this resource to the function (lib/constructs)';
}

/** The plain value of a variable, or each value of a JSON object variable. */
function valuesOf(value: string): string[] {
  if (!value.startsWith('{')) return [value];
  return Object.values(JSON.parse(value) as Record<string, string>);
}

/** Each requirement the role does not allow, as one line naming the function, action, resource and fix. */
async function refusals(
  deployment: ResolvedDeployment,
  stack: Stack,
  fn: FunctionUnderProof,
): Promise<string[]> {
  const identity = deployment.identityPolicies(stack.stackName, fn.roleLogicalId);
  const lines: string[] = [];
  for (const requirement of fn.requirements) {
    if (requirement.kind === 'documented') continue;
    const decision = await deployment.decide(fn.roleArn, identity, requirement);
    if (decision !== 'Allowed') {
      const context = requirement.context ? ` with ${JSON.stringify(requirement.context)}` : '';
      lines.push(
        `${fn.name}: ${requirement.action} on ${requirement.resource}${context} is ${decision} (needed by ${requirement.neededBy}); ${whereToGrant(fn, requirement)}`,
      );
    }
  }
  return lines;
}

/**
 * Each key action the role may call directly although it needs the key only through AWS services (the
 * data key behind tables, buckets, topics, queues and secrets): granted without `kms:ViaService`, it
 * would let the function's code decrypt any ciphertext of that key it gets hold of.
 */
async function directKeyUses(
  deployment: ResolvedDeployment,
  stack: Stack,
  fn: FunctionUnderProof,
): Promise<string[]> {
  const identity = deployment.identityPolicies(stack.stackName, fn.roleLogicalId);
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const grant of fn.grants) {
    const key = `${grant.action} ${grant.resource}`;
    if (!grant.action.startsWith('kms:') || seen.has(key)) continue;
    seen.add(key);
    const needs = fn.requirements.filter((r) => r.action === grant.action && r.resource === grant.resource);
    const services = [...new Set(needs.map((r) => r.context?.['kms:ViaService']))];
    if (needs.length === 0 || services.includes(undefined)) continue;
    const decision = await deployment.decide(fn.roleArn, identity, {
      action: grant.action,
      resource: grant.resource,
      neededBy: 'a direct call',
    });
    if (decision === 'Allowed')
      lines.push(
        `${fn.name}: the role may call ${grant.action} on ${grant.resource} directly, but needs it only through ${services.join(', ')}; grant it with a kms:ViaService condition naming those services (lib/constructs/airlock-keys.ts)`,
      );
  }
  return lines;
}

/** Each (action, resource) the role allows that no requirement names, as one line saying what to do. */
function excess(fn: FunctionUnderProof): string[] {
  return fn.grants
    .filter(
      (grant) => !fn.requirements.some((r) => r.action === grant.action && r.resource === grant.resource),
    )
    .map(
      (grant) =>
        `${fn.name}: the role allows ${grant.action} on ${grant.resource}, which ${fn.name.endsWith(' role') ? 'no CLI command of the role sends (cli/aws-command-permissions.ts)' : 'no adapter method of its ports needs'}; remove it from the grant in lib/constructs, or add it to test/infra/permission-allowlist.ts with the reason`,
    );
}

describe.each([
  ['the example pilot', exampleConfig, ['broker', 'connector', 'approvals', 'anchor']],
  [
    'the pilot with an upstream MCP server (mcp-server kind, header auth)',
    mcpServerConfig,
    ['broker', 'connector', 'approvals', 'anchor'],
  ],
  [
    'the pilot with the OAuth entry point',
    () => oauthConfig(),
    ['broker', 'connector', 'approvals', 'anchor', 'oauth'],
  ],
] as const)('Permission proof: %s', (_label, configOf, names) => {
  const config = configOf();
  const app = synthesizeAirlock(config);
  const stacks = [app.foundation, app.api, app.monitoring];
  const deployment = new ResolvedDeployment(
    stacks.map((stack) => ({ stackName: stack.stackName, template: Template.fromStack(stack).toJSON() })),
  );
  const functions = Object.fromEntries(
    names.map((name) => {
      const fn = app.api[name];
      if (!fn) throw new Error(`the API stack has no ${name} function`);
      return [name, proveFunction(deployment, app.api, config, fn)];
    }),
  ) as Record<string, FunctionUnderProof>;

  it.each(names)(
    '%s: its role allows every action its code can send, on the resource it uses',
    async (name) => {
      expect(await refusals(deployment, app.api, functions[name])).toEqual([]);
    },
  );

  it.each(names)('%s: its role allows nothing beyond that and the platform allowlist', (name) => {
    expect(excess(functions[name])).toEqual([]);
  });

  const roles = {
    operator: proveCliRole(
      deployment,
      app.api,
      app.foundation,
      config,
      'operator',
      app.api.operatorRole.role,
    ),
    auditor: proveCliRole(deployment, app.api, app.foundation, config, 'auditor', app.api.auditorRole.role),
  };

  it.each(['operator', 'auditor'] as const)(
    'the %s role allows every action of its CLI commands, on the resources the stack outputs name',
    async (role) => {
      expect(await refusals(deployment, app.api, roles[role])).toEqual([]);
    },
  );

  it.each(['operator', 'auditor'] as const)('the %s role allows nothing beyond its CLI commands', (role) => {
    expect(excess(roles[role])).toEqual([]);
  });

  it.each([...names, 'operator role', 'auditor role'])(
    '%s: uses the data key only through the AWS services that need it, never directly',
    async (name) => {
      const fn = functions[name] ?? roles[name.split(' ')[0] as CliRole];
      expect(await directKeyUses(deployment, app.api, fn)).toEqual([]);
    },
  );

  if (names.includes('oauth' as never)) {
    it('approvals: the approvals page’s calls (KMS GenerateMac/VerifyMac, the IdP client secret) are in its proof', () => {
      expect(functions.approvals.requirements.map((r) => `${r.action} ${r.neededBy}`)).toEqual(
        expect.arrayContaining([
          'kms:GenerateMac KmsMacKey.generateMac',
          'kms:VerifyMac KmsMacKey.verifyMac',
          'secretsmanager:GetSecretValue SecretsManagerSecretSource.getJson',
        ]),
      );
    });
  }

  it.each(names)('%s: what it needs comes from the ports its composition reads', (name) => {
    // A proof over an empty list would prove nothing: every function records its decisions.
    expect(functions[name].requirements.map((r) => `${r.kind} ${r.neededBy}`)).toContain(
      'code DynamoDbAuditStore.append',
    );
  });

  if (config.connectors.tickets?.kind === 'mcp-server') {
    it("connector: the MCP server connector's header secret is among what the proof checks, by its own ARN", () => {
      const secretReads = functions.connector.requirements.filter(
        (r) => r.action === 'secretsmanager:GetSecretValue',
      );
      expect(secretReads.map((r) => JSON.stringify(r.resource))).toEqual(
        expect.arrayContaining([expect.stringContaining('airlock/pilot/tickets-mcp')]),
      );
    });
  }
});
