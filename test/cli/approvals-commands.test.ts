/**
 * `airlock approvals ...` against a running local pilot: the CLI talks to the approvals API over
 * real mutual TLS with the approver's own device certificate, as an approver's terminal does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { MAX_RUN_DOCUMENTS } from '../../lambdas/core/run-read-log';
import { loadConfig } from '../../lib/config/load-config';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import { LOCAL_TABLES, openLocalDynamo } from '../../local/local-state';
import { type E2eClient, e2eClientFor } from '../e2e/e2e-client';
import { type CliRun, runAirlock } from './support/fake-cli-io';

interface RunOptions {
  readonly home?: string;
  /** Lines typed at a terminal (stdin and stderr then count as terminals). */
  readonly typed?: string;
}

const WORKFLOW = 'expense-summary';
const CREATE_ENTRY = '/v1/connectors/erp/createJournalEntry';

let home: string;
let pilot: LocalPilot;
let alice: E2eClient;
let aliceToken: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'airlock-cli-approvals-'));
  pilot = await startLocalPilot({ home, port: 0, config: loadConfig() });
  alice = e2eClientFor(pilot, 'alice');
  aliceToken = await alice.getToken(WORKFLOW, ['erp:write'], 30);
}, 60_000);

afterAll(async () => {
  alice?.close();
  await pilot?.close();
  await rm(home, { recursive: true, force: true });
});

/** `airlock <args>` run by an approver in the pilot's folder, as a script unless `typed` is given. */
function airlock(args: string[], options: RunOptions = {}): Promise<CliRun> {
  const where = options.home ?? home;
  return runAirlock(args, { env: { AIRLOCK_HOME: where }, cwd: where, typed: options.typed });
}

/** `airlock approvals <args> --local --principal <name>`: an approver acting on the local pilot, from a script. */
function approvalsAs(principal: string, ...args: string[]): Promise<CliRun> {
  return airlock(['approvals', ...args, '--local', '--principal', principal]);
}

let memoCounter = 0;
function journalEntry(amount: number) {
  memoCounter += 1;
  return { glCode: '6410', amount, currency: 'EUR', memo: `Airport transfers, batch ${memoCounter}` };
}

/** Alice's journal entry above the threshold, held for a manager: its approval from the 202. */
async function heldEntry(amount = 2500) {
  const body = journalEntry(amount);
  const response = await alice.request('POST', CREATE_ENTRY, { token: aliceToken, body });
  expect(response.status).toBe(202);
  return { body, approval: response.json.approval as { id: string; preview: { sha256: string } } };
}

async function statusOf(id: string): Promise<string> {
  const bob = e2eClientFor(pilot, 'bob');
  try {
    return (await bob.request('GET', `/v1/approvals/${id}`)).json.approval.status;
  } finally {
    bob.close();
  }
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('Function: registerApprovalsCommands', () => {
  describe('Method: approvals list', () => {
    it("lists the approver group's pending approvals", async () => {
      // Prepare
      const { approval } = await heldEntry();

      // Act
      const run = await approvalsAs('bob', 'list');

      // Assess
      expect(run.code).toBe(0);
      const line = run.stdout.split('\n').find((l) => l.includes(approval.id));
      expect(line).toEqual(expect.stringContaining('erp/createJournalEntry'));
      expect(line).toEqual(expect.stringContaining('by alice'));
      expect(line).toEqual(expect.stringContaining('approvers managers'));
      expect(run.stdout).toMatch(/pending approvals? \(as bob\):/);
    });

    it('prints the approvals as JSON with --json', async () => {
      // Prepare
      const { approval } = await heldEntry();

      // Act
      const run = await airlock(['--json', 'approvals', 'list', '--local', '--principal', 'bob']);

      // Assess
      expect(run.code).toBe(0);
      const printed = JSON.parse(run.stdout);
      expect(printed.approvals).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            id: approval.id,
            status: 'pending',
            principal: 'alice',
            approverGroup: 'managers',
          }),
        ]),
      );
    });

    it('shows nothing to a principal outside the approver group', async () => {
      // Prepare
      await heldEntry();

      // Act
      const run = await approvalsAs('mallory', 'list');

      // Assess
      expect(run.code).toBe(0);
      expect(run.stdout.trim()).toBe('No pending approvals you may see (as mallory).');
    });

    it('works with --server, --cert, --key and --ca (as against a deployment)', async () => {
      // Prepare
      const { approval } = await heldEntry();
      const bob = pilot.certificates.client('bob');

      // Act
      const run = await airlock([
        '--json',
        'approvals',
        'list',
        '--server',
        pilot.url,
        '--cert',
        bob.cert,
        '--key',
        bob.key,
        '--ca',
        pilot.certificates.ca,
      ]);

      // Assess
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).approvals.map((a: { id: string }) => a.id)).toContain(approval.id);
    });

    it('still accepts the deprecated --as as --principal, saying so on stderr (scripts written for it keep working)', async () => {
      // Prepare
      const { approval } = await heldEntry();

      // Act
      const run = await airlock(['--json', 'approvals', 'list', '--local', '--as', 'bob']);
      const help = await airlock(['approvals', 'list', '--help']);

      // Assess
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).approvals.map((a: { id: string }) => a.id)).toContain(approval.id);
      expect(run.stderr).toBe('airlock: --as is deprecated; use --principal (same meaning)\n');
      expect(help.stdout).toContain('--principal <name>');
      expect(help.stdout).not.toContain('--as');
    });

    it('refuses --as and --principal naming two different principals (exit 2)', async () => {
      // Act
      const run = await airlock(['approvals', 'list', '--local', '--as', 'bob', '--principal', 'alice']);

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--as is the old name of --principal; pass --principal alone');
    });

    it('refuses an unknown --status (exit 2)', async () => {
      // Act
      const run = await approvalsAs('bob', 'list', '--status', 'done');

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(
        '--status: expected one of pending, approved, rejected, executed, got "done"',
      );
    });

    it('asks where to go when neither --local nor --server is given (exit 2)', async () => {
      // Act
      const run = await airlock(['approvals', 'list']);

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--local --principal <name>');
      expect(run.stderr).toContain('--server URL --cert FILE --key FILE');
    });

    it('says the local pilot is not running when there is no pilot.json (exit 1)', async () => {
      // Prepare
      const elsewhere = await mkdtemp(join(tmpdir(), 'airlock-cli-no-pilot-'));

      try {
        // Act
        const run = await airlock(['approvals', 'list', '--local', '--principal', 'bob'], {
          home: elsewhere,
        });

        // Assess
        expect(run.code).toBe(1);
        expect(run.stderr).toBe(
          `airlock: the local pilot in ${elsewhere} is not running: start it with \`npm start\` (or set AIRLOCK_HOME to its folder)\n`,
        );
      } finally {
        await rm(elsewhere, { recursive: true, force: true });
      }
    });

    it('says it cannot reach a server that is not listening (exit 1)', async () => {
      // Prepare
      const url = `https://127.0.0.1:${await closedPort()}`;
      const bob = pilot.certificates.client('bob');

      // Act
      const run = await airlock(['approvals', 'list', '--server', url, '--cert', bob.cert, '--key', bob.key]);

      // Assess
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`airlock: cannot reach ${url}`);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    });
  });

  describe('Method: approvals show', () => {
    it('shows the exact call that will run and its sha256', async () => {
      // Prepare
      const { approval, body } = await heldEntry(2750);

      // Act
      const run = await approvalsAs('bob', 'show', approval.id);

      // Assess
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Approval:   ${approval.id}`);
      expect(run.stdout).toContain('Status:     pending');
      expect(run.stdout).toMatch(/Requested: {2}\S+ by alice/);
      expect(run.stdout).toContain('Method:   POST');
      expect(run.stdout).toContain(`URL:      ${pilot.sampleErp.url}/journal-entries`);
      expect(run.stdout).toContain('"amount": 2750');
      expect(run.stdout).toContain(`"memo": "${body.memo}"`);
      expect(run.stdout).toContain(`sha256:   ${approval.preview.sha256}`);
    });

    it('lists the documents the same run read before it asked, with their sha256', async () => {
      // Prepare: a run (one token) that reads a receipt, then asks for an entry
      const token = await alice.getToken('expense-summary', ['receipts:read', 'erp:write'], 15);
      const listed = await alice.request('POST', '/v1/connectors/receipts/list', { token, body: {} });
      const key = listed.json.result.items[0].key as string;
      expect(
        (await alice.request('POST', '/v1/connectors/receipts/read', { token, body: { key } })).status,
      ).toBe(200);
      const held = await alice.request('POST', CREATE_ENTRY, { token, body: journalEntry(2600) });

      // Act
      const run = await approvalsAs('bob', 'show', held.json.approval.id);

      // Assess
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(
        /Documents read before it asked: documents alice read through Airlock since \S+ \(any token, any workflow\)/,
      );
      const line = run.stdout.split('\n').find((l) => l.startsWith(`  ${key} (receipts/read, `)) ?? '';
      expect(line).toMatch(/ sha256 [0-9a-f]{64}$/);
    });

    it('says how many documents the list leaves out (attack: a run pads its list with 50 listings before the read that matters)', async () => {
      // Prepare: one token lists 50 empty prefixes, then reads a receipt, then asks for an entry
      const token = await alice.getToken('expense-summary', ['receipts:read', 'erp:write'], 15);
      for (let i = 0; i < MAX_RUN_DOCUMENTS; i += 1) {
        const padded = await alice.request('POST', '/v1/connectors/receipts/list', {
          token,
          body: { prefix: `pad-${i}/` },
        });
        expect(padded.status).toBe(200);
      }
      const listed = await alice.request('POST', '/v1/connectors/receipts/list', { token, body: {} });
      // A receipt no earlier test of this file read (alice's earlier reads are on the same list).
      const key = listed.json.result.items.at(-1).key as string;
      expect(listed.json.result.items[0].key).not.toBe(key);
      await alice.request('POST', '/v1/connectors/receipts/read', { token, body: { key } });
      const held = await alice.request('POST', CREATE_ENTRY, { token, body: journalEntry(2650) });

      // Act
      const run = await approvalsAs('bob', 'show', held.json.approval.id);

      // Assess
      expect(run.code).toBe(0);
      expect(run.stdout).not.toContain(`  ${key} (receipts/read, `);
      // Earlier tests' reads of alice's are on the same list: at least the two after the padding are counted.
      const counted =
        /\n {2}and (\d+) more document\(s\) alice read through Airlock since \S+ \(any token, any workflow\), not listed here \(the audit trail names each one\)/.exec(
          run.stdout,
        );
      expect(Number(counted?.[1])).toBeGreaterThanOrEqual(2);
    });

    it('prints the approval record with --json', async () => {
      // Prepare
      const { approval, body } = await heldEntry();

      // Act
      const run = await airlock([
        '--json',
        'approvals',
        'show',
        approval.id,
        '--local',
        '--principal',
        'alice',
      ]);

      // Assess
      expect(run.code).toBe(0);
      const printed = JSON.parse(run.stdout).approval;
      expect(printed).toEqual(
        expect.objectContaining({ id: approval.id, principal: 'alice', status: 'pending' }),
      );
      expect(printed.preview.call.body).toEqual(body);
      expect(printed.preview.sha256).toBe(approval.preview.sha256);
    });

    it('refuses an unknown id with the API’s message (exit 1)', async () => {
      // Prepare
      const unknown = `apr_${'f'.repeat(32)}`;

      // Act
      const run = await approvalsAs('bob', 'show', unknown);

      // Assess
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(`airlock: No approval ${unknown}. (404 not_found)\n`);
    });

    it('refuses a principal outside the approver group (exit 1, 403)', async () => {
      // Prepare
      const { approval } = await heldEntry();

      // Act
      const run = await approvalsAs('mallory', 'show', approval.id);

      // Assess
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('Only members of "managers" or the requester may see');
      expect(run.stderr).toContain('(403 forbidden)');
    });
  });

  describe('Method: approvals approve', () => {
    it("approves as bob with --yes after printing the preview, and alice's re-send then runs", async () => {
      // Prepare
      const { approval, body } = await heldEntry();

      // Act
      const run = await approvalsAs(
        'bob',
        'approve',
        approval.id,
        '--yes',
        '--reason',
        'Within the Q3 travel budget',
      );
      const resent = await alice.request('POST', CREATE_ENTRY, {
        token: aliceToken,
        body,
        headers: { 'Airlock-Approval': approval.id },
      });

      // Assess
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(
        new RegExp(`^Approved ${approval.id} as bob: alice may now re-send the call once`),
      );
      expect(run.stderr).toContain(`URL:      ${pilot.sampleErp.url}/journal-entries`);
      expect(run.stderr).toContain(`sha256:   ${approval.preview.sha256}`);
      expect(resent.status).toBe(200);
      expect(pilot.sampleErp.journalEntries().filter((e) => e.memo === body.memo)).toHaveLength(1);
    });

    it('prints the decided approval with --json', async () => {
      // Prepare
      const { approval } = await heldEntry();

      // Act
      const run = await airlock([
        '--json',
        'approvals',
        'approve',
        approval.id,
        '--local',
        '--principal',
        'bob',
        '--yes',
        '--reason',
        'Fine',
      ]);

      // Assess
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).approval).toEqual(
        expect.objectContaining({
          id: approval.id,
          status: 'approved',
          decidedBy: 'bob',
          decisionReason: 'Fine',
        }),
      );
    });

    it('asks at a terminal and approves when the approver types yes', async () => {
      // Prepare
      const { approval } = await heldEntry();

      // Act
      const run = await airlock(
        ['approvals', 'approve', approval.id, '--local', '--principal', 'bob', '--reason', 'Ok'],
        {
          typed: 'yes\n',
        },
      );

      // Assess
      expect(run.code).toBe(0);
      expect(run.stderr).toContain(`Approve ${approval.id} as bob? Type "yes" to approve:`);
      expect(await statusOf(approval.id)).toBe('approved');
    });

    it('leaves the approval pending when the approver answers no at the terminal (exit 1)', async () => {
      // Prepare
      const { approval } = await heldEntry();

      // Act
      const run = await airlock(
        ['approvals', 'approve', approval.id, '--local', '--principal', 'bob', '--reason', 'Ok'],
        {
          typed: 'no\n',
        },
      );

      // Assess
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`airlock: not approved: ${approval.id} is unchanged`);
      expect(await statusOf(approval.id)).toBe('pending');
    });

    it('refuses to approve without --yes when not on a terminal (exit 2), changing nothing', async () => {
      // Prepare
      const { approval } = await heldEntry();

      // Act
      const run = await approvalsAs('bob', 'approve', approval.id, '--reason', 'Ok');

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('pass --yes to approve');
      expect(await statusOf(approval.id)).toBe('pending');
    });

    it('refuses a missing --reason (exit 2)', async () => {
      // Prepare
      const { approval } = await heldEntry();

      // Act
      const run = await approvalsAs('bob', 'approve', approval.id, '--yes');

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--reason "..." is required');
      expect(await statusOf(approval.id)).toBe('pending');
    });

    it('refuses the requester approving their own call in one line (exit 1)', async () => {
      // Prepare
      const { approval } = await heldEntry();

      // Act
      const run = await approvalsAs('alice', 'approve', approval.id, '--yes', '--reason', 'Mine, fine');

      // Assess
      expect(run.code).toBe(1);
      const errorLines = run.stderr.split('\n').filter((l) => l.startsWith('airlock:'));
      expect(errorLines).toEqual([
        'airlock: Separation of duties: nobody approves their own request. (403 forbidden)',
      ]);
      expect(await statusOf(approval.id)).toBe('pending');
    });

    it('refuses an approval that was already decided (exit 1, 409)', async () => {
      // Prepare
      const { approval } = await heldEntry();
      const args = [
        'approvals',
        'approve',
        approval.id,
        '--local',
        '--principal',
        'bob',
        '--yes',
        '--reason',
        'Fine',
      ];
      await airlock(args);

      // Act
      const again = await airlock(args);

      // Assess
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`airlock: Approval ${approval.id} was already approved. (409 conflict)`);
    });

    it('refuses to approve when the preview shown is not the call its sha256 covers (exit 1)', async () => {
      // Prepare: the stored preview's body altered behind the hash's back
      const { approval } = await heldEntry();
      const local = await openLocalDynamo(home);
      try {
        await local.doc.send(
          new UpdateCommand({
            TableName: LOCAL_TABLES.approvals,
            Key: { id: approval.id },
            UpdateExpression: 'SET preview.#call.#body.amount = :amount',
            ExpressionAttributeNames: { '#call': 'call', '#body': 'body' },
            ExpressionAttributeValues: { ':amount': 25 },
          }),
        );
      } finally {
        await local.close();
      }

      // Act
      const run = await approvalsAs('bob', 'approve', approval.id, '--yes', '--reason', 'Ok');

      // Assess
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`is not the hash of the call shown`);
      expect(run.stderr).toContain('not approving');
      expect(await statusOf(approval.id)).toBe('pending');
    });

    it('refuses an unknown id with the API’s message (exit 1)', async () => {
      // Prepare
      const unknown = `apr_${'0'.repeat(32)}`;

      // Act
      const run = await approvalsAs('bob', 'approve', unknown, '--yes', '--reason', 'Ok');

      // Assess
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(`airlock: No approval ${unknown}. (404 not_found)\n`);
    });

    it('names the missing certificate of an unknown --principal (exit 2)', async () => {
      // Prepare
      const { approval } = await heldEntry();

      // Act
      const run = await approvalsAs('zoe', 'approve', approval.id, '--yes', '--reason', 'Ok');

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('no device certificate');
      expect(run.stderr).toContain('airlock certs issue zoe');
    });
  });

  describe('Method: approvals reject', () => {
    it("rejects as bob, and alice's re-send is refused with bob's reason", async () => {
      // Prepare
      const { approval, body } = await heldEntry();

      // Act
      const run = await approvalsAs('bob', 'reject', approval.id, '--reason', 'Already booked in August');
      const resent = await alice.request('POST', CREATE_ENTRY, {
        token: aliceToken,
        body,
        headers: { 'Airlock-Approval': approval.id },
      });

      // Assess
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Rejected ${approval.id} as bob`);
      expect(run.stdout).toContain('"Already booked in August"');
      expect(resent.status).toBe(410);
      expect(resent.json.error.message).toContain('Already booked in August');
    });

    it('refuses a missing --reason (exit 2)', async () => {
      // Prepare
      const { approval } = await heldEntry();

      // Act
      const run = await approvalsAs('bob', 'reject', approval.id);

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--reason "..." is required');
      expect(await statusOf(approval.id)).toBe('pending');
    });
  });
});
