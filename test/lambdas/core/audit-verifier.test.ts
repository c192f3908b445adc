import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import fc from 'fast-check';
import { anchorChains, type Digest, digestSigningInput } from '../../../lambdas/core/audit-anchor';
import { AuditLedger } from '../../../lambdas/core/audit-ledger';
import {
  type AuditRecord,
  GENESIS_HASH,
  hashDocument,
  sealAuditRecord,
} from '../../../lambdas/core/audit-record';
import { exportRecords, verifyAuditTrail, verifyLedger } from '../../../lambdas/core/audit-verifier';
import { MemoryAuditStore, MemoryDigestStore, p256Signer } from '../support/audit-fixtures';

/** A clock that moves one second per reading, so records have distinct times. */
function tickingClock(start = Date.parse('2026-11-02T09:00:00.000Z')) {
  let now = start;
  return {
    now: () => {
      now += 1000;
      return new Date(now);
    },
  };
}

const signer = p256Signer('test-key');

/**
 * A chain of `length` records with a digest after each seq in `anchorAfter` (and always at the end),
 * made by the real ledger and anchor.
 */
async function anchoredChain(length: number, anchorAfter: number[] = [], chainId = 'broker-a') {
  const store = new MemoryAuditStore();
  const digests = new MemoryDigestStore();
  const clock = tickingClock();
  const ledger = new AuditLedger({ store, chainId, clock });
  for (let seq = 1; seq <= length; seq += 1) {
    await ledger.append({
      type: seq % 3 === 0 ? 'connector_denied' : 'connector_allowed',
      principal: seq % 2 ? 'alice' : 'bob',
      workflow: 'expense-summary',
      connector: 'receipts',
      operation: 'read',
      decision: seq % 3 === 0 ? 'deny' : 'allow',
      reasons: [`policy-${seq}`],
      requestId: `req-${seq}`,
      docHashes: [hashDocument(`receipt ${seq}`)],
      details: { amount: seq * 10 },
    });
    if (anchorAfter.includes(seq) || seq === length) await anchorChains({ store, digests, signer, clock });
  }
  return { records: store.records(chainId), digests: await digests.list(), store, digestStore: digests };
}

function verifyChain(records: AuditRecord[], digests: Digest[], chainId = 'broker-a') {
  return verifyLedger({ records: { [chainId]: records }, digests, publicKey: signer.publicKey });
}

/** Re-hashes and re-links records from `from` on, as an attacker with table access can. */
function relink(records: AuditRecord[], from: number): AuditRecord[] {
  const out = records.slice(0, from);
  for (let index = from; index < records.length; index += 1) {
    const { hash: _h, ...rest } = records[index];
    out.push(
      sealAuditRecord({
        ...rest,
        seq: index + 1,
        prevHash: index === 0 ? GENESIS_HASH : out[index - 1].hash,
      }),
    );
  }
  return out;
}

describe('Function: verifyLedger', () => {
  it('accepts an untouched ledger and reports what it checked', async () => {
    // Prepare
    const { records, digests } = await anchoredChain(6, [3]);

    // Act
    const verdict = await verifyChain(records, digests);

    // Assess
    expect(verdict).toEqual({
      ok: true,
      records: 6,
      chains: 1,
      digests: 2,
      firstTs: records[0].ts,
      lastTs: records[5].ts,
      unanchoredRecords: 0,
      unanchoredChains: 0,
    });
  });

  it('counts the records that come after their chain’s last digest as not yet anchored', async () => {
    // Prepare: digests at seq 3 and 6 (the head), then four more records on the same chain.
    const { records, digests } = await anchoredChain(10, [3, 6]);

    // Act
    const verdict = await verifyChain(records, digests.slice(0, 2));

    // Assess
    expect(verdict).toMatchObject({ ok: true, records: 10, unanchoredRecords: 4, unanchoredChains: 1 });
  });

  describe('tampering', () => {
    it('names a modified record', async () => {
      // Prepare
      const { records, digests } = await anchoredChain(6, [3]);
      records[2] = { ...records[2], principal: 'mallory' };

      // Act
      const verdict = await verifyChain(records, digests);

      // Assess
      expect(verdict.ok).toBe(false);
      expect(!verdict.ok && verdict.failure).toEqual({
        kind: 'record',
        chainId: 'broker-a',
        seq: 3,
        reason: 'hash mismatch: record was modified',
      });
    });

    it('names a deleted record', async () => {
      // Prepare
      const { records, digests } = await anchoredChain(6, [3]);
      records.splice(3, 1);

      // Act
      const verdict = await verifyChain(records, digests);

      // Assess
      expect(!verdict.ok && verdict.failure).toMatchObject({
        seq: 4,
        reason: 'seq gap: record 4 missing (deleted?)',
      });
    });

    it('names two swapped records, even when the attacker fixed their seq and hashes', async () => {
      // Prepare
      const { records, digests } = await anchoredChain(6, [3]);
      const swapped = [...records];
      [swapped[2], swapped[3]] = [swapped[3], swapped[2]];
      const rehashed = swapped.map((record, index) => {
        const { hash: _h, ...rest } = record;
        return sealAuditRecord({ ...rest, seq: index + 1 });
      });

      // Act
      const verdict = await verifyChain(rehashed, digests);

      // Assess
      expect(!verdict.ok && verdict.failure).toMatchObject({
        kind: 'record',
        seq: 3,
        reason: 'prevHash does not match previous record (records swapped or inserted?)',
      });
    });

    it('names records read out of order', async () => {
      // Prepare
      const { records, digests } = await anchoredChain(6, [3]);
      [records[2], records[3]] = [records[3], records[2]];

      // Act
      const verdict = await verifyChain(records, digests);

      // Assess
      expect(!verdict.ok && verdict.failure).toMatchObject({
        seq: 3,
        reason: 'seq gap: record 3 missing (deleted?)',
      });
    });

    it('names a forged record inserted with a recomputed hash', async () => {
      // Prepare
      const { records, digests } = await anchoredChain(6, [3]);
      const forged = sealAuditRecord({
        ...records[3],
        principal: 'mallory',
        decision: 'allow',
        seq: 4,
        prevHash: records[2].hash,
      });
      // The attacker also renumbers and re-hashes the records after it, but cannot make them link.
      const shifted = records.slice(3).map((record) => {
        const { hash: _h, ...rest } = record;
        return sealAuditRecord({ ...rest, seq: record.seq + 1 });
      });

      // Act
      const verdict = await verifyChain([...records.slice(0, 3), forged, ...shifted], digests);

      // Assess
      expect(!verdict.ok && verdict.failure).toMatchObject({
        kind: 'record',
        seq: 5,
        reason: 'prevHash does not match previous record (records swapped or inserted?)',
      });
    });

    it('names a chain rewritten consistently after a digest: only the digest can tell', async () => {
      // Prepare
      const { records, digests } = await anchoredChain(6, [3]);
      records[1] = { ...records[1], decision: 'allow', reasons: [] };
      const rewritten = relink(records, 1);

      // Act
      const verdict = await verifyChain(rewritten, digests);

      // Assess
      expect(!verdict.ok && verdict.failure).toEqual({
        kind: 'digest',
        chainId: 'broker-a',
        seq: 3,
        digestId: 'broker-a/000000000003',
        reason: 'digest head hash differs from record 3 (chain rewritten after digest?)',
      });
    });

    it("names a chain's tail truncated after a digest", async () => {
      // Prepare
      const { records, digests } = await anchoredChain(6, [3]);

      // Act
      const verdict = await verifyChain(records.slice(0, 4), digests);

      // Assess
      expect(!verdict.ok && verdict.failure).toMatchObject({
        kind: 'digest',
        seq: 6,
        reason: 'digest head not found in chain (chain truncated after digest?)',
      });
    });

    it('names a chain whose records were all deleted', async () => {
      // Prepare
      const { digests } = await anchoredChain(3);

      // Act
      const verdict = await verifyLedger({ records: {}, digests, publicKey: signer.publicKey });

      // Assess
      expect(!verdict.ok && verdict.failure).toMatchObject({
        kind: 'digest',
        chainId: 'broker-a',
        reason: 'digest head not found in chain (chain has no records: deleted?)',
      });
    });

    it('names a forged digest signature', async () => {
      // Prepare
      const { records, digests } = await anchoredChain(6, [3]);
      const rewritten = relink(
        [...records.slice(0, 1), { ...records[1], principal: 'mallory' }, ...records.slice(2)],
        1,
      );
      const forger = p256Signer('test-key');
      const forged = digests.map((digest) => {
        const { signature: _original, ...unsigned } = { ...digest, hash: rewritten[digest.seq - 1].hash };
        const signature = sign('sha256', digestSigningInput(unsigned), {
          key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
          dsaEncoding: 'ieee-p1363',
        });
        return { ...unsigned, signature: signature.toString('base64url') };
      });

      // Act
      const verdict = await verifyChain(rewritten, forged);

      // Assess
      expect(forger.keyId).toBe(digests[0].keyId);
      expect(!verdict.ok && verdict.failure).toMatchObject({
        kind: 'digest',
        seq: 3,
        digestId: 'broker-a/000000000003',
        reason: 'digest signature invalid',
      });
    });

    it('names a deleted digest by the broken digest chain', async () => {
      // Prepare
      const { records, digests } = await anchoredChain(9, [3, 6]);

      // Act
      const verdict = await verifyChain(records, [digests[0], digests[2]]);

      // Assess
      expect(!verdict.ok && verdict.failure).toMatchObject({
        kind: 'digest',
        seq: 9,
        reason:
          'digest chain broken: previous digest missing or modified (previousDigestHash does not match)',
      });
    });

    it('names a digest signed by a key it does not know', async () => {
      // Prepare
      const { records, digests } = await anchoredChain(2);

      // Act
      const verdict = await verifyLedger({
        records: { 'broker-a': records },
        digests,
        publicKey: (keyId) => (keyId === 'other-key' ? signer.publicKey : undefined),
      });

      // Assess
      expect(!verdict.ok && verdict.failure).toMatchObject({
        reason: 'digest signed by unknown key test-key',
      });
    });

    it('names a record moved in from another chain', async () => {
      // Prepare
      const { records, digests } = await anchoredChain(3);
      records[1] = { ...records[1], chainId: 'broker-b' };

      // Act
      const verdict = await verifyChain(records, digests);

      // Assess
      expect(!verdict.ok && verdict.failure).toMatchObject({
        seq: 2,
        reason: 'record belongs to chain broker-b (moved between chains?)',
      });
    });

    it('names a record with an extra field', async () => {
      // Prepare
      const { records, digests } = await anchoredChain(3);
      records[0] = { ...records[0], note: 'added later' } as AuditRecord;

      // Act
      const verdict = await verifyChain(records, digests);

      // Assess
      expect(!verdict.ok && verdict.failure).toMatchObject({
        seq: 1,
        reason: 'record malformed: unknown field "note"',
      });
    });
  });

  describe('property: every single mutation of an anchored chain is found', () => {
    type Mutation =
      | { kind: 'modify'; index: number; field: string }
      | { kind: 'delete'; index: number }
      | { kind: 'swap'; index: number; other: number }
      | { kind: 'insert'; index: number }
      | { kind: 'truncate'; keep: number }
      | { kind: 'rewrite'; index: number }
      | { kind: 'digest'; index: number; field: string }
      | { kind: 'dropDigest'; index: number };

    const recordFields = [
      'principal',
      'workflow',
      'decision',
      'reasons',
      'requestId',
      'ts',
      'docHashes',
      'prevHash',
      'hash',
      'seq',
      'type',
      'details',
      'intent',
    ];
    const digestFields = ['hash', 'seq', 'ts', 'keyId', 'previousDigestHash', 'chainId', 'signature'];

    function changed(value: unknown, field: string): unknown {
      if (field === 'seq') return (value as number) + 100;
      if (field === 'ts') return '2030-01-01T00:00:00.000Z';
      if (field === 'decision') return value === 'deny' ? 'allow' : 'deny';
      if (field === 'type') return value === 'connector_denied' ? 'connector_allowed' : 'connector_denied';
      if (field === 'reasons') return [...(value as string[]), 'forged'];
      if (field === 'docHashes') return [];
      if (field === 'details') return { amount: 1 };
      if (field === 'hash' || field === 'prevHash' || field === 'previousDigestHash')
        return createHash('sha256').update(String(value)).digest('hex');
      if (field === 'signature')
        return Buffer.from(value as string, 'base64url')
          .reverse()
          .toString('base64url');
      return `${value ?? ''}x`;
    }

    function mutate(
      records: AuditRecord[],
      digests: Digest[],
      mutation: Mutation,
    ): [AuditRecord[], Digest[]] {
      const r = [...records];
      const d = [...digests];
      switch (mutation.kind) {
        case 'modify': {
          const record = r[mutation.index] as unknown as Record<string, unknown>;
          r[mutation.index] = {
            ...record,
            [mutation.field]: changed(record[mutation.field], mutation.field),
          } as unknown as AuditRecord;
          break;
        }
        case 'delete':
          r.splice(mutation.index, 1);
          break;
        case 'swap':
          [r[mutation.index], r[mutation.other]] = [r[mutation.other], r[mutation.index]];
          break;
        case 'insert': {
          const previous = r[mutation.index - 1];
          const forged = sealAuditRecord({
            ...r[mutation.index],
            principal: 'mallory',
            seq: mutation.index + 1,
            prevHash: previous?.hash ?? GENESIS_HASH,
          });
          r.splice(mutation.index, 0, forged);
          return [
            relink(r, mutation.index + 1).map((rec, i) =>
              i > mutation.index ? { ...rec, prevHash: r[i].prevHash } : rec,
            ),
            d,
          ];
        }
        case 'truncate':
          return [r.slice(0, mutation.keep), d];
        case 'rewrite':
          r[mutation.index] = { ...r[mutation.index], principal: 'mallory' };
          return [relink(r, mutation.index), d];
        case 'digest': {
          const digest = d[mutation.index] as unknown as Record<string, unknown>;
          d[mutation.index] = {
            ...digest,
            [mutation.field]: changed(digest[mutation.field], mutation.field),
          } as unknown as Digest;
          break;
        }
        case 'dropDigest':
          d.splice(mutation.index, 1);
          break;
      }
      return [r, d];
    }

    it('holds over random chains and mutations (fixed seed)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 2, max: 12 }).chain((length) =>
            fc.record({
              length: fc.constant(length),
              anchorAfter: fc.uniqueArray(fc.integer({ min: 1, max: length - 1 }), { maxLength: 3 }),
              mutation: fc.oneof(
                fc.record({
                  kind: fc.constant('modify' as const),
                  index: fc.nat(length - 1),
                  field: fc.constantFrom(...recordFields),
                }),
                fc.record({ kind: fc.constant('delete' as const), index: fc.nat(length - 1) }),
                fc
                  .tuple(fc.nat(length - 1), fc.nat(length - 1))
                  .filter(([a, b]) => a !== b)
                  .map(([index, other]) => ({ kind: 'swap' as const, index, other })),
                fc.record({ kind: fc.constant('insert' as const), index: fc.nat(length - 1) }),
                fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat(length - 1) }),
                fc.record({ kind: fc.constant('rewrite' as const), index: fc.nat(length - 1) }),
                fc.record({
                  kind: fc.constant('digest' as const),
                  index: fc.nat(3),
                  field: fc.constantFrom(...digestFields),
                }),
                fc.record({ kind: fc.constant('dropDigest' as const), index: fc.nat(3) }),
              ) as fc.Arbitrary<Mutation>,
            }),
          ),
          async ({ length, anchorAfter, mutation }) => {
            const { records, digests } = await anchoredChain(length, anchorAfter);
            const clean = await verifyChain(records, digests);
            // Dropping the newest digest only loses coverage (Object Lock is what prevents it): not a mutation here.
            const lastDigest = digests.length - 1;
            const applicable =
              (mutation.kind !== 'digest' && mutation.kind !== 'dropDigest') ||
              (mutation.kind === 'digest' ? mutation.index <= lastDigest : mutation.index < lastDigest);
            fc.pre(applicable);
            const [tamperedRecords, tamperedDigests] = mutate(records, digests, mutation);
            const verdict = await verifyChain(tamperedRecords, tamperedDigests);
            expect(clean.ok).toBe(true);
            expect(verdict.ok).toBe(false);
          },
        ),
        { seed: 20261102, numRuns: 300 },
      );
    });
  });

  describe('time window', () => {
    it('checks only chains with records in the window, each in full', async () => {
      // Prepare
      const early = await anchoredChain(3, [], 'broker-a');
      const late = (await anchoredChain(3, [], 'broker-b')).records.map((record) => {
        const { hash: _h, ...rest } = record;
        return { ...rest, ts: record.ts.replace('2026-11-02', '2026-11-05') };
      });
      const lateRecords: AuditRecord[] = [];
      for (const rest of late)
        lateRecords.push(sealAuditRecord({ ...rest, prevHash: lateRecords.at(-1)?.hash ?? GENESIS_HASH }));
      early.records[1] = { ...early.records[1], principal: 'mallory' };

      // Act
      const windowed = await verifyLedger({
        records: new Map([
          ['broker-a', early.records],
          ['broker-b', lateRecords],
        ]),
        digests: [],
        publicKey: signer.publicKey,
        from: new Date('2026-11-04T00:00:00Z'),
      });
      const full = await verifyLedger({
        records: { 'broker-a': early.records, 'broker-b': lateRecords },
        digests: [],
        publicKey: signer.publicKey,
      });

      // Assess
      expect(windowed).toMatchObject({ ok: true, chains: 1, records: 3 });
      expect(full).toMatchObject({ ok: false, failure: { chainId: 'broker-a', seq: 2 } });
    });
  });
});

describe('Function: verifyAuditTrail', () => {
  it('verifies a store and a digest store end to end', async () => {
    // Prepare
    const { store, digestStore } = await anchoredChain(5, [2]);

    // Act
    const verdict = await verifyAuditTrail({ store, digests: digestStore, publicKey: signer.publicKey });

    // Assess
    expect(verdict).toMatchObject({ ok: true, records: 5, chains: 1, digests: 2 });
  });
});

describe('Function: exportRecords', () => {
  it('writes the records of a time range as JSON Lines that still verify by hash', async () => {
    // Prepare
    const { records } = await anchoredChain(5);

    // Act
    const lines: string[] = [];
    for await (const line of exportRecords({
      records: { 'broker-a': records },
      from: new Date(records[1].ts),
      to: new Date(records[3].ts),
    }))
      lines.push(line);

    // Assess
    expect(lines).toHaveLength(3);
    expect(lines.every((line) => line.endsWith('\n'))).toBe(true);
    const parsed = lines.map((line) => JSON.parse(line) as AuditRecord);
    expect(parsed.map((record) => record.seq)).toEqual([2, 3, 4]);
    expect(parsed).toEqual(records.slice(1, 4));
  });
});
