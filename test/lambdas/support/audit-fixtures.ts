/**
 * In-memory stand-ins for the audit ledger's stores that behave like the services they replace, a
 * P-256 signer made at test run time, and the decision most tests write.
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { type Digest, DigestConflictError, type DigestStore } from '../../../lambdas/core/audit-anchor';
import { AuditConflictError, type AuditStore, type ChainHead } from '../../../lambdas/core/audit-ledger';
import { type AuditEvent, type AuditRecord, hashDocument } from '../../../lambdas/core/audit-record';
import type { TokenSigner } from '../../../lambdas/core/ports';

/** Like the DynamoDB table with `attribute_not_exists`: one record per (chainId, seq), never overwritten. */
export class MemoryAuditStore implements AuditStore {
  readonly items = new Map<string, AuditRecord>();
  /** When set, the next append fails with this error (after writing, when `landed`, as a lost reply does). */
  failNext?: { error: Error; landed: boolean };
  /** When true, every append fails as DynamoDB does when it is unavailable. */
  failAppends = false;

  async append(record: AuditRecord): Promise<void> {
    // Asynchronous like a network call, so concurrent appends interleave as they would against DynamoDB.
    await Promise.resolve();
    if (this.failAppends)
      throw Object.assign(new Error('Service unavailable'), { name: 'InternalServerError' });
    const key = `${record.chainId}#${record.seq}`;
    if (this.items.has(key)) throw new AuditConflictError(record.chainId, record.seq);
    const failure = this.failNext;
    this.failNext = undefined;
    if (failure?.landed) this.items.set(key, structuredClone(record));
    if (failure) throw failure.error;
    this.items.set(key, structuredClone(record));
  }

  async listChainHeads(): Promise<ChainHead[]> {
    const heads = new Map<string, ChainHead>();
    for (const { chainId, seq, hash, ts } of this.items.values())
      if ((heads.get(chainId)?.seq ?? 0) < seq) heads.set(chainId, { chainId, seq, hash, ts });
    return [...heads.values()];
  }

  async *readChain(chainId: string): AsyncIterable<AuditRecord> {
    yield* this.records(chainId);
  }

  /** The stored record at (chainId, seq), as a consistent read returns it. */
  async readRecord(chainId: string, seq: number): Promise<AuditRecord | undefined> {
    return this.items.get(`${chainId}#${seq}`);
  }

  /** The records of one chain (or of all) in seq order. */
  records(chainId?: string): AuditRecord[] {
    return [...this.items.values()]
      .filter((record) => chainId === undefined || record.chainId === chainId)
      .sort((a, b) => a.seq - b.seq);
  }
}

/** Like S3 with `IfNoneMatch: *`: a second digest with the same id is refused. */
export class MemoryDigestStore implements DigestStore {
  readonly byId = new Map<string, Digest>();
  /** When true, every put fails as S3 does without `s3:PutObject`. */
  failPuts = false;

  async put(digest: Digest): Promise<void> {
    if (this.failPuts) throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    if (this.byId.has(digest.digestId)) throw new DigestConflictError(digest.digestId, 'memory');
    this.byId.set(digest.digestId, digest);
  }

  async list(): Promise<Digest[]> {
    return [...this.byId.values()];
  }
}

/** A digest as the stores keep it, for tests of the stores themselves (its signature is not checked there). */
export function storedDigest(chainId: string, seq: number, keyId: string): Digest {
  return {
    digestId: `${chainId}/${String(seq).padStart(12, '0')}`,
    chainId,
    seq,
    hash: 'a'.repeat(64),
    ts: '2026-11-02T10:00:00.000Z',
    previousDigestHash: '0'.repeat(64),
    keyId,
    signature: 'c2ln',
  };
}

/** A signer over a P-256 key generated now, signing as KMS does for ES256 (raw r||s); its public key for verifying. */
export function p256Signer(keyId: string): TokenSigner & { readonly publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    keyId,
    publicKey,
    sign: async (data) => sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }),
    getPublicKey: async () => publicKey,
  };
}

/** Alice's allowed read of a receipt in the expense workflow, with what a test changes. */
export function receiptReadEvent(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    type: 'connector_allowed',
    principal: 'alice',
    workflow: 'expense-summary',
    connector: 'receipts',
    operation: 'read',
    decision: 'allow',
    reasons: ['finance-reads-receipts'],
    requestId: 'req-1',
    docHashes: [hashDocument('receipt 1')],
    ...overrides,
  };
}
