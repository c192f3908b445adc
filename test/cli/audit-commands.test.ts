import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbAuditStore } from '../../lambdas/adapters/aws/dynamodb-audit-store';
import { FolderDigestStore } from '../../lambdas/adapters/local/folder-digest-store';
import { LocalTokenSigner } from '../../lambdas/adapters/local/local-token-signer';
import { anchorChains } from '../../lambdas/core/audit-anchor';
import { AuditLedger } from '../../lambdas/core/audit-ledger';
import { type AuditRecord, computeRecordHash, hashDocument } from '../../lambdas/core/audit-record';
import { LOCAL_TABLES, openLocalDynamo } from '../../local/local-state';
import { receiptReadEvent } from '../lambdas/support/audit-fixtures';
import { type CliRun, runAirlock } from './support/fake-cli-io';

function airlock(home: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return runAirlock(args, { env: { AIRLOCK_HOME: home, ...env }, cwd: home });
}

/** A clock the test moves, so records land on known days. */
const clock = { at: new Date('2026-11-02T09:00:00.000Z'), now: () => clock.at };

/**
 * Writes decisions through the real ledger into the pilot's dynalite under `home`, as the local
 * pilot does: chain `pilot-a` on 2 November (3 records) and `pilot-b` on 5 November (2 records).
 */
async function seedLedger(home: string, options: { anchor: boolean }): Promise<void> {
  const local = await openLocalDynamo(home);
  try {
    const store = new DynamoDbAuditStore({ client: local.doc, tableName: LOCAL_TABLES.audit });
    const writers: [string, string, number][] = [
      ['pilot-a', '2026-11-02T09:00:00.000Z', 3],
      ['pilot-b', '2026-11-05T15:30:00.000Z', 2],
    ];
    for (const [chainId, day, count] of writers) {
      const ledger = new AuditLedger({ store, chainId, clock });
      for (let index = 0; index < count; index += 1) {
        clock.at = new Date(Date.parse(day) + index * 60_000);
        await ledger.append(
          receiptReadEvent({
            requestId: `${chainId}-req-${index + 1}`,
            docHashes: [hashDocument(`receipt ${index}`)],
          }),
        );
      }
    }
    const signer = await LocalTokenSigner.loadOrCreate(home);
    if (options.anchor) await anchorChains({ store, digests: new FolderDigestStore(home), signer, clock });
  } finally {
    await local.close();
  }
}

async function tamper(home: string, chainId: string, seq: number): Promise<void> {
  const local = await openLocalDynamo(home);
  try {
    await local.doc.send(
      new UpdateCommand({
        TableName: LOCAL_TABLES.audit,
        Key: { chainId, seq },
        UpdateExpression: 'SET principal = :who',
        ExpressionAttributeValues: { ':who': 'mallory' },
      }),
    );
  } finally {
    await local.close();
  }
}

describe('Function: registerAuditCommands', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-audit-cli-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  describe('Method: audit verify --local', () => {
    it('exits 0 with a summary of records, chains, digests and time range when the trail is intact', async () => {
      // Prepare
      await seedLedger(home, { anchor: true });

      // Act
      const run = await airlock(home, ['audit', 'verify', '--local']);

      // Assess
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('Audit trail intact: 5 records in 2 chains, 2 digests checked');
      expect(run.stdout).toContain('records from 2026-11-02T09:00:00.000Z to 2026-11-05T15:31:00.000Z');
      expect(run.stderr).toBe('');
    });

    it("prints the verifier's result object with --json", async () => {
      // Prepare
      await seedLedger(home, { anchor: true });

      // Act
      const run = await airlock(home, ['--json', 'audit', 'verify', '--local']);

      // Assess
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({
        ok: true,
        records: 5,
        chains: 2,
        digests: 2,
        firstTs: '2026-11-02T09:00:00.000Z',
        lastTs: '2026-11-05T15:31:00.000Z',
        unanchoredRecords: 0,
        unanchoredChains: 0,
      });
    });

    it('attack: records written after the last anchor passed verify as if a digest covered them', async () => {
      // Prepare: anchored, then two more records on chain pilot-a, which a rewrite could change unseen.
      await seedLedger(home, { anchor: true });
      const local = await openLocalDynamo(home);
      try {
        const store = new DynamoDbAuditStore({ client: local.doc, tableName: LOCAL_TABLES.audit });
        const ledger = new AuditLedger({ store, chainId: 'pilot-c', clock });
        await ledger.append(receiptReadEvent({ requestId: 'late-1' }));
        await ledger.append(receiptReadEvent({ requestId: 'late-2' }));
      } finally {
        await local.close();
      }

      // Act
      const plain = await airlock(home, ['audit', 'verify', '--local']);
      const strict = await airlock(home, ['audit', 'verify', '--local', '--require-anchored']);

      // Assess: verify says so, and with --require-anchored it fails (exit 1) until anchored.
      expect(plain.code).toBe(0);
      expect(plain.stdout).toContain('2 records in 1 chain not yet covered by a signed digest');
      expect(strict.code).toBe(1);
      expect(strict.stderr).toMatch(/audit trail not fully anchored: 2 records in 1 chain not yet covered/);
      await airlock(home, ['audit', 'anchor', '--local']);
      const anchored = await airlock(home, ['audit', 'verify', '--local', '--require-anchored']);
      expect(anchored.code).toBe(0);
      expect(anchored.stdout).toContain('every record is covered by a signed digest');
    });

    it('exits 1 naming the chain and seq of a record changed in the table', async () => {
      // Prepare
      await seedLedger(home, { anchor: true });
      await tamper(home, 'pilot-a', 2);

      // Act
      const run = await airlock(home, ['audit', 'verify', '--local']);
      const json = await airlock(home, ['--json', 'audit', 'verify', '--local']);

      // Assess
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/does NOT verify: record pilot-a seq 2: hash mismatch: record was modified/);
      expect(run.stdout).toBe('');
      expect(json.code).toBe(1);
      const [verdict] = json.stdout.trim().split(/\n(?=\{)/);
      expect(JSON.parse(verdict)).toMatchObject({
        ok: false,
        failure: { kind: 'record', chainId: 'pilot-a', seq: 2, reason: 'hash mismatch: record was modified' },
      });
    });

    it('exits 1 naming the digest when a whole chain was rewritten with consistent hashes', async () => {
      // Prepare: rewrite record 2 and re-seal it, so only the signed digest can tell
      await seedLedger(home, { anchor: true });
      const local = await openLocalDynamo(home);
      const store = new DynamoDbAuditStore({ client: local.doc, tableName: LOCAL_TABLES.audit });
      const records: AuditRecord[] = [];
      for await (const record of store.readChain('pilot-b')) records.push(record);
      const forged = { ...records[1], principal: 'mallory' };
      const resealed = { ...forged, hash: computeRecordHash(forged) };
      await local.doc.send(
        new UpdateCommand({
          TableName: LOCAL_TABLES.audit,
          Key: { chainId: 'pilot-b', seq: 2 },
          UpdateExpression: 'SET principal = :who, #hash = :hash',
          ExpressionAttributeNames: { '#hash': 'hash' },
          ExpressionAttributeValues: { ':who': 'mallory', ':hash': resealed.hash },
        }),
      );
      await local.close();

      // Act
      const run = await airlock(home, ['audit', 'verify', '--local']);

      // Assess
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /digest pilot-b\/000000000002 \(chain pilot-b, seq 2\): digest head hash differs/,
      );
    });

    it('checks only the chains with records in the --from/--to window', async () => {
      // Prepare
      await seedLedger(home, { anchor: false });

      // Act
      const run = await airlock(home, [
        '--json',
        'audit',
        'verify',
        '--local',
        '--from',
        '2026-11-05',
        '--to',
        '2026-11-05',
      ]);

      // Assess
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, records: 2, chains: 1, digests: 0 });
    });

    it('warns that nothing is anchored yet when there are no digests', async () => {
      // Prepare
      await seedLedger(home, { anchor: false });

      // Act
      const run = await airlock(home, ['audit', 'verify', '--local']);

      // Assess
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/warning: no digests yet; run "airlock audit anchor"/);
    });

    it('exits 1 saying the local pilot has not run when there is no signing key, and creates nothing', async () => {
      // Act
      const run = await airlock(home, ['audit', 'verify', '--local']);

      // Assess
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/no local signing key .* the local pilot has not run yet/);
      expect(await readdir(home)).toEqual([]);
    });

    it('exits 2 naming --from when it is not an ISO 8601 time', async () => {
      // Act
      const notATime = await airlock(home, ['audit', 'verify', '--local', '--from', 'yesterday']);
      const noZone = await airlock(home, ['audit', 'verify', '--local', '--from', '2026-11-02T09:00:00']);
      const notADay = await airlock(home, ['audit', 'verify', '--local', '--from', '2026-02-30']);

      // Assess
      for (const run of [notATime, noZone, notADay]) {
        expect(run.code).toBe(2);
        expect(run.stderr).toMatch(/--from ".*" is not an ISO 8601 date or time/);
      }
    });

    it('exits 2 when --from is after --to', async () => {
      // Act
      const run = await airlock(home, [
        'audit',
        'verify',
        '--local',
        '--from',
        '2026-11-05',
        '--to',
        '2026-11-01',
      ]);

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/--from \(2026-11-05\) is after --to \(2026-11-01\)/);
    });
  });

  describe('Method: audit export --local', () => {
    it('writes one JSON line per record in the range to stdout, hashes kept', async () => {
      // Prepare
      await seedLedger(home, { anchor: false });

      // Act
      const run = await airlock(home, [
        'audit',
        'export',
        '--local',
        '--from',
        '2026-11-02T09:01:00Z',
        '--to',
        '2026-11-05T15:30:00Z',
      ]);

      // Assess
      expect(run.code).toBe(0);
      const lines = run.stdout.trimEnd().split('\n');
      const records = lines.map((line) => JSON.parse(line) as AuditRecord);
      expect(records.map((record) => `${record.chainId}#${record.seq}`)).toEqual([
        'pilot-a#2',
        'pilot-a#3',
        'pilot-b#1',
      ]);
      for (const record of records) expect(computeRecordHash(record)).toBe(record.hash);
      const sha256 = createHash('sha256').update(run.stdout).digest('hex');
      expect(run.stderr).toContain(`Exported 3 records from 2 chains; sha256 ${sha256}`);
    });

    it('writes a new owner-only file with --out, reports its sha256, and never overwrites it', async () => {
      // Prepare
      await seedLedger(home, { anchor: false });

      // Act
      const first = await airlock(home, ['--json', 'audit', 'export', '--local', '--out', 'evidence.jsonl']);
      const second = await airlock(home, ['audit', 'export', '--local', '--out', 'evidence.jsonl']);

      // Assess
      const file = join(home, 'evidence.jsonl');
      const content = await readFile(file, 'utf8');
      expect(first.code).toBe(0);
      expect(JSON.parse(first.stdout)).toMatchObject({
        records: 5,
        chains: 2,
        file,
        sha256: createHash('sha256').update(content).digest('hex'),
      });
      expect(content.trimEnd().split('\n')).toHaveLength(5);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(/evidence\.jsonl exists; an export never overwrites a file/);
      expect(await readFile(file, 'utf8')).toBe(content);
    });
  });

  describe('Method: audit anchor --local', () => {
    it('signs the chain heads once; verify then checks the new digests', async () => {
      // Prepare
      await seedLedger(home, { anchor: false });

      // Act
      const first = await airlock(home, ['audit', 'anchor', '--local']);
      const second = await airlock(home, ['--json', 'audit', 'anchor', '--local']);
      const verified = await airlock(home, ['--json', 'audit', 'verify', '--local']);

      // Assess
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/Anchored 2 chain heads \(0 already anchored\)/);
      expect(first.stdout).toContain('pilot-a/000000000003');
      expect(JSON.parse(second.stdout)).toMatchObject({ anchored: [], unchanged: 2 });
      expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, digests: 2 });
    });
  });

  describe('Method: audit verify (AWS)', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    // Mocked only inside this block: the local tests above talk to a real dynalite.
    const mockAws = () => ({
      dynamo: mockClient(DynamoDBDocumentClient),
      s3: mockClient(S3Client),
      kms: mockClient(KMSClient),
    });
    let aws: ReturnType<typeof mockAws>;
    beforeEach(() => {
      aws = mockAws();
    });
    afterEach(() => {
      aws.dynamo.restore();
      aws.s3.restore();
      aws.kms.restore();
    });

    it('exits 2 naming both the flag and the variable when the table is not set', async () => {
      // Act
      const run = await airlock(home, ['audit', 'verify']);

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(
        /the audit table is not set: pass --table <name> or set AIRLOCK_AUDIT_TABLE/,
      );
    });

    it('exits 1 naming the IAM action when DynamoDB denies the read', async () => {
      // Prepare: KMS answers like KMS for a P-256 signing key; DynamoDB refuses like IAM does
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      aws.kms.on(GetPublicKeyCommand).resolves({
        KeyId: keyArn,
        KeySpec: 'ECC_NIST_P256',
        KeyUsage: 'SIGN_VERIFY',
        PublicKey: publicKey.export({ format: 'der', type: 'spki' }),
      });
      aws.s3.on(ListObjectsV2Command).resolves({ Contents: [], IsTruncated: false });
      aws.dynamo.on(ScanCommand).rejects(
        Object.assign(new Error('User is not authorized to perform: dynamodb:Scan'), {
          name: 'AccessDeniedException',
          $metadata: { httpStatusCode: 400 },
        }),
      );

      // Act
      const run = await airlock(home, ['audit', 'verify', '--bucket', 'airlock-digests'], {
        AIRLOCK_AUDIT_TABLE: 'airlock-audit-table',
        AIRLOCK_SIGNING_KEY_ID: keyArn,
      });

      // Assess
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/not allowed to dynamodb:Scan on airlock-audit-table/);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    });

    it('exits 2 when an AWS flag is combined with --local', async () => {
      // Act
      const run = await airlock(home, ['audit', 'verify', '--local', '--table', 'airlock-audit-table']);

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/--table names an AWS resource; drop it or drop --local/);
    });
  });
});
