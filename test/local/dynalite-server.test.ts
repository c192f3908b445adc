import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { chmod, lstat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type IncomingMessage, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { DescribeTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  assertPrivateEndpoint,
  createLocalDynamoClient,
  ensureTables,
  type LocalDynamoEndpoint,
  startDynalite,
} from '../../local/dynalite-server';

const names = {
  audit: 'airlock-local-audit',
  approvals: 'airlock-local-approvals',
  revocations: 'airlock-local-revocations',
  oauth: 'airlock-oauth',
  counters: 'airlock-counters',
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

async function listTables(endpoint: LocalDynamoEndpoint): Promise<string[] | undefined> {
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
    expect(Item).toEqual({ pk: 'jti#abc', ttl: 2000000000 });
    expect(existsSync(dirname(first.endpoint.socketPath))).toBe(false);
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
      const child = JSON.parse(line) as { pid: number; endpoint: LocalDynamoEndpoint };
      const servedBeforeKill = await listTables(child.endpoint);

      // Act
      parent.kill('SIGKILL');
      const exited = await waitUntil(() => !isRunning(child.pid), 10_000);

      // Assess
      expect(servedBeforeKill).toEqual([]);
      expect(exited).toBe(true);
      expect(existsSync(dirname(child.endpoint.socketPath))).toBe(false);
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
      await expect(listing).rejects.toThrow(/ENOENT|ECONNREFUSED/);
      expect(lines).toEqual([
        `dynalite: its process (pid ${server.pid}) exited unexpectedly (signal SIGKILL); DynamoDB requests to ${server.endpoint.socketPath} now fail; restart the local pilot (or the command that started it)`,
      ]);
    } finally {
      client.destroy();
      await server.close();
    }
  });
});

/** Local ports `pid` listens on over TCP (IPv4 and IPv6), from its file descriptors and /proc/net. */
function tcpListeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // A descriptor closed while we looked.
    }
  }
  const ports: number[] = [];
  for (const table of ['tcp', 'tcp6']) {
    const lines = readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      if (fields[3] === '0A' && inodes.has(fields[9]))
        ports.push(Number.parseInt(fields[1].split(':')[1], 16));
    }
  }
  return ports;
}

/** One raw HTTP exchange over the socket, the way a browser's request would look if it got there. */
function rawRequest(
  endpoint: LocalDynamoEndpoint,
  method: string,
  headers: Record<string, string>,
  body = '',
): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: endpoint.socketPath, method, path: '/', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const PUT_AUDIT_RECORD = JSON.stringify({
  TableName: names.audit,
  Item: { chainId: { S: 'forged' }, seq: { N: '1' }, decision: { S: 'allowed' } },
});
const DYNAMODB_HEADERS = {
  'content-type': 'application/x-amz-json-1.0',
  'x-amz-target': 'DynamoDB_20120810.PutItem',
  authorization:
    'AWS4-HMAC-SHA256 Credential=local/19700101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=x',
  'x-amz-date': '19700101T000000Z',
};

describe('Function: startDynalite (who can reach it)', () => {
  let server: Awaited<ReturnType<typeof startDynalite>>;
  let client: ReturnType<typeof createLocalDynamoClient>;
  beforeAll(async () => {
    server = await startDynalite();
    client = createLocalDynamoClient(server.endpoint);
    await ensureTables(client, names);
  });
  afterAll(async () => {
    client.destroy();
    await server.close();
  });

  async function forgedRecord() {
    return (
      await DynamoDBDocumentClient.from(client).send(
        new GetCommand({ TableName: names.audit, Key: { chainId: 'forged', seq: 1 } }),
      )
    ).Item;
  }

  it('a web page cannot reach it: its process listens on no TCP port, only on a Unix socket', async () => {
    // Act
    const ports = tcpListeningPorts(server.pid);
    const socket = await lstat(server.endpoint.socketPath);

    // Assess
    expect(ports).toEqual([]);
    expect(socket.isSocket()).toBe(true);
  });

  it.each([
    ['a fetch from a page (Origin)', { origin: 'https://attacker.example' }],
    ['a fetch from a page (Origin: null, a sandboxed frame)', { origin: 'null' }],
    [
      'a form post (Sec-Fetch-Site, no Origin)',
      { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' },
    ],
  ])(
    'a web page cannot write the audit table: %s is refused with 403 and no CORS headers',
    async (_label, browser) => {
      // Act
      const answer = await rawRequest(
        server.endpoint,
        'POST',
        { ...DYNAMODB_HEADERS, ...browser },
        PUT_AUDIT_RECORD,
      );

      // Assess
      expect(answer.status).toBe(403);
      expect(answer.headers['access-control-allow-origin']).toBeUndefined();
      expect(JSON.parse(answer.body).message).toContain('never from a browser');
      expect(await forgedRecord()).toBeUndefined();
    },
  );

  it('a web page cannot write the audit table: a CORS preflight is refused without Access-Control-Allow-*', async () => {
    // Act
    const answer = await rawRequest(server.endpoint, 'OPTIONS', {
      origin: 'https://attacker.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-amz-target,authorization,x-amz-date',
    });

    // Assess
    expect(answer.status).toBe(403);
    expect(Object.keys(answer.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });

  it("still serves the pilot's own SDK requests (POST, no Origin), the control of the cases above", async () => {
    // Act
    const answer = await rawRequest(server.endpoint, 'POST', DYNAMODB_HEADERS, PUT_AUDIT_RECORD);

    // Assess
    expect(answer.status).toBe(200);
    expect(await forgedRecord()).toEqual({ chainId: 'forged', seq: 1, decision: 'allowed' });
  });

  it('another local user cannot connect: the socket is 0600 in a 0700 directory, both owned by the pilot user', async () => {
    // Prepare
    const directory = await lstat(dirname(server.endpoint.socketPath));
    const socket = await lstat(server.endpoint.socketPath);

    // Act: as root (CI containers), also try for real as nobody (uid 65534); other users cannot switch user
    const asNobody =
      process.getuid?.() === 0
        ? spawnSync(
            process.execPath,
            [
              '-e',
              `require('node:net').connect(${JSON.stringify(server.endpoint.socketPath)})
                .on('connect', () => { console.log('connected'); process.exit(0); })
                .on('error', (error) => { console.log(error.code); process.exit(1); });`,
            ],
            { uid: 65534, gid: 65534, encoding: 'utf8' },
          )
        : undefined;

    // Assess
    expect(directory.mode & 0o777).toBe(0o700);
    expect(socket.mode & 0o777).toBe(0o600);
    expect([directory.uid, socket.uid]).toEqual([process.getuid?.(), process.getuid?.()]);
    if (asNobody) expect(asNobody.stdout.trim()).toBe('EACCES');
    await expect(assertPrivateEndpoint(server.endpoint)).resolves.toBeUndefined();
  });
});

describe('Function: assertPrivateEndpoint', () => {
  let server: Awaited<ReturnType<typeof startDynalite>>;
  beforeEach(async () => {
    server = await startDynalite();
  });
  afterEach(async () => {
    await chmod(dirname(server.endpoint.socketPath), 0o700).catch(() => undefined);
    await server.close();
  });

  it('refuses a socket others may open (mode 0666), naming it and its mode', async () => {
    // Prepare
    await chmod(server.endpoint.socketPath, 0o666);

    // Act
    const checking = assertPrivateEndpoint(server.endpoint);

    // Assess
    await expect(checking).rejects.toThrow(
      `refusing the DynamoDB socket ${server.endpoint.socketPath}: it must be a socket owned by you (uid ${process.getuid?.()}) that nobody else may access (mode 0600); it is owned by uid ${process.getuid?.()} with mode 0666`,
    );
  });

  it('refuses a socket in a directory others may enter or write (mode 0777)', async () => {
    // Prepare
    await chmod(dirname(server.endpoint.socketPath), 0o777);

    // Act / Assess
    await expect(assertPrivateEndpoint(server.endpoint)).rejects.toThrow(
      /refusing the DynamoDB directory .* mode 0777/,
    );
  });

  it('refuses a path that is not a socket, and a relative path', async () => {
    // Prepare: a regular file next to the socket, in the same private directory
    const file = join(dirname(server.endpoint.socketPath), 'not-a-socket');
    await writeFile(file, '', { mode: 0o600 });

    // Act / Assess
    await expect(assertPrivateEndpoint({ socketPath: file })).rejects.toThrow(
      `refusing the DynamoDB socket ${file}: it must be a socket owned by you (uid ${process.getuid?.()}) that nobody else may access (mode 0600); it is not a socket`,
    );
    await expect(assertPrivateEndpoint({ socketPath: 'dynamodb.sock' })).rejects.toThrow(
      'the DynamoDB socket "dynamodb.sock" is not an absolute path',
    );
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
