import { anchorChains, digestHash } from '../../../lambdas/core/audit-anchor';
import { AuditLedger } from '../../../lambdas/core/audit-ledger';
import { GENESIS_HASH } from '../../../lambdas/core/audit-record';
import { verifyLedger } from '../../../lambdas/core/audit-verifier';
import { DependencyError } from '../../../lambdas/core/errors';
import type { TokenSigner } from '../../../lambdas/core/ports';
import { MemoryAuditStore, MemoryDigestStore, p256Signer } from '../support/audit-fixtures';

const signer = p256Signer('arn:aws:kms:eu-west-1:111122223333:key/test');
const clock = { now: () => new Date('2026-11-02T10:00:00.000Z') };

async function appendSome(ledger: AuditLedger, count: number) {
  for (let index = 0; index < count; index += 1)
    await ledger.append({
      type: 'credential_issued',
      principal: 'alice',
      workflow: 'expense-summary',
      decision: 'allow',
      reasons: ['finance-may-request'],
      requestId: `req-${ledger.lastSeq + 1}`,
      docHashes: [],
    });
}

describe('Function: anchorChains', () => {
  it('signs the head of every chain, then only the chains that grew', async () => {
    // Prepare
    const store = new MemoryAuditStore();
    const digests = new MemoryDigestStore();
    const a = new AuditLedger({ store, chainId: 'broker-a', clock });
    const b = new AuditLedger({ store, chainId: 'broker-b', clock });
    await appendSome(a, 3);
    await appendSome(b, 2);

    // Act
    const first = await anchorChains({ store, digests, signer, clock });
    await appendSome(a, 2);
    const second = await anchorChains({ store, digests, signer, clock });

    // Assess
    expect(first.anchored.map((d) => [d.digestId, d.seq])).toEqual([
      ['broker-a/000000000003', 3],
      ['broker-b/000000000002', 2],
    ]);
    expect(first.anchored[0]).toMatchObject({
      previousDigestHash: GENESIS_HASH,
      keyId: signer.keyId,
      ts: '2026-11-02T10:00:00.000Z',
    });
    expect(second).toMatchObject({ unchanged: 1 });
    expect(second.anchored).toHaveLength(1);
    expect(second.anchored[0]).toMatchObject({
      chainId: 'broker-a',
      seq: 5,
      previousDigestHash: digestHash(first.anchored[0]),
    });
    const verdict = await verifyLedger({
      records: { 'broker-a': store.readChain('broker-a'), 'broker-b': store.readChain('broker-b') },
      digests: await digests.list(),
      publicKey: signer.publicKey,
    });
    expect(verdict).toMatchObject({ ok: true, records: 7, digests: 3 });
  });

  it('counts a head a concurrent run anchored first as unchanged', async () => {
    // Prepare
    const store = new MemoryAuditStore();
    const digests = new MemoryDigestStore();
    await appendSome(new AuditLedger({ store, chainId: 'broker-a', clock }), 2);

    // Act
    const [one, other] = await Promise.all([
      anchorChains({ store, digests, signer, clock }),
      anchorChains({ store, digests, signer, clock }),
    ]);

    // Assess
    expect(one.anchored.length + other.anchored.length).toBe(1);
    expect(one.unchanged + other.unchanged).toBe(1);
    expect(digests.byId.size).toBe(1);
  });

  it('fails closed with a DependencyError when the signer fails', async () => {
    // Prepare
    const store = new MemoryAuditStore();
    const digests = new MemoryDigestStore();
    await appendSome(new AuditLedger({ store, chainId: 'broker-a', clock }), 1);
    const broken: TokenSigner = { ...signer, sign: async () => Promise.reject(new Error('KMS throttled')) };

    // Act
    const run = anchorChains({ store, digests, signer: broken, clock });

    // Assess
    await expect(run).rejects.toThrow(DependencyError);
    await expect(run).rejects.toThrow('the digest of broker-a/000000000001 could not be signed');
    expect(digests.byId.size).toBe(0);
  });
});
