import 'aws-cdk-lib/testhelpers/jest-autoclean';
import type { Stack } from 'aws-cdk-lib';
import { createNagPacks } from '../../lib/nag/nag-packs';
import {
  type AirlockTestApp,
  mcpTokenExchangeConfig,
  synthesizeAirlock,
  TEST_CONNECTOR_VPC,
} from './airlock-test-app';

const findingsOf = (stack: Stack): string[] =>
  createNagPacks(stack).flatMap((pack) =>
    pack
      .validateScope(stack)
      .violations.flatMap((v) =>
        v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}: ${v.description}`),
      ),
  );

describe('Function: acknowledgeNagFindings', () => {
  let airlock: AirlockTestApp;

  beforeAll(() => {
    // synthesizeAirlock synthesizes first: acknowledgements of cross-stack ARNs are computed then.
    airlock = synthesizeAirlock();
  });

  it.each(['foundation', 'api', 'monitoring'] as const)(
    'leaves no unacknowledged AwsSolutions, Serverless or NIST 800-53 R5 finding in the %s stack',
    (name) => {
      // Act
      const findings = findingsOf(airlock[name]);

      // Assess
      expect(findings).toEqual([]);
    },
  );

  it('still reports a finding that nobody acknowledged', () => {
    // Prepare
    const stack = airlock.foundation;
    const { Bucket } = require('aws-cdk-lib/aws-s3') as typeof import('aws-cdk-lib/aws-s3');
    new Bucket(stack, 'UnreviewedBucket');

    // Act
    const findings = findingsOf(stack);

    // Assess
    expect(
      findings.some((f) => f.startsWith('AwsSolutions-S1 at Airlock-pilot-Foundation/UnreviewedBucket')),
    ).toBe(true);
  });
});

describe.each([
  ['a security group the stack creates', TEST_CONNECTOR_VPC],
  ['the operator’s security groups', { ...TEST_CONNECTOR_VPC, securityGroupIds: ['sg-0a1b2c3d4e5f60799'] }],
])(
  'Function: acknowledgeNagFindings (a private MCP server through a VPC, token exchange, %s)',
  (_label, vpc) => {
    let airlock: AirlockTestApp;

    beforeAll(() => {
      airlock = synthesizeAirlock(mcpTokenExchangeConfig(vpc));
    });

    it.each(['foundation', 'api', 'monitoring'] as const)(
      'leaves no unacknowledged finding in the %s stack',
      (name) => {
        expect(findingsOf(airlock[name])).toEqual([]);
      },
    );
  },
);
