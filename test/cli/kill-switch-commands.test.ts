import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  DeleteFunctionConcurrencyCommand,
  type DeleteFunctionConcurrencyCommandInput,
  GetFunctionConcurrencyCommand,
  type GetFunctionConcurrencyCommandInput,
  LambdaClient,
  PutFunctionConcurrencyCommand,
  type PutFunctionConcurrencyCommandInput,
} from '@aws-sdk/client-lambda';
import {
  AccessDeniedException,
  GetParametersCommand,
  type GetParametersCommandInput,
  PutParameterCommand,
  type PutParameterCommandInput,
  SSMClient,
} from '@aws-sdk/client-ssm';
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  DynamoDBDocumentClient,
  PutCommand,
  type PutCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { parse, stringify } from 'yaml';
import { DynamoDbAuditStore } from '../../lambdas/adapters/aws/dynamodb-audit-store';
import { FileKillSwitchParameters } from '../../lambdas/adapters/local/file-kill-switch-parameters';
import type { AuditRecord } from '../../lambdas/core/audit-record';
import { verifyLedger } from '../../lambdas/core/audit-verifier';
import { readKillSwitchParameter } from '../../lambdas/core/kill-switch';
import { loadConfig } from '../../lib/config/load-config';
import { LOCAL_TABLES, openLocalDynamo } from '../../local/local-state';
import { type FakeCli, fakeCli } from './support/fake-cli-io';

const EXAMPLE_CONFIG = resolve(__dirname, '../../config/airlock.config.yaml');
const config = loadConfig(EXAMPLE_CONFIG);
const GLOBAL = `/airlock/${config.stage}/kill-switch`;
const WORKFLOW = Object.keys(config.workflows)[0];
const OPERATOR = 'oncall@example.com';

let home: string;
let cli: FakeCli;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'airlock-kill-switch-cli-'));
  cli = fakeCli({ AIRLOCK_HOME: home, AIRLOCK_CONFIG: EXAMPLE_CONFIG, AIRLOCK_OPERATOR: OPERATOR });
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

async function readLocalParameter(name: string) {
  const values = await new FileKillSwitchParameters(home).read([name]);
  return readKillSwitchParameter(name, values[name]);
}

/** Reads the local ledger back (as `airlock audit verify --local` would) and verifies every chain. */
async function readLocalLedger(): Promise<{ records: AuditRecord[]; verified: boolean }> {
  const dynamo = await openLocalDynamo(home);
  try {
    const store = new DynamoDbAuditStore({ client: dynamo.doc, tableName: LOCAL_TABLES.audit });
    const records: AuditRecord[] = [];
    for (const head of await store.listChainHeads()) {
      for await (const record of store.readChain(head.chainId)) records.push(record);
    }
    const byChain = new Map<string, AuditRecord[]>();
    for (const record of records)
      byChain.set(record.chainId, [...(byChain.get(record.chainId) ?? []), record]);
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const result = await verifyLedger({ records: byChain, digests: [], publicKey });
    records.sort((a, b) => a.ts.localeCompare(b.ts));
    return { records, verified: result.ok };
  } finally {
    await dynamo.close();
  }
}

describe('Function: registerKillSwitchCommands', () => {
  describe('Method: kill-switch engage|status|release --local', () => {
    it('engages, reports and releases the local switch, writing the parameter files and one audit record per change', async () => {
      // Act
      const engaged = await cli.run('kill-switch', 'engage', '--local', '--reason', 'INC-1: drill');
      const engageOut = cli.stdout();
      const statusWhileEngaged = await cli.run('--json', 'kill-switch', 'status', '--local');
      const engagedReport = cli.json<{
        anyEngaged: boolean;
        global: { status: string; reason: string; changedBy: string };
        workflows: Record<string, { effective: { engaged: boolean; scope: string } }>;
      }>();
      const fileWhileEngaged = await readLocalParameter(GLOBAL);
      const released = await cli.run('kill-switch', 'release', '--local', '--reason', 'INC-1 closed');
      const releaseOut = cli.stdout();
      const fileAfterRelease = await readLocalParameter(GLOBAL);
      const ledger = await readLocalLedger();

      // Assess
      expect(engaged).toBe(0);
      expect(engageOut).toMatch(/^Engaged the global kill switch at .*every request from now on is refused/);
      expect(engageOut).toMatch(/effective: +at the next request/);
      expect(engageOut).toContain('airlock.pilot.kill-switch.json');
      expect(engageOut).toMatch(/audit: +recorded in the local ledger as cli-.*#1/);
      expect(statusWhileEngaged).toBe(0);
      expect(engagedReport.anyEngaged).toBe(true);
      expect(engagedReport.global).toMatchObject({
        status: 'engaged',
        reason: 'INC-1: drill',
        changedBy: OPERATOR,
      });
      expect(engagedReport.workflows[WORKFLOW].effective).toMatchObject({ engaged: true, scope: 'global' });
      expect(fileWhileEngaged).toMatchObject({ status: 'engaged', value: { reason: 'INC-1: drill' } });
      expect(released).toBe(0);
      expect(releaseOut).toMatch(/^Released the global kill switch at .*every function serves again by /);
      expect(fileAfterRelease).toMatchObject({
        status: 'released',
        value: { reason: 'INC-1 closed', changedBy: OPERATOR },
      });
      // Tokens issued before the release stay dead.
      expect('value' in fileAfterRelease && fileAfterRelease.value.revokeIssuedBefore).toBe(
        'value' in fileAfterRelease && fileAfterRelease.value.changedAt,
      );
      expect(ledger.verified).toBe(true);
      expect(
        ledger.records.map((r) => [r.type, r.principal, r.workflow, r.decision, r.details?.action]),
      ).toEqual([
        ['kill_switch_changed', OPERATOR, '*', 'recorded', 'engage'],
        ['kill_switch_changed', OPERATOR, '*', 'recorded', 'release'],
      ]);
      expect(ledger.records[0].details).toMatchObject({
        parameter: GLOBAL,
        reason: 'INC-1: drill',
        hard: false,
      });
    });

    it('prints the KillSwitchChange with --json and seals only the named workflow', async () => {
      // Prepare
      await cli.run('kill-switch', 'release', '--local');

      // Act
      const code = await cli.run(
        '--json',
        'kill-switch',
        'engage',
        '--local',
        '--workflow',
        WORKFLOW,
        '--reason',
        'wrong GL codes',
        '--changed-by',
        'security-lead',
      );
      const change = cli.json<Record<string, unknown>>();
      await cli.run('--json', 'kill-switch', 'status', '--local', '--workflow', WORKFLOW);
      const report = cli.json<{
        global: { engaged: boolean };
        workflows: Record<string, { engaged: boolean; effective: { engaged: boolean; scope: string } }>;
      }>();

      // Assess
      expect(code).toBe(0);
      expect(change).toMatchObject({
        action: 'engage',
        scope: 'workflow',
        workflow: WORKFLOW,
        parameter: `${GLOBAL}/${WORKFLOW}`,
        before: 'missing',
        changed: true,
        value: { engaged: true, reason: 'wrong GL codes', changedBy: 'security-lead' },
        mode: 'local',
        audit: { recorded: true, seq: 1 },
      });
      // Written to the copy every request reads: effective at once.
      expect(change).toMatchObject({ copied: true, effectiveBy: change.changedAt });
      expect(change.revokeIssuedBefore).toBe(change.changedAt);
      expect(report.global.engaged).toBe(false);
      expect(report.workflows[WORKFLOW]).toMatchObject({
        engaged: true,
        effective: { engaged: true, scope: 'workflow' },
      });
    });

    it('refuses a release when the local ledger cannot take its record, and still engages (with exit 1) on engage', async () => {
      // Prepare: another process (here: this test) holds the local pilot's tables without announcing itself.
      await cli.run('kill-switch', 'engage', '--local', '--reason', 'first');
      const holder = await openLocalDynamo(home);
      try {
        // Act
        const release = await cli.run('kill-switch', 'release', '--local');
        const releaseErr = cli.stderr();
        const afterRelease = await readLocalParameter(GLOBAL);
        const engage = await cli.run('kill-switch', 'engage', '--local', '--reason', 'second');
        const engageErr = cli.stderr();
        const afterEngage = await readLocalParameter(GLOBAL);

        // Assess
        expect(release).toBe(1);
        expect(releaseErr).toMatch(
          /Did not release the kill switch: the local audit ledger .* cannot be opened/,
        );
        expect(afterRelease).toMatchObject({ status: 'engaged', value: { reason: 'first' } });
        expect(engage).toBe(1);
        expect(engageErr).toMatch(
          /re-engaged the global kill switch .* But its audit record could not be written/,
        );
        expect(afterEngage).toMatchObject({ status: 'engaged', value: { reason: 'second' } });
      } finally {
        await holder.close();
      }
    });
  });

  describe('Method: usage errors', () => {
    it.each([
      [['kill-switch', 'engage', '--local'], 'a reason is required: --reason "..."'],
      [['kill-switch', 'engage', '--local', '--reason', '   '], 'a reason is required: --reason "..."'],
      [
        ['kill-switch', 'engage', '--local', '--reason', 'x', '--workflow', 'payroll'],
        `--workflow: unknown workflow "payroll"; expected one of: ${Object.keys(config.workflows).join(', ')}`,
      ],
      [
        ['kill-switch', 'status', '--local', '--workflow', 'payroll'],
        '--workflow: unknown workflow "payroll"',
      ],
      [['kill-switch', 'engage', '--local', '--hard', '--reason', 'x'], 'hard mode needs AWS'],
      [['kill-switch', 'release', '--local', '--hard'], 'hard mode needs AWS'],
      [
        ['kill-switch', 'engage', '--hard', '--reason', 'x', '--broker-function', 'airlock-pilot-broker'],
        'hard mode needs the connector function: pass --connector-function <name> or set AIRLOCK_CONNECTOR_FUNCTION',
      ],
    ])('exits 2 for %j, names what to fix, and changes nothing', async (args, message) => {
      // Act
      const code = await cli.run(...args);

      // Assess
      expect(code).toBe(2);
      expect(cli.stderr()).toContain(message);
      expect(cli.stderr()).not.toMatch(/\n\s+at /);
      expect(existsSync(join(home, 'kill-switch'))).toBe(false);
    });

    it('prints the usage error as JSON with --json', async () => {
      // Act
      const code = await cli.run('--json', 'kill-switch', 'engage', '--local');

      // Assess
      expect(code).toBe(2);
      expect(cli.json()).toEqual({ error: { message: 'a reason is required: --reason "..."', exitCode: 2 } });
    });

    it('answers --help for every kill-switch command', async () => {
      for (const command of ['engage', 'release', 'status']) {
        // Act
        const code = await cli.run('kill-switch', command, '--help');

        // Assess
        expect(code).toBe(0);
        expect(cli.stdout()).toContain(`Usage: airlock kill-switch ${command}`);
        expect(cli.stdout()).toContain('--local');
      }
    });
  });

  describe('Method: kill-switch engage|release in AWS', () => {
    const ssmMock = mockClient(SSMClient);
    const lambdaMock = mockClient(LambdaClient);
    // Created when this block starts: mocking the client class would also reach the local tests' tables.
    let dynamoMock: AwsClientStub<DynamoDBDocumentClient>;
    const BROKER = 'airlock-pilot-broker';
    const CONNECTOR = 'airlock-pilot-connector';
    const REVOCATIONS = 'airlock-pilot-revocations';
    let parameters: Map<string, string>;
    /** The revocations table's items by key (the kill switch's copies). */
    let items: Map<string, Record<string, unknown>>;
    let concurrency: Map<string, number | undefined>;
    /** Every write, in order, across services. */
    let writes: string[];
    let awsCli: FakeCli;
    let configFile: string;

    beforeAll(() => {
      dynamoMock = mockClient(DynamoDBDocumentClient);
    });

    beforeEach(async () => {
      ssmMock.reset();
      lambdaMock.reset();
      dynamoMock.reset();
      items = new Map();
      dynamoMock.on(BatchGetCommand).callsFake(async (input: BatchGetCommandInput) => ({
        Responses: {
          [REVOCATIONS]: (input.RequestItems?.[REVOCATIONS]?.Keys ?? []).flatMap((key) => {
            const item = items.get(String(key.pk));
            return item ? [item] : [];
          }),
        },
      }));
      dynamoMock.on(PutCommand).callsFake(async (input: PutCommandInput) => {
        items.set(String(input.Item?.pk), input.Item ?? {});
        writes.push(`dynamodb ${input.Item?.pk}`);
        return {};
      });
      parameters = new Map();
      writes = [];
      concurrency = new Map([
        [BROKER, undefined],
        [CONNECTOR, undefined],
      ]);
      const meta = { httpStatusCode: 200, requestId: 'req-1', attempts: 1 };
      // Parameter Store as the service answers: unknown names come back in InvalidParameters.
      ssmMock.on(GetParametersCommand).callsFake(async (input: GetParametersCommandInput) => ({
        Parameters: (input.Names ?? [])
          .filter((name) => parameters.has(name))
          .map((name) => ({ Name: name, Type: 'String', Value: parameters.get(name), Version: 1 })),
        InvalidParameters: (input.Names ?? []).filter((name) => !parameters.has(name)),
        $metadata: meta,
      }));
      ssmMock.on(PutParameterCommand).callsFake(async (input: PutParameterCommandInput) => {
        parameters.set(input.Name!, input.Value!);
        writes.push(`ssm ${input.Name}`);
        return { Version: 2, Tier: 'Standard', $metadata: meta };
      });
      lambdaMock
        .on(GetFunctionConcurrencyCommand)
        .callsFake(async (input: GetFunctionConcurrencyCommandInput) => ({
          ReservedConcurrentExecutions: concurrency.get(input.FunctionName!),
          $metadata: meta,
        }));
      lambdaMock
        .on(PutFunctionConcurrencyCommand)
        .callsFake(async (input: PutFunctionConcurrencyCommandInput) => {
          concurrency.set(input.FunctionName!, input.ReservedConcurrentExecutions);
          writes.push(`lambda ${input.FunctionName}=${input.ReservedConcurrentExecutions}`);
          return { ReservedConcurrentExecutions: input.ReservedConcurrentExecutions, $metadata: meta };
        });
      lambdaMock
        .on(DeleteFunctionConcurrencyCommand)
        .callsFake(async (input: DeleteFunctionConcurrencyCommandInput) => {
          concurrency.delete(input.FunctionName!);
          writes.push(`lambda ${input.FunctionName} unreserved`);
          return { $metadata: meta };
        });
      // A pilot whose configured concurrency differs from the defaults, so restored values must come from it.
      const document = parse(await readFile(EXAMPLE_CONFIG, 'utf8'));
      document.functions = { reservedConcurrency: { broker: 3, connector: 7, approvals: 2, anchor: 1 } };
      configFile = join(home, 'airlock.config.yaml');
      await writeFile(configFile, stringify(document));
      awsCli = fakeCli({
        AIRLOCK_CONFIG: configFile,
        AIRLOCK_HOME: home,
        AIRLOCK_OPERATOR: OPERATOR,
        AIRLOCK_BROKER_FUNCTION: BROKER,
        AIRLOCK_CONNECTOR_FUNCTION: CONNECTOR,
        AIRLOCK_REVOCATIONS_TABLE: REVOCATIONS,
      });
    });

    afterAll(() => {
      ssmMock.restore();
      lambdaMock.restore();
      dynamoMock.restore();
    });

    it('engage --hard writes the copy, then the SSM parameter, then freezes the broker and connector', async () => {
      // Act
      const code = await awsCli.run(
        '--json',
        'kill-switch',
        'engage',
        '--hard',
        '--reason',
        'INC-9: broker suspect',
      );
      const change = awsCli.json<{
        mode: string;
        audit: { recordedBy: string };
        functions: { functionName: string; reservedConcurrency: number }[];
      }>();

      // Assess
      expect(code).toBe(0);
      expect(ssmMock).toHaveReceivedCommandWith(PutParameterCommand, {
        Name: GLOBAL,
        Type: 'String',
        Overwrite: true,
      });
      expect(JSON.parse(parameters.get(GLOBAL)!)).toMatchObject({
        engaged: true,
        reason: 'INC-9: broker suspect',
        changedBy: OPERATOR,
      });
      expect(writes).toEqual([
        `dynamodb kill-switch#${GLOBAL}`,
        `ssm ${GLOBAL}`,
        `lambda ${BROKER}=0`,
        `lambda ${CONNECTOR}=0`,
      ]);
      expect(items.get(`kill-switch#${GLOBAL}`)).toMatchObject({ value: parameters.get(GLOBAL) });
      expect(change.mode).toBe('aws');
      expect(change.audit.recordedBy).toMatch(/anchor function .*EventBridge/);
      expect(change.functions).toEqual([
        expect.objectContaining({ functionName: BROKER, reservedConcurrency: 0, before: null }),
        expect.objectContaining({ functionName: CONNECTOR, reservedConcurrency: 0, before: null }),
      ]);
      // Nothing local is touched in AWS mode.
      expect(existsSync(join(home, 'kill-switch'))).toBe(false);
    });

    it('engage --hard --oauth-function also freezes the OAuth entry point, and release --hard restores it', async () => {
      // Prepare
      const OAUTH = 'airlock-pilot-oauth';
      const before = writes.length;

      // Act
      const engaged = await awsCli.run(
        'kill-switch',
        'engage',
        '--hard',
        '--oauth-function',
        OAUTH,
        '--reason',
        'INC-11',
      );
      const released = await awsCli.run('kill-switch', 'release', '--hard', '--oauth-function', OAUTH);

      // Assess: frozen to 0 with the others; released, it has no reservation again (none is configured)
      expect(engaged).toBe(0);
      expect(released).toBe(0);
      expect(writes.slice(before)).toEqual(
        expect.arrayContaining([`lambda ${OAUTH}=0`, `lambda ${OAUTH} unreserved`, `lambda ${BROKER}=3`]),
      );
    });

    it('refuses engage --hard without the OAuth function when the config has an oauth section (it kept serving)', async () => {
      // Prepare: the same pilot with the certificate-less entry point deployed
      const document = parse(await readFile(configFile, 'utf8'));
      document.oauth = {
        publicUrl: 'https://mcp.airlock.example.com',
        workflow: 'expense-summary',
        identityProvider: {
          issuer: 'https://login.example.com',
          clientId: 'airlock',
          clientSecretName: 'airlock/idp-client',
          groupMapping: { 'Finance Team': 'finance' },
        },
      };
      const withOAuth = join(home, 'airlock.oauth.yaml');
      await writeFile(withOAuth, stringify(document));
      const cli = fakeCli({
        AIRLOCK_CONFIG: withOAuth,
        AIRLOCK_HOME: home,
        AIRLOCK_OPERATOR: OPERATOR,
        AIRLOCK_BROKER_FUNCTION: BROKER,
        AIRLOCK_CONNECTOR_FUNCTION: CONNECTOR,
      });
      const before = writes.length;

      // Act
      const code = await cli.run('kill-switch', 'engage', '--hard', '--reason', 'INC-12');

      // Assess: nothing changed, and the message names the flag and the variable
      expect(code).toBe(2);
      expect(cli.stderr()).toMatch(/--oauth-function <name> or set AIRLOCK_OAUTH_FUNCTION/);
      expect(writes.slice(before)).toEqual([]);
    });

    it('release --hard restores the configured reserved concurrency first, then releases', async () => {
      // Prepare
      await awsCli.run('kill-switch', 'engage', '--hard', '--reason', 'INC-9');
      writes = [];
      const configured = loadConfig(configFile).functions.reservedConcurrency;

      // Act
      const code = await awsCli.run('kill-switch', 'release', '--hard', '--reason', 'INC-9 closed');

      // Assess
      expect(code).toBe(0);
      expect(writes).toEqual([
        `lambda ${BROKER}=${configured.broker}`,
        `lambda ${CONNECTOR}=${configured.connector}`,
        `dynamodb kill-switch#${GLOBAL}`,
        `ssm ${GLOBAL}`,
      ]);
      expect(concurrency.get(BROKER)).toBe(3);
      expect(concurrency.get(CONNECTOR)).toBe(7);
      expect(JSON.parse(parameters.get(GLOBAL)!)).toMatchObject({ engaged: false, reason: 'INC-9 closed' });
      expect(awsCli.stdout()).toContain(`reserved concurrency restored: ${BROKER} 0 → 3, ${CONNECTOR} 0 → 7`);
      expect(awsCli.stdout()).toContain('the anchor function records this change');
    });

    it('does not release when restoring a function fails, and names which one', async () => {
      // Prepare
      await awsCli.run('kill-switch', 'engage', '--hard', '--reason', 'INC-9');
      lambdaMock.on(PutFunctionConcurrencyCommand, { FunctionName: CONNECTOR }).rejects(
        Object.assign(new Error('User is not authorized to perform: lambda:PutFunctionConcurrency'), {
          name: 'AccessDeniedException',
          $metadata: { httpStatusCode: 403 },
        }),
      );

      // Act
      const code = await awsCli.run('kill-switch', 'release', '--hard');

      // Assess
      expect(code).toBe(1);
      expect(awsCli.stderr()).toContain('Did not release the kill switch');
      expect(awsCli.stderr()).toContain(`not allowed to lambda:PutFunctionConcurrency on ${CONNECTOR}`);
      expect(awsCli.stderr()).toContain(`restored: ${BROKER}`);
      expect(JSON.parse(parameters.get(GLOBAL)!)).toMatchObject({ engaged: true });
    });

    it('exits 1 naming ssm:PutParameter when the operator may not write the parameter, and says the copy seals', async () => {
      // Prepare
      ssmMock.on(PutParameterCommand).rejects(
        new AccessDeniedException({
          message: `User: arn:aws:sts::111122223333:assumed-role/Dev/alice is not authorized to perform: ssm:PutParameter on resource: ${GLOBAL}`,
          Message: 'not authorized',
          $metadata: { httpStatusCode: 400, requestId: 'req-2', attempts: 1 },
        }),
      );

      // Act
      const code = await awsCli.run('kill-switch', 'engage', '--hard', '--reason', 'INC-10');

      // Assess
      expect(code).toBe(1);
      expect(awsCli.stderr()).toBe(
        `airlock: The kill switch is engaged for every request (its copy in the revocations table is written), but the parameter ${GLOBAL} could not be written: not allowed to ssm:PutParameter on ${GLOBAL}: ask for the Airlock operator role (or a role that allows ssm:PutParameter on it). The anchor has not recorded the change; run the command again.\n`,
      );
      // The command stopped at the failed write, so nothing was frozen.
      expect(lambdaMock).not.toHaveReceivedCommand(PutFunctionConcurrencyCommand);
    });

    it('engage without the revocations table writes the SSM parameter alone, and says when it takes effect', async () => {
      // Prepare
      const cli = fakeCli({ AIRLOCK_CONFIG: configFile, AIRLOCK_HOME: home, AIRLOCK_OPERATOR: OPERATOR });

      // Act
      const code = await cli.run('kill-switch', 'engage', '--reason', 'INC-13');

      // Assess: sealing is never held up by a missing variable
      expect(code).toBe(0);
      expect(writes).toEqual([`ssm ${GLOBAL}`]);
      expect(cli.stderr()).toMatch(
        /warning: AIRLOCK_REVOCATIONS_TABLE is not set, so only the SSM parameter is written: every function sees the change within 1.2 × killSwitch.backstopSeconds/,
      );
      expect(cli.stdout()).toMatch(/every function refuses by .* \(the parameter alone was written\)/);
    });

    it('refuses a release without the revocations table: a copy left engaged would keep the switch engaged', async () => {
      // Prepare
      const cli = fakeCli({ AIRLOCK_CONFIG: configFile, AIRLOCK_HOME: home, AIRLOCK_OPERATOR: OPERATOR });

      // Act
      const code = await cli.run('kill-switch', 'release');

      // Assess
      expect(code).toBe(2);
      expect(cli.stderr()).toMatch(
        /a release needs the revocations table: pass --table <name> or set AIRLOCK_REVOCATIONS_TABLE/,
      );
      expect(writes).toEqual([]);
    });

    it('status reports a copy that differs from its parameter (engaged in either place counts)', async () => {
      // Prepare: engaged with the CLI, then released by hand in the SSM console
      await awsCli.run('kill-switch', 'release');
      await awsCli.run('kill-switch', 'engage', '--workflow', WORKFLOW, '--reason', 'INC-14');
      parameters.set(
        `${GLOBAL}/${WORKFLOW}`,
        JSON.stringify({ ...JSON.parse(parameters.get(`${GLOBAL}/${WORKFLOW}`)!), engaged: false }),
      );

      // Act
      const code = await awsCli.run('kill-switch', 'status', '--workflow', WORKFLOW);

      // Assess
      expect(code).toBe(0);
      expect(awsCli.stdout()).toMatch(/^Kill switch \(AWS\) at .*: ENGAGED/);
      expect(awsCli.stdout()).toContain(`  workflow ${WORKFLOW}: released by ${OPERATOR}`);
      expect(awsCli.stdout()).toMatch(
        /copy in the revocations table differs: ENGAGED by .*"INC-14".*\(engaged in either place counts as engaged\)/,
      );
      expect(awsCli.stdout()).toMatch(/requests are sealed \(workflow switch\)/);
    });

    it('status reads every workflow from SSM and reports a missing parameter as engaged', async () => {
      // Prepare
      await awsCli.run('kill-switch', 'release');

      // Act
      const code = await awsCli.run('kill-switch', 'status');

      // Assess
      expect(code).toBe(0);
      expect(ssmMock).toHaveReceivedCommandWith(GetParametersCommand, {
        Names: [GLOBAL, ...Object.keys(config.workflows).map((w) => `${GLOBAL}/${w}`)],
      });
      expect(awsCli.stdout()).toMatch(/^Kill switch \(AWS\) at .*: ENGAGED/);
      expect(awsCli.stdout()).toContain(`  global: released by ${OPERATOR}`);
      expect(awsCli.stdout()).toContain(`  workflow ${WORKFLOW}: MISSING (counts as engaged)`);
    });
  });
});
