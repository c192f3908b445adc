/**
 * The local pilot's DynamoDB state as the CLI sees it. dynalite keeps its tables in a LevelDB folder
 * (`<home>/dynamodb`) that only one process may hold open. While the local pilot runs, it holds the
 * folder and announces its dynalite endpoint (a Unix socket only its user may connect to) in
 * `<home>/pilot.json`; the CLI then talks to that endpoint, after checking that the socket is this user's
 * own. When no pilot runs, the CLI opens the folder itself for the length of one command.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { type DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  type AirlockTableNames,
  assertPrivateEndpoint,
  createLocalDynamoClient,
  ensureTables,
  type LocalDynamoEndpoint,
  startDynalite,
} from './dynalite-server';

/** Table names of the local pilot (the lead's pilot creates and uses the same). */
export const LOCAL_TABLES = {
  audit: 'airlock-audit',
  approvals: 'airlock-approvals',
  revocations: 'airlock-revocations',
  oauth: 'airlock-oauth',
  counters: 'airlock-counters',
} as const satisfies AirlockTableNames;

/** The file the running pilot announces itself in, below its home. */
export const PILOT_STATE_FILE = 'pilot.json';

/** The LevelDB folder of the local pilot's tables, below its home. */
export const LOCAL_DYNAMODB_FOLDER = 'dynamodb';

/** What the running local pilot writes to `<home>/pilot.json` (and removes when it stops). */
export interface PilotState {
  /** The pilot's process id. */
  readonly pid: number;
  /** Its HTTPS base URL, e.g. `https://127.0.0.1:8443`. */
  readonly url: string;
  /** Its dynalite endpoint, e.g. `{ "socketPath": "/tmp/airlock-dynamodb-Ab12Cd/dynamodb.sock" }`. */
  readonly dynamodbEndpoint: LocalDynamoEndpoint;
  /** When it started (ISO 8601). */
  readonly startedAt: string;
}

/** DynamoDB clients on the local pilot's tables, from {@link openLocalDynamo}. */
export interface LocalDynamo {
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  readonly tables: AirlockTableNames;
  /** True when the running pilot's dynalite serves the tables; false when this process opened them. */
  readonly shared: boolean;
  /** Destroys the clients and, when this process opened the tables, stops its dynalite. */
  close(): Promise<void>;
}

export interface OpenLocalDynamoOptions {
  /** How long the running pilot's endpoint has to answer a ListTables. @default 5000 */
  readonly probeTimeoutMs?: number;
}

/**
 * Opens the local pilot's tables: through the running pilot's dynalite when `<home>/pilot.json`
 * names a live process whose endpoint answers, else by starting dynalite on `<home>/dynamodb`
 * (creating the tables when missing).
 * @throws Error with a sentence naming what to do when another process holds the folder, or when the
 *   announced socket is not this user's own (see {@link assertPrivateEndpoint}).
 */
export async function openLocalDynamo(
  home: string,
  options: OpenLocalDynamoOptions = {},
): Promise<LocalDynamo> {
  const probeTimeoutMs = options.probeTimeoutMs ?? 5000;
  const pilot = await readPilotState(home);
  const socket = pilot?.dynamodbEndpoint.socketPath;
  if (pilot && isProcessAlive(pilot.pid) && (await isPrivateEndpoint(pilot.dynamodbEndpoint))) {
    const client = createLocalDynamoClient(pilot.dynamodbEndpoint);
    if (await answers(client, probeTimeoutMs)) return localDynamo(client, true, async () => {});
    client.destroy();
    if (pilot.pid === process.pid) {
      // This very process runs the pilot (tests, the bench): LevelDB's lock does not guard a folder
      // against its own process, so opening it here could corrupt it. Report instead.
      throw new Error(
        `the local pilot in this process did not answer on ${socket} within ${probeTimeoutMs} ms; try again`,
      );
    }
  }

  const folder = join(home, LOCAL_DYNAMODB_FOLDER);
  // The lock is checked before anything starts, so a second pilot on this home is told which pilot
  // holds it (startDynalite would refuse too, but cannot name the holder).
  const holder = await lockProblem(folder);
  if (holder) {
    throw new Error(
      pilot && isProcessAlive(pilot.pid)
        ? `the local pilot (pid ${pilot.pid}) holds ${folder} but its DynamoDB socket ${socket} did not answer within ${probeTimeoutMs} ms; wait until it has started, or stop it, and try again`
        : `another process holds ${folder} (a local pilot that did not write ${PILOT_STATE_FILE}?); stop it and try again`,
    );
  }
  const server = await startDynalite({ path: folder });
  const client = createLocalDynamoClient(server.endpoint);
  try {
    await ensureTables(client, LOCAL_TABLES);
  } catch (error) {
    client.destroy();
    await server.close();
    throw error;
  }
  return localDynamo(client, false, () => server.close());
}

function localDynamo(client: DynamoDBClient, shared: boolean, stop: () => Promise<void>): LocalDynamo {
  const doc = DynamoDBDocumentClient.from(client);
  let closed: Promise<void> | undefined;
  return {
    client,
    doc,
    tables: LOCAL_TABLES,
    shared,
    close: () => {
      closed ??= (async () => {
        client.destroy();
        await stop();
      })();
      return closed;
    },
  };
}

/**
 * False when the announced socket is gone (a stale pilot.json: the folder lock decides next).
 * @throws Error when it exists but is not this user's own: never connected to, never silently skipped.
 */
async function isPrivateEndpoint(endpoint: LocalDynamoEndpoint): Promise<boolean> {
  try {
    await assertPrivateEndpoint(endpoint);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function answers(client: DynamoDBClient, timeoutMs: number): Promise<boolean> {
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(timeoutMs) });
    return true;
  } catch {
    // A stale pilot.json (the pid was reused, or the pilot hangs): the folder lock decides next.
    return false;
  }
}

/** True when a process with this id exists (signal 0 only checks; EPERM means it exists but is not ours). */
function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface LevelDatabase {
  open(): Promise<void>;
  close(): Promise<void>;
}

// The LevelDB binding dynalite itself uses, resolved from dynalite's own folder so it is the same
// package whatever npm hoists; it ships no types this project imports.
function levelFor(folder: string): LevelDatabase {
  const dynaliteFolder = dirname(require.resolve('dynalite'));
  const { Level } = require(require.resolve('level', { paths: [dynaliteFolder] })) as {
    Level: new (location: string) => LevelDatabase;
  };
  return new Level(folder);
}

/** `true` when another handle holds the LevelDB lock of `folder` (a missing folder is not locked). */
async function lockProblem(folder: string): Promise<boolean> {
  const database = levelFor(folder);
  try {
    await database.open();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') return true;
    throw error;
  }
  await database.close();
  return false;
}

/** The running pilot's announcement, or `undefined` when there is none or it is unreadable. */
export async function readPilotState(home: string): Promise<PilotState | undefined> {
  let text: string;
  try {
    text = await readFile(join(home, PILOT_STATE_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const value = JSON.parse(text) as Partial<PilotState>;
    // Only a socket path is taken (never a network address: dynalite has no authentication); whose
    // socket it is gets checked before connecting.
    if (
      Number.isSafeInteger(value.pid) &&
      (value.pid as number) > 0 &&
      typeof value.dynamodbEndpoint === 'object' &&
      value.dynamodbEndpoint !== null &&
      typeof value.dynamodbEndpoint.socketPath === 'string' &&
      isAbsolute(value.dynamodbEndpoint.socketPath) &&
      typeof value.url === 'string' &&
      typeof value.startedAt === 'string'
    )
      return value as PilotState;
  } catch {
    // A half-written or damaged file is treated as no pilot; the folder lock still protects the data.
  }
  return undefined;
}

/**
 * Announces the running pilot in `<home>/pilot.json`: written under a temporary name (mode 0600)
 * and renamed into place, so a reader never sees half a file.
 */
export async function writePilotState(home: string, state: PilotState): Promise<void> {
  const path = join(home, PILOT_STATE_FILE);
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await mkdir(home, { recursive: true, mode: 0o700 });
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/**
 * Removes `<home>/pilot.json` (nothing to do when it is gone). With `pid`, only when the file
 * announces that process, so a stopping pilot never removes a newer pilot's announcement.
 */
export async function removePilotState(home: string, pid?: number): Promise<void> {
  if (pid !== undefined) {
    const current = await readPilotState(home);
    if (current && current.pid !== pid) return;
  }
  try {
    await unlink(join(home, PILOT_STATE_FILE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
