import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbApprovalStore } from '../../../lambdas/adapters/aws/dynamodb-approval-store';
import { DynamoDbRunReadLog } from '../../../lambdas/adapters/aws/dynamodb-run-read-log';
import type { RunDocument } from '../../../lambdas/core/approval-desk';
import { DependencyError } from '../../../lambdas/core/errors';
import { MAX_RUN_DOCUMENTS } from '../../../lambdas/core/run-read-log';
import { APPROVALS_TABLE } from '../../../lib/contracts/tables';

// dynalite ships no type declarations.
const dynalite = require('dynalite') as (options: { createTableMs?: number }) => Server;

const TABLE = 'airlock-test-run-reads';
let server: Server;
let client: DynamoDBClient;
let documents: DynamoDBDocumentClient;
let log: DynamoDbRunReadLog;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  documents = DynamoDBDocumentClient.from(client);
  const index = APPROVALS_TABLE.statusIndex;
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: APPROVALS_TABLE.partitionKey, AttributeType: 'S' },
        { AttributeName: index.partitionKey, AttributeType: 'S' },
        { AttributeName: index.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: APPROVALS_TABLE.partitionKey, KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  log = new DynamoDbRunReadLog({ client: documents, tableName: TABLE });
});

afterAll(async () => {
  client.destroy();
  server.closeIdleConnections();
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
});

const doc = (id: string): RunDocument => ({
  connector: 'receipts',
  operation: 'read',
  id,
  sha256: 'a'.repeat(64),
  readAt: '2026-11-02T09:00:00.000Z',
});
const keepUntil = new Date('2026-11-03T09:00:00.000Z');

describe('Class: DynamoDbRunReadLog', () => {
  describe('Method: append / list', () => {
    it('keeps each run’s documents apart, in the order they were read, with a TTL', async () => {
      // Act
      await log.append('jti-a', [doc('q3/r1.txt')], keepUntil);
      await log.append('jti-b', [doc('other.txt')], keepUntil);
      await log.append('jti-a', [doc('q3/r2.txt'), doc('q3/r3.txt')], keepUntil);

      // Assess
      expect((await log.list('jti-a')).documents.map((d) => d.id)).toEqual([
        'q3/r1.txt',
        'q3/r2.txt',
        'q3/r3.txt',
      ]);
      expect((await log.list('jti-b')).documents.map((d) => d.id)).toEqual(['other.txt']);
      expect(await log.list('jti-none')).toEqual({ documents: [], notShown: 0 });
      const item = await documents.send(new GetCommand({ TableName: TABLE, Key: { id: 'run#jti-a' } }));
      expect(item.Item?.[APPROVALS_TABLE.ttlAttribute]).toBe(keepUntil.getTime() / 1000);
    });

    it(`keeps the first ${MAX_RUN_DOCUMENTS} documents of a run, so its item stays bounded`, async () => {
      // Act
      for (let i = 0; i < MAX_RUN_DOCUMENTS + 5; i += 1)
        await log.append('jti-flood', [doc(`d${i}`)], keepUntil);

      // Assess
      const listed = await log.list('jti-flood');
      expect(listed.documents).toHaveLength(MAX_RUN_DOCUMENTS);
      expect(listed.documents[0].id).toBe('d0');
    });

    it('counts what a full list cannot take (attack: an agent pads its run with cheap reads to hide the document it reads next from the approver)', async () => {
      // Prepare: the run fills its list with listings of empty prefixes
      for (let i = 0; i < MAX_RUN_DOCUMENTS; i += 1)
        await log.append('jti-padded', [doc(`list:pad${i}/`)], keepUntil);

      // Act: the document that matters, then one read returning two more
      await log.append('jti-padded', [doc('hr/salaries.csv')], keepUntil);
      await log.append('jti-padded', [doc('a.txt'), doc('b.txt')], keepUntil);

      // Assess
      const listed = await log.list('jti-padded');
      expect(listed.documents).toHaveLength(MAX_RUN_DOCUMENTS);
      expect(listed.notShown).toBe(3);
    });

    it('counts the documents of one read beyond the list on its first write', async () => {
      // Act
      const many = Array.from({ length: MAX_RUN_DOCUMENTS + 2 }, (_, i) => doc(`hit${i}`));
      await log.append('jti-one-big-read', many, keepUntil);

      // Assess
      expect(await log.list('jti-one-big-read')).toMatchObject({ notShown: 2 });
    });

    it('never shows a run’s list among the approvals', async () => {
      // Act
      await log.append('jti-c', [doc('x')], keepUntil);

      // Assess
      const store = new DynamoDbApprovalStore({ client: documents, tableName: TABLE });
      expect(await store.listByStatus('pending', 100)).toEqual([]);
    });

    it('reports a table it cannot reach as a DependencyError naming the action', async () => {
      // Prepare
      const missing = new DynamoDbRunReadLog({ client: documents, tableName: 'no-such-table' });

      // Act / Assess
      await expect(missing.list('jti-a')).rejects.toThrow(DependencyError);
      await expect(missing.list('jti-a')).rejects.toThrow(/dynamodb:GetItem/);
    });
  });
});
