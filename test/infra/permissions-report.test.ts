import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { renderPermissionsReport, synthesizeTemplates } from '../../scripts/permissions-report';
import { exampleConfig, REPO_ROOT } from './airlock-test-app';

describe('Function: renderPermissionsReport', () => {
  it('matches the committed docs/permissions.md (run `npm run permissions` after changing a grant)', () => {
    // Prepare
    const committed = readFileSync(path.join(REPO_ROOT, 'docs', 'permissions.md'), 'utf8');

    // Act
    const fresh = renderPermissionsReport(synthesizeTemplates(exampleConfig()));

    // Assess
    expect(fresh).toBe(committed);
  });

  it('lists every role with each action and its resources, rendered by construct path', () => {
    // Act
    const report = renderPermissionsReport(synthesizeTemplates(exampleConfig()));

    // Assess
    for (const role of [
      'Broker/ServiceRole',
      'Connector/ServiceRole',
      'Approvals/ServiceRole',
      'Anchor/ServiceRole',
      'OperatorRole',
    ]) {
      expect(report).toContain(`## Api: ${role}`);
    }
    expect(report).toContain(
      '| Allow | `s3:GetObject` | `Foundation:ConnectorData/receipts.Arn/receipts/*`<br>`Foundation:ConnectorData/support-logs.Arn/support-logs/*` |  |',
    );
    expect(report).toContain('| Allow | `kms:Sign` | `Foundation:Keys/TokenSigningKey.Arn` |  |');
    expect(report).not.toMatch(/ExportsOutput|PublishOutput|GetStackOutput/);
  });
});
