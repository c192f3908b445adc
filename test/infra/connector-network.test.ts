import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { ConnectorNetwork } from '../../lib/constructs/connector-network';
import {
  type AirlockTestApp,
  type exampleConfig,
  mcpServerConfig,
  mcpTokenExchangeConfig,
  oauthConfig,
  synthesizeAirlock,
  TEST_CONNECTOR_VPC,
} from './airlock-test-app';

const VPC_ID = TEST_CONNECTOR_VPC.vpcId;
const SUBNETS = [...TEST_CONNECTOR_VPC.subnetIds];
const ec2Arn = (resource: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':ec2:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      `:${resource}`,
    ],
  ],
});

describe('Class: ConnectorNetwork', () => {
  describe('a private MCP server (connector vpc, security group created by the stack)', () => {
    let airlock: AirlockTestApp;

    beforeAll(() => {
      airlock = synthesizeAirlock(mcpTokenExchangeConfig());
    });

    it('puts the connector function in the configured subnets with the created security group', () => {
      // Prepare
      const group = airlock.api.getLogicalId(
        airlock.api.connectorNetwork?.createdSecurityGroup?.node.defaultChild as never,
      );

      // Assess
      airlock.apiTemplate.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'Airlock connector',
        VpcConfig: {
          SubnetIds: SUBNETS,
          SecurityGroupIds: [{ 'Fn::GetAtt': [group, 'GroupId'] }],
        },
      });
    });

    it('leaves every other function out of the VPC', () => {
      // Act
      const functions = airlock.apiTemplate.findResources('AWS::Lambda::Function');

      // Assess
      const inVpc = Object.values(functions)
        .filter((fn) => fn.Properties.VpcConfig !== undefined)
        .map((fn) => fn.Properties.Description);
      expect(inVpc).toEqual(['Airlock connector']);
    });

    it('creates a security group with no inbound rule and outbound TCP 443 and the upstream’s port only', () => {
      airlock.apiTemplate.hasResourceProperties('AWS::EC2::SecurityGroup', {
        VpcId: VPC_ID,
        SecurityGroupEgress: [
          Match.objectLike({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
          Match.objectLike({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 8443, ToPort: 8443 }),
        ],
        SecurityGroupIngress: Match.absent(),
      });
      expect(Object.keys(airlock.apiTemplate.findResources('AWS::EC2::SecurityGroupIngress'))).toEqual([]);
    });

    it('grants the network-interface actions (AWSLambdaVPCAccessExecutionRole’s) narrowed to the subnets and security group, in a policy the function waits for', () => {
      // Prepare
      const connector = airlock.api.connector;
      const policy = airlock.api.getLogicalId(connector.networkPolicy?.node.defaultChild as never);
      const role = airlock.api.getLogicalId(connector.role.node.defaultChild as never);
      const fn = airlock.api.getLogicalId(connector.function.node.defaultChild as never);
      const group = airlock.api.getLogicalId(
        airlock.api.connectorNetwork?.createdSecurityGroup?.node.defaultChild as never,
      );

      // Assess
      airlock.apiTemplate.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: role }],
        PolicyDocument: {
          Statement: [
            {
              Effect: 'Allow',
              Action: 'ec2:CreateNetworkInterface',
              Resource: Match.arrayWith([
                ec2Arn('network-interface/*'),
                {
                  'Fn::Join': [
                    '',
                    [
                      'arn:',
                      { Ref: 'AWS::Partition' },
                      ':ec2:',
                      { Ref: 'AWS::Region' },
                      ':',
                      { Ref: 'AWS::AccountId' },
                      ':security-group/',
                      { 'Fn::GetAtt': [group, 'GroupId'] },
                    ],
                  ],
                },
                ...SUBNETS.map((subnet) => ec2Arn(`subnet/${subnet}`)),
              ]),
            },
            {
              Effect: 'Allow',
              Action: [
                'ec2:AssignPrivateIpAddresses',
                'ec2:DeleteNetworkInterface',
                'ec2:UnassignPrivateIpAddresses',
              ],
              Resource: ec2Arn('network-interface/*'),
            },
            {
              Effect: 'Allow',
              Action: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
              Resource: '*',
            },
          ],
        },
      });
      const created = airlock.apiTemplate.toJSON().Resources[policy].Properties.PolicyDocument.Statement[0];
      // The interfaces, the two subnets and the security group: nothing else.
      expect(created.Resource).toHaveLength(4);
      expect(airlock.apiTemplate.toJSON().Resources[fn].DependsOn).toContain(policy);
      // Granted inline, never through the AWS managed policy (the permission proof reads inline policies).
      expect(airlock.apiTemplate.toJSON().Resources[role].Properties.ManagedPolicyArns).toBeUndefined();
    });

    it('signs subject assertions with a P-256 key of the connector alone, which only kms:Sign is granted on', () => {
      // Prepare
      const keys = airlock.foundationTemplate.findResources('AWS::KMS::Key', {
        Properties: { KeySpec: 'ECC_NIST_P256', Description: Match.stringLikeRegexp('tickets connector') },
      });

      // Assess
      expect(Object.keys(keys)).toHaveLength(1);
      airlock.foundationTemplate.hasResourceProperties('AWS::KMS::Key', {
        KeySpec: 'ECC_NIST_P256',
        KeyUsage: 'SIGN_VERIFY',
        Description: Match.stringLikeRegexp(
          'signs the tickets connector’s subject assertions|signs the tickets connector',
        ),
      });
      airlock.foundationTemplate.hasResourceProperties('AWS::KMS::Alias', {
        AliasName: 'alias/Airlock-pilot-Foundation-tickets-subject-assertion',
      });
      const connectorPolicy = airlock.api.getLogicalId(
        airlock.api.connector.role.node.findChild('DefaultPolicy').node.defaultChild as never,
      );
      const statements = airlock.apiTemplate.toJSON().Resources[connectorPolicy].Properties.PolicyDocument
        .Statement as { Action: string | string[]; Resource: unknown }[];
      const signs = statements.filter((s) => [s.Action].flat().includes('kms:Sign'));
      expect(signs).toHaveLength(1);
      expect(JSON.stringify(signs[0].Resource)).toContain('ticketsSubjectAssertionKey');
      expect([signs[0].Action].flat()).toEqual(['kms:Sign']);
    });
  });

  it('uses the operator’s security groups as given, and creates none', () => {
    // Act
    const airlock = synthesizeAirlock(
      mcpTokenExchangeConfig({ ...TEST_CONNECTOR_VPC, securityGroupIds: ['sg-0a1b2c3d4e5f60799'] }),
    );

    // Assess
    airlock.apiTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Airlock connector',
      VpcConfig: { SubnetIds: SUBNETS, SecurityGroupIds: ['sg-0a1b2c3d4e5f60799'] },
    });
    expect(Object.keys(airlock.apiTemplate.findResources('AWS::EC2::SecurityGroup'))).toEqual([]);
  });

  it('puts the OAuth function, which runs the same connectors, in the same VPC', () => {
    // Prepare
    const withVpc = mcpTokenExchangeConfig();
    const config = { ...oauthConfig(), connectors: withVpc.connectors, workflows: withVpc.workflows };

    // Act
    const airlock = synthesizeAirlock(config);

    // Assess
    const inVpc = Object.values(airlock.apiTemplate.findResources('AWS::Lambda::Function'))
      .filter((fn) => fn.Properties.VpcConfig !== undefined)
      .map((fn) => fn.Properties.Description)
      .sort();
    expect(inVpc).toEqual(['Airlock connector', 'Airlock oauth']);
  });

  it('synthesizes offline: the cloud assembly asks for no context lookup', () => {
    // Act
    const assembly = synthesizeAirlock(mcpTokenExchangeConfig()).app.synth();

    // Assess
    expect(assembly.manifest.missing ?? []).toEqual([]);
  });

  it('adds nothing for connectors without a vpc', () => {
    const airlock = synthesizeAirlock(mcpServerConfig());
    expect(airlock.api.connectorNetwork).toBeUndefined();
    expect(Object.keys(airlock.apiTemplate.findResources('AWS::EC2::SecurityGroup'))).toEqual([]);
  });

  it('refuses two connectors that name different VPCs, naming the field', () => {
    // Prepare
    const stack = new Stack(new App(), 'Probe');
    const connectors = {
      ...mcpTokenExchangeConfig().connectors,
      desk: {
        ...mcpTokenExchangeConfig().connectors.tickets,
        vpc: { vpcId: 'vpc-0ffffffffffffffff', subnetIds: ['subnet-0ffffffffffffffff'] },
      },
    } as ReturnType<typeof exampleConfig>['connectors'];

    // Act & Assess
    expect(() => ConnectorNetwork.fromConnectors(stack, 'Network', connectors)).toThrow(
      /connectors\.desk\.vpc names VPC vpc-0ffffffffffffffff .* but connectors\.tickets\.vpc names VPC vpc-0a1b2c3d4e5f60718 .*give every connector the same vpcId and subnetIds/,
    );
  });
});
