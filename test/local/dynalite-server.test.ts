import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DescribeTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createLocalDynamoClient, ensureTables, startDynalite } from '../../local/dynalite-server';

const names = {
  audit: 'airlock-local-audit',
  approvals: 'airlock-local-approvals',
  revocations: 'airlock-local-revocations',
  oauth: 'airlock-oauth',
};

/** True while `pid` runs (an exited process that nobody reaped yet, a zombie, does not count). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; a zombie's state is Z.
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

async function listTables(endpoint: string): Promise<string[] | undefined> {
  const client = createLocalDynamoClient(endpoint);
  try {
    return (await client.send(new ListTablesCommand({}))).TableNames;
  } finally {
    client.destroy();
  }
}

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

  it('serves DynamoDB from a child process, which close() ends', async () => {
    // Prepare
    const server = await startDynalite({ path: join(home, 'dynamodb') });
    let tables: string[] | undefined;
    let runningBeforeClose: boolean;

    try {
      // Act
      tables = await listTables(server.endpoint);
      runningBeforeClose = isRunning(server.pid);
    } finally {
      await server.close();
    }

    // Assess
    expect(tables).toEqual([]);
    expect(server.pid).not.toBe(process.pid);
    expect(runningBeforeClose).toBe(true);
    expect(isRunning(server.pid)).toBe(false);
  });

  it('refuses a folder another dynalite holds, with a sentence naming the folder and what to do', async () => {
    // Prepare
    const path = join(home, 'dynamodb');
    const holder = await startDynalite({ path });

    try {
      // Act
      const second = startDynalite({ path });

      // Assess
      await expect(second).rejects.toThrow(
        `cannot open the DynamoDB folder ${path}: another process holds its lock (another local pilot may be running on this AIRLOCK_HOME); stop it, or use another AIRLOCK_HOME, and try again`,
      );
      expect(await listTables(holder.endpoint)).toEqual([]);
    } finally {
      await holder.close();
    }
  });

  it('refuses a port in use, naming it', async () => {
    // Prepare
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };

    try {
      // Act
      const starting = startDynalite({ port });

      // Assess
      await expect(starting).rejects.toThrow(`dynalite could not listen on 127.0.0.1:${port}: `);
      await expect(starting).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('exits, releasing the folder, when the process that started it is killed', async () => {
    // Prepare: a parent process that starts dynalite, says where, and keeps running
    const path = join(home, 'dynamodb');
    const script = `require(${JSON.stringify(require.resolve('../../local/dynalite-server'))})
      .startDynalite({ path: ${JSON.stringify(path)} })
      .then((server) => console.log(JSON.stringify({ pid: server.pid, endpoint: server.endpoint })));`;
    const parent = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), '--eval', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });

    try {
      const [line] = (await once(createInterface({ input: parent.stdout! }), 'line')) as [string];
      const child = JSON.parse(line) as { pid: number; endpoint: string };
      const servedBeforeKill = await listTables(child.endpoint);

      // Act
      parent.kill('SIGKILL');
      const exited = await waitUntil(() => !isRunning(child.pid), 10_000);

      // Assess
      expect(servedBeforeKill).toEqual([]);
      expect(exited).toBe(true);
      const next = await startDynalite({ path });
      await next.close();
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('reports once when its process dies, and requests then fail (fail closed)', async () => {
    // Prepare
    const lines: string[] = [];
    const server = await startDynalite({ log: (line) => lines.push(line) });
    const client = createLocalDynamoClient(server.endpoint);

    try {
      // Act
      process.kill(server.pid, 'SIGKILL');
      await waitUntil(() => lines.length > 0, 10_000);
      const listing = client.send(new ListTablesCommand({}));

      // Assess
      await expect(listing).rejects.toThrow(/ECONNREFUSED/);
      expect(lines).toEqual([
        `dynalite: its process (pid ${server.pid}) exited unexpectedly (signal SIGKILL); DynamoDB requests to ${server.endpoint} now fail; restart the local pilot (or the command that started it)`,
      ]);
    } finally {
      client.destroy();
      await server.close();
    }
  });
});

describe('Function: startDynalite (signals)', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    'keeps serving through a %s sent to the process group; the pilot closes it',
    async (signal) => {
      // Prepare
      const lines: string[] = [];
      const server = await startDynalite({ log: (line) => lines.push(line) });

      try {
        // Act
        process.kill(server.pid, signal);
        await new Promise((resolve) => setTimeout(resolve, 200));

        // Assess
        expect(isRunning(server.pid)).toBe(true);
        expect(await listTables(server.endpoint)).toEqual([]);
      } finally {
        await server.close();
      }
      expect(isRunning(server.pid)).toBe(false);
      expect(lines).toEqual([]);
    },
  );
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
