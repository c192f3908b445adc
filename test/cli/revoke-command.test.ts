import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DynamoDBDocumentClient, PutCommand, type PutCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { revocationKeptUntil } from '../../cli/revoke-command';
import { DynamoDbAuditStore } from '../../lambdas/adapters/aws/dynamodb-audit-store';
import { DynamoDbRevocationStore } from '../../lambdas/adapters/aws/dynamodb-revocation-store';
import type { AuditRecord } from '../../lambdas/core/audit-record';
import { verifyLedger } from '../../lambdas/core/audit-verifier';
import { loadConfig } from '../../lib/config/load-config';
import { LOCAL_TABLES, openLocalDynamo } from '../../local/local-state';
import { type FakeCli, fakeCli } from './support/fake-cli-io';

const EXAMPLE_CONFIG = resolve(__dirname, '../../config/airlock.config.yaml');
const config = loadConfig(EXAMPLE_CONFIG);
const OPERATOR = 'oncall@example.com';
const [ALICE, , MALLORY] = Object.keys(config.principals);

let home: string;
let cli: FakeCli;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'airlock-revoke-cli-'));
  cli = fakeCli({ AIRLOCK_HOME: home, AIRLOCK_CONFIG: EXAMPLE_CONFIG, AIRLOCK_OPERATOR: OPERATOR });
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

/** What the connector asks the local pilot's revocation table, and the local ledger as `audit verify` reads it. */
async function readLocalState(tokens: { jti: string; principal: string; issuedAt: Date }[]) {
  const dynamo = await openLocalDynamo(home);
  try {
    const revocations = new DynamoDbRevocationStore({
      client: dynamo.doc,
      tableName: LOCAL_TABLES.revocations,
    });
    const revoked = await Promise.all(tokens.map((token) => revocations.isRevoked(token)));
    const store = new DynamoDbAuditStore({ client: dynamo.doc, tableName: LOCAL_TABLES.audit });
    const chains = new Map<string, AuditRecord[]>();
    for (const head of await store.listChainHeads()) {
      const records: AuditRecord[] = [];
      for await (const record of store.readChain(head.chainId)) records.push(record);
      chains.set(head.chainId, records);
    }
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const verified = await verifyLedger({ records: chains, digests: [], publicKey });
    return { revoked, records: [...chains.values()].flat(), verified: verified.ok };
  } finally {
    await dynamo.close();
  }
}

describe('Function: revocationKeptUntil', () => {
  it('keeps a revocation for the longest token lifetime of any workflow plus the clock skew', () => {
    // Prepare
    const now = new Date('2026-11-02T09:00:00.000Z');
    const longest = Math.max(...Object.values(config.workflows).map((w) => w.maxTokenLifetimeMinutes));

    // Act
    const until = revocationKeptUntil(config, now);

    // Assess
    expect(until.getTime() - now.getTime()).toBe(longest * 60_000 + config.tokens.clockSkewSeconds * 1000);
  });
});

describe('Function: registerRevokeCommand', () => {
  describe('Method: revoke --local', () => {
    it('revokes one token by jti in the local table and records it in the local ledger', async () => {
      // Prepare
      const jti = randomUUID();
      const other = randomUUID();
      const before = Date.now();

      // Act
      const code = await cli.run(
        '--json',
        'revoke',
        '--local',
        '--jti',
        jti,
        '--reason',
        'INC-7: token in a log',
      );
      const result = cli.json<Record<string, string> & { audit: { recorded: boolean; chainId: string } }>();
      const state = await readLocalState([
        { jti, principal: ALICE, issuedAt: new Date() },
        { jti: other, principal: ALICE, issuedAt: new Date() },
      ]);

      // Assess
      expect(code).toBe(0);
      expect(state.revoked).toEqual([true, false]);
      expect(result).toMatchObject({
        kind: 'token',
        jti,
        revokedBy: OPERATOR,
        reason: 'INC-7: token in a log',
        mode: 'local',
        table: LOCAL_TABLES.revocations,
        effective: 'immediately',
        audit: { recorded: true, seq: 1 },
      });
      const revokedAt = Date.parse(result.revokedAt);
      expect(revokedAt).toBeGreaterThanOrEqual(before);
      expect(Date.parse(result.until)).toBe(revocationKeptUntil(config, new Date(revokedAt)).getTime());
      expect(state.verified).toBe(true);
      expect(state.records).toEqual([
        expect.objectContaining({
          chainId: result.audit.chainId,
          type: 'revocation',
          principal: OPERATOR,
          decision: 'recorded',
          reasons: ['token_revoked'],
          details: expect.objectContaining({
            kind: 'token',
            jti,
            reason: 'INC-7: token in a log',
            until: result.until,
          }),
        }),
      ]);
    });

    it('revokes every token a principal was issued until now, and no later one', async () => {
      // Act
      const code = await cli.run('revoke', '--local', '--principal', MALLORY);
      const out = cli.stdout();
      const issuedBefore = new Date(Date.now() - 1000);
      const issuedLater = new Date(Date.now() + 60_000);
      const state = await readLocalState([
        { jti: randomUUID(), principal: MALLORY, issuedAt: issuedBefore },
        { jti: randomUUID(), principal: MALLORY, issuedAt: issuedLater },
        { jti: randomUUID(), principal: ALICE, issuedAt: issuedBefore },
      ]);

      // Assess
      expect(code).toBe(0);
      expect(state.revoked).toEqual([true, false, false]);
      expect(out).toMatch(
        new RegExp(
          `^Revoked every token of ${MALLORY} issued before \\S+, kept until \\S+: effective immediately`,
        ),
      );
      expect(out).toContain(`revoked by: ${OPERATOR}`);
      expect(state.records).toEqual([
        expect.objectContaining({
          type: 'revocation',
          reasons: ['principal_revoked'],
          details: expect.objectContaining({ kind: 'principal', revokedPrincipal: MALLORY, reason: null }),
        }),
      ]);
    });
  });

  describe('Method: usage errors', () => {
    it.each([
      [['revoke', '--local'], 'revoke needs exactly one of --jti <id> (one token) or --principal <name>'],
      [['revoke', '--local', '--jti', 'abc', '--principal', 'alice'], 'revoke needs exactly one of --jti'],
      [
        ['revoke', '--local', '--principal', 'eve'],
        '--principal: unknown principal "eve"; expected one of: alice, bob, mallory',
      ],
      [['revoke', '--local', '--jti', '<script>'], '--jti: "<script>" is not a token id'],
      [
        ['revoke', '--local', '--jti', 'abc', '--table', 'airlock-revocations'],
        '--table names an AWS resource',
      ],
      [['revoke', '--jti', 'abc'], 'pass --table <name> or set AIRLOCK_REVOCATIONS_TABLE'],
    ])('exits 2 for %j and names what to fix', async (args, message) => {
      // Act
      const code = await cli.run(...args);

      // Assess
      expect(code).toBe(2);
      expect(cli.stderr()).toContain(message);
      expect(cli.stderr()).not.toMatch(/\n\s+at /);
    });

    it('answers --help', async () => {
      // Act
      const code = await cli.run('revoke', '--help');

      // Assess
      expect(code).toBe(0);
      expect(cli.stdout()).toContain('--principal <name>');
    });
  });

  describe('Method: revoke in AWS', () => {
    const TABLE = 'airlock-pilot-revocations';
    const AUDIT_TABLE = 'airlock-pilot-audit';
    let docMock: ReturnType<typeof mockClient>;
    let items: Map<string, Record<string, unknown>>;

    beforeEach(() => {
      // Scoped to these tests: the local tests above talk to a real dynalite through the same client class.
      docMock = mockClient(DynamoDBDocumentClient);
      items = new Map();
      docMock.on(PutCommand).callsFake(async (input: PutCommandInput) => {
        const key = `${input.TableName}/${String(input.Item?.pk ?? `${input.Item?.chainId}#${input.Item?.seq}`)}`;
        // A conditional put on an existing item fails as DynamoDB's does.
        if (input.ConditionExpression?.startsWith('attribute_not_exists') && items.has(key)) {
          throw Object.assign(new Error('The conditional request failed'), {
            name: 'ConditionalCheckFailedException',
            $metadata: { httpStatusCode: 400 },
          });
        }
        items.set(key, input.Item!);
        return { $metadata: { httpStatusCode: 200 } };
      });
    });

    afterEach(() => {
      docMock.restore();
    });

    it('writes to the table named by AIRLOCK_REVOCATIONS_TABLE and warns that the ledger has no record without AIRLOCK_AUDIT_TABLE', async () => {
      // Prepare
      const aws = fakeCli({
        AIRLOCK_CONFIG: EXAMPLE_CONFIG,
        AIRLOCK_OPERATOR: OPERATOR,
        AIRLOCK_REVOCATIONS_TABLE: TABLE,
      });

      // Act
      const code = await aws.run('revoke', '--principal', MALLORY);

      // Assess
      expect(code).toBe(0);
      expect(items.get(`${TABLE}/principal#${MALLORY}`)).toMatchObject({
        kind: 'principal',
        revokedBy: OPERATOR,
      });
      expect([...items.keys()]).toEqual([`${TABLE}/principal#${MALLORY}`]);
      expect(aws.stderr()).toContain(
        'AIRLOCK_AUDIT_TABLE is not set, so this revocation is not in the audit ledger: only CloudTrail',
      );
      expect(aws.stdout()).toContain('effective immediately');
    });

    it('appends the revocation record to AIRLOCK_AUDIT_TABLE when it is set (--table wins over the environment)', async () => {
      // Prepare
      const aws = fakeCli({
        AIRLOCK_CONFIG: EXAMPLE_CONFIG,
        AIRLOCK_OPERATOR: OPERATOR,
        AIRLOCK_REVOCATIONS_TABLE: 'not-this-one',
        AIRLOCK_AUDIT_TABLE: AUDIT_TABLE,
      });
      const jti = randomUUID();

      // Act
      const code = await aws.run('--json', 'revoke', '--jti', jti, '--table', TABLE);
      const result = aws.json<{ audit: { recorded: boolean; chainId: string; seq: number } }>();

      // Assess
      expect(code).toBe(0);
      expect(items.get(`${TABLE}/jti#${jti}`)).toMatchObject({ kind: 'token', revokedBy: OPERATOR });
      expect(result.audit).toMatchObject({ recorded: true, seq: 1 });
      expect(items.get(`${AUDIT_TABLE}/${result.audit.chainId}#1`)).toMatchObject({
        type: 'revocation',
        principal: OPERATOR,
        details: expect.objectContaining({ jti }),
      });
      expect(aws.stderr()).toBe('');
    });

    it('exits 1 naming dynamodb:PutItem when the operator may not write the table', async () => {
      // Prepare
      docMock.on(PutCommand).rejects(
        Object.assign(new Error('User is not authorized to perform: dynamodb:PutItem'), {
          name: 'AccessDeniedException',
          $metadata: { httpStatusCode: 400 },
        }),
      );
      const aws = fakeCli({ AIRLOCK_CONFIG: EXAMPLE_CONFIG, AIRLOCK_OPERATOR: OPERATOR });

      // Act
      const code = await aws.run('revoke', '--jti', randomUUID(), '--table', TABLE);

      // Assess
      expect(code).toBe(1);
      expect(aws.stderr()).toBe(
        `airlock: not allowed to dynamodb:PutItem on table ${TABLE}: ask for the Airlock operator role (or a role that allows dynamodb:PutItem on it)\n`,
      );
    });
  });
});
