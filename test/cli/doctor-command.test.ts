/**
 * `airlock doctor` as an operator runs it: `--local` against a real local pilot (real mutual TLS, real
 * tokens, the real ledger, the sample ERP), with the approvals and kill-switch round trips; against a
 * stopped pilot; with wrong flags. Against a deployment, the API checks talk to the same local pilot
 * (as `--server` with a device certificate) while the AWS calls meet SDK-boundary fakes that answer as
 * the services do.
 */
import { createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { untrustedCertificate } from '../../cli/doctor/api-session';
import { TOKEN_SIGNING_KEY_FILE } from '../../lambdas/adapters/local/local-token-signer';
import { loadConfig } from '../../lib/config/load-config';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import { runAirlock } from './support/fake-cli-io';

const EXAMPLE_CONFIG = resolve(__dirname, '..', '..', 'config', 'airlock.config.yaml');

interface DoctorResult {
  passed: boolean;
  checks: { name: string; status: 'pass' | 'fail' | 'skip'; detail: string; fix?: string }[];
}

const JOURNAL_ENTRY = (amount: number, memo: string) =>
  JSON.stringify({ glCode: '6400', amount, currency: 'EUR', memo });

let folder: string;
let home: string;
let config: string;
let pilot: LocalPilot | undefined;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'airlock-doctor-'));
  home = join(folder, 'home');
  // The example pilot with a 1 s kill-switch backstop, so the release is seen in seconds, not a minute.
  config = join(folder, 'airlock.config.yaml');
  await writeFile(
    config,
    (await readFile(EXAMPLE_CONFIG, 'utf8')).replace('backstopSeconds: 60', 'backstopSeconds: 1'),
  );
  // As `airlock local` starts it: the ledger's database is up before the pilot says it is.
  pilot = await startLocalPilot({ home, port: 0, config: loadConfig(config), startDatabases: true });
}, 90_000);

afterAll(async () => {
  await pilot?.close();
  await rm(folder, { recursive: true, force: true });
});

const doctor = (...args: string[]) =>
  runAirlock(['--config', config, ...args], { env: { PATH: process.env.PATH, AIRLOCK_HOME: home } });

function statuses(run: { stdout: string }): string[] {
  return (JSON.parse(run.stdout) as DoctorResult).checks.map((c) => `${c.status} ${c.name}`);
}

function check(run: { stdout: string }, name: string) {
  return (JSON.parse(run.stdout) as DoctorResult).checks.find((c) => c.name === name);
}

describe('Command: airlock doctor --local', () => {
  it('passes every local check against a running pilot: truststore, mTLS refusals, health, a verified credential, a read per connector, the audit trail', async () => {
    // Act
    const run = await doctor('--json', 'doctor', '--local');

    // Assess
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect((JSON.parse(run.stdout) as DoctorResult).passed).toBe(true);
    expect(statuses(run)).toEqual([
      'pass local-pilot-running',
      'skip domain-dns',
      'pass truststore',
      'pass tls-refuses-anonymous',
      'pass tls-refuses-untrusted',
      'skip execute-api-disabled',
      'pass health',
      'pass credential-issued',
      'pass credential-signature',
      'pass connector-read:receipts',
      'pass connector-read:erp',
      'pass connector-read:ledger',
      'pass connector-read:handbook',
      'skip connector-read:everything',
      'pass audit-verify',
      'skip alarms',
      'skip subscriptions',
      'skip lambda-concurrency',
    ]);
  });

  it('prints one line per check for a person, and the count', async () => {
    // Act
    const run = await doctor('doctor', '--local');

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^PASS {2}tls-refuses-untrusted: refused during the TLS handshake/m);
    expect(run.stdout).toMatch(/^PASS {2}truststore: .*ca\.pem: 1 CA certificate/m);
    expect(run.stdout).toMatch(/^SKIP {2}connector-read:everything: /m);
    expect(run.stdout).toMatch(/^12 checks passed, 6 skipped\.$/m);
  });

  it('runs the approvals and kill-switch round trips: held, approved by a manager, written once, replay refused; engaged, refused, released, issued again', async () => {
    // Prepare
    const memo = `doctor round trip ${Date.now()}`;

    // Act
    const run = await doctor(
      '--json',
      'doctor',
      '--local',
      '--approvals',
      'erp/createJournalEntry',
      '--approval-arguments',
      JOURNAL_ENTRY(1500, memo),
      '--kill-switch',
    );

    // Assess
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(statuses(run).slice(-2)).toEqual(['pass approvals-round-trip', 'pass kill-switch-round-trip']);
    expect(check(run, 'approvals-round-trip')?.detail).toMatch(
      /approved by a member of managers, re-sent once \(200\), a second re-send refused/,
    );
    expect(check(run, 'kill-switch-round-trip')?.detail).toMatch(
      /refused \(503 kill_switch_engaged\).*issued again/,
    );
    // The approved write ran exactly once, and the switch is released.
    expect(pilot?.sampleErp.journalEntries().filter((e) => e.memo === memo)).toHaveLength(1);
    const status = await doctor(
      '--json',
      'kill-switch',
      'status',
      '--local',
      '--workflow',
      'expense-summary',
    );
    expect(status.code).toBe(0);
    expect(status.stdout).not.toMatch(/"engaged": true/);
  }, 60_000);

  it('fails the approvals round trip, naming it, when the write is not held (and says it was made)', async () => {
    // Act
    const run = await doctor(
      '--json',
      'doctor',
      '--local',
      '--approvals',
      'erp/createJournalEntry',
      '--approval-arguments',
      JOURNAL_ENTRY(10, 'doctor below threshold'),
    );

    // Assess
    expect(run.code).toBe(1);
    expect(check(run, 'approvals-round-trip')).toEqual(
      expect.objectContaining({
        status: 'fail',
        detail: expect.stringContaining('ran without approval (200): the write was made'),
        fix: expect.stringContaining('above the workflow’s approval threshold'),
      }),
    );
    expect(run.stderr).toBe('airlock: doctor: failed approvals-round-trip\n');
  });

  it('does not pass the TLS refusals when it refused the server itself (a wrong --ca): they learnt nothing', async () => {
    // Act: the pilot's certificate does not chain to the example truststore's CA.
    const run = await doctor(
      '--json',
      'doctor',
      '--local',
      '--ca',
      resolve(__dirname, '..', '..', 'config', 'example-truststore.pem'),
    );

    // Assess
    expect(run.code).toBe(1);
    for (const name of ['tls-refuses-anonymous', 'tls-refuses-untrusted']) {
      expect(check(run, name)).toEqual(
        expect.objectContaining({
          status: 'fail',
          detail: expect.stringMatching(/this side refused the server's certificate/),
          fix: expect.stringContaining('--ca'),
        }),
      );
    }
    expect(check(run, 'health')).toEqual(
      expect.objectContaining({ status: 'fail', fix: expect.stringContaining('--ca') }),
    );
  });

  it.each([
    [['doctor'], /doctor checks a deployment through its API: pass --server https:\/\/<domain.name>/],
    [['doctor', '--server', 'not a url', '--principal', 'alice'], /--server: "not a url" is not a URL/],
    [
      [
        'doctor',
        '--server',
        'https://airlock.example.com',
        '--cert',
        '/nonexistent.pem',
        '--key',
        EXAMPLE_CONFIG,
      ],
      /--cert: no device certificate \/nonexistent\.pem/,
    ],
    [
      ['doctor', '--local', '--server', 'https://airlock.example.com'],
      /--server names a deployment's API; drop it or drop --local/,
    ],
    [
      ['doctor', '--local', '--region', 'eu-west-1'],
      /--region names an AWS resource; drop it or drop --local/,
    ],
    [
      ['doctor', '--url', 'https://a.example.com', '--server', 'https://b.example.com'],
      /--url is the old name of --server/,
    ],
    [['doctor', '--local', '--workflow', 'nope'], /--workflow: no workflow "nope" in the config/],
    [
      ['doctor', '--local', '--approval-arguments', '{}'],
      /--approval-arguments belongs to the approvals round trip/,
    ],
    [
      ['doctor', '--local', '--approvals', 'erp/createJournalEntry'],
      /--approvals needs --approval-arguments/,
    ],
    [
      ['doctor', '--local', '--approvals', 'erp/lookupGlCode', '--approval-arguments', '{}'],
      /erp\/lookupGlCode is a read/,
    ],
    [
      ['doctor', '--local', '--approvals', 'erp/createJournalEntry', '--approval-arguments', '[1]'],
      /expected a JSON object/,
    ],
    [
      [
        'doctor',
        '--server',
        'https://airlock.example.com',
        '--principal',
        'alice',
        '--approvals',
        'erp/createJournalEntry',
        '--approval-arguments',
        '{}',
      ],
      /--approvals needs an approver: pass --approver-cert and --approver-key/,
    ],
  ])('refuses %j as a usage error naming the flag (exit 2), before any check', async (args, message) => {
    // Act
    const run = await doctor(...args);

    // Assess
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 2, stdout: '' });
    expect(run.stderr).toMatch(message);
    expect(run.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });
});

describe('Command: airlock doctor (a deployment: the API over mTLS, AWS through SDK fakes)', () => {
  // Created here, not at load: the local pilot of the other tests runs in this process on the real SDK clients.
  let cloudFormation: AwsClientStub<CloudFormationClient>;
  let cloudWatch: AwsClientStub<CloudWatchClient>;
  let sns: AwsClientStub<SNSClient>;
  let kms: AwsClientStub<KMSClient>;
  let lambda: AwsClientStub<LambdaClient>;
  const clients = () =>
    [cloudFormation, cloudWatch, sns, kms, lambda] as { reset(): void; restore(): void }[];
  beforeAll(() => {
    cloudFormation = mockClient(CloudFormationClient);
    cloudWatch = mockClient(CloudWatchClient);
    sns = mockClient(SNSClient);
    kms = mockClient(KMSClient);
    lambda = mockClient(LambdaClient);
  });
  const account = 'arn:aws:sns:eu-west-1:111122223333';
  const alerts = `${account}:Airlock-pilot-Foundation-AlertsTopic9D46603D-1A2B3C`;
  const approvals = `${account}:Airlock-pilot-Foundation-ApprovalsTopic73A432CB-4D5E6F`;

  afterEach(() => {
    for (const client of clients()) client.reset();
  });

  afterAll(() => {
    for (const client of clients()) client.restore();
  });

  const server = () => ['--server', pilot?.url ?? '', '--principal', 'alice'];

  it('fails deployment-stacks in the wrong region, naming --region, and checks what it still can (never a stack trace)', async () => {
    // Prepare: CloudFormation's answer for a stack it does not have in this region.
    cloudFormation.onAnyCommand().rejects(
      Object.assign(new Error('Stack with id Airlock-pilot-Api does not exist'), {
        name: 'ValidationError',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    // Act
    const run = await doctor('--json', 'doctor', ...server(), '--region', 'eu-west-2');

    // Assess
    expect(run.code).toBe(1);
    expect(check(run, 'deployment-stacks')).toEqual({
      name: 'deployment-stacks',
      status: 'fail',
      detail: 'no stack Airlock-pilot-Api in eu-west-2',
      fix: expect.stringContaining('pass --region with the region you deployed to (now eu-west-2)'),
    });
    for (const name of ['execute-api-disabled', 'alarms', 'subscriptions', 'lambda-concurrency']) {
      expect(check(run, name)).toEqual(
        expect.objectContaining({ status: 'skip', detail: 'needs deployment-stacks to pass first' }),
      );
    }
    // The wrong URL for this config's domain is named too; the API itself answers.
    expect(check(run, 'domain-dns')).toEqual(
      expect.objectContaining({
        status: 'fail',
        fix: expect.stringContaining('pass --server https://airlock.example.com'),
      }),
    );
    expect(check(run, 'health')?.status).toBe('pass');
    expect(run.stderr).toBe('airlock: doctor: failed deployment-stacks, domain-dns\n');
    expect(run.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('names the auditor role when AWS refuses the reads', async () => {
    // Prepare
    cloudFormation.onAnyCommand().rejects(
      Object.assign(new Error('User is not authorized to perform: cloudformation:DescribeStacks'), {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      }),
    );

    // Act
    const run = await doctor('--json', 'doctor', ...server(), '--region', 'eu-west-1');

    // Assess
    expect(check(run, 'deployment-stacks')).toEqual(
      expect.objectContaining({
        status: 'fail',
        detail: expect.stringMatching(
          /not allowed to cloudformation:DescribeStacks .*ask for the Airlock auditor role/,
        ),
        fix: expect.stringContaining('auditor role (the AuditorRoleArn output)'),
      }),
    );
  });

  it('reads the deployment: the token signature checked with the KMS public key, alarms in ALARM and pending subscriptions named', async () => {
    // Prepare: the stacks as CloudFormation lists them, KMS holding the key the pilot signs with.
    const { DescribeStacksCommand, ListStackResourcesCommand } = await import(
      '@aws-sdk/client-cloudformation'
    );
    cloudFormation.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'Airlock-pilot-Api',
          StackStatus: 'UPDATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: [
            { OutputKey: 'RegionalDomainName', OutputValue: 'd-abc123.execute-api.eu-west-1.amazonaws.com' },
            {
              OutputKey: 'TokenSigningKeyId',
              OutputValue: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
            },
          ],
        },
      ],
    });
    const resources: Record<
      string,
      { LogicalResourceId: string; ResourceType: string; PhysicalResourceId: string }[]
    > = {
      'Airlock-pilot-Api': [
        {
          LogicalResourceId: 'ApiA1B2',
          ResourceType: 'AWS::ApiGateway::RestApi',
          PhysicalResourceId: 'abc123',
        },
        { LogicalResourceId: 'ApiStage', ResourceType: 'AWS::ApiGateway::Stage', PhysicalResourceId: 'live' },
      ],
      'Airlock-pilot-Foundation': [
        {
          LogicalResourceId: 'AlertsTopic9D46603D',
          ResourceType: 'AWS::SNS::Topic',
          PhysicalResourceId: alerts,
        },
        {
          LogicalResourceId: 'ApprovalsTopic73A432CB',
          ResourceType: 'AWS::SNS::Topic',
          PhysicalResourceId: approvals,
        },
      ],
      'Airlock-pilot-Monitoring': [
        {
          LogicalResourceId: 'SigningRateAlarm',
          ResourceType: 'AWS::CloudWatch::Alarm',
          PhysicalResourceId: 'Airlock-pilot-Monitoring-SigningRateAlarm-1',
        },
        {
          LogicalResourceId: 'DenialsAnomaly',
          ResourceType: 'AWS::CloudWatch::Alarm',
          PhysicalResourceId: 'Airlock-pilot-Monitoring-DenialsAnomaly-2',
        },
      ],
    };
    cloudFormation.on(ListStackResourcesCommand).callsFake((input: { StackName: string }) => ({
      StackResourceSummaries: (resources[input.StackName] ?? []).map((r) => ({
        ...r,
        ResourceStatus: 'CREATE_COMPLETE',
        LastUpdatedTimestamp: new Date(),
      })),
    }));
    cloudWatch.onAnyCommand().resolves({
      MetricAlarms: [
        { AlarmName: 'Airlock-pilot-Monitoring-SigningRateAlarm-1', StateValue: 'OK' },
        {
          AlarmName: 'Airlock-pilot-Monitoring-DenialsAnomaly-2',
          StateValue: 'ALARM',
          StateReason: 'Thresholds Crossed: 1 datapoint was greater than the upper band',
        },
      ],
      CompositeAlarms: [],
    });
    sns.onAnyCommand().callsFake((input: { TopicArn: string }) => ({
      Subscriptions:
        input.TopicArn === alerts
          ? [
              {
                Protocol: 'email',
                Endpoint: 'it-security@example.com',
                SubscriptionArn: 'PendingConfirmation',
                TopicArn: alerts,
              },
            ]
          : [
              {
                Protocol: 'email',
                Endpoint: 'finance-managers@example.com',
                SubscriptionArn: `${approvals}:1111`,
                TopicArn: approvals,
              },
            ],
    }));
    const tokenKey = createPublicKey(await readFile(join(home, TOKEN_SIGNING_KEY_FILE), 'utf8'));
    kms.onAnyCommand().resolves({
      KeyId: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      PublicKey: new Uint8Array(tokenKey.export({ format: 'der', type: 'spki' })),
      KeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
      SigningAlgorithms: ['ECDSA_SHA_256'],
    });
    lambda
      .onAnyCommand()
      .resolves({ AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 } });

    // Act
    const run = await doctor('--json', 'doctor', ...server(), '--region', 'eu-west-1');

    // Assess
    expect(check(run, 'deployment-stacks')).toEqual(
      expect.objectContaining({
        status: 'pass',
        detail: 'Airlock-pilot-Api UPDATE_COMPLETE in eu-west-1: 2 alarms, 2 topics, 1 REST APIs',
      }),
    );
    expect(check(run, 'credential-signature')).toEqual(expect.objectContaining({ status: 'pass' }));
    expect(check(run, 'alarms')).toEqual(
      expect.objectContaining({
        status: 'fail',
        detail: expect.stringContaining(
          'in ALARM: Airlock-pilot-Monitoring-DenialsAnomaly-2 (Thresholds Crossed',
        ),
      }),
    );
    expect(check(run, 'subscriptions')).toEqual(
      expect.objectContaining({
        status: 'fail',
        detail: 'alerts topic: email it-security@example.com has not confirmed',
      }),
    );
    expect(check(run, 'lambda-concurrency')).toEqual(
      expect.objectContaining({ status: 'pass', detail: 'account quota 1000, 1000 unreserved' }),
    );
    // The execute-api URL is built from the REST API the Api stack lists.
    expect(check(run, 'execute-api-disabled')?.detail).toContain(
      'https://abc123.execute-api.eu-west-1.amazonaws.com/live/v1/health',
    );
    expect(run.code).toBe(1);
  });

  it('names the server as unreachable at a wrong URL, with what to fix', async () => {
    // Prepare
    cloudFormation.onAnyCommand().rejects(
      Object.assign(new Error('Stack with id Airlock-pilot-Api does not exist'), {
        name: 'ValidationError',
      }),
    );

    // Act: a port nothing listens on.
    const run = await doctor(
      '--json',
      'doctor',
      '--server',
      'https://127.0.0.1:1',
      '--principal',
      'alice',
      '--region',
      'eu-west-1',
    );

    // Assess
    expect(run.code).toBe(1);
    expect(check(run, 'tls-refuses-anonymous')).toEqual(
      expect.objectContaining({
        status: 'fail',
        detail: expect.stringMatching(/could not reach the server: ECONNREFUSED/),
      }),
    );
    expect(check(run, 'health')).toEqual(
      expect.objectContaining({ status: 'fail', fix: expect.stringContaining('check --server') }),
    );
    expect(check(run, 'credential-issued')).toEqual(
      expect.objectContaining({ status: 'skip', detail: 'needs health to pass first' }),
    );
    expect(run.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('says the server refused the device certificate when it is not from a trusted CA', async () => {
    // Prepare
    cloudFormation.onAnyCommand().rejects(
      Object.assign(new Error('Stack with id Airlock-pilot-Api does not exist'), {
        name: 'ValidationError',
      }),
    );
    const stranger = await untrustedCertificate();
    await writeFile(join(folder, 'stranger.pem'), stranger.cert);
    await writeFile(join(folder, 'stranger.key.pem'), stranger.key);

    // Act
    const run = await doctor(
      '--json',
      'doctor',
      '--server',
      pilot?.url ?? '',
      '--cert',
      join(folder, 'stranger.pem'),
      '--key',
      join(folder, 'stranger.key.pem'),
      '--ca',
      join(home, 'certs', 'ca.pem'),
      '--region',
      'eu-west-1',
    );

    // Assess
    expect(run.code).toBe(1);
    expect(check(run, 'health')).toEqual(
      expect.objectContaining({
        status: 'fail',
        fix: expect.stringContaining('the server refused your device certificate'),
      }),
    );
  });
});

describe('Command: airlock doctor --local, the pilot stopped', () => {
  it('fails naming the check that needs a running local pilot, with what to do, and skips the rest naming it', async () => {
    // Prepare
    await pilot?.close();
    pilot = undefined;

    // Act
    const run = await doctor('--json', 'doctor', '--local');
    const result = JSON.parse(run.stdout) as DoctorResult;

    // Assess
    expect(run.code).toBe(1);
    expect(result.passed).toBe(false);
    expect(result.checks[0]).toEqual(
      expect.objectContaining({
        name: 'local-pilot-running',
        status: 'fail',
        fix: expect.stringContaining('npm start'),
      }),
    );
    expect(
      result.checks
        .slice(1)
        .every((c) => c.status === 'skip' && c.detail === 'needs local-pilot-running to pass first'),
    ).toBe(true);
    expect(run.stderr).toBe('airlock: doctor: failed local-pilot-running\n');
  });
});
