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
