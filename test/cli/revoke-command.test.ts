import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  DynamoDBDocumentClient,
  PutCommand,
  type PutCommandInput,
  ScanCommand,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { operatorLedger } from '../../cli/operator-audit';
import { revocationKeptUntil } from '../../cli/revoke-command';
import { DynamoDbAuditStore } from '../../lambdas/adapters/aws/dynamodb-audit-store';
import { DynamoDbRevocationStore } from '../../lambdas/adapters/aws/dynamodb-revocation-store';
import type { AuditRecord } from '../../lambdas/core/audit-record';
import { verifyLedger } from '../../lambdas/core/audit-verifier';
import { certificateIdentity } from '../../lambdas/core/certificate-thumbprint';
import type { CertificateIdentity, RevocationEntries } from '../../lambdas/core/ports';
import { loadConfig } from '../../lib/config/load-config';
import { LocalCertificateAuthority } from '../../local/local-certificate-authority';
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

/** Whether a token counts as revoked by the local pilot's revocation list (its token or principal entry). */
function revokedBy(entries: RevocationEntries, token: { issuedAt: Date }): boolean {
  const principal = entries.principal;
  return (
    entries.token !== undefined ||
    (principal !== undefined &&
      (principal.issuedBeforeMs === null || token.issuedAt.getTime() < principal.issuedBeforeMs))
  );
}

/** What every request reads in the local pilot's revocation table, and the local ledger as `audit verify` reads it. */
async function readLocalState(
  tokens: { jti: string; principal: string; issuedAt: Date; certificate?: CertificateIdentity }[],
) {
  const dynamo = await openLocalDynamo(home);
  try {
    const revocations = new DynamoDbRevocationStore({
      client: dynamo.doc,
      tableName: LOCAL_TABLES.revocations,
    });
    const entries = await Promise.all(tokens.map((token) => revocations.readEntries(token)));
    const revoked = entries.map((found, i) => revokedBy(found, tokens[i]));
    const store = new DynamoDbAuditStore({ client: dynamo.doc, tableName: LOCAL_TABLES.audit });
    const chains = new Map<string, AuditRecord[]>();
    for (const head of await store.listChainHeads()) {
      const records: AuditRecord[] = [];
      for await (const record of store.readChain(head.chainId)) records.push(record);
      chains.set(head.chainId, records);
    }
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const verified = await verifyLedger({ records: chains, digests: [], publicKey });
    const records = [...chains.values()]
      .flat()
      .filter((record) => record.type === 'revocation')
      .sort((a, b) => a.ts.localeCompare(b.ts));
    return { revoked, entries, records, verified: verified.ok };
  } finally {
    await dynamo.close();
  }
}

/** Puts a credential_issued record in the local ledger, as the broker writes it for a token it issued. */
async function issuedInLedger(details: Record<string, string>, principal = ALICE): Promise<void> {
  const dynamo = await openLocalDynamo(home);
  try {
    const ledger = operatorLedger(
      new DynamoDbAuditStore({ client: dynamo.doc, tableName: LOCAL_TABLES.audit }),
    );
    await ledger.append({
      type: 'credential_issued',
      principal,
      workflow: 'expense-summary',
      decision: 'allow',
      reasons: ['credentials-for-workflow-members'],
      requestId: randomUUID(),
      docHashes: [],
      details: { channel: 'device', ...details },
    });
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
  describe('Method: revoke --jti --local', () => {
    it('revokes one token by jti in the local table and records it in the local ledger', async () => {
      // Prepare: the broker recorded the token when it issued it
      const jti = randomUUID();
      const other = randomUUID();
      await issuedInLedger({ jti });
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
      const result = cli.json<
        Record<string, string> & { audit: { recorded: boolean; chainId: string }; target: unknown }
      >();
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
        target: { seen: true, records: 1, principals: [ALICE] },
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

    it('refuses a jti the ledger has no credential of (a typo used to succeed silently), and changes nothing', async () => {
      // Prepare: one real token; the operator mistypes its last character
      const jti = randomUUID();
      await issuedInLedger({ jti });
      const typo = `${jti.slice(0, -1)}${jti.endsWith('0') ? '1' : '0'}`;

      // Act
      const code = await cli.run('revoke', '--local', '--jti', typo, '--reason', 'INC-8');
      const state = await readLocalState([{ jti: typo, principal: ALICE, issuedAt: new Date() }]);

      // Assess
      expect(code).toBe(1);
      expect(cli.stderr()).toContain(`--jti: no credential with id ${typo} is in the audit ledger`);
      expect(cli.stderr()).toContain('pass --force to revoke it anyway');
      expect(state.revoked).toEqual([false]);
      expect(state.records).toEqual([]);
    });

    it('revokes an unknown jti with --force, saying it did not check', async () => {
      // Prepare
      const jti = randomUUID();

      // Act
      const code = await cli.run('revoke', '--local', '--jti', jti, '--force', '--reason', 'INC-9');
      const state = await readLocalState([{ jti, principal: ALICE, issuedAt: new Date() }]);

      // Assess
      expect(code).toBe(0);
      expect(cli.stderr()).toContain(`--force: revoking ${jti} without checking the audit ledger`);
      expect(state.revoked).toEqual([true]);
    });

    it('finds an OAuth sign-in by its family id', async () => {
      // Prepare
      const familyId = randomUUID();
      await issuedInLedger({ jti: randomUUID(), familyId });

      // Act
      const code = await cli.run('revoke', '--local', '--jti', familyId, '--reason', 'INC-10');

      // Assess
      expect(code).toBe(0);
      expect(cli.stdout()).toContain('1 credential record(s) of alice');
    });
  });

  describe('Method: revoke --principal --local', () => {
    it('revokes every token a principal was issued until now, and no later one', async () => {
      // Act
      const code = await cli.run('revoke', '--local', '--principal', MALLORY, '--reason', 'INC-11');
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
      expect(state.entries[1].suspension).toBeUndefined();
      expect(out).toMatch(
        new RegExp(
          `^Revoked every token of ${MALLORY} issued before \\S+, kept until \\S+: effective immediately.*add --suspend`,
        ),
      );
      expect(out).toContain(`revoked by: ${OPERATOR}: "INC-11"`);
      expect(state.records).toEqual([
        expect.objectContaining({
          type: 'revocation',
          reasons: ['principal_revoked'],
          details: expect.objectContaining({
            kind: 'principal',
            revokedPrincipal: MALLORY,
            reason: 'INC-11',
          }),
        }),
      ]);
    });

    it('suspends a principal with --suspend until lifted, lists it, and lifts it (tokens from before stay dead)', async () => {
      // Act
      const suspended = await cli.run(
        'revoke',
        '--local',
        '--principal',
        MALLORY,
        '--suspend',
        '--reason',
        'INC-12: account takeover',
      );
      const suspendOut = cli.stdout();
      const listed = await cli.run('--json', 'revoke', 'list', '--local');
      const list = cli.json<{ entries: { kind: string; id: string; state: string; reason: string }[] }>();
      const whileSuspended = await readLocalState([
        { jti: randomUUID(), principal: MALLORY, issuedAt: new Date(Date.now() + 60_000) },
      ]);
      const lifted = await cli.run(
        'revoke',
        'lift',
        '--local',
        '--principal',
        MALLORY,
        '--reason',
        'INC-12: password reset, MFA re-enrolled',
      );
      const liftOut = cli.stdout();
      const liftedAt = Date.now();
      const liftedAgain = await cli.run(
        'revoke',
        'lift',
        '--local',
        '--principal',
        MALLORY,
        '--reason',
        'again',
      );
      const afterLift = await readLocalState([
        { jti: randomUUID(), principal: MALLORY, issuedAt: new Date(liftedAt - 2000) },
        { jti: randomUUID(), principal: MALLORY, issuedAt: new Date(liftedAt + 60_000) },
      ]);

      // Assess: suspended, listed, and refused everything in between
      expect(suspended).toBe(0);
      expect(suspendOut).toMatch(/^Suspended mallory: .* no new token is issued on either entry point/);
      expect(listed).toBe(0);
      expect(list.entries).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ kind: 'principal', id: MALLORY, state: 'revoked' }),
          expect.objectContaining({
            kind: 'suspension',
            id: MALLORY,
            state: 'blocked',
            reason: 'INC-12: account takeover',
          }),
        ]),
      );
      expect(whileSuspended.entries[0].suspension).toEqual({
        blocked: true,
        issuedBeforeMs: expect.any(Number),
      });
      // Assess: lifted once; a second lift finds nothing to lift
      expect(lifted).toBe(0);
      expect(liftOut).toMatch(/^Lifted the suspension of mallory: effective immediately/);
      expect(liftedAgain).toBe(1);
      expect(cli.stderr()).toContain('Nothing to lift: the suspension of mallory is not blocked');
      expect(afterLift.entries[0].suspension).toEqual({ blocked: false, issuedBeforeMs: expect.any(Number) });
      expect(afterLift.entries[0].suspension!.issuedBeforeMs!).toBeGreaterThan(liftedAt - 2000);
      expect(afterLift.entries[1].suspension!.issuedBeforeMs!).toBeLessThan(liftedAt + 60_000);
      expect(afterLift.records.map((record) => record.reasons[0])).toEqual([
        'principal_suspended',
        'suspension_lifted',
      ]);
      expect(afterLift.verified).toBe(true);
    });
  });

  describe('Method: revoke --certificate --local', () => {
    let ca: LocalCertificateAuthority;

    beforeAll(async () => {
      ca = await LocalCertificateAuthority.createInMemory();
    });

    it('blocks a device certificate given as its file, warns that Airlock never saw it, and lifts it', async () => {
      // Prepare: the stolen laptop's certificate, as the MDM exported it
      const issued = await ca.createClientCertificate(ALICE);
      const file = join(home, 'alice-laptop.pem');
      await writeFile(file, issued.cert);
      const identity = certificateIdentity(issued.cert);

      // Act
      const code = await cli.run(
        '--json',
        'revoke',
        '--local',
        '--certificate',
        file,
        '--reason',
        'INC-13: laptop stolen',
      );
      const result = cli.json<{
        kind: string;
        certificate: Record<string, string>;
        target: { seen: boolean };
      }>();
      const warning = cli.stderr();
      const blocked = await readLocalState([
        { jti: randomUUID(), principal: ALICE, issuedAt: new Date(), certificate: identity },
      ]);
      const lifted = await cli.run(
        'revoke',
        'lift',
        '--local',
        '--certificate',
        file,
        '--reason',
        'found it',
      );
      const afterLift = await readLocalState([
        {
          jti: randomUUID(),
          principal: ALICE,
          issuedAt: new Date(Date.now() + 60_000),
          certificate: identity,
        },
      ]);

      // Assess
      expect(code).toBe(0);
      expect(warning).toMatch(/warning: Airlock has no credential record for the certificate of alice/);
      expect(result).toMatchObject({
        kind: 'certificate',
        certificate: { given: 'file', subject: ALICE, thumbprint: identity.thumbprint },
        target: { seen: false },
      });
      expect(blocked.entries[0].certificate).toMatchObject({ blocked: true });
      expect(blocked.records[0]).toMatchObject({
        reasons: ['certificate_blocked'],
        details: expect.objectContaining({
          certificate: expect.objectContaining({ thumbprint: identity.thumbprint }),
        }),
      });
      expect(lifted).toBe(0);
      expect(afterLift.entries[0].certificate).toMatchObject({ blocked: false });
    });

    it('blocks a certificate Airlock has seen by its thumbprint or fingerprint, naming whose it is', async () => {
      // Prepare: the broker recorded a credential for this certificate
      const issued = await ca.createClientCertificate(ALICE);
      const { thumbprint, serialNumber } = certificateIdentity(issued.cert);
      await issuedInLedger({ jti: randomUUID(), certificateThumbprint: thumbprint });
      const fingerprint = Buffer.from(thumbprint, 'base64url')
        .toString('hex')
        .toUpperCase()
        .match(/../g)!
        .join(':');

      // Act
      const byThumbprint = await cli.run(
        'revoke',
        '--local',
        '--certificate',
        thumbprint,
        '--reason',
        'INC-14',
      );
      const thumbprintOut = cli.stdout();
      const byFingerprint = await cli.run(
        '--json',
        'revoke',
        '--local',
        '--certificate',
        `sha256:${fingerprint}`,
        '--reason',
        'INC-14',
      );
      const fingerprintResult = cli.json<{ certificate: Record<string, string> }>();
      const bySerial = await cli.run(
        '--json',
        'revoke',
        '--local',
        '--certificate',
        `serial:${serialNumber}`,
        '--reason',
        'INC-14',
      );
      const serialResult = cli.json<{ kind: string; certificate: Record<string, string> }>();
      const state = await readLocalState([
        {
          jti: randomUUID(),
          principal: ALICE,
          issuedAt: new Date(),
          certificate: { thumbprint, serialNumber },
        },
      ]);

      // Assess
      expect(byThumbprint).toBe(0);
      expect(thumbprintOut).toContain('1 credential record(s) of alice');
      expect(byFingerprint).toBe(0);
      expect(fingerprintResult.certificate).toMatchObject({ given: 'thumbprint', thumbprint });
      expect(bySerial).toBe(0);
      expect(serialResult).toMatchObject({ kind: 'certificate-serial', certificate: { serialNumber } });
      expect(state.entries[0].certificate).toMatchObject({ blocked: true });
      expect(state.entries[0].certificateSerial).toMatchObject({ blocked: true });
    });
  });

  describe('Method: usage errors', () => {
    it.each([
      [
        ['revoke', '--local', '--reason', 'x'],
        'revoke needs exactly one of --jti <id> (one token), --principal <name>',
      ],
      [
        ['revoke', '--local', '--jti', 'abc', '--principal', 'alice', '--reason', 'x'],
        'revoke needs exactly one of --jti',
      ],
      [['revoke', '--local', '--principal', 'alice'], 'revoke needs --reason'],
      [['revoke', '--local', '--principal', 'alice', '--reason', '  '], 'revoke needs --reason'],
      [
        ['revoke', '--local', '--principal', 'eve', '--reason', 'x'],
        '--principal: unknown principal "eve"; expected one of: alice, bob, mallory',
      ],
      [['revoke', '--local', '--jti', '<script>', '--reason', 'x'], '--jti: "<script>" is not a token id'],
      [
        ['revoke', '--local', '--jti', 'abc', '--suspend', '--reason', 'x'],
        '--suspend goes with --principal',
      ],
      [['revoke', '--local', '--principal', 'alice', '--force', '--reason', 'x'], '--force goes with --jti'],
      [
        ['revoke', '--local', '--certificate', 'not a certificate!', '--reason', 'x'],
        '--certificate: "not a certificate!" is not a certificate file, thumbprint or serial',
      ],
      [
        ['revoke', '--local', '--certificate', './missing.pem', '--reason', 'x'],
        '--certificate: cannot read',
      ],
      [
        ['revoke', 'lisst', '--local'],
        "value 'lisst' is invalid for argument 'action'. Allowed choices are list, lift",
      ],
      [['revoke', 'list', '--local', '--reason', 'x'], 'revoke list takes no --reason'],
      [['revoke', 'lift', '--local', '--jti', 'abc', '--reason', 'x'], 'a revoked token stays revoked'],
      [['revoke', 'lift', '--local', '--reason', 'x'], 'revoke lift needs exactly one of --certificate'],
      [['revoke', 'lift', '--local', '--principal', 'alice'], 'revoke lift needs --reason'],
      [
        ['revoke', '--local', '--jti', 'abc', '--table', 'airlock-revocations', '--reason', 'x'],
        '--table names an AWS resource',
      ],
      [['revoke', '--jti', 'abc', '--reason', 'x'], 'pass --table <name> or set AIRLOCK_REVOCATIONS_TABLE'],
      [
        ['revoke', '--jti', 'abc', '--reason', 'x', '--table', 'airlock-revocations'],
        'revoke records every change in the audit ledger and checks its target there: set AIRLOCK_AUDIT_TABLE',
      ],
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
      expect(cli.stdout()).toContain('--certificate <file|thumbprint|serial>');
      expect(cli.stdout()).toContain('--suspend');
      expect(cli.stdout()).toContain('(choices: "list", "lift")');
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
      // The ledger's credential records, as DynamoDB filters them (one issued token: jti "known").
      docMock.on(ScanCommand).callsFake(async (input: ScanCommandInput) => ({
        Items:
          input.TableName === AUDIT_TABLE && input.ExpressionAttributeValues?.[':jti'] === 'known'
            ? [{ type: 'credential_issued', principal: ALICE, details: { jti: 'known' } }]
            : [],
        $metadata: { httpStatusCode: 200 },
      }));
    });

    afterEach(() => {
      docMock.restore();
    });

    it('checks the jti in AIRLOCK_AUDIT_TABLE, writes to --table, and appends the record (--table wins over the environment)', async () => {
      // Prepare
      const aws = fakeCli({
        AIRLOCK_CONFIG: EXAMPLE_CONFIG,
        AIRLOCK_OPERATOR: OPERATOR,
        AIRLOCK_REVOCATIONS_TABLE: 'not-this-one',
        AIRLOCK_AUDIT_TABLE: AUDIT_TABLE,
      });

      // Act
      const code = await aws.run(
        '--json',
        'revoke',
        '--jti',
        'known',
        '--table',
        TABLE,
        '--reason',
        'INC-15',
      );
      const result = aws.json<{ audit: { recorded: boolean; chainId: string; seq: number } }>();

      // Assess
      expect(code).toBe(0);
      expect(docMock).toHaveReceivedCommandWith(ScanCommand, { TableName: AUDIT_TABLE });
      expect(items.get(`${TABLE}/jti#known`)).toMatchObject({
        kind: 'token',
        revokedBy: OPERATOR,
        reason: 'INC-15',
      });
      expect(result.audit).toMatchObject({ recorded: true, seq: 1 });
      expect(items.get(`${AUDIT_TABLE}/${result.audit.chainId}#1`)).toMatchObject({
        type: 'revocation',
        principal: OPERATOR,
        details: expect.objectContaining({ jti: 'known', reason: 'INC-15' }),
      });
    });

    it('exits 1 naming dynamodb:PutItem when the operator may not write the table', async () => {
      // Prepare
      docMock.on(PutCommand).rejects(
        Object.assign(new Error('User is not authorized to perform: dynamodb:PutItem'), {
          name: 'AccessDeniedException',
          $metadata: { httpStatusCode: 400 },
        }),
      );
      const aws = fakeCli({
        AIRLOCK_CONFIG: EXAMPLE_CONFIG,
        AIRLOCK_OPERATOR: OPERATOR,
        AIRLOCK_AUDIT_TABLE: AUDIT_TABLE,
      });

      // Act
      const code = await aws.run('revoke', '--principal', MALLORY, '--table', TABLE, '--reason', 'x');

      // Assess
      expect(code).toBe(1);
      expect(aws.stderr()).toBe(
        `airlock: not allowed to dynamodb:PutItem on table ${TABLE}: ask for the Airlock operator role (or a role that allows dynamodb:PutItem on it)\n`,
      );
    });

    it('exits 1 naming dynamodb:Scan when the operator may not search the audit table', async () => {
      // Prepare
      docMock.on(ScanCommand).rejects(
        Object.assign(new Error('User is not authorized to perform: dynamodb:Scan'), {
          name: 'AccessDeniedException',
          $metadata: { httpStatusCode: 400 },
        }),
      );
      const aws = fakeCli({
        AIRLOCK_CONFIG: EXAMPLE_CONFIG,
        AIRLOCK_OPERATOR: OPERATOR,
        AIRLOCK_AUDIT_TABLE: AUDIT_TABLE,
      });

      // Act
      const code = await aws.run('revoke', '--jti', 'known', '--table', TABLE, '--reason', 'x');

      // Assess
      expect(code).toBe(1);
      expect(aws.stderr()).toContain(`not allowed to dynamodb:Scan on ${AUDIT_TABLE}`);
      expect(items.size).toBe(0);
    });
  });
});
