import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createLocalDynamoClient, ensureTables, startDynalite } from '../../local/dynalite-server';

const names = {
  audit: 'airlock-local-audit',
  approvals: 'airlock-local-approvals',
  revocations: 'airlock-local-revocations',
};

describe('Function: startDynalite', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-dynalite-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('keeps data in the LevelDB folder across restarts', async () => {
    // Prepare
    const path = join(home, 'dynamodb');
    const first = await startDynalite({ path });
    const firstClient = createLocalDynamoClient(first.endpoint);
    await ensureTables(firstClient, names);
    await DynamoDBDocumentClient.from(firstClient).send(
      new PutCommand({ TableName: names.revocations, Item: { pk: 'jti#abc', ttl: 2000000000 } }),
    );
    firstClient.destroy();
    await first.close();

    // Act
    const second = await startDynalite({ path });
    const secondClient = createLocalDynamoClient(second.endpoint);
    const { Item } = await DynamoDBDocumentClient.from(secondClient).send(
      new GetCommand({ TableName: names.revocations, Key: { pk: 'jti#abc' } }),
    );
    secondClient.destroy();
    await second.close();

    // Assess
    expect(first.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Item).toEqual({ pk: 'jti#abc', ttl: 2000000000 });
  });

  it('serves from a worker thread, keeps data in the folder, and releases it on close', async () => {
    // Prepare
    const path = join(home, 'dynamodb');
    const inWorker = await startDynalite({ path, thread: 'worker' });
    const workerClient = createLocalDynamoClient(inWorker.endpoint);
    await ensureTables(workerClient, names);
    await DynamoDBDocumentClient.from(workerClient).send(
      new PutCommand({
        TableName: names.audit,
        Item: { chainId: 'c-1', seq: 1, hash: 'h1' },
        ConditionExpression: 'attribute_not_exists(chainId)',
      }),
    );
    const repeat = DynamoDBDocumentClient.from(workerClient).send(
      new PutCommand({
        TableName: names.audit,
        Item: { chainId: 'c-1', seq: 1, hash: 'h2' },
        ConditionExpression: 'attribute_not_exists(chainId)',
      }),
    );
    await expect(repeat).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    workerClient.destroy();

    // Act: once closed, the folder opens again (here in the main thread): LevelDB's lock was released
    await inWorker.close();
    const reopened = await startDynalite({ path });
    const client = createLocalDynamoClient(reopened.endpoint);
    const { Item } = await DynamoDBDocumentClient.from(client).send(
      new GetCommand({ TableName: names.audit, Key: { chainId: 'c-1', seq: 1 } }),
    );
    client.destroy();
    await reopened.close();

    // Assess
    expect(inWorker.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Item).toEqual({ chainId: 'c-1', seq: 1, hash: 'h1' });
  });

  it('refuses to start a worker on a port already in use, naming the port', async () => {
    // Prepare
    const first = await startDynalite({ thread: 'worker' });
    const port = Number(new URL(first.endpoint).port);

    try {
      // Act
      const second = startDynalite({ thread: 'worker', port });

      // Assess
      await expect(second).rejects.toThrow(`dynalite could not listen on 127.0.0.1:${port}`);
    } finally {
      await first.close();
    }
  });
});

describe('Function: ensureTables', () => {
  it('creates the three tables with the shared key schemas, and is idempotent', async () => {
    // Prepare
    const server = await startDynalite();
    const client = createLocalDynamoClient(server.endpoint);

    try {
      // Act
      await ensureTables(client, names);
      await ensureTables(client, names);

      // Assess
      const { TableNames } = await client.send(new ListTablesCommand({}));
      expect(TableNames?.sort()).toEqual(Object.values(names).sort());
      const audit = (await client.send(new DescribeTableCommand({ TableName: names.audit }))).Table;
      expect(audit?.KeySchema).toEqual([
        { AttributeName: 'chainId', KeyType: 'HASH' },
        { AttributeName: 'seq', KeyType: 'RANGE' },
      ]);
      expect(audit?.AttributeDefinitions).toEqual(
        expect.arrayContaining([{ AttributeName: 'seq', AttributeType: 'N' }]),
      );
      const approvals = (await client.send(new DescribeTableCommand({ TableName: names.approvals }))).Table;
      expect(approvals?.GlobalSecondaryIndexes?.[0]).toMatchObject({
        IndexName: 'byStatus',
        KeySchema: [
          { AttributeName: 'status', KeyType: 'HASH' },
          { AttributeName: 'createdAt', KeyType: 'RANGE' },
        ],
      });
      const revocations = (await client.send(new DescribeTableCommand({ TableName: names.revocations })))
        .Table;
      expect(revocations?.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    } finally {
      client.destroy();
      await server.close();
    }
  });
});
