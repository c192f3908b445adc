import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './airlock-test-app';

/** Runs bin/app.ts as `cdk synth` does, with a config edited by `edit`, and returns its exit code and stderr. */
function synthWithConfig(edit: (yaml: string) => string): { status: number | null; stderr: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'airlock-app-test-'));
  try {
    const configPath = path.join(dir, 'airlock.config.yaml');
    writeFileSync(
      configPath,
      edit(readFileSync(path.join(REPO_ROOT, 'config', 'airlock.config.yaml'), 'utf8')),
    );
    const result = spawnSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), ['bin/app.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, AIRLOCK_CONFIG: configPath, CDK_OUTDIR: path.join(dir, 'cdk.out') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: result.status, stderr: result.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Function: app (bin/app.ts)', () => {
  it.each([
    [
      'a misspelled field',
      (y: string) => y.replace('throttleBurst:', 'throttleBurts:'),
      /api\.throttleBurts: unknown field/,
    ],
    [
      'a negative budget',
      (y: string) => y.replace('monthlyBudgetUsd: 200', 'monthlyBudgetUsd: -5'),
      /monthlyBudgetUsd: expected a monthly budget/,
    ],
    [
      'a reservation a new account cannot grant',
      (y: string) =>
        y
          .replace('reservedConcurrency: {}', 'reservedConcurrency: {broker: 5}')
          .replace('accountConcurrencyQuota: 1000', 'accountConcurrencyQuota: 10'),
      /functions\.reservedConcurrency\.broker: reserves 5 in total .* Lambda lets nothing be reserved/,
    ],
    [
      'certificates in two regions',
      (y: string) =>
        y.replace(
          '  truststore:',
          '  ownershipVerificationCertificateArn: arn:aws:acm:us-east-1:111111111111:certificate/22222222-2222-2222-2222-222222222222\n  truststore:',
        ),
      /domain\.ownershipVerificationCertificateArn: is in us-east-1 but domain\.certificateArn is in eu-west-1/,
    ],
    [
      'an unknown connector in a workflow',
      (y: string) => y.replace('      receipts: [list, read]', '      reciepts: [list, read]'),
      /unknown connector "reciepts"/,
    ],
  ])('refuses %s with one line on stderr and exit code 1', (_name, edit, message) => {
    // Act
    const { status, stderr } = synthWithConfig(edit);

    // Assess
    expect(status).toBe(1);
    const lines = stderr.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('npm warn'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid Airlock config: /);
    expect(lines[0]).toMatch(message);
  });
});
