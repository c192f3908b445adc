import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createLocalDynamoClient, ensureTables, startDynalite } from '../../local/dynalite-server';
import {
  LOCAL_TABLES,
  openLocalDynamo,
  type PilotState,
  readPilotState,
  removePilotState,
  writePilotState,
} from '../../local/local-state';

function pilotState(pid: number, dynamodbEndpoint: string): PilotState {
  return { pid, url: 'https://127.0.0.1:8443', dynamodbEndpoint, startedAt: new Date().toISOString() };
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
    await writePilotState(home, pilotState(exitedPid(), 'http://127.0.0.1:9'));

    // Act
    const local = await openLocalDynamo(home);
    const { TableNames } = await local.client.send(new ListTablesCommand({}));
    await local.close();

    // Assess
    expect(local.shared).toBe(false);
    expect(TableNames).toContain('airlock-audit');
  });

  it('refuses with a sentence naming the pilot when it holds the folder but does not answer', async () => {
    // Prepare: the folder is held, and pilot.json names a live pid with a dead endpoint
    const holder = await startDynalite({ path: join(home, 'dynamodb') });
    await writePilotState(home, pilotState(process.pid, 'http://127.0.0.1:9'));

    try {
      // Act
      const opening = openLocalDynamo(home, { probeTimeoutMs: 300 });

      // Assess
      await expect(opening).rejects.toThrow(
        /the local pilot in this process did not answer on http:\/\/127\.0\.0\.1:9/,
      );
    } finally {
      await holder.close();
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
    const state = pilotState(4242, 'http://127.0.0.1:50123');

    // Act
    await writePilotState(home, state);

    // Assess
    const mode = (await stat(join(home, 'pilot.json'))).mode & 0o777;
    expect(mode).toBe(0o600);
    expect(JSON.parse(await readFile(join(home, 'pilot.json'), 'utf8'))).toEqual(state);
    expect(await readPilotState(home)).toEqual(state);
  });

  it('is not trusted when the endpoint is not a loopback http endpoint', async () => {
    // Prepare
    await writeFile(
      join(home, 'pilot.json'),
      JSON.stringify(pilotState(4242, 'http://dynamodb.example.com:8000')),
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
    await writePilotState(home, pilotState(1111, 'http://127.0.0.1:50123'));

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
