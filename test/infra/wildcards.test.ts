import 'aws-cdk-lib/testhelpers/jest-autoclean';
import type { Template } from 'aws-cdk-lib/assertions';
import {
  type AirlockTestApp,
  mcpTokenExchangeConfig,
  oauthConfig,
  synthesizeAirlock,
} from './airlock-test-app';
import allowlist from './wildcard-allowlist.json';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
}

/** `<policy> <action> on <resource>` for every wildcard action or `*` resource of every IAM policy in a template. */
function findWildcards(template: Template): { where: string; action: string; resource: string }[] {
  const found: { where: string; action: string; resource: string }[] = [];
  const inspect = (where: string, statements: Statement[]) => {
    for (const statement of statements) {
      if (statement.Effect !== 'Allow') continue;
      const actions = [statement.Action].flat();
      const resources = [statement.Resource ?? []].flat();
      for (const action of actions) {
        for (const resource of resources) {
          if (action.includes('*') || resource === '*') {
            found.push({
              where,
              action,
              resource: typeof resource === 'string' ? resource : JSON.stringify(resource),
            });
          }
        }
      }
    }
  };
  const json = template.toJSON() as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  for (const [id, resource] of Object.entries(json.Resources)) {
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      inspect(id, (resource.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    }
    if (resource.Type === 'AWS::IAM::Role') {
      for (const policy of (resource.Properties.Policies as {
        PolicyDocument: { Statement: Statement[] };
      }[]) ?? []) {
        inspect(id, policy.PolicyDocument.Statement);
      }
    }
  }
  return found;
}

function allowed(finding: { action: string; resource: string }): boolean {
  return allowlist.entries.some(
    (entry) =>
      entry.actions.includes(finding.action) &&
      entry.resource === finding.resource &&
      entry.reason.length > 20,
  );
}

describe('Function: findWildcards', () => {
  let airlock: AirlockTestApp;
  let withOAuth: AirlockTestApp;
  let withVpc: AirlockTestApp;

  beforeAll(() => {
    airlock = synthesizeAirlock();
    withOAuth = synthesizeAirlock(oauthConfig());
    withVpc = synthesizeAirlock(mcpTokenExchangeConfig());
  });

  it.each(['foundationTemplate', 'apiTemplate'] as const)(
    'finds no wildcard outside the allowlist in %s with a connector in a VPC (network-interface permissions)',
    (name) => {
      expect(findWildcards(withVpc[name]).filter((f) => !allowed(f))).toEqual([]);
    },
  );

  it('allows the EC2 Describe actions on "*" to the connector function in a VPC only, in its network-interface policy', () => {
    // Prepare
    const networkPolicy = withVpc.api.getLogicalId(
      withVpc.api.connector.networkPolicy?.node.defaultChild as never,
    );

    // Act
    const describes = (app: AirlockTestApp) =>
      findWildcards(app.apiTemplate).filter((f) => f.action.startsWith('ec2:'));

    // Assess
    expect(describes(withVpc)).toEqual([
      { where: networkPolicy, action: 'ec2:DescribeNetworkInterfaces', resource: '*' },
      { where: networkPolicy, action: 'ec2:DescribeSubnets', resource: '*' },
    ]);
    expect(describes(airlock)).toEqual([]);
  });

  it.each(['foundationTemplate', 'apiTemplate', 'monitoringTemplate'] as const)(
    'finds no wildcard action or "*" resource in %s outside the allowlist',
    (name) => {
      // Act
      const unexplained = findWildcards(airlock[name]).filter((f) => !allowed(f));

      // Assess
      expect(unexplained).toEqual([]);
    },
  );

  it.each(['foundationTemplate', 'apiTemplate'] as const)(
    'finds no wildcard outside the allowlist in %s with the oauth section (OAuth function, table, IdP secret)',
    (name) => {
      // Act
      const unexplained = findWildcards(withOAuth[name]).filter((f) => !allowed(f));

      // Assess
      expect(unexplained).toEqual([]);
    },
  );

  it('allows cloudwatch:GetMetricData on "*" to the auditor role and the connector (its spend cap reads Bedrock’s token counts) only', () => {
    // Prepare
    const auditorPolicy = airlock.api.getLogicalId(
      airlock.api.auditorRole.role.node.findChild('DefaultPolicy').node.defaultChild as never,
    );
    const connectorPolicy = airlock.api.getLogicalId(
      airlock.api.connector.function.role?.node.findChild('DefaultPolicy').node.defaultChild as never,
    );

    // Act
    const metricReads = findWildcards(airlock.apiTemplate).filter((f) => f.action.startsWith('cloudwatch:'));

    // Assess
    expect(metricReads).toEqual([
      { where: connectorPolicy, action: 'cloudwatch:GetMetricData', resource: '*' },
      { where: auditorPolicy, action: 'cloudwatch:GetMetricData', resource: '*' },
    ]);
  });

  it('flags a wildcard action such as kms:ReEncrypt* that a broad grant would add', () => {
    // Prepare
    const { Template } = require('aws-cdk-lib/assertions') as typeof import('aws-cdk-lib/assertions');
    const { App, Stack } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
    const iam = require('aws-cdk-lib/aws-iam') as typeof import('aws-cdk-lib/aws-iam');
    const kms = require('aws-cdk-lib/aws-kms') as typeof import('aws-cdk-lib/aws-kms');
    const stack = new Stack(new App(), 'Probe');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    new kms.Key(stack, 'Key').grantEncryptDecrypt(role);

    // Act
    const findings = findWildcards(Template.fromStack(stack));

    // Assess
    expect(findings.map((f) => f.action)).toEqual(
      expect.arrayContaining(['kms:ReEncrypt*', 'kms:GenerateDataKey*']),
    );
    expect(findings.filter((f) => !allowed(f))).not.toHaveLength(0);
  });
});
