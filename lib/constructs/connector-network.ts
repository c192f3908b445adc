import { Aws, Fn, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { ConnectorNetworkNeed } from '../../lambdas/connectors/connector-infrastructure';
import { connectorKindOf } from '../../lambdas/connectors/connector-kind-lookup';
import type { ConnectorConfig } from '../config/schema';

export interface ConnectorNetworkProps {
  /** What the connectors' configs ask for (each kind's `infrastructure.network`); at least one. */
  readonly needs: readonly ConnectorNetworkNeed[];
}

/**
 * The VPC through which the functions that run connectors (the connector and OAuth functions) reach
 * private upstreams. Everything is imported by id (`Vpc.fromVpcAttributes`, `Subnet.fromSubnetId`,
 * `SecurityGroup.fromSecurityGroupId`), so `cdk synth` makes no context lookup and needs no AWS account.
 * Without configured security groups it creates one: no inbound rule, outbound TCP 443 (AWS services and
 * HTTPS upstreams) and the private upstreams' own ports, to any address (the upstreams are named by host,
 * which a security group cannot express; the connector's `allowedHosts` bounds where it connects).
 *
 * A Lambda function joins a VPC through network interfaces the Lambda service creates with the
 * function's execution role, so {@link grantNetworkInterfaces} grants what AWSLambdaVPCAccessExecutionRole
 * holds, narrowed to these subnets and security groups where EC2 allows it.
 */
export class ConnectorNetwork extends Construct {
  /**
   * The network the connectors' configs ask for, or none.
   * @throws Error naming the config field when two connectors ask for different VPCs or subnets
   */
  public static fromConnectors(
    scope: Construct,
    id: string,
    connectors: Readonly<Record<string, ConnectorConfig>>,
  ): ConnectorNetwork | undefined {
    const needs = Object.entries(connectors).flatMap(([name, config]) => {
      const need = connectorKindOf(config.kind).infrastructure.network?.(name, config);
      return need ? [need] : [];
    });
    return needs.length === 0 ? undefined : new ConnectorNetwork(scope, id, { needs });
  }

  public readonly vpc: ec2.IVpc;
  public readonly subnets: readonly ec2.ISubnet[];
  public readonly securityGroups: readonly ec2.ISecurityGroup[];
  /** The security group the stack created, when the config names none for a connector. */
  public readonly createdSecurityGroup?: ec2.SecurityGroup;
  private readonly subnetIds: readonly string[];

  constructor(scope: Construct, id: string, props: ConnectorNetworkProps) {
    super(scope, id);
    const [first, ...others] = props.needs;
    if (!first) throw new Error('ConnectorNetwork: no connector asks for a VPC');
    const sameSubnets = (need: ConnectorNetworkNeed) =>
      need.subnetIds.length === first.subnetIds.length &&
      need.subnetIds.every((subnet) => first.subnetIds.includes(subnet));
    for (const other of others) {
      // One function has one VPC configuration: every connector it runs must agree on it.
      if (other.vpcId !== first.vpcId || !sameSubnets(other)) {
        throw new Error(
          `ConnectorNetwork: ${other.field} names VPC ${other.vpcId} with subnets ${other.subnetIds.join(', ')}, but ${first.field} names VPC ${first.vpcId} with subnets ${first.subnetIds.join(', ')}; the connector function joins one VPC, so give every connector the same vpcId and subnetIds`,
        );
      }
    }
    this.subnetIds = first.subnetIds;
    this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: first.vpcId,
      // Zones matter only to subnet selection by zone; the functions get the subnets below by id. One
      // zone, as CloudFormation names the region's first, satisfies the import without a lookup.
      availabilityZones: [Fn.select(0, Fn.getAzs())],
    });
    this.subnets = first.subnetIds.map((subnetId) => ec2.Subnet.fromSubnetId(this, subnetId, subnetId));
    const given = [...new Set(props.needs.flatMap((need) => need.securityGroupIds ?? []))];
    const groups: ec2.ISecurityGroup[] = given.map((groupId) =>
      ec2.SecurityGroup.fromSecurityGroupId(this, groupId, groupId, { mutable: false }),
    );
    const ungrouped = props.needs.filter((need) => need.securityGroupIds === undefined);
    if (ungrouped.length > 0) {
      const group = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: this.vpc,
        description: `Airlock ${Stack.of(this).stackName} functions that run connectors: outbound HTTPS and the private upstreams ports only, nothing inbound`,
        allowAllOutbound: false,
        allowAllIpv6Outbound: false,
      });
      const ports = [...new Set([443, ...ungrouped.flatMap((need) => need.ports)])].sort((a, b) => a - b);
      for (const port of ports) {
        group.addEgressRule(
          ec2.Peer.anyIpv4(),
          ec2.Port.tcp(port),
          port === 443 ? 'HTTPS: AWS service endpoints and upstreams' : `a private upstream on port ${port}`,
        );
      }
      this.createdSecurityGroup = group;
      groups.push(group);
    }
    if (groups.length > 5) {
      throw new Error(
        `ConnectorNetwork: the connectors' vpc settings name ${groups.length} security groups in all (${groups.map((g) => g.securityGroupId).join(', ')}); Lambda takes at most 5`,
      );
    }
    this.securityGroups = groups;
  }

  /**
   * What the Lambda service does with the function's execution role to attach it to the VPC
   * (AWSLambdaVPCAccessExecutionRole's actions): create network interfaces in these subnets with these
   * security groups, delete them and move their addresses (any network interface of the account and
   * region: their ids are made by Lambda), and describe them and the subnets (EC2's Describe actions
   * take Resource "*" only). A policy of its own that the function depends on: Lambda checks the role
   * when it creates the function.
   */
  public grantNetworkInterfaces(fn: Construct, role: iam.IRole, dependent: Construct): iam.Policy {
    const ec2Arn = (resource: string) =>
      `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
    const policy = new iam.Policy(fn, 'NetworkInterfaces', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          actions: ['ec2:CreateNetworkInterface'],
          resources: [
            ec2Arn('network-interface/*'),
            ...this.subnetIds.map((subnetId) => ec2Arn(`subnet/${subnetId}`)),
            ...this.securityGroups.map((group) => ec2Arn(`security-group/${group.securityGroupId}`)),
          ],
        }),
        new iam.PolicyStatement({
          actions: [
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: [ec2Arn('network-interface/*')],
        }),
        new iam.PolicyStatement({
          actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
          resources: ['*'],
        }),
      ],
    });
    dependent.node.addDependency(policy);
    return policy;
  }
}
