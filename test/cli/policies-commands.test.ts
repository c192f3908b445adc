import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDbAuditStore } from '../../lambdas/adapters/aws/dynamodb-audit-store';
import { AuditLedger } from '../../lambdas/core/audit-ledger';
import type { AuditEvent } from '../../lambdas/core/audit-record';
import { LOCAL_TABLES, openLocalDynamo } from '../../local/local-state';
import { receiptReadEvent } from '../lambdas/support/audit-fixtures';
import { shipped } from '../lambdas/support/policy-fixtures';
import { type CliRun, runAirlock } from './support/fake-cli-io';

function airlock(home: string, args: string[]): Promise<CliRun> {
  return runAirlock(args, { env: { AIRLOCK_HOME: home }, cwd: home });
}

function shadowed(overrides: Partial<AuditEvent> & { wouldBe: string; policies: string[] }): AuditEvent {
  const { wouldBe, policies, ...rest } = overrides;
  return {
    type: 'policy_shadowed',
    principal: 'alice',
    workflow: 'expense-summary',
    connector: 'receipts',
    operation: 'read',
    decision: wouldBe === 'deny' ? 'deny' : wouldBe === 'allow' ? 'allow' : 'pending',
    reasons: policies,
    requestId: 'req',
    docHashes: [],
    details: { enforced: 'allow', wouldBe, shadowPolicies: policies, reasons: policies },
    ...rest,
  };
}

/** policy_shadowed records on 2 and 5 November, and an ordinary decision between them. */
async function seed(home: string): Promise<void> {
  const clock = { at: new Date('2026-11-02T09:00:00.000Z'), now: () => clock.at };
  const local = await openLocalDynamo(home);
  try {
    const store = new DynamoDbAuditStore({ client: local.doc, tableName: LOCAL_TABLES.audit });
    const ledger = new AuditLedger({ store, chainId: 'pilot-a', clock });
    const events: [string, AuditEvent][] = [
      [
        '2026-11-02T09:00:00.000Z',
        shadowed({ wouldBe: 'deny', policies: ['shadow-pii-readers'], requestId: 'r1' }),
      ],
      [
        '2026-11-02T09:01:00.000Z',
        shadowed({ wouldBe: 'deny', policies: ['shadow-pii-readers'], requestId: 'r2', principal: 'bob' }),
      ],
      ['2026-11-03T10:00:00.000Z', receiptReadEvent({ requestId: 'r3' })],
      [
        '2026-11-05T15:30:00.000Z',
        shadowed({
          wouldBe: 'approval_required',
          policies: ['shadow-lower-threshold'],
          requestId: 'r4',
          connector: 'erp',
          operation: 'createJournalEntry',
        }),
      ],
    ];
    for (const [at, event] of events) {
      clock.at = new Date(at);
      await ledger.append(event);
    }
  } finally {
    await local.close();
  }
}

describe('Function: registerPoliciesCommands', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-policies-cli-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  describe('Command: policies report', () => {
    it('summarises what each shadow policy would have done in the time range, as JSON', async () => {
      // Prepare
      await seed(home);

      // Act
      const run = await airlock(home, [
        'policies',
        'report',
        '--local',
        '--json',
        '--from',
        '2026-11-02',
        '--to',
        '2026-11-04',
      ]);

      // Assess
      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout);
      expect(report).toMatchObject({ records: 2, evaluationErrors: 0 });
      expect(report.policies).toEqual([
        {
          policy: 'shadow-pii-readers',
          wouldRefuse: 2,
          wouldHold: 0,
          wouldAllow: 0,
          workflows: { 'expense-summary': 2 },
          operations: { 'receipts/read': 2 },
          principals: { alice: 1, bob: 1 },
          firstTs: '2026-11-02T09:00:00.000Z',
          lastTs: '2026-11-02T09:01:00.000Z',
          exampleRequestIds: ['r1', 'r2'],
        },
      ]);
    });

    it('lists a shadow policy in force that changed nothing, and says what the others would have done', async () => {
      // Prepare
      await seed(home);
      const policies = join(home, 'policies');
      await mkdir(join(policies, 'shadow'), { recursive: true });
      await writeFile(join(policies, 'airlock.cedarschema'), shipped.schemaText);
      await writeFile(join(policies, 'base.cedar'), shipped.policies[0]!.text);
      await writeFile(
        join(policies, 'shadow', 'try.cedar'),
        '@id("shadow-quiet")\nforbid (principal, action, resource) when { false };\n',
      );

      // Act
      const run = await airlock(home, ['policies', 'report', '--local']);

      // Assess
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('3 policy_shadowed records');
      expect(run.stdout).toContain(
        'shadow-lower-threshold: held 1 request for approval (2026-11-05T15:30:00.000Z to 2026-11-05T15:30:00.000Z)',
      );
      expect(run.stdout).toContain('shadow-pii-readers: would have refused 2 requests');
      expect(run.stdout).toContain('    principals: alice 1, bob 1');
      expect(run.stdout).toContain('shadow-quiet: would have changed nothing');
    });

    it('refuses a time range it cannot read, naming the flag (exit 2)', async () => {
      // Act
      const run = await airlock(home, ['policies', 'report', '--local', '--from', 'yesterday']);

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/--from "yesterday" is not an ISO 8601 date/);
    });

    it('has --help', async () => {
      // Act
      const run = await airlock(home, ['policies', 'report', '--help']);

      // Assess
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/shadow policy/);
      expect(run.stdout).toMatch(/--from <time>/);
      expect(run.stdout).toMatch(/--local/);
    });
  });
});
