/**
 * The audit ledger: appends per second through the DynamoDB adapter against in-memory dynalite
 * (one writer, then 8 writers at once), and how fast the verifier checks records and digests.
 * dynalite over a Unix socket is not DynamoDB: the append figures show the ledger's own overhead and
 * that it scales across writers, not AWS latency (a PutItem there costs ~5–10 ms).
 */
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbAuditStore } from '../lambdas/adapters/aws/dynamodb-audit-store';
import { anchorChains, type Digest, type DigestStore } from '../lambdas/core/audit-anchor';
import { AuditLedger } from '../lambdas/core/audit-ledger';
import { type AuditEvent, hashDocument } from '../lambdas/core/audit-record';
import { readLedger, verifyLedger } from '../lambdas/core/audit-verifier';
import { systemClock } from '../lambdas/core/ports';
import { createLocalDynamoClient, ensureTables, startDynalite } from '../local/dynalite-server';
import type { BenchRow } from './bench-row';

const SINGLE_WRITER_RECORDS = 1000;
const WRITERS = 8;
const RECORDS_PER_WRITER = 250;
const VERIFY_RECORDS = 5000;

function event(index: number): AuditEvent {
  return {
    type: 'connector_allowed',
    principal: 'alice',
    workflow: 'expense-summary',
    connector: 'receipts',
    operation: 'read',
    decision: 'allow',
    reasons: ['finance-reads-receipts'],
    requestId: `req-${index}`,
    docHashes: [hashDocument(`receipt ${index}`)],
    details: { bytes: 2048 + index },
  };
}

/** Appends `perWriter` events on each of `writers` ledgers at once; returns records per second. */
async function appendRate(store: DynamoDbAuditStore, writers: number, perWriter: number): Promise<number> {
  const ledgers = Array.from(
    { length: writers },
    () => new AuditLedger({ store, chainId: `bench-${randomUUID()}`, clock: systemClock }),
  );
  const start = process.hrtime.bigint();
  await Promise.all(
    ledgers.map(async (ledger) => {
      for (let index = 0; index < perWriter; index += 1) await ledger.append(event(index));
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return Math.round((writers * perWriter) / seconds);
}

export async function run(): Promise<BenchRow[]> {
  const server = await startDynalite();
  const client = createLocalDynamoClient(server.endpoint);
  try {
    const tableName = 'airlock-bench-audit';
    await ensureTables(client, {
      audit: tableName,
      approvals: 'airlock-bench-approvals',
      revocations: 'airlock-bench-revocations',
      oauth: 'airlock-bench-oauth',
      counters: 'airlock-bench-counters',
    });
    const store = new DynamoDbAuditStore({ client: DynamoDBDocumentClient.from(client), tableName });

    const single = await appendRate(store, 1, SINGLE_WRITER_RECORDS);
    const many = await appendRate(store, WRITERS, RECORDS_PER_WRITER);

    // Verify: 5,000 records on one chain plus digests, read back from dynalite once into memory
    // so the figure is the verifier's own speed.
    const verifyTable = 'airlock-bench-verify';
    await ensureTables(client, {
      audit: verifyTable,
      approvals: 'airlock-bench-approvals',
      revocations: 'airlock-bench-revocations',
      oauth: 'airlock-bench-oauth',
      counters: 'airlock-bench-counters',
    });
    const verifyStore = new DynamoDbAuditStore({
      client: DynamoDBDocumentClient.from(client),
      tableName: verifyTable,
    });
    const ledger = new AuditLedger({
      store: verifyStore,
      chainId: `bench-${randomUUID()}`,
      clock: systemClock,
    });
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const digestList: Digest[] = [];
    const digests: DigestStore = {
      put: async (digest) => {
        digestList.push(digest);
      },
      list: async () => [...digestList],
    };
    const signer = {
      keyId: 'bench-key',
      sign: async (data: Uint8Array) => sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }),
      getPublicKey: async () => publicKey,
    };
    for (let index = 1; index <= VERIFY_RECORDS; index += 1) {
      await ledger.append(event(index));
      if (index % 500 === 0) await anchorChains({ store: verifyStore, digests, signer, clock: systemClock });
    }
    const chains = new Map<string, unknown[]>();
    const readStart = process.hrtime.bigint();
    for (const [chainId, records] of await readLedger(verifyStore)) {
      const list: unknown[] = [];
      for await (const record of records) list.push(record);
      chains.set(chainId, list);
    }
    const readSeconds = Number(process.hrtime.bigint() - readStart) / 1e9;
    const verifyStart = process.hrtime.bigint();
    const verdict = await verifyLedger({
      records: chains as never,
      digests: await digests.list(),
      publicKey,
    });
    const verifySeconds = Number(process.hrtime.bigint() - verifyStart) / 1e9;
    if (!verdict.ok) throw new Error(`bench ledger did not verify: ${verdict.failure.reason}`);

    return [
      {
        name: 'audit append, 1 writer',
        value: single,
        unit: 'records/s',
        note: `${SINGLE_WRITER_RECORDS} conditional PutItems one after another, in-memory dynalite (its own process) over a Unix socket; bound by the SDK call and dynalite (a bare PutItem costs the same)`,
      },
      {
        name: `audit append, ${WRITERS} writers`,
        value: many,
        unit: 'records/s',
        note: `${WRITERS} chains × ${RECORDS_PER_WRITER} records at once, in-memory dynalite in its own process`,
      },
      {
        name: 'audit verify',
        value: Math.round(verdict.records / verifySeconds),
        unit: 'records/s',
        note: `${verdict.records} records and ${verdict.digests} digests: every hash, link and ES256 signature`,
      },
      {
        name: 'audit read chain',
        value: Math.round(verdict.records / readSeconds),
        unit: 'records/s',
        note: 'consistent Query pages from dynalite, what `airlock audit verify --local` adds to verify',
      },
    ];
  } finally {
    client.destroy();
    await server.close();
  }
}
