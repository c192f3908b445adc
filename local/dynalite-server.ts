/**
 * DynamoDB for the local pilot: dynalite (DynamoDB's API on LevelDB), so the local pilot runs the same
 * DynamoDB adapters as AWS. dynalite authenticates nobody and answers browsers' CORS preflights with
 * `Access-Control-Allow-Origin: *`, so it is never put on a TCP port: it listens on a Unix domain
 * socket that only the pilot's own user can connect to, and refuses any request a browser could send.
 */
import { fork } from 'node:child_process';
import { lstat, mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { AgentOptions } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CLI_ENV } from '../lib/contracts/environment';
import {
  APPROVALS_TABLE,
  AUDIT_TABLE,
  COUNTERS_TABLE,
  OAUTH_TABLE,
  REVOCATIONS_TABLE,
} from '../lib/contracts/tables';

export interface StartDynaliteOptions {
  /** LevelDB folder (e.g. `<AIRLOCK_HOME>/dynamodb`), created if missing. @default in memory */
  readonly path?: string;
  /**
   * Receives dynalite's stderr, a line at a time prefixed `dynalite: `, and one line when its process
   * exits while it should be serving.
   * @default - this process's stderr
   */
  readonly log?: (line: string) => void;
}

/**
 * Where a local dynalite answers: a Unix domain socket (mode 0600) in a directory of its own (mode 0700,
 * under the OS temporary folder, whose path stays short: socket paths are limited to about 100 bytes).
 * Only the user who started it can connect; nothing on the network or in a browser can reach it.
 */
export interface LocalDynamoEndpoint {
  /** Absolute path of the socket. */
  readonly socketPath: string;
}

export interface DynaliteServer {
  readonly endpoint: LocalDynamoEndpoint;
  /** Id of the child process that serves the endpoint. */
  readonly pid: number;
  /** Stops the server, closes the database and waits until the child process has exited. */
  close(): Promise<void>;
}

/** The child's entry: plain CommonJS, so it runs without the TypeScript loader of tsx or jest. */
const DYNALITE_PROCESS = join(__dirname, 'dynalite-process.cjs');

/** How long the child has to open the database and listen (node's start and dynalite's load take ~0.2 s). */
const START_TIMEOUT_MS = 30_000;

/** How long close() waits for the child to exit: dynalite gives pending LevelDB operations 30 s. */
const CLOSE_TIMEOUT_MS = 35_000;

/** The socket's name inside its private directory. */
const SOCKET_NAME = 'dynamodb.sock';

/** What dynalite-process.cjs tells its parent, once. */
type DynaliteProcessMessage =
  | { readonly type: 'listening' }
  | {
      readonly type: 'failed';
      readonly stage: 'open' | 'listen';
      readonly code?: string;
      readonly message: string;
    };

interface ProcessEnd {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * Starts dynalite in a child process, listening on a Unix domain socket only this user can connect to
 * (see {@link LocalDynamoEndpoint}): every pilot request makes DynamoDB calls whose server side (~1.2 ms
 * of CPU each) would otherwise share one thread with TLS, the SDK and the request pipeline. The child
 * refuses any request carrying an `Origin` or `Sec-Fetch-*` header and any method but POST, so even a
 * browser that could reach the socket gets no CORS answer. The child exits when this process does, even
 * when killed, and removes its socket directory. Once started, a child that dies is reported on `log`
 * and requests to the endpoint fail to connect, so the DynamoDB adapters refuse them (fail closed).
 * @throws Error naming the folder and what to do when the database cannot be opened (e.g. another
 *   local pilot holds it), or the socket when it cannot listen.
 */
export async function startDynalite(options: StartDynaliteOptions = {}): Promise<DynaliteServer> {
  const { path } = options;
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  if (path) await mkdir(path, { recursive: true });
  // mkdtemp creates the directory with mode 0700 under a name nobody else can predict or pre-create.
  const socketDirectory = await mkdtemp(join(tmpdir(), 'airlock-dynamodb-'));
  const socketPath = join(socketDirectory, SOCKET_NAME);
  const removeSocketDirectory = () => rm(socketDirectory, { recursive: true, force: true });

  const child = fork(DYNALITE_PROCESS, [JSON.stringify({ path, socketPath })], {
    // The parent's flags (tsx's loader, jest's) are for TypeScript; the child is plain JavaScript.
    execArgv: [],
    // dynalite writes nothing useful to stdout; stderr (warnings, a crash) is forwarded line by line.
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const stderr = createInterface({ input: child.stderr! });
  stderr.on('line', (line) => log(`dynalite: ${line}`));
  // The end counts once the child has exited and its last stderr lines are logged. (Not the child's
  // 'close' event: it never comes once the IPC channel was disconnected.) The child removes its socket
  // directory when it stops; removing it here too covers a child that was killed.
  const ended = Promise.all([
    new Promise<ProcessEnd>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    new Promise<void>((resolve) => stderr.once('close', resolve)),
  ]).then(async ([end]) => {
    await removeSocketDirectory().catch(() => undefined);
    return end;
  });
  let started = false;
  let closing = false;
  child.on('error', (error) => {
    // Before the start settles, the start's own listener reports it.
    if (started) log(`dynalite: process ${child.pid}: ${error.message}`);
  });

  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`dynalite did not start within ${START_TIMEOUT_MS / 1000} s`)),
        START_TIMEOUT_MS,
      );
      const settle = (outcome: () => void) => {
        clearTimeout(timer);
        outcome();
      };
      child.once('message', (message: DynaliteProcessMessage) =>
        settle(() =>
          message.type === 'listening' ? resolve() : reject(startFailure(message, path, socketPath)),
        ),
      );
      child.once('error', (error) =>
        settle(() => reject(new Error(`dynalite's process could not start: ${error.message}`))),
      );
      void ended.then((end) =>
        settle(() =>
          reject(
            new Error(
              `dynalite's process exited while starting (${describeEnd(end)}); see the lines starting with "dynalite: "`,
            ),
          ),
        ),
      );
    });
  } catch (error) {
    // Without a pid the process never started, and no exit will come.
    if (child.pid !== undefined) {
      child.kill('SIGKILL');
      await ended;
    } else {
      await removeSocketDirectory();
    }
    throw error;
  }
  started = true;

  void ended.then((end) => {
    if (!closing) {
      log(
        `dynalite: its process (pid ${child.pid}) exited unexpectedly (${describeEnd(end)}); DynamoDB requests to ${socketPath} now fail; restart the local pilot (or the command that started it)`,
      );
    }
  });
  let closed: Promise<void> | undefined;
  return {
    endpoint: { socketPath },
    pid: child.pid!,
    close: () => {
      closed ??= (async () => {
        closing = true;
        // A child that already exited was reported when it did; there is nothing left to stop.
        if (child.exitCode !== null || child.signalCode !== null) {
          await ended;
          return;
        }
        // Disconnecting is the child's signal to close the server and the database, then exit.
        if (child.connected) child.disconnect();
        else child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), CLOSE_TIMEOUT_MS);
        const end = await ended;
        clearTimeout(timer);
        if (end.code !== 0) throw new Error(`dynalite's process did not close cleanly (${describeEnd(end)})`);
      })();
      return closed;
    },
  };
}

function startFailure(
  failure: Extract<DynaliteProcessMessage, { type: 'failed' }>,
  path: string | undefined,
  socketPath: string,
): Error {
  if (failure.stage === 'listen') {
    return new Error(`dynalite could not listen on ${socketPath}: ${failure.message}`);
  }
  const database = path ? `the DynamoDB folder ${path}` : 'an in-memory DynamoDB';
  if (failure.code === 'LEVEL_LOCKED') {
    return new Error(
      `cannot open ${database}: another process holds its lock (another local pilot may be running on this ${CLI_ENV.home}); stop it, or use another ${CLI_ENV.home}, and try again`,
    );
  }
  return new Error(`cannot open ${database}: ${failure.message}`);
}

function describeEnd({ code, signal }: ProcessEnd): string {
  return signal ? `signal ${signal}` : `exit code ${code}`;
}

/**
 * Checks, before a client connects, that `endpoint` is what {@link startDynalite} makes: an absolute
 * path to a socket owned by this user that nobody else may open, in a directory owned by this user that
 * nobody else may enter. A socket named by a stale or edited `pilot.json` could otherwise belong to
 * someone else, who would then see (and answer) this user's audit and approval requests.
 * @throws Error naming the path and what is wrong with it (`ENOENT` when it does not exist)
 */
export async function assertPrivateEndpoint(endpoint: LocalDynamoEndpoint): Promise<void> {
  const { socketPath } = endpoint;
  if (typeof socketPath !== 'string' || !isAbsolute(socketPath)) {
    throw new Error(`the DynamoDB socket ${JSON.stringify(socketPath)} is not an absolute path`);
  }
  const uid = process.getuid?.();
  for (const [path, kind] of [
    [dirname(socketPath), 'directory'],
    [socketPath, 'socket'],
  ] as const) {
    const info = await lstat(path);
    const isKind = kind === 'socket' ? info.isSocket() : info.isDirectory();
    if (!isKind || info.uid !== uid || (info.mode & 0o077) !== 0) {
      throw new Error(
        `refusing the DynamoDB ${kind} ${path}: it must be a ${kind} owned by you (uid ${uid}) that nobody else may access (mode ${kind === 'socket' ? '0600' : '0700'}); it is ${isKind ? `owned by uid ${info.uid} with mode 0${(info.mode & 0o777).toString(8)}` : `not a ${kind}`}`,
      );
    }
  }
}

/**
 * dynalite checks that an Authorization header is shaped like SigV4 (algorithm, Credential, SignedHeaders,
 * Signature, a date) but never verifies it: a fixed header with the dummy key id passes.
 */
const LOCAL_AUTHORIZATION =
  'AWS4-HMAC-SHA256 Credential=local/19700101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=unsigned';
const LOCAL_AMZ_DATE = '19700101T000000Z';

function stampLocalAuthorization<T extends { headers: Record<string, string> }>(request: T): T {
  request.headers.authorization = LOCAL_AUTHORIZATION;
  request.headers['x-amz-date'] = LOCAL_AMZ_DATE;
  return request;
}

/** Sockets the local client keeps open to dynalite: more than the requests a pilot has in flight at once. */
const LOCAL_MAX_SOCKETS = 64;

/**
 * A DynamoDB client for a local dynalite. Its requests go to the endpoint's Unix socket (the URL's
 * host only names the Host header). dynalite checks neither signature nor region, but the SDK insists
 * on both, so they are fixed dummies (never real credentials). Requests carry a fixed, well-formed
 * Authorization header instead of a signature: SigV4 (canonical request, HMAC chain) is about a quarter
 * of the SDK's own cost per call, spent for a server that never checks it, and the local pilot's audit
 * writes are serialized, so each call's cost bounds its throughput. Connections are kept alive, one
 * per request in flight.
 */
export function createLocalDynamoClient(endpoint: LocalDynamoEndpoint): DynamoDBClient {
  // http.Agent passes its own options to every connection it makes: socketPath sends them to the socket.
  const httpAgent: AgentOptions & { socketPath: string } = {
    keepAlive: true,
    maxSockets: LOCAL_MAX_SOCKETS,
    socketPath: endpoint.socketPath,
  };
  return new DynamoDBClient({
    endpoint: 'http://localhost',
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    signer: { sign: async (request) => stampLocalAuthorization(request) },
    requestHandler: { httpAgent },
  });
}

export interface AirlockTableNames {
  readonly audit: string;
  readonly approvals: string;
  readonly revocations: string;
  readonly oauth: string;
  readonly counters: string;
}

/**
 * Creates Airlock's tables with the key schemas of lib/contracts/tables.ts, when missing, and enables
 * TTL where the schema names a TTL attribute. Safe to call on every start.
 */
export async function ensureTables(client: DynamoDBClient, names: AirlockTableNames): Promise<void> {
  await ensureTable(client, {
    TableName: names.audit,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [attribute(AUDIT_TABLE.partitionKey, 'S'), attribute(AUDIT_TABLE.sortKey, 'N')],
    KeySchema: [
      { AttributeName: AUDIT_TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: AUDIT_TABLE.sortKey, KeyType: 'RANGE' },
    ],
  });
  const index = APPROVALS_TABLE.statusIndex;
  await ensureTable(
    client,
    {
      TableName: names.approvals,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        attribute(APPROVALS_TABLE.partitionKey, 'S'),
        attribute(index.partitionKey, 'S'),
        attribute(index.sortKey, 'S'),
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
    },
    APPROVALS_TABLE.ttlAttribute,
  );
  await ensureTable(
    client,
    {
      TableName: names.revocations,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [attribute(REVOCATIONS_TABLE.partitionKey, 'S')],
      KeySchema: [{ AttributeName: REVOCATIONS_TABLE.partitionKey, KeyType: 'HASH' }],
    },
    REVOCATIONS_TABLE.ttlAttribute,
  );
  await ensureTable(
    client,
    {
      TableName: names.oauth,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [attribute(OAUTH_TABLE.partitionKey, 'S')],
      KeySchema: [{ AttributeName: OAUTH_TABLE.partitionKey, KeyType: 'HASH' }],
    },
    OAUTH_TABLE.ttlAttribute,
  );
  await ensureTable(
    client,
    {
      TableName: names.counters,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [attribute(COUNTERS_TABLE.partitionKey, 'S')],
      KeySchema: [{ AttributeName: COUNTERS_TABLE.partitionKey, KeyType: 'HASH' }],
    },
    COUNTERS_TABLE.ttlAttribute,
  );
}

function attribute(name: string, type: 'S' | 'N'): AttributeDefinition {
  return { AttributeName: name, AttributeType: type };
}

async function ensureTable(client: DynamoDBClient, input: CreateTableCommandInput, ttlAttribute?: string) {
  const tableName = input.TableName!;
  if (!(await tableExists(client, tableName))) {
    try {
      await client.send(new CreateTableCommand(input));
    } catch (error) {
      // Another process created it between our check and our create: that is what we wanted.
      if ((error as Error).name !== 'ResourceInUseException') throw error;
    }
    await waitUntilActive(client, tableName);
  }
  if (ttlAttribute) await ensureTimeToLive(client, tableName, ttlAttribute);
}

async function tableExists(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return false;
    throw error;
  }
}

async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`table ${tableName} did not become ACTIVE within 30 s`);
}

async function ensureTimeToLive(
  client: DynamoDBClient,
  tableName: string,
  attributeName: string,
): Promise<void> {
  const { TimeToLiveDescription } = await client.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  );
  const status = TimeToLiveDescription?.TimeToLiveStatus;
  if (status === 'ENABLED' || status === 'ENABLING') return;
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { Enabled: true, AttributeName: attributeName },
      }),
    );
  } catch (error) {
    // dynalite does not implement UpdateTimeToLive (nor expire items); readers check `ttl` themselves.
    if ((error as Error).name !== 'UnknownOperationException') throw error;
  }
}
