import 'aws-cdk-lib/testhelpers/jest-autoclean';
import type { Stack } from 'aws-cdk-lib';
import { createNagPacks } from '../../lib/nag/nag-packs';
import { type AirlockTestApp, synthesizeAirlock } from './airlock-test-app';

describe('Function: acknowledgeNagFindings', () => {
  let airlock: AirlockTestApp;

  beforeAll(() => {
    // synthesizeAirlock synthesizes first: acknowledgements of cross-stack ARNs are computed then.
    airlock = synthesizeAirlock();
  });

  const findingsOf = (stack: Stack): string[] =>
    createNagPacks(stack).flatMap((pack) =>
      pack
        .validateScope(stack)
        .violations.flatMap((v) =>
          v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}: ${v.description}`),
        ),
    );

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
