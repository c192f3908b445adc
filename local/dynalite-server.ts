/**
 * DynamoDB for the local pilot: dynalite (DynamoDB's API on LevelDB) on 127.0.0.1, so the local
 * pilot runs the same DynamoDB adapters as AWS.
 */
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { APPROVALS_TABLE, AUDIT_TABLE, REVOCATIONS_TABLE } from '../lambdas/adapters/aws/table-schemas';

interface DynaliteOptions {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}

// dynalite ships no type declarations; this is the part of its API used here.
const dynalite = require('dynalite') as (options: DynaliteOptions) => Server;

export interface StartDynaliteOptions {
  /** LevelDB folder (e.g. `<AIRLOCK_HOME>/dynamodb`), created if missing. @default in memory */
  readonly path?: string;
  /** TCP port on 127.0.0.1. @default 0 (a free port) */
  readonly port?: number;
}

export interface DynaliteServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Stops the server and closes the database. */
  close(): Promise<void>;
}

/** Starts dynalite on 127.0.0.1 (never on other interfaces: it has no authentication). */
export async function startDynalite(options: StartDynaliteOptions = {}): Promise<DynaliteServer> {
  if (options.path) await mkdir(options.path, { recursive: true });
  // Tables become ACTIVE at once: nothing in the pilot waits on table status.
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Idle keep-alive sockets of SDK clients would otherwise hold the server open.
        server.closeIdleConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
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
 * A DynamoDB client for a local endpoint. dynalite checks neither signature nor region, but the SDK
 * insists on both, so they are fixed dummies (never real credentials). Requests carry a fixed,
 * well-formed Authorization header instead of a signature: SigV4 (canonical request, HMAC chain) is
 * about a quarter of the SDK's own cost per call, spent for a server that never checks it, and the
 * local pilot's audit writes are serialized, so each call's cost bounds its throughput. Connections
 * are kept alive, one per request in flight.
 */
export function createLocalDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    signer: { sign: async (request) => stampLocalAuthorization(request) },
    requestHandler: { httpAgent: { keepAlive: true, maxSockets: LOCAL_MAX_SOCKETS } },
  });
}

export interface AirlockTableNames {
  readonly audit: string;
  readonly approvals: string;
  readonly revocations: string;
}

/**
 * Creates Airlock's three tables with the key schemas of table-schemas.ts, when missing, and enables
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
