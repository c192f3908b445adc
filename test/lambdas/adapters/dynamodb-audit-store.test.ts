import { generateKeyPairSync } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbAuditStore } from '../../../lambdas/adapters/aws/dynamodb-audit-store';
import { AuditConflictError, AuditLedger } from '../../../lambdas/core/audit-ledger';
import {
  type AuditEvent,
  GENESIS_HASH,
  hashDocument,
  sealAuditRecord,
} from '../../../lambdas/core/audit-record';
import { readLedger, verifyLedger } from '../../../lambdas/core/audit-verifier';
import {
  createLocalDynamoClient,
  type DynaliteServer,
  ensureTables,
  startDynalite,
} from '../../../local/dynalite-server';

const tables = {
  audit: 'airlock-test-audit',
  approvals: 'airlock-test-approvals',
  revocations: 'airlock-test-revocations',
  oauth: 'airlock-oauth',
  counters: 'airlock-counters',
};
const clock = { now: () => new Date() };
const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

function event(requestId: string, details?: AuditEvent['details']): AuditEvent {
  return {
    type: 'connector_allowed',
    principal: 'bob',
    workflow: 'expense-summary',
    connector: 'erp',
    operation: 'lookupGlCode',
    decision: 'allow',
    reasons: ['finance-reads-erp'],
    requestId,
    docHashes: [hashDocument(requestId)],
    details,
  };
}

let server: DynaliteServer;
let client: DynamoDBClient;
let documents: DynamoDBDocumentClient;

beforeAll(async () => {
  server = await startDynalite();
  client = createLocalDynamoClient(server.endpoint);
  documents = DynamoDBDocumentClient.from(client);
  await ensureTables(client, tables);
});

afterAll(async () => {
  client.destroy();
  await server.close();
});

function freshStore() {
  return new DynamoDbAuditStore({ client: documents, tableName: tables.audit });
}

describe('Class: DynamoDbAuditStore', () => {
  describe('Method: append', () => {
    it('stores a record that reads back identical, nested details included', async () => {
      // Prepare
      const store = freshStore();
      const ledger = new AuditLedger({ store, chainId: 'roundtrip-1', clock });

      // Act
      const record = await ledger.append(
        event('req-1', { amount: 1250.5, approver: 'bob', lines: [{ gl: '6100' }], none: null }),
      );

      // Assess
      expect(await store.readRecord('roundtrip-1', 1)).toEqual(record);
    });

    it('refuses a second record at the same (chainId, seq) and keeps the first', async () => {
      // Prepare
      const store = freshStore();
      const original = sealAuditRecord({
        ...event('req-original'),
        chainId: 'conflict-1',
        seq: 1,
        ts: new Date().toISOString(),
        prevHash: GENESIS_HASH,
      });
      const overwrite = sealAuditRecord({ ...original, principal: 'mallory' });
      await store.append(original);

      // Act
      const attempt = store.append(overwrite);

      // Assess
      await expect(attempt).rejects.toThrow(AuditConflictError);
      await expect(attempt).rejects.toThrow(
        'audit record conflict-1#1 already exists; records are never overwritten',
      );
      expect((await store.readRecord('conflict-1', 1))?.principal).toBe('bob');
    });
  });

  describe('Method: readChain', () => {
    it('reads a chain in seq order across pages (over 1 MB of records)', async () => {
      // Prepare: ~6 KB records, so DynamoDB pages the Query (1 MB per page).
      const store = freshStore();
      const ledger = new AuditLedger({ store, chainId: 'long-1', clock });
      const padding = 'p'.repeat(3900);
      const intent = 'i'.repeat(1900);
      for (let index = 1; index <= 200; index += 1)
        await ledger.append({ ...event(`req-${index}`, { padding }), intent });

      // Act
      const seqs: number[] = [];
      for await (const record of store.readChain('long-1')) seqs.push(record.seq);
      const fromMiddle: number[] = [];
      for await (const record of store.readChain('long-1', { fromSeq: 180 })) fromMiddle.push(record.seq);

      // Assess
      expect(seqs).toEqual(Array.from({ length: 200 }, (_, index) => index + 1));
      expect(fromMiddle).toEqual(Array.from({ length: 21 }, (_, index) => index + 180));
    });
  });

  describe('Method: listChainHeads', () => {
    it('returns the last record of every chain', async () => {
      // Prepare
      const store = freshStore();
      const a = new AuditLedger({ store, chainId: 'heads-a', clock });
      const b = new AuditLedger({ store, chainId: 'heads-b', clock });
      await a.append(event('a-1'));
      const lastA = await a.append(event('a-2'));
      const lastB = await b.append(event('b-1'));

      // Act
      const heads = await store.listChainHeads();

      // Assess
      expect(heads).toEqual(
        expect.arrayContaining([
          { chainId: 'heads-a', seq: 2, hash: lastA.hash, ts: lastA.ts },
          { chainId: 'heads-b', seq: 1, hash: lastB.hash, ts: lastB.ts },
        ]),
      );
    });
  });

  describe('concurrency', () => {
    it('keeps exactly N×M records from 8 concurrent writers with 50 concurrent appends each, all verifying', async () => {
      // Prepare: a table of its own, so only this test's records are counted.
      const table = 'airlock-test-audit-concurrency';
      await ensureTables(client, { ...tables, audit: table });
      const store = new DynamoDbAuditStore({ client: documents, tableName: table });
      const writers = Array.from(
        { length: 8 },
        (_, w) => new AuditLedger({ store, chainId: `writer-${w}`, clock }),
      );

      // Act
      const appended = await Promise.all(
        writers.flatMap((ledger, w) =>
          Array.from({ length: 50 }, (_, m) => ledger.append(event(`w${w}-m${m}`))),
        ),
      );

      // Assess
      const heads = await store.listChainHeads();
      expect(heads).toHaveLength(8);
      expect(heads.every((head) => head.seq === 50)).toBe(true);
      const verdict = await verifyLedger({ records: await readLedger(store), digests: [], publicKey });
      expect(verdict).toMatchObject({ ok: true, records: 400, chains: 8 });
      const stored = new Set<string>();
      for (const head of heads)
        for await (const record of store.readChain(head.chainId)) stored.add(record.requestId);
      expect(stored).toEqual(new Set(appended.map((record) => record.requestId)));
    });

    it('never overwrites when two writers share a chain by mistake: the loser is refused', async () => {
      // Prepare
      const table = 'airlock-test-audit-shared';
      await ensureTables(client, { ...tables, audit: table });
      const store = new DynamoDbAuditStore({ client: documents, tableName: table });
      const one = new AuditLedger({ store, chainId: 'shared', clock });
      const two = new AuditLedger({ store, chainId: 'shared', clock });

      // Act
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, index) => (index % 2 ? one : two).append(event(`req-${index}`))),
      );

      // Assess
      const written = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      const refused = results.filter((result) => result.status === 'rejected');
      expect(refused.length).toBeGreaterThan(0);
      const chain = [];
      for await (const record of store.readChain('shared')) chain.push(record);
      expect(chain).toHaveLength(written.length);
      expect(chain).toEqual(expect.arrayContaining(written));
      const verdict = await verifyLedger({ records: { shared: chain }, digests: [], publicKey });
      expect(verdict.ok).toBe(true);
    });
  });

  it('reports a table edited behind the ledger through the verifier', async () => {
    // Prepare
    const store = freshStore();
    const ledger = new AuditLedger({ store, chainId: 'edited-1', clock });
    for (let index = 1; index <= 3; index += 1) await ledger.append(event(`req-${index}`));
    await documents.send(
      new PutCommand({
        TableName: tables.audit,
        Item: { ...(await store.readRecord('edited-1', 2))!, decision: 'deny' },
      }),
    );

    // Act
    const verdict = await verifyLedger({
      records: { 'edited-1': store.readChain('edited-1') },
      digests: [],
      publicKey,
    });

    // Assess
    expect(verdict).toMatchObject({
      ok: false,
      failure: { seq: 2, reason: 'hash mismatch: record was modified' },
    });
  });
});
