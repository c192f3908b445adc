import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { loadConfig } from '../../lib/config/load-config';
import { type AirlockInteg, addAirlockInteg } from './airlock-integ-test';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const cdkContext = (require('../../cdk.json') as { context: Record<string, unknown> }).context;

/** The assertion calls of the integration test's assertion stack, as `<Service>.<api>` or `Lambda.invoke <function>`. */
function assertionCalls(assertionStack: Template): string[] {
  return Object.values(
    assertionStack.toJSON().Resources as Record<
      string,
      { Type: string; Properties: Record<string, unknown> }
    >,
  )
    .filter((r) => r.Type.startsWith('Custom::DeployAssert@SdkCall'))
    .map((r) => `${r.Properties.service}.${r.Properties.api}`)
    .sort();
}

describe('Function: addAirlockInteg (test/integ/integ.airlock.ts)', () => {
  let integ: AirlockInteg;
  let assertionStack: Template;
  let app: App;

  beforeAll(() => {
    app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
    integ = addAirlockInteg(app, loadConfig(path.join(REPO_ROOT, 'config', 'airlock.config.yaml')));
    assertionStack = Template.fromStack(integ.assertionStack);
  });

  it('synthesizes offline: the stacks under test and an assertion stack that deploys after them', () => {
    // Act
    const assembly = app.synth();

    // Assess
    const names = assembly.stacks.map((s) => s.stackName);
    expect(names).toEqual(
      expect.arrayContaining(['Airlock-pilot-Foundation', 'Airlock-pilot-Api', 'Airlock-pilot-Monitoring']),
    );
    const assertions = assembly.stacks.find((s) => s.stackName === 'Airlock-pilot-IntegAssertions');
    expect(assertions?.dependencies.map((d) => d.id)).toEqual(expect.arrayContaining(['Airlock-pilot-Api']));
    // integ-runner reads the test case (its stacks and the assertion stack) from integ.json in the assembly.
    const manifest = JSON.parse(readFileSync(path.join(assembly.directory, 'integ.json'), 'utf8'));
    expect(Object.values(manifest.testCases)).toEqual([
      expect.objectContaining({
        stacks: ['Airlock-pilot-Api', 'Airlock-pilot-Monitoring'],
        assertionStack: expect.stringContaining('IntegAssertions'),
      }),
    ]);
  });

  it('checks the account log role, the disabled execute-api endpoint, health, a credential issued and refused, the anchor and its digest, and the digest key', () => {
    // Assess
    expect(assertionCalls(assertionStack)).toEqual(
      [
        'APIGateway.getAccount',
        'APIGateway.getRestApi',
        'KMS.getPublicKey',
        // health, a credential for alice, one refused to mallory, the anchor
        'Lambda.invoke',
        'Lambda.invoke',
        'Lambda.invoke',
        'Lambda.invoke',
        'S3.listObjectsV2',
      ].sort(),
    );
    const invokes = Object.values(assertionStack.findResources('Custom::DeployAssert@SdkCallLambdainvoke'));
    const payloads = invokes.map((r) => JSON.stringify(r.Properties.parameters));
    expect(payloads.filter((p) => p.includes('/v1/credentials') && p.includes('CN=alice'))).toHaveLength(1);
    expect(payloads.filter((p) => p.includes('/v1/credentials') && p.includes('CN=mallory'))).toHaveLength(1);
    expect(payloads.filter((p) => p.includes('/v1/health'))).toHaveLength(1);
  });

  it('expects what a working deployment answers, not merely that the calls succeed', () => {
    // Assess
    const expected = JSON.stringify(assertionStack.toJSON());
    for (const fragment of [
      '"statusCode":201',
      '"statusCode":403',
      '"statusCode":200',
      'ECC_NIST_P256',
      'disableExecuteApiEndpoint',
    ]) {
      expect(expected).toContain(fragment.replace(/"/g, '\\"'));
    }
  });
});
