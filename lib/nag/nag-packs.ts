import { AwsSolutionsChecks, NIST80053R5Checks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** The cdk-nag packs Airlock is held to; `cdk synth` fails on any finding not acknowledged in acknowledgements.ts. */
export function createNagPacks(scope: IConstruct): [AwsSolutionsChecks, ServerlessChecks, NIST80053R5Checks] {
  return [new AwsSolutionsChecks(scope), new ServerlessChecks(scope), new NIST80053R5Checks(scope)];
}
