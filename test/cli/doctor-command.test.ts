/**
 * `airlock doctor --local` against a real local pilot (real mutual TLS, real tokens, the real ledger),
 * and against a stopped one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import { runAirlock } from './support/fake-cli-io';

const EXAMPLE_CONFIG = resolve(__dirname, '..', '..', 'config', 'airlock.config.yaml');

interface DoctorResult {
  passed: boolean;
  checks: { name: string; status: 'pass' | 'fail' | 'skip'; detail: string; fix?: string }[];
}

describe('Command: airlock doctor', () => {
  let home: string;
  let pilot: LocalPilot | undefined;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-doctor-'));
    pilot = await startLocalPilot({ home, port: 0 });
  });

  afterAll(async () => {
    await pilot?.close();
    await rm(home, { recursive: true, force: true });
  });

  const doctor = (...args: string[]) =>
    runAirlock(['--config', EXAMPLE_CONFIG, ...args], { env: { ...process.env, AIRLOCK_HOME: home } });

  it('--local passes every check against a running pilot: mTLS refusals, health, a verified credential, a read per connector, the audit trail', async () => {
    // Act
    const run = await doctor('--json', 'doctor', '--local');
    const result = JSON.parse(run.stdout) as DoctorResult;

    // Assess
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.passed).toBe(true);
    expect(result.checks.map((c) => `${c.status} ${c.name}`)).toEqual([
      'pass local-pilot-running',
      'pass tls-refuses-anonymous',
      'pass tls-refuses-untrusted',
      'pass health',
      'pass credential-issued',
      'pass credential-signature',
      'pass connector-read:receipts',
      'pass connector-read:erp',
      'pass audit-verify',
      'skip lambda-concurrency',
    ]);
  });

  it('prints one line per check for a person, and the count', async () => {
    // Act
    const run = await doctor('doctor', '--local');

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^PASS {2}tls-refuses-untrusted: refused during the TLS handshake/m);
    expect(run.stdout).toMatch(/^9 checks passed\.$/m);
  });

  it('fails naming the check that needs a running local pilot, with what to do, once the pilot is stopped', async () => {
    // Prepare
    await pilot?.close();
    pilot = undefined;

    // Act
    const run = await doctor('--json', 'doctor', '--local');
    const result = JSON.parse(run.stdout) as DoctorResult;

    // Assess
    expect(run.code).toBe(1);
    expect(result.passed).toBe(false);
    expect(result.checks).toEqual([
      expect.objectContaining({
        name: 'local-pilot-running',
        status: 'fail',
        fix: expect.stringContaining('npm start'),
      }),
    ]);
    expect(run.stderr).toBe('airlock: doctor: failed local-pilot-running\n');
  });

  it.each([
    [['doctor'], /give --url, --cert and --key .* or --local/],
    [
      ['doctor', '--url', 'not a url', '--cert', EXAMPLE_CONFIG, '--key', EXAMPLE_CONFIG],
      /--url: "not a url" is not a URL/,
    ],
    [
      [
        'doctor',
        '--url',
        'https://airlock.example.com',
        '--cert',
        '/nonexistent.pem',
        '--key',
        EXAMPLE_CONFIG,
      ],
      /--cert: cannot read \/nonexistent\.pem \(ENOENT\)/,
    ],
    [
      ['doctor', '--local', '--url', 'https://airlock.example.com'],
      /--url names an AWS deployment; drop it or drop --local/,
    ],
  ])('refuses %j as a usage error naming the flag (exit 2)', async (args, message) => {
    // Act
    const run = await doctor(...args);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });
});
