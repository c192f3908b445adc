import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbRevocationStore } from '../../../lambdas/adapters/aws/dynamodb-revocation-store';
import { AirlockError, DependencyError } from '../../../lambdas/core/errors';
import { REVOCATIONS_TABLE } from '../../../lib/contracts/tables';

// dynalite ships no types: it is a function returning an http.Server that speaks the DynamoDB API.
const dynalite: (options: { createTableMs: number }) => Server = require('dynalite');

const TABLE = 'airlock-pilot-revocations';
const NOW = new Date('2026-11-02T09:00:00.000Z');
const clock = { now: () => NOW };

let server: Server;
let client: DynamoDBDocumentClient;

beforeAll(async () => {
  // In-memory dynalite on a free port: the same DynamoDB protocol the local pilot uses.
  server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const raw = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  client = DynamoDBDocumentClient.from(raw);
  await raw.send(
    new CreateTableCommand({
      TableName: TABLE,
      AttributeDefinitions: [{ AttributeName: REVOCATIONS_TABLE.partitionKey, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: REVOCATIONS_TABLE.partitionKey, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
});

afterAll(async () => {
  client?.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function store(): DynamoDbRevocationStore {
  return new DynamoDbRevocationStore({ client, tableName: TABLE, clock });
}

async function itemOf(pk: string): Promise<Record<string, unknown> | undefined> {
  return (await client.send(new GetCommand({ TableName: TABLE, Key: { pk }, ConsistentRead: true }))).Item;
}

/** The keys of each BatchGetItem among the commands a client was sent (e.g. `jest.spyOn(client, 'send')`). */
function batchGetKeysOf(calls: readonly (readonly unknown[])[]): string[][] {
  return calls
    .map(([command]) => command)
    .filter((command): command is BatchGetCommand => command instanceof BatchGetCommand)
    .map((command) => (command.input.RequestItems?.[TABLE]?.Keys ?? []).map((key) => String(key.pk)));
}

/** Whether the token (or every token of its principal issued at its `issuedAt`) is revoked, as the guard judges it. */
async function isRevoked(
  revocations: DynamoDbRevocationStore,
  token: { jti: string; principal: string; issuedAt: Date },
): Promise<boolean> {
  const entries = await revocations.readEntries({ jti: token.jti, principal: token.principal });
  const principal = entries.principal;
  return (
    entries.token !== undefined ||
    (principal !== undefined &&
      (principal.issuedBeforeMs === null || token.issuedAt.getTime() < principal.issuedBeforeMs))
  );
}

/** Resolves after the calls of the current event-loop turn were batched and their BatchGetItem sent. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('Class: DynamoDbRevocationStore', () => {
  describe('Method: revokeToken', () => {
    it('revokes exactly that token, kept until it expires plus the clock-skew margin', async () => {
      // Prepare
      const expiresAt = new Date('2026-11-02T09:14:59.400Z');

      // Act
      await store().revokeToken('token-1', expiresAt, 'alice');

      // Assess
      const item = await itemOf('jti#token-1');
      expect(item).toMatchObject({
        kind: 'token',
        revokedBy: 'alice',
        revokedAt: NOW.toISOString(),
        expiresAt: expiresAt.toISOString(),
        [REVOCATIONS_TABLE.ttlAttribute]: Math.ceil(expiresAt.getTime() / 1000) + 300,
      });
      expect(await isRevoked(store(), { jti: 'token-1', principal: 'alice', issuedAt: NOW })).toBe(true);
      expect(await isRevoked(store(), { jti: 'token-2', principal: 'alice', issuedAt: NOW })).toBe(false);
    });

    it('refuses an empty token id', async () => {
      // Act & Assess
      await expect(store().revokeToken(' ', NOW, 'alice')).rejects.toThrow(AirlockError);
      await expect(store().revokeToken('', NOW, 'alice')).rejects.toThrow(/token id \(jti\) is required/);
    });
  });

  describe('Method: revokePrincipal', () => {
    it('revokes the tokens issued before the instant and not the ones issued after', async () => {
      // Prepare
      const issuedBefore = new Date('2026-11-02T09:00:00.000Z');
      const keepUntil = new Date('2026-11-02T10:00:00.000Z');

      // Act
      await store().revokePrincipal('bob', issuedBefore, keepUntil, 'security');

      // Assess
      const revoked = store();
      expect(
        await isRevoked(revoked, { jti: 'b1', principal: 'bob', issuedAt: new Date('2026-11-02T08:59:59Z') }),
      ).toBe(true);
      expect(
        await isRevoked(revoked, { jti: 'b2', principal: 'bob', issuedAt: new Date('2026-11-02T09:00:01Z') }),
      ).toBe(false);
      expect(
        await isRevoked(revoked, {
          jti: 'a1',
          principal: 'alice',
          issuedAt: new Date('2026-11-02T08:00:00Z'),
        }),
      ).toBe(false);
      expect(await itemOf('principal#bob')).toMatchObject({
        kind: 'principal',
        issuedBefore: issuedBefore.toISOString(),
        keepUntil: keepUntil.toISOString(),
        [REVOCATIONS_TABLE.ttlAttribute]: keepUntil.getTime() / 1000 + 300,
      });
    });

    it('never moves issuedBefore back, but keeps the item longer when asked', async () => {
      // Prepare
      const later = new Date('2026-11-02T09:30:00.000Z');
      await store().revokePrincipal('carol', later, new Date('2026-11-02T10:00:00.000Z'), 'security');

      // Act
      await store().revokePrincipal(
        'carol',
        new Date('2026-11-02T09:00:00.000Z'),
        new Date('2026-11-02T12:00:00.000Z'),
        'ops',
      );

      // Assess
      const item = await itemOf('principal#carol');
      expect(item).toMatchObject({
        issuedBefore: later.toISOString(),
        revokedBy: 'security',
        keepUntil: '2026-11-02T12:00:00.000Z',
        [REVOCATIONS_TABLE.ttlAttribute]: Date.parse('2026-11-02T12:00:00.000Z') / 1000 + 300,
      });
      expect(
        await isRevoked(store(), {
          jti: 'c1',
          principal: 'carol',
          issuedAt: new Date('2026-11-02T09:15:00Z'),
        }),
      ).toBe(true);
    });

    it('moves issuedBefore forward on a later revocation', async () => {
      // Prepare
      await store().revokePrincipal(
        'dave',
        new Date('2026-11-02T09:00:00Z'),
        new Date('2026-11-02T10:00:00Z'),
        'a',
      );

      // Act
      await store().revokePrincipal(
        'dave',
        new Date('2026-11-02T09:45:00Z'),
        new Date('2026-11-02T10:45:00Z'),
        'b',
      );

      // Assess
      expect(
        await isRevoked(store(), {
          jti: 'd1',
          principal: 'dave',
          issuedAt: new Date('2026-11-02T09:30:00Z'),
        }),
      ).toBe(true);
      expect(await itemOf('principal#dave')).toMatchObject({
        revokedBy: 'b',
        issuedBefore: '2026-11-02T09:45:00.000Z',
      });
    });
  });

  describe('Method: readEntries (tokens and principals)', () => {
    it('asks once, with a consistent BatchGetItem for the token and the principal', async () => {
      // Prepare
      const send = jest.spyOn(client, 'send');

      // Act
      await isRevoked(store(), { jti: 'e1', principal: 'erin', issuedAt: NOW });

      // Assess
      expect(send).toHaveBeenCalledTimes(1);
      const command = send.mock.calls[0][0] as BatchGetCommand;
      expect(command).toBeInstanceOf(BatchGetCommand);
      expect(command.input.RequestItems?.[TABLE]).toMatchObject({
        ConsistentRead: true,
        Keys: [{ pk: 'jti#e1' }, { pk: 'principal#erin' }, { pk: 'suspension#erin' }],
      });
      send.mockRestore();
    });

    it('fails closed (throws) when the table cannot be read', async () => {
      // Prepare
      const missing = new DynamoDbRevocationStore({ client, tableName: 'no-such-table' });

      // Act
      const checking = isRevoked(missing, { jti: 'x', principal: 'alice', issuedAt: NOW });

      // Assess
      await expect(checking).rejects.toThrow(DependencyError);
      await expect(checking).rejects.toThrow(
        /dynamodb:BatchGetItem on table no-such-table failed \(ResourceNotFoundException/,
      );
    });

    describe('concurrent lookups', () => {
      afterEach(() => {
        jest.restoreAllMocks();
      });

      it('asks once for 20 concurrent checks of the same token, each key once', async () => {
        // Prepare
        const revocations = store();
        await revocations.revokeToken('i1', new Date('2026-11-02T10:00:00Z'), 'security');
        const send = jest.spyOn(client, 'send');

        // Act
        const answers = await Promise.all(
          Array.from({ length: 20 }, () =>
            isRevoked(revocations, { jti: 'i1', principal: 'ivan', issuedAt: NOW }),
          ),
        );

        // Assess
        expect(answers).toEqual(Array(20).fill(true));
        expect(send).toHaveBeenCalledTimes(1);
        expect(batchGetKeysOf(send.mock.calls)).toEqual([['jti#i1', 'principal#ivan', 'suspension#ivan']]);
      });

      it('answers each of concurrent checks of different tokens and principals from one read', async () => {
        // Prepare
        const revocations = store();
        const issuedBefore = new Date('2026-11-02T09:00:00Z');
        await revocations.revokePrincipal('kim', issuedBefore, new Date('2026-11-02T10:00:00Z'), 'security');
        await revocations.revokeToken('k2', new Date('2026-11-02T10:00:00Z'), 'security');
        const before = new Date('2026-11-02T08:59:59Z');
        const after = new Date('2026-11-02T09:00:01Z');
        const send = jest.spyOn(client, 'send');

        // Act
        const answers = await Promise.all([
          isRevoked(revocations, { jti: 'k1', principal: 'kim', issuedAt: before }),
          isRevoked(revocations, { jti: 'k2', principal: 'lee', issuedAt: NOW }),
          isRevoked(revocations, { jti: 'k3', principal: 'kim', issuedAt: after }),
          isRevoked(revocations, { jti: 'k4', principal: 'lee', issuedAt: NOW }),
          isRevoked(revocations, { jti: 'k5', principal: 'mia', issuedAt: before }),
        ]);

        // Assess
        expect(answers).toEqual([true, true, false, false, false]);
        expect(batchGetKeysOf(send.mock.calls)).toEqual([
          [
            'jti#k1',
            'principal#kim',
            'suspension#kim',
            'jti#k2',
            'principal#lee',
            'suspension#lee',
            'jti#k3',
            'jti#k4',
            'jti#k5',
            'principal#mia',
            'suspension#mia',
          ],
        ]);
      });

      it('reads again for a check made after the previous read: a revocation in between is seen', async () => {
        // Prepare
        const revocations = store();
        const token = { jti: 'l1', principal: 'liam', issuedAt: NOW };
        const first = await isRevoked(revocations, token);
        await revocations.revokeToken('l1', new Date('2026-11-02T10:00:00Z'), 'security');

        // Act
        const second = await isRevoked(revocations, token);

        // Assess
        expect(first).toBe(false);
        expect(second).toBe(true);
      });

      it('splits more than 100 keys of one turn into reads of at most 100 keys, and answers all', async () => {
        // Prepare
        const revocations = store();
        // Keys are asked in call order (jti, principal, suspension, jti, ...): 180 keys, 60 per kind.
        await revocations.revokePrincipal(
          'np3',
          new Date('2026-11-02T09:00:01Z'),
          new Date('2026-11-02T10:00:00Z'),
          'security',
        );
        await revocations.revokeToken('n55', new Date('2026-11-02T10:00:00Z'), 'security');
        const send = jest.spyOn(client, 'send');

        // Act
        const answers = await Promise.all(
          Array.from({ length: 60 }, (_, i) =>
            isRevoked(revocations, { jti: `n${i}`, principal: `np${i}`, issuedAt: NOW }),
          ),
        );

        // Assess
        expect(answers.flatMap((revoked, i) => (revoked ? [i] : []))).toEqual([3, 55]);
        const reads = batchGetKeysOf(send.mock.calls);
        expect(reads.map((keys) => keys.length)).toEqual([100, 80]);
        const asked = reads.flat();
        expect(new Set(asked).size).toBe(180);
        expect(asked).toEqual(
          expect.arrayContaining(['principal#np3', 'jti#n55', 'jti#n59', 'principal#np59']),
        );
      });
    });
  });
});

describe('Class: DynamoDbRevocationStore (blocks, suspensions and kill-switch copies)', () => {
  const change = (reason: string, at = NOW) => ({ by: 'oncall', reason, at });

  describe('Method: block', () => {
    it('blocks a certificate by thumbprint and by serial, and a principal, until lifted', async () => {
      // Prepare
      const revocations = store();

      // Act
      await revocations.block({ kind: 'certificate', thumbprint: 'thumb-a' }, change('INC-1'), {
        subject: 'alice',
      });
      await revocations.block({ kind: 'certificate-serial', serialNumber: '3AF1' }, change('INC-1'));
      await revocations.block({ kind: 'suspension', principal: 'sam' }, change('INC-2'));
      const device = await revocations.readEntries({
        principal: 'sam',
        certificate: { thumbprint: 'thumb-a', serialNumber: '3AF1' },
      });

      // Assess
      expect(device).toMatchObject({
        certificate: { blocked: true, issuedBeforeMs: NOW.getTime() },
        certificateSerial: { blocked: true },
        suspension: { blocked: true },
      });
      expect(await itemOf('certificate#thumb-a')).toMatchObject({
        kind: 'certificate',
        state: 'blocked',
        reason: 'INC-1',
        revokedBy: 'oncall',
        details: { subject: 'alice' },
      });
      // A block in force is never deleted by TTL.
      expect((await itemOf('suspension#sam'))?.ttl).toBeUndefined();
    });
  });

  describe('Method: lift', () => {
    it('lifts a block once (tokens before the lift stay dead, kept until keepUntil) and reports nothing to lift after', async () => {
      // Prepare
      const revocations = store();
      await revocations.block({ kind: 'certificate', thumbprint: 'thumb-b' }, change('INC-3'));
      const liftedAt = new Date(NOW.getTime() + 3_600_000);
      const keepUntil = new Date(liftedAt.getTime() + 86_400_000);

      // Act
      const first = await revocations.lift(
        { kind: 'certificate', thumbprint: 'thumb-b' },
        change('found', liftedAt),
        keepUntil,
      );
      const second = await revocations.lift(
        { kind: 'certificate', thumbprint: 'thumb-b' },
        change('again', liftedAt),
        keepUntil,
      );
      const never = await revocations.lift(
        { kind: 'suspension', principal: 'nobody' },
        change('x'),
        keepUntil,
      );
      const entries = await revocations.readEntries({ certificate: { thumbprint: 'thumb-b' } });

      // Assess
      expect([first, second, never]).toEqual([true, false, false]);
      expect(entries.certificate).toEqual({ blocked: false, issuedBeforeMs: liftedAt.getTime() });
      expect(await itemOf('certificate#thumb-b')).toMatchObject({
        state: 'lifted',
        liftedBy: 'oncall',
        liftReason: 'found',
        ttl: Math.ceil(keepUntil.getTime() / 1000) + 300,
      });
    });
  });

  describe('Method: readEntries', () => {
    it('counts a block item it cannot read (a hand-edited state) as blocking everything', async () => {
      // Prepare
      await client.send(
        new PutCommand({
          TableName: TABLE,
          Item: { pk: 'suspension#hand', state: 'liftd', issuedBeforeMs: 1 },
        }),
      );

      // Act
      const entries = await store().readEntries({ principal: 'hand' });

      // Assess
      expect(entries.suspension).toEqual({ blocked: true, issuedBeforeMs: 1 });
    });

    it('reads the kill switch copies with the other entries, in the same BatchGetItem', async () => {
      // Prepare
      const revocations = store();
      await revocations.writeKillSwitchCopy('/airlock/pilot/kill-switch', '{"engaged":true}');
      const send = jest.spyOn(client, 'send');

      // Act
      const entries = await revocations.readEntries({
        jti: 'j-copy',
        principal: 'carol',
        killSwitch: ['/airlock/pilot/kill-switch', '/airlock/pilot/kill-switch/expense-summary'],
      });
      const reads = batchGetKeysOf(send.mock.calls);
      send.mockRestore();

      // Assess
      expect(reads).toEqual([
        [
          'jti#j-copy',
          'principal#carol',
          'suspension#carol',
          'kill-switch#/airlock/pilot/kill-switch',
          'kill-switch#/airlock/pilot/kill-switch/expense-summary',
        ],
      ]);
      expect(entries.killSwitch).toEqual({ '/airlock/pilot/kill-switch': '{"engaged":true}' });
    });
  });

  describe('Method: listEntries', () => {
    it('lists revocations, blocks and suspensions with who, when and why; no kill-switch copies, nothing expired', async () => {
      // Prepare: a table of its own
      const table = `${TABLE}-list`;
      await client.send(
        new CreateTableCommand({
          TableName: table,
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      const revocations = new DynamoDbRevocationStore({ client, tableName: table, clock });
      await revocations.revokeToken('j-live', new Date(NOW.getTime() + 60_000), 'oncall', 'INC-4');
      await revocations.revokeToken('j-expired', new Date(NOW.getTime() - 3_600_000), 'oncall', 'old');
      await revocations.block({ kind: 'suspension', principal: 'sam' }, change('INC-5'));
      await revocations.writeKillSwitchCopy('/airlock/pilot/kill-switch', '{}');

      // Act
      const entries = await revocations.listEntries();

      // Assess
      expect(entries).toEqual([
        expect.objectContaining({
          kind: 'token',
          id: 'j-live',
          state: 'revoked',
          reason: 'INC-4',
          by: 'oncall',
        }),
        expect.objectContaining({ kind: 'suspension', id: 'sam', state: 'blocked', reason: 'INC-5' }),
      ]);
    });
  });
});

describe('Class: DynamoDbRevocationStore (service responses)', () => {
  const mocked = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
  const documentMock = mockClient(mocked);

  beforeEach(() => {
    documentMock.reset();
  });

  afterAll(() => {
    documentMock.restore();
  });

  describe('Method: readEntries (tokens and principals)', () => {
    it('retries keys DynamoDB left unprocessed', async () => {
      // Prepare
      documentMock
        .on(BatchGetCommand)
        .resolvesOnce({
          Responses: { [TABLE]: [] },
          UnprocessedKeys: { [TABLE]: { Keys: [{ pk: 'jti#f1' }], ConsistentRead: true } },
        })
        .resolvesOnce({ Responses: { [TABLE]: [{ pk: 'jti#f1' }] }, UnprocessedKeys: {} });
      const revocations = new DynamoDbRevocationStore({ client: mocked, tableName: TABLE });

      // Act
      const revoked = await isRevoked(revocations, { jti: 'f1', principal: 'frank', issuedAt: NOW });

      // Assess
      expect(revoked).toBe(true);
      expect(documentMock).toHaveReceivedCommandTimes(BatchGetCommand, 2);
      expect(documentMock).toHaveReceivedNthCommandWith(2, BatchGetCommand, {
        RequestItems: { [TABLE]: expect.objectContaining({ Keys: [{ pk: 'jti#f1' }] }) },
      });
    });

    it('fails closed when keys stay unprocessed', async () => {
      // Prepare
      documentMock.on(BatchGetCommand).resolves({
        Responses: { [TABLE]: [] },
        UnprocessedKeys: { [TABLE]: { Keys: [{ pk: 'jti#g1' }] } },
      });
      const revocations = new DynamoDbRevocationStore({ client: mocked, tableName: TABLE });

      // Act
      const checking = isRevoked(revocations, { jti: 'g1', principal: 'grace', issuedAt: NOW });

      // Assess
      await expect(checking).rejects.toThrow(/stayed unprocessed after 3 attempts/);
    });

    it('names the missing permission when DynamoDB denies the read', async () => {
      // Prepare
      documentMock.on(BatchGetCommand).rejects(
        new DynamoDBServiceException({
          name: 'AccessDeniedException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400, requestId: 'R1', attempts: 1 },
          message: `User: arn:aws:sts::111122223333:assumed-role/broker/fn is not authorized to perform: dynamodb:BatchGetItem on resource: arn:aws:dynamodb:eu-west-1:111122223333:table/${TABLE}`,
        }),
      );
      const revocations = new DynamoDbRevocationStore({ client: mocked, tableName: TABLE });

      // Act
      const checking = isRevoked(revocations, { jti: 'h1', principal: 'heidi', issuedAt: NOW });

      // Assess
      await expect(checking).rejects.toThrow(`not allowed to dynamodb:BatchGetItem on table ${TABLE}`);
    });

    it('never lets a check join a read already sent: it waits for a read of its own', async () => {
      // Prepare
      let answerFirstRead: (output: object) => void = () => {};
      documentMock
        .on(BatchGetCommand)
        .callsFakeOnce(() => new Promise((resolve) => (answerFirstRead = resolve)))
        .resolvesOnce({ Responses: { [TABLE]: [{ pk: 'jti#m1' }] } });
      const revocations = new DynamoDbRevocationStore({ client: mocked, tableName: TABLE });
      const token = { jti: 'm1', principal: 'max', issuedAt: NOW };
      const early = isRevoked(revocations, token);
      await nextTurn();
      expect(documentMock).toHaveReceivedCommandTimes(BatchGetCommand, 1);

      // Act
      const late = isRevoked(revocations, token);
      await nextTurn();
      answerFirstRead({ Responses: { [TABLE]: [] } });

      // Assess
      expect(documentMock).toHaveReceivedCommandTimes(BatchGetCommand, 2);
      expect(await early).toBe(false);
      expect(await late).toBe(true);
    });

    it('fails every check of a failed read with the same error, and reads afresh on the next turn', async () => {
      // Prepare
      documentMock
        .on(BatchGetCommand)
        .rejectsOnce(
          new DynamoDBServiceException({
            name: 'AccessDeniedException',
            $fault: 'client',
            $metadata: { httpStatusCode: 400, requestId: 'R2', attempts: 1 },
            message: 'not authorized to perform: dynamodb:BatchGetItem',
          }),
        )
        .resolves({ Responses: { [TABLE]: [{ pk: 'jti#o1' }] } });
      const revocations = new DynamoDbRevocationStore({ client: mocked, tableName: TABLE });

      // Act
      const failed = await Promise.allSettled(
        ['o1', 'o2', 'o3', 'o4', 'o5'].map((jti) =>
          isRevoked(revocations, { jti, principal: 'olga', issuedAt: NOW }),
        ),
      );
      const afterwards = await isRevoked(revocations, { jti: 'o1', principal: 'olga', issuedAt: NOW });

      // Assess
      expect(failed.map(({ status }) => status)).toEqual(Array(5).fill('rejected'));
      const reasons = failed.map((result) => (result as PromiseRejectedResult).reason);
      expect(reasons[0]).toBeInstanceOf(DependencyError);
      expect(reasons[0].message).toMatch(`not allowed to dynamodb:BatchGetItem on table ${TABLE}`);
      for (const reason of reasons) expect(reason).toBe(reasons[0]);
      expect(afterwards).toBe(true);
      expect(documentMock).toHaveReceivedCommandTimes(BatchGetCommand, 2);
    });

    it('fails every check of a batch when one of its 100-key reads fails', async () => {
      // Prepare
      documentMock
        .on(BatchGetCommand)
        .resolvesOnce({ Responses: { [TABLE]: [] } })
        .rejectsOnce(new Error('socket hang up'));
      const revocations = new DynamoDbRevocationStore({ client: mocked, tableName: TABLE });

      // Act
      const checks = await Promise.allSettled(
        Array.from({ length: 60 }, (_, i) =>
          isRevoked(revocations, { jti: `p${i}`, principal: `pp${i}`, issuedAt: NOW }),
        ),
      );

      // Assess
      expect(documentMock).toHaveReceivedCommandTimes(BatchGetCommand, 2);
      expect(checks.filter(({ status }) => status === 'rejected')).toHaveLength(60);
      expect((checks[0] as PromiseRejectedResult).reason).toBeInstanceOf(DependencyError);
    });

    it('retries the unprocessed keys of a batch shared by several checks', async () => {
      // Prepare
      const issuedBeforeMs = Date.parse('2026-11-02T09:30:00Z');
      documentMock
        .on(BatchGetCommand)
        .resolvesOnce({
          Responses: { [TABLE]: [{ pk: 'principal#quinn', issuedBeforeMs }] },
          UnprocessedKeys: { [TABLE]: { Keys: [{ pk: 'jti#q1' }, { pk: 'principal#rosa' }] } },
        })
        .resolvesOnce({ Responses: { [TABLE]: [{ pk: 'jti#q1' }] } });
      const revocations = new DynamoDbRevocationStore({ client: mocked, tableName: TABLE });

      // Act
      const answers = await Promise.all([
        isRevoked(revocations, { jti: 'q1', principal: 'rosa', issuedAt: NOW }),
        isRevoked(revocations, { jti: 'q2', principal: 'quinn', issuedAt: NOW }),
        isRevoked(revocations, { jti: 'q3', principal: 'rosa', issuedAt: NOW }),
      ]);

      // Assess
      expect(answers).toEqual([true, true, false]);
      expect(documentMock).toHaveReceivedCommandTimes(BatchGetCommand, 2);
      expect(documentMock).toHaveReceivedNthCommandWith(1, BatchGetCommand, {
        RequestItems: {
          [TABLE]: expect.objectContaining({
            Keys: [
              { pk: 'jti#q1' },
              { pk: 'principal#rosa' },
              { pk: 'suspension#rosa' },
              { pk: 'jti#q2' },
              { pk: 'principal#quinn' },
              { pk: 'suspension#quinn' },
              { pk: 'jti#q3' },
            ],
          }),
        },
      });
      expect(documentMock).toHaveReceivedNthCommandWith(2, BatchGetCommand, {
        RequestItems: {
          [TABLE]: expect.objectContaining({ Keys: [{ pk: 'jti#q1' }, { pk: 'principal#rosa' }] }),
        },
      });
    });
  });
});
