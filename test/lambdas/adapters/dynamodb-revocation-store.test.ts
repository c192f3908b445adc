import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbRevocationStore } from '../../../lambdas/adapters/aws/dynamodb-revocation-store';
import { REVOCATIONS_TABLE } from '../../../lambdas/adapters/aws/table-schemas';
import { AirlockError, DependencyError } from '../../../lambdas/core/errors';

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
      expect(await store().isRevoked({ jti: 'token-1', principal: 'alice', issuedAt: NOW })).toBe(true);
      expect(await store().isRevoked({ jti: 'token-2', principal: 'alice', issuedAt: NOW })).toBe(false);
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
        await revoked.isRevoked({ jti: 'b1', principal: 'bob', issuedAt: new Date('2026-11-02T08:59:59Z') }),
      ).toBe(true);
      expect(
        await revoked.isRevoked({ jti: 'b2', principal: 'bob', issuedAt: new Date('2026-11-02T09:00:01Z') }),
      ).toBe(false);
      expect(
        await revoked.isRevoked({
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
        await store().isRevoked({
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
        await store().isRevoked({ jti: 'd1', principal: 'dave', issuedAt: new Date('2026-11-02T09:30:00Z') }),
      ).toBe(true);
      expect(await itemOf('principal#dave')).toMatchObject({
        revokedBy: 'b',
        issuedBefore: '2026-11-02T09:45:00.000Z',
      });
    });
  });

  describe('Method: isRevoked', () => {
    it('asks once, with a consistent BatchGetItem for the token and the principal', async () => {
      // Prepare
      const send = jest.spyOn(client, 'send');

      // Act
      await store().isRevoked({ jti: 'e1', principal: 'erin', issuedAt: NOW });

      // Assess
      expect(send).toHaveBeenCalledTimes(1);
      const command = send.mock.calls[0][0] as BatchGetCommand;
      expect(command).toBeInstanceOf(BatchGetCommand);
      expect(command.input.RequestItems?.[TABLE]).toMatchObject({
        ConsistentRead: true,
        Keys: [{ pk: 'jti#e1' }, { pk: 'principal#erin' }],
      });
      send.mockRestore();
    });

    it('fails closed (throws) when the table cannot be read', async () => {
      // Prepare
      const missing = new DynamoDbRevocationStore({ client, tableName: 'no-such-table' });

      // Act
      const checking = missing.isRevoked({ jti: 'x', principal: 'alice', issuedAt: NOW });

      // Assess
      await expect(checking).rejects.toThrow(DependencyError);
      await expect(checking).rejects.toThrow(
        /dynamodb:BatchGetItem on table no-such-table failed \(ResourceNotFoundException/,
      );
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

  describe('Method: isRevoked', () => {
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
      const revoked = await revocations.isRevoked({ jti: 'f1', principal: 'frank', issuedAt: NOW });

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
      const checking = revocations.isRevoked({ jti: 'g1', principal: 'grace', issuedAt: NOW });

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
      const checking = revocations.isRevoked({ jti: 'h1', principal: 'heidi', issuedAt: NOW });

      // Assess
      await expect(checking).rejects.toThrow(`not allowed to dynamodb:BatchGetItem on table ${TABLE}`);
    });
  });
});
