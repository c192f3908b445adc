import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  createLocalDynamoClient,
  ensureTables,
  type LocalDynamoEndpoint,
  startDynalite,
} from '../../local/dynalite-server';
import {
  LOCAL_TABLES,
  openLocalDynamo,
  type PilotState,
  readPilotState,
  removePilotState,
  writePilotState,
} from '../../local/local-state';

function pilotState(pid: number, dynamodbEndpoint: LocalDynamoEndpoint): PilotState {
  return { pid, url: 'https://127.0.0.1:8443', dynamodbEndpoint, startedAt: new Date().toISOString() };
}

const GONE: LocalDynamoEndpoint = { socketPath: join(tmpdir(), 'airlock-dynamodb-gone', 'dynamodb.sock') };

/** A Unix socket that accepts connections and never answers, in a fresh directory of the given mode. */
async function silentSocket(
  directoryMode: number,
): Promise<{ endpoint: LocalDynamoEndpoint; server: Server }> {
  const directory = await mkdtemp(join(tmpdir(), 'airlock-silent-'));
  const socketPath = join(directory, 'dynamodb.sock');
  const server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  await chmod(socketPath, 0o600);
  await chmod(directory, directoryMode);
  return { endpoint: { socketPath }, server };
}

async function closeSilent({ endpoint, server }: { endpoint: LocalDynamoEndpoint; server: Server }) {
  server.close();
  await rm(dirname(endpoint.socketPath), { recursive: true, force: true });
}

/** The id of a process that has exited (so `kill(pid, 0)` fails). */
function exitedPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid as number;
}

describe('Function: openLocalDynamo', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-local-state-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('opens the tables itself when no pilot runs, and keeps what was written after close', async () => {
    // Prepare
    const first = await openLocalDynamo(home);
    await first.doc.send(
      new PutCommand({ TableName: first.tables.revocations, Item: { pk: 'jti#one', ttl: 2000000000 } }),
    );
    const { TableNames } = await first.client.send(new ListTablesCommand({}));
    await first.close();

    // Act
    const second = await openLocalDynamo(home);
    const { Item } = await second.doc.send(
      new GetCommand({ TableName: LOCAL_TABLES.revocations, Key: { pk: 'jti#one' } }),
    );
    await second.close();

    // Assess
    expect(first.shared).toBe(false);
    expect(TableNames).toEqual(
      expect.arrayContaining(['airlock-audit', 'airlock-approvals', 'airlock-revocations']),
    );
    expect(Item).toEqual({ pk: 'jti#one', ttl: 2000000000 });
  });

  it("uses the running pilot's endpoint when pilot.json names a live process that answers", async () => {
    // Prepare: a "pilot" (this test process) holding the folder, with its tables
    const pilot = await startDynalite({ path: join(home, 'dynamodb') });
    const pilotClient = createLocalDynamoClient(pilot.endpoint);
    await ensureTables(pilotClient, LOCAL_TABLES);
    await writePilotState(home, pilotState(process.pid, pilot.endpoint));

    try {
      // Act
      const local = await openLocalDynamo(home);
      await local.doc.send(new PutCommand({ TableName: LOCAL_TABLES.revocations, Item: { pk: 'jti#two' } }));
      await local.close();
      const { Item } = await DynamoDBDocumentClient.from(pilotClient).send(
        new GetCommand({ TableName: LOCAL_TABLES.revocations, Key: { pk: 'jti#two' } }),
      );

      // Assess: the write reached the pilot's dynalite, which close() left running
      expect(local.shared).toBe(true);
      expect(Item).toEqual({ pk: 'jti#two' });
    } finally {
      pilotClient.destroy();
      await pilot.close();
    }
  });

  it('opens the folder itself when pilot.json names a process that has exited', async () => {
    // Prepare
    await writePilotState(home, pilotState(exitedPid(), GONE));

    // Act
    const local = await openLocalDynamo(home);
    const { TableNames } = await local.client.send(new ListTablesCommand({}));
    await local.close();

    // Assess
    expect(local.shared).toBe(false);
    expect(TableNames).toContain('airlock-audit');
  });

  it('refuses with a sentence naming the pilot when it holds the folder but does not answer', async () => {
    // Prepare: the folder is held, and pilot.json names a live pid whose socket never answers
    const holder = await startDynalite({ path: join(home, 'dynamodb') });
    const silent = await silentSocket(0o700);
    await writePilotState(home, pilotState(process.pid, silent.endpoint));

    try {
      // Act
      const opening = openLocalDynamo(home, { probeTimeoutMs: 300 });

      // Assess
      await expect(opening).rejects.toThrow(
        `the local pilot in this process did not answer on ${silent.endpoint.socketPath} within 300 ms; try again`,
      );
    } finally {
      await closeSilent(silent);
      await holder.close();
    }
  });

  it('refuses with a sentence naming the socket when the pilot holds the folder and its socket is gone', async () => {
    // Prepare
    const holder = await startDynalite({ path: join(home, 'dynamodb') });
    await writePilotState(home, pilotState(process.pid, GONE));

    try {
      // Act
      const opening = openLocalDynamo(home, { probeTimeoutMs: 300 });

      // Assess
      await expect(opening).rejects.toThrow(
        `the local pilot (pid ${process.pid}) holds ${join(home, 'dynamodb')} but its DynamoDB socket ${GONE.socketPath} did not answer within 300 ms`,
      );
    } finally {
      await holder.close();
    }
  });

  it('never connects to an announced socket that others may reach (a planted socket in an open directory)', async () => {
    // Prepare: pilot.json names a live process and a socket in a directory everyone may enter
    const planted = await silentSocket(0o777);
    let connections = 0;
    planted.server.on('connection', () => connections++);
    await writePilotState(home, pilotState(process.pid, planted.endpoint));

    try {
      // Act
      const opening = openLocalDynamo(home, { probeTimeoutMs: 300 });

      // Assess
      await expect(opening).rejects.toThrow(
        `refusing the DynamoDB directory ${dirname(planted.endpoint.socketPath)}: it must be a directory owned by you`,
      );
      expect(connections).toBe(0);
    } finally {
      await closeSilent(planted);
    }
  });

  it('refuses with a sentence when another process holds the folder without pilot.json', async () => {
    // Prepare
    const holder = await startDynalite({ path: join(home, 'dynamodb') });

    try {
      // Act
      const opening = openLocalDynamo(home);

      // Assess
      await expect(opening).rejects.toThrow(/another process holds .*dynamodb .*stop it and try again/);
    } finally {
      await holder.close();
    }
  });
});

describe('Function: writePilotState', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-pilot-state-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('writes pilot.json readable by its owner only, and readPilotState returns it', async () => {
    // Prepare
    const state = pilotState(4242, { socketPath: '/tmp/airlock-dynamodb-Ab12Cd/dynamodb.sock' });

    // Act
    await writePilotState(home, state);

    // Assess
    const mode = (await stat(join(home, 'pilot.json'))).mode & 0o777;
    expect(mode).toBe(0o600);
    expect(JSON.parse(await readFile(join(home, 'pilot.json'), 'utf8'))).toEqual(state);
    expect(await readPilotState(home)).toEqual(state);
  });

  it.each([
    ['a TCP endpoint (dynalite must never listen on one)', 'http://127.0.0.1:50123'],
    ['a relative socket path', { socketPath: 'dynamodb.sock' }],
    ['no socket path', {}],
  ])('is not trusted when the endpoint is %s', async (_label, dynamodbEndpoint) => {
    // Prepare
    await writeFile(
      join(home, 'pilot.json'),
      JSON.stringify({ ...pilotState(4242, GONE), dynamodbEndpoint }),
    );

    // Act
    const state = await readPilotState(home);

    // Assess
    expect(state).toBeUndefined();
  });
});

describe('Function: removePilotState', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-pilot-state-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it("removes pilot.json, but not another pilot's when given a pid", async () => {
    // Prepare
    await writePilotState(home, pilotState(1111, GONE));

    // Act
    await removePilotState(home, 2222);
    const afterOther = await readPilotState(home);
    await removePilotState(home, 1111);
    await removePilotState(home);

    // Assess
    expect(afterOther?.pid).toBe(1111);
    expect(await readPilotState(home)).toBeUndefined();
  });
});
