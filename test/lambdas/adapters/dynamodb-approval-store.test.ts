import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  APPROVAL_RETENTION_SECONDS,
  DynamoDbApprovalStore,
} from '../../../lambdas/adapters/aws/dynamodb-approval-store';
import { type ApprovalBinding, ApprovalDesk, type ApprovalRecord } from '../../../lambdas/core/approval-desk';
import { AirlockError, DependencyError } from '../../../lambdas/core/errors';
import { loadConfig } from '../../../lib/config/load-config';
import { APPROVALS_TABLE } from '../../../lib/contracts/tables';

// dynalite ships no type declarations.
const dynalite = require('dynalite') as (options: {
  createTableMs?: number;
  updateTableMs?: number;
}) => Server;

const TABLE = 'airlock-test-approvals';
const config = loadConfig(join(__dirname, '../../../config/airlock.config.yaml'));

let server: Server;
let client: DynamoDBClient;
let documents: DynamoDBDocumentClient;
let store: DynamoDbApprovalStore;

beforeAll(async () => {
  // In memory (no path), tables ACTIVE at once, on a free loopback port.
  server = dynalite({ createTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  documents = DynamoDBDocumentClient.from(client);
  const index = APPROVALS_TABLE.statusIndex;
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: APPROVALS_TABLE.partitionKey, AttributeType: 'S' },
        { AttributeName: index.partitionKey, AttributeType: 'S' },
        { AttributeName: index.sortKey, AttributeType: 'S' },
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
    }),
  );
  store = new DynamoDbApprovalStore({ client: documents, tableName: TABLE });
});

afterAll(async () => {
  client.destroy();
  server.closeIdleConnections();
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
});

let sequence = 0;

/** A record with a fresh id; `workflow` keeps each test's records apart in the shared table. */
function approval(overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  sequence += 1;
  return {
    id: `apr_${sequence.toString(16).padStart(32, '0')}`,
    status: 'pending',
    principal: 'alice',
    workflow: 'expense-summary',
    connector: 'erp',
    operation: 'createJournalEntry',
    argumentsHash: 'a'.repeat(64),
    policyVersion: 'policies-v1',
    approverGroup: 'managers',
    preview: {
      call: {
        method: 'POST',
        url: 'https://erp.example.com/api/journal-entries',
        body: {
          glCode: '6100',
          amount: 1250.5,
          currency: 'EUR',
          memo: 'Q3 travel',
          lines: [{ gl: '6100', net: 1000 }],
          note: null,
        },
        destinationHost: 'erp.example.com',
      },
      sha256: 'b'.repeat(64),
    },
    reasons: ['journal-entry-above-threshold'],
    requestId: `req-${sequence}`,
    createdAt: '2026-11-02T09:00:00.000Z',
    expiresAt: '2026-11-03T09:00:00.000Z',
    ...overrides,
  };
}

async function rawItem(id: string) {
  return (
    await client.send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: id } }, ConsistentRead: true }))
  ).Item;
}

describe('Class: DynamoDbApprovalStore', () => {
  describe('Method: create', () => {
    it('stores the record so it reads back identical, the preview as a nested map', async () => {
      // Prepare
      const record = approval();

      // Act
      await store.create(record);

      // Assess
      expect(await store.get(record.id)).toEqual(record);
      const item = await rawItem(record.id);
      expect(item?.preview?.M?.call?.M?.body?.M?.amount).toEqual({ N: '1250.5' });
      expect(item?.preview?.M?.call?.M?.body?.M?.lines?.L?.[0]?.M?.gl).toEqual({ S: '6100' });
    });

    it('sets ttl to the expiry plus 7 days, in epoch seconds', async () => {
      // Prepare
      const record = approval({ expiresAt: '2026-11-03T09:00:00.500Z' });

      // Act
      await store.create(record);

      // Assess
      const expected = Math.ceil(Date.parse('2026-11-03T09:00:00.500Z') / 1000) + 7 * 24 * 3600;
      expect(APPROVAL_RETENTION_SECONDS).toBe(7 * 24 * 3600);
      expect((await rawItem(record.id))?.[APPROVALS_TABLE.ttlAttribute]).toEqual({ N: String(expected) });
    });

    it('drops optional fields that are undefined instead of failing', async () => {
      // Prepare: a file-store call has no url, body or host.
      const record = approval({
        preview: {
          call: { method: 'READ', path: 'receipts/2026-q3/a.txt', url: undefined },
          sha256: 'c'.repeat(64),
        },
        decidedBy: undefined,
      });

      // Act
      await store.create(record);

      // Assess
      const stored = await store.get(record.id);
      expect(stored?.preview).toEqual({
        call: { method: 'READ', path: 'receipts/2026-q3/a.txt' },
        sha256: 'c'.repeat(64),
      });
      expect(stored).not.toHaveProperty('decidedBy');
    });

    it('never overwrites an existing approval', async () => {
      // Prepare
      const original = approval();
      await store.create(original);

      // Act
      const attempt = store.create({ ...original, principal: 'mallory', status: 'approved' });

      // Assess
      await expect(attempt).rejects.toThrow(DependencyError);
      await expect(attempt).rejects.toThrow(
        `approval ${original.id} already exists; approvals are never overwritten`,
      );
      expect(await store.get(original.id)).toEqual(original);
    });
  });

  describe('Method: get', () => {
    it('returns undefined for an id that was never stored', async () => {
      // Act
      const found = await store.get(`apr_${'f'.repeat(32)}`);

      // Assess
      expect(found).toBeUndefined();
    });

    it('fails closed on an item that is not a well-formed approval', async () => {
      // Prepare
      const record = approval();
      await documents.send(
        new PutCommand({ TableName: TABLE, Item: { ...record, status: 'approved-ish', preview: 'none' } }),
      );

      // Act
      const attempt = store.get(record.id);

      // Assess
      await expect(attempt).rejects.toThrow(DependencyError);
      await expect(attempt).rejects.toThrow(
        `approval ${record.id} in table ${TABLE} is malformed (preview, status)`,
      );
    });
  });

  describe('Method: listByStatus', () => {
    it('lists one status, newest first, at most `limit`', async () => {
      // Prepare: a status value of its own keeps other tests' records out of this list.
      const status = 'rejected';
      const records = [5, 1, 4, 2, 3].map((minute) =>
        approval({ status, createdAt: `2026-11-10T09:0${minute}:00.000Z`, workflow: 'list-test' }),
      );
      for (const record of records) await store.create(record);
      await store.create(
        approval({ status: 'pending', createdAt: '2026-11-10T09:09:00.000Z', workflow: 'list-test' }),
      );

      // Act
      const firstThree = await store.listByStatus(status, 3);
      const all = await store.listByStatus(status, 100);

      // Assess
      expect(firstThree.map((r) => r.createdAt)).toEqual([
        '2026-11-10T09:05:00.000Z',
        '2026-11-10T09:04:00.000Z',
        '2026-11-10T09:03:00.000Z',
      ]);
      expect(all.filter((r) => r.workflow === 'list-test')).toHaveLength(5);
      expect(all.every((r) => r.status === status)).toBe(true);
      expect(all.find((r) => r.id === records[1].id)).toEqual(records[1]);
      expect(await store.listByStatus(status, 0)).toEqual([]);
    });

    it('continues after a given approval: the next page, with nothing twice and nothing missed', async () => {
      // Prepare: a status of its own, so other tests' records stay out of the listing.
      const status = 'approved';
      const records = [1, 2, 3, 4, 5, 6, 7].map((minute) =>
        approval({ status, createdAt: `2026-11-12T08:0${minute}:00.000Z`, workflow: 'page-test' }),
      );
      for (const record of records) await store.create(record);

      // Act
      const pages: ApprovalRecord[][] = [];
      let after: ApprovalRecord | undefined;
      do {
        const page = await store.listByStatus(status, 3, after);
        pages.push(page);
        after = page.length === 3 ? page[2] : undefined;
      } while (after);

      // Assess
      const listed = pages.flat().filter((r) => r.workflow === 'page-test');
      expect(listed.map((r) => r.createdAt)).toEqual(records.map((r) => r.createdAt).reverse());
    });

    it('reads past the 1 MB page limit to fill `limit`', async () => {
      // Prepare: ~40 KB previews, so 40 of them need more than one page.
      const memo = 'm'.repeat(40_000);
      const created: ApprovalRecord[] = [];
      for (let index = 0; index < 40; index += 1) {
        const record = approval({
          status: 'executed',
          createdAt: `2026-11-11T10:${String(index).padStart(2, '0')}:00.000Z`,
          preview: { call: { method: 'POST', body: { memo } }, sha256: 'd'.repeat(64) },
        });
        created.push(record);
        await store.create(record);
      }

      const send = jest.spyOn(documents, 'send');

      // Act
      const listed = await store.listByStatus('executed', 35);

      // Assess
      expect(listed.map((r) => r.id)).toEqual(
        created
          .reverse()
          .slice(0, 35)
          .map((r) => r.id),
      );
      expect(send.mock.calls.filter(([command]) => command instanceof QueryCommand).length).toBeGreaterThan(
        1,
      );
      send.mockRestore();
    });

    it('raises DependencyError naming the table when it cannot be read', async () => {
      // Prepare
      const missing = new DynamoDbApprovalStore({
        client: documents,
        tableName: 'airlock-test-no-such-table',
      });

      // Act
      const attempt = missing.listByStatus('pending', 10);

      // Assess
      await expect(attempt).rejects.toThrow(DependencyError);
      await expect(attempt).rejects.toMatchObject({ dependency: 'approvals-store' });
      await expect(attempt).rejects.toThrow(
        /dynamodb:Query on table airlock-test-no-such-table failed \(ResourceNotFoundException/,
      );
    });
  });

  describe('Method: transition', () => {
    it('applies the changes when the status is still `from`, moving the record between status lists', async () => {
      // Prepare
      const record = approval({ workflow: 'transition-test', createdAt: '2026-11-12T09:00:00.000Z' });
      await store.create(record);
      const changes = {
        status: 'approved' as const,
        decidedBy: 'bob',
        decidedAt: '2026-11-12T10:00:00.000Z',
        decisionReason: 'matches the receipts',
      };

      // Act
      const applied = await store.transition(record.id, 'pending', changes);

      // Assess
      expect(applied).toBe(true);
      expect(await store.get(record.id)).toEqual({ ...record, ...changes });
      expect((await store.listByStatus('approved', 100)).map((r) => r.id)).toContain(record.id);
      expect((await store.listByStatus('pending', 100)).map((r) => r.id)).not.toContain(record.id);
      expect((await rawItem(record.id))?.[APPROVALS_TABLE.ttlAttribute]).toBeDefined();
    });

    it('returns false and changes nothing when the status is not `from`', async () => {
      // Prepare
      const record = approval({ status: 'rejected', decidedBy: 'bob', decisionReason: 'no' });
      await store.create(record);

      // Act
      const applied = await store.transition(record.id, 'approved', {
        status: 'executed',
        executedAt: '2026-11-12T10:00:00.000Z',
      });

      // Assess
      expect(applied).toBe(false);
      expect(await store.get(record.id)).toEqual(record);
    });

    it('returns false for an unknown id and creates no item', async () => {
      // Prepare
      const id = `apr_${'e'.repeat(32)}`;

      // Act
      const applied = await store.transition(id, 'pending', { status: 'approved', decidedBy: 'bob' });

      // Assess
      expect(applied).toBe(false);
      expect(await rawItem(id)).toBeUndefined();
    });

    it('raises DependencyError for failures other than the condition', async () => {
      // Prepare
      const missing = new DynamoDbApprovalStore({
        client: documents,
        tableName: 'airlock-test-no-such-table',
      });

      // Act
      const attempt = missing.transition(`apr_${'1'.repeat(32)}`, 'approved', { status: 'executed' });

      // Assess
      await expect(attempt).rejects.toThrow(DependencyError);
      await expect(attempt).rejects.toMatchObject({ dependency: 'approvals-store' });
    });

    it('lets exactly one of 20 parallel approved → executed transitions win', async () => {
      // Prepare
      const record = approval({ status: 'approved', decidedBy: 'bob' });
      await store.create(record);

      // Act
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          store.transition(record.id, 'approved', {
            status: 'executed',
            executedAt: `2026-11-12T10:00:${String(index).padStart(2, '0')}.000Z`,
          }),
        ),
      );

      // Assess
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect(await store.get(record.id)).toMatchObject({
        status: 'executed',
        executedAt: `2026-11-12T10:00:${String(winner).padStart(2, '0')}.000Z`,
      });
    });
  });
});

describe('Class: ApprovalDesk (over DynamoDbApprovalStore)', () => {
  describe('Method: consume', () => {
    it('runs an approval exactly once when 20 re-sends race: one resolves, 19 get 409', async () => {
      // Prepare
      let now = new Date('2026-11-02T09:00:00.000Z');
      const desk = new ApprovalDesk({
        store,
        notifier: { notify: async () => undefined },
        config,
        clock: { now: () => now },
      });
      const binding: ApprovalBinding = {
        principal: 'alice',
        workflow: 'expense-summary',
        connector: 'erp',
        operation: 'createJournalEntry',
        argumentsHash: '9'.repeat(64),
        policyVersion: 'policies-v1',
      };
      const pending = await desk.create({
        ...binding,
        approverGroup: 'managers',
        preview: {
          method: 'POST',
          url: 'https://erp.example.com/api/journal-entries',
          body: { amount: 1250.5 },
        },
        requestId: 'req-race',
        reasons: ['journal-entry-above-threshold'],
      });
      await desk.decide({ id: pending.id, approver: 'bob', decision: 'approve', reason: 'fine' });
      now = new Date('2026-11-02T10:00:00.000Z');

      // Act
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, () => desk.consume(pending.id, binding)),
      );

      // Assess
      const resolved = outcomes.filter((o) => o.status === 'fulfilled');
      const refused = outcomes
        .filter((o) => o.status === 'rejected')
        .map((o) => (o as PromiseRejectedResult).reason);
      expect(resolved).toHaveLength(1);
      expect(refused).toHaveLength(19);
      for (const error of refused) {
        expect(error).toBeInstanceOf(AirlockError);
        expect(error).toMatchObject({ status: 409, code: 'conflict' });
      }
      expect(await store.get(pending.id)).toMatchObject({
        status: 'executed',
        executedAt: '2026-11-02T10:00:00.000Z',
        decidedBy: 'bob',
      });
    });
  });
});
