import { generateKeyPairSync } from 'node:crypto';
import { AuditLedger, AuditLedgerPool, newChainId } from '../../../lambdas/core/audit-ledger';
import { AuditEventError, computeRecordHash, GENESIS_HASH } from '../../../lambdas/core/audit-record';
import { verifyLedger } from '../../../lambdas/core/audit-verifier';
import { DependencyError } from '../../../lambdas/core/errors';
import { systemClock } from '../../../lambdas/core/ports';
import { receiptReadEvent as event, MemoryAuditStore } from '../support/audit-fixtures';

const fixedClock = { now: () => new Date('2026-11-02T09:30:00.000Z') };

const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe('Class: AuditLedger', () => {
  describe('Method: append', () => {
    it('chains the first record to the genesis hash and each next one to its predecessor', async () => {
      // Prepare
      const store = new MemoryAuditStore();
      const ledger = new AuditLedger({ store, chainId: 'broker-1', clock: fixedClock });

      // Act
      const first = await ledger.append(event({ requestId: 'req-1' }));
      const second = await ledger.append(event({ requestId: 'req-2', intent: 'summarise Q3 receipts' }));

      // Assess
      expect(first).toMatchObject({
        chainId: 'broker-1',
        seq: 1,
        prevHash: GENESIS_HASH,
        ts: '2026-11-02T09:30:00.000Z',
      });
      expect(second).toMatchObject({ seq: 2, prevHash: first.hash, intent: 'summarise Q3 receipts' });
      expect(second.hash).toBe(computeRecordHash(second));
      expect(await store.readRecord('broker-1', 2)).toEqual(second);
    });

    it('stores no undefined optional fields, so the stored record is what was hashed', async () => {
      // Prepare
      const store = new MemoryAuditStore();
      const ledger = new AuditLedger({ store, chainId: 'broker-1', clock: fixedClock });

      // Act
      const record = await ledger.append(
        event({ connector: undefined, operation: undefined, type: 'credential_issued' }),
      );

      // Assess
      expect(Object.keys(record)).not.toContain('connector');
      expect(Object.keys(record)).not.toContain('intent');
    });

    it('gives concurrent appends consecutive seq numbers with nothing lost', async () => {
      // Prepare
      const store = new MemoryAuditStore();
      const ledger = new AuditLedger({ store, chainId: 'connector-1', clock: fixedClock });

      // Act
      const records = await Promise.all(
        Array.from({ length: 40 }, (_, index) => ledger.append(event({ requestId: `req-${index}` }))),
      );

      // Assess
      expect(records.map((record) => record.seq).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 40 }, (_, index) => index + 1),
      );
      expect(store.items.size).toBe(40);
      const verdict = await verifyLedger({
        records: { 'connector-1': store.readChain('connector-1') },
        digests: [],
        publicKey,
      });
      expect(verdict).toMatchObject({ ok: true, records: 40 });
    });

    it('fails closed when the store fails, and the next append takes the same seq', async () => {
      // Prepare
      const store = new MemoryAuditStore();
      const ledger = new AuditLedger({ store, chainId: 'broker-1', clock: fixedClock });
      const first = await ledger.append(event());
      store.failNext = { error: new Error('ProvisionedThroughputExceededException'), landed: false };

      // Act
      const failed = ledger.append(event({ requestId: 'req-lost' }));

      // Assess
      await expect(failed).rejects.toThrow(DependencyError);
      await expect(failed).rejects.toMatchObject({ dependency: 'audit-ledger' });
      const next = await ledger.append(event({ requestId: 'req-3' }));
      expect(next).toMatchObject({ seq: 2, prevHash: first.hash, requestId: 'req-3' });
      expect(store.items.size).toBe(2);
    });

    it('moves past a write that looked failed but landed (e.g. a timeout after the commit)', async () => {
      // Prepare
      const store = new MemoryAuditStore();
      const ledger = new AuditLedger({ store, chainId: 'broker-1', clock: fixedClock });
      await ledger.append(event());
      store.failNext = { error: new Error('socket hang up'), landed: true };
      await expect(ledger.append(event({ requestId: 'req-timeout' }))).rejects.toThrow(DependencyError);

      // Act
      const next = await ledger.append(event({ requestId: 'req-3' }));

      // Assess
      const landed = await store.readRecord('broker-1', 2);
      expect(landed?.requestId).toBe('req-timeout');
      expect(next).toMatchObject({ seq: 3, prevHash: landed?.hash });
      const verdict = await verifyLedger({
        records: { 'broker-1': store.readChain('broker-1') },
        digests: [],
        publicKey,
      });
      expect(verdict).toMatchObject({ ok: true, records: 3 });
    });

    it('refuses, without overwriting, when another writer holds the same chain', async () => {
      // Prepare
      const store = new MemoryAuditStore();
      const mine = new AuditLedger({ store, chainId: 'shared', clock: fixedClock });
      const theirs = new AuditLedger({ store, chainId: 'shared', clock: fixedClock });
      const theirRecord = await theirs.append(event({ principal: 'bob' }));

      // Act
      const attempt = mine.append(event({ principal: 'alice' }));

      // Assess
      await expect(attempt).rejects.toThrow('another writer uses chain shared');
      expect(await store.readRecord('shared', 1)).toEqual(theirRecord);
      expect(mine.lastSeq).toBe(0);
    });

    it('refuses a malformed event before anything is written', async () => {
      // Prepare
      const store = new MemoryAuditStore();
      const ledger = new AuditLedger({ store, chainId: 'broker-1', clock: fixedClock });

      // Act & Assess
      expect(() => ledger.append(event({ docHashes: ['the receipt text itself'] }))).toThrow(
        'docHashes[0] must be a SHA-256 hex digest (hashDocument), never the data',
      );
      expect(() => ledger.append(event({ details: { clientSecret: 'hunter2' } }))).toThrow(AuditEventError);
      expect(() =>
        ledger.append(event({ details: { note: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln' } })),
      ).toThrow('details.note holds what looks like a token or private key');
      expect(() => ledger.append(event({ decision: 'maybe' as never }))).toThrow('decision must be one of');
      expect(store.items.size).toBe(0);
    });

    it('accepts usage details such as token counts (a count is not a credential)', async () => {
      // Prepare
      const store = new MemoryAuditStore();
      const ledger = new AuditLedger({ store, chainId: 'connector-1', clock: fixedClock });

      // Act
      const record = await ledger.append(
        event({ type: 'usage_reported', decision: 'recorded', details: { model: 'm', inputTokens: 1200 } }),
      );

      // Assess
      expect(record.details).toEqual({ model: 'm', inputTokens: 1200 });
    });
  });

  describe('Method: constructor', () => {
    it('refuses a chain id that is not path-safe', () => {
      // Act & Assess
      expect(
        () => new AuditLedger({ store: new MemoryAuditStore(), chainId: '../etc', clock: fixedClock }),
      ).toThrow(/chainId "\.\.\/etc" must match/);
    });
  });
});

describe('Function: newChainId', () => {
  it('builds a valid chain id from a function name and a random id', () => {
    // Act & Assess
    expect(newChainId('airlock-dev-broker', '7d9f0c2e')).toBe('airlock-dev-broker-7d9f0c2e');
    expect(newChainId('/aws/lambda/x y', 'abc')).toBe('aws-lambda-x-y-abc');
  });
});

describe('Class: AuditLedgerPool', () => {
  describe('Method: append', () => {
    it('spreads concurrent requests over its chains, keeps each request on one chain, and every chain verifies', async () => {
      // Prepare
      const store = new MemoryAuditStore();
      const chainIds = Array.from({ length: 4 }, (_, i) => newChainId('pool', `chain-${i}`));
      const pool = new AuditLedgerPool({ store, chainIds, clock: systemClock });
      const requests = Array.from({ length: 40 }, (_, i) => `req-${i}`);

      // Act: two records per request, all requests at once
      const records = await Promise.all(
        requests.flatMap((requestId) => [
          pool.append(event({ requestId, type: 'connector_allowed' })),
          pool.append(event({ requestId, type: 'connector_completed' })),
        ]),
      );

      // Assess
      expect(records).toHaveLength(80);
      const chainsUsed = new Set(records.map((r) => r.chainId));
      expect(chainsUsed.size).toBeGreaterThan(1);
      for (const requestId of requests) {
        const own = records.filter((r) => r.requestId === requestId);
        expect(new Set(own.map((r) => r.chainId)).size).toBe(1);
        expect(own[1].seq).toBeGreaterThan(own[0].seq);
      }
      const byChain = new Map(
        chainIds.map((chainId) => [
          chainId,
          records.filter((r) => r.chainId === chainId).sort((a, b) => a.seq - b.seq),
        ]),
      );
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const result = await verifyLedger({ records: byChain, digests: [], publicKey });
      expect(result).toMatchObject({ ok: true, records: 80 });
    });

    it('refuses to be built without a chain', () => {
      expect(
        () => new AuditLedgerPool({ store: new MemoryAuditStore(), chainIds: [], clock: systemClock }),
      ).toThrow(/at least one chain/);
    });
  });
});
