import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbCounterStore } from '../../../lambdas/adapters/aws/dynamodb-counter-store';
import { DependencyError } from '../../../lambdas/core/errors';
import { COUNTERS_TABLE } from '../../../lib/contracts/tables';

// dynalite ships no types: it is a function returning an http.Server that speaks the DynamoDB API.
const dynalite: (options: { createTableMs: number }) => Server = require('dynalite');

const TABLE = 'airlock-pilot-counters';
const EXPIRES = new Date('2026-11-04T00:00:00.000Z');

let server: Server;
let raw: DynamoDBClient;
let client: DynamoDBDocumentClient;

beforeAll(async () => {
  // In-memory dynalite on a free port: the same DynamoDB protocol the local pilot uses.
  server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  raw = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  client = DynamoDBDocumentClient.from(raw);
  await raw.send(
    new CreateTableCommand({
      TableName: TABLE,
      AttributeDefinitions: [{ AttributeName: COUNTERS_TABLE.partitionKey, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: COUNTERS_TABLE.partitionKey, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
});

afterAll(async () => {
  client?.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function store(): DynamoDbCounterStore {
  return new DynamoDbCounterStore({ client, tableName: TABLE });
}

describe('Class: DynamoDbCounterStore (against dynalite)', () => {
  describe('Method: add', () => {
    it('counts every one of many concurrent additions from separate writers', async () => {
      // Prepare: ten writers (as ten Lambda environments would be), twenty additions each, at once.
      const writers = Array.from({ length: 10 }, () => store());

      // Act
      const results = await Promise.all(
        writers.flatMap((writer) =>
          Array.from({ length: 20 }, () => writer.add('spend#w#2026-11-02', 3, { expiresAt: EXPIRES })),
        ),
      );

      // Assess: nothing lost, and each writer saw a distinct total on the way.
      expect(await store().add('spend#w#2026-11-02', 0, { expiresAt: EXPIRES })).toBe(600);
      expect(new Set(results).size).toBe(200);
    });

    it('never passes a bound, however many writers race for the last units', async () => {
      // Prepare
      const writers = Array.from({ length: 5 }, () => store());

      // Act: 50 additions of 1 against a bound of 12.
      const results = await Promise.all(
        writers.flatMap((writer) =>
          Array.from({ length: 10 }, () =>
            writer.add('usage#w#alice#2026-11-02', 1, { expiresAt: EXPIRES, atMost: 12 }),
          ),
        ),
      );

      // Assess
      expect(results.filter((r) => r !== undefined)).toHaveLength(12);
      expect(results.filter((r) => r === undefined)).toHaveLength(38);
      expect(await store().add('usage#w#alice#2026-11-02', 0, { expiresAt: EXPIRES })).toBe(12);
    });

    it('refuses, without a write, an addition that alone passes the bound of a new counter', async () => {
      // Act
      const result = await store().add('usage#w#bob#2026-11-02', 11, { expiresAt: EXPIRES, atMost: 10 });

      // Assess
      expect(result).toBeUndefined();
      const item = await client.send(
        new GetCommand({ TableName: TABLE, Key: { pk: 'usage#w#bob#2026-11-02' }, ConsistentRead: true }),
      );
      expect(item.Item).toBeUndefined();
    });

    it('gives back with a negative addition, and sets the TTL the table expires counters by', async () => {
      // Prepare
      const counters = store();
      await counters.add('amount#erp#alice#EUR#2026-11-02', 90_000, { expiresAt: EXPIRES });

      // Act
      const value = await counters.add('amount#erp#alice#EUR#2026-11-02', -40_000, { expiresAt: EXPIRES });

      // Assess
      expect(value).toBe(50_000);
      const item = await client.send(
        new GetCommand({
          TableName: TABLE,
          Key: { pk: 'amount#erp#alice#EUR#2026-11-02' },
          ConsistentRead: true,
        }),
      );
      expect(item.Item).toEqual({
        pk: 'amount#erp#alice#EUR#2026-11-02',
        n: 50_000,
        ttl: EXPIRES.getTime() / 1000,
      });
    });

    it('fails closed on a counter that is not an integer (written by hand)', async () => {
      // Prepare
      await client.send(
        new PutCommand({ TableName: TABLE, Item: { pk: 'spend#bad#2026-11-02', n: 'lots' } }),
      );

      // Act
      const outcome = store().add('spend#bad#2026-11-02', 0, { expiresAt: EXPIRES });

      // Assess: DynamoDB refuses to ADD to a string; either way the caller is told the store failed.
      await expect(outcome).rejects.toThrow(DependencyError);
    });

    it('names the table when it cannot be reached (the request is refused, 503)', async () => {
      // Prepare
      const unreachable = DynamoDBDocumentClient.from(
        new DynamoDBClient({
          endpoint: 'http://127.0.0.1:9',
          region: 'local',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          maxAttempts: 1,
        }),
      );

      // Act
      const outcome = new DynamoDbCounterStore({ client: unreachable, tableName: TABLE }).add(
        'spend#w#d',
        1,
        {
          expiresAt: EXPIRES,
        },
      );

      // Assess
      await expect(outcome).rejects.toMatchObject({
        name: 'DependencyError',
        dependency: 'counter store',
        message: expect.stringContaining(TABLE),
      });
      unreachable.destroy();
    });
  });
});
