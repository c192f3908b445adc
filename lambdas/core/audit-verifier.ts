/**
 * The verifier behind `airlock audit verify`: recomputes every record hash, every link, every
 * digest signature and digest link, and checks that every digest's head is in its chain. It names
 * the first place that does not hold. Pure: records and digests come in, a verdict goes out.
 */
import { type KeyObject, verify } from 'node:crypto';
import { type Digest, type DigestStore, digestHash, digestIdFor, digestSigningInput } from './audit-anchor';
import type { AuditStore } from './audit-ledger';
import { type AuditRecord, auditRecordProblem, computeRecordHash, GENESIS_HASH } from './audit-record';
import { canonicalJson } from './canonical-json';

/** One chain's records in seq order: an array, or a stream (e.g. `AuditStore.readChain`). */
export type RecordSource = Iterable<AuditRecord> | AsyncIterable<AuditRecord>;

/** Records by chain id. */
export type ChainRecords = ReadonlyMap<string, RecordSource> | Readonly<Record<string, RecordSource>>;

/** The digest signing key, or a lookup by `keyId` (for key rotation). */
export type DigestKey =
  | KeyObject
  | ((keyId: string) => KeyObject | undefined | Promise<KeyObject | undefined>);

export interface VerifyLedgerInput {
  readonly records: ChainRecords;
  readonly digests: readonly Digest[];
  readonly publicKey: DigestKey;
  /**
   * Time window: only chains with records in [from, to] are checked (each in full, because its
   * links need every record); digests of chains that have no records at all are always checked.
   * @default every chain
   */
  readonly from?: Date;
  readonly to?: Date;
}

export interface VerifyFailure {
  readonly kind: 'record' | 'digest';
  readonly chainId: string;
  readonly seq?: number;
  readonly digestId?: string;
  readonly reason: string;
}

export interface VerifyCounts {
  /** Records checked. */
  readonly records: number;
  /** Chains checked. */
  readonly chains: number;
  /** Digests checked. */
  readonly digests: number;
  /** Time of the earliest and the latest record checked. */
  readonly firstTs?: string;
  readonly lastTs?: string;
  /**
   * Records checked that no signed digest covers yet (after their chain's last digest): intact as far
   * as their hashes go, but a rewrite of them, or of their whole chain, would not be detected.
   */
  readonly unanchoredRecords: number;
  /** Chains checked that end in such records. */
  readonly unanchoredChains: number;
}

export type VerifyResult =
  | ({ ok: true } & VerifyCounts)
  | ({ ok: false; failure: VerifyFailure } & VerifyCounts);

/**
 * Verifies chains and their digests; stops at the first failure (chains in chainId order, records
 * in seq order, then the chain's digests in seq order).
 */
export async function verifyLedger(input: VerifyLedgerInput): Promise<VerifyResult> {
  const chains = toMap(input.records);
  const digestsByChain = new Map<string, Digest[]>();
  for (const digest of input.digests) {
    const chainId = typeof digest?.chainId === 'string' ? digest.chainId : '';
    const list = digestsByChain.get(chainId) ?? [];
    list.push(digest);
    digestsByChain.set(chainId, list);
  }
  const window = { from: input.from?.getTime() ?? -Infinity, to: input.to?.getTime() ?? Infinity };
  const counts = {
    records: 0,
    chains: 0,
    digests: 0,
    firstTs: undefined as string | undefined,
    lastTs: undefined as string | undefined,
    unanchoredRecords: 0,
    unanchoredChains: 0,
  };
  const result = (failure?: VerifyFailure): VerifyResult =>
    failure ? { ok: false, failure, ...counts } : { ok: true, ...counts };

  const chainIds = [...new Set([...chains.keys(), ...digestsByChain.keys()])].sort();
  for (const chainId of chainIds) {
    const digests = [...(digestsByChain.get(chainId) ?? [])].sort((a, b) => Number(a?.seq) - Number(b?.seq));
    const source = chains.get(chainId);
    const watched = new Set(digests.map((digest) => digest?.seq));
    const chain = source ? await checkChain(chainId, source, watched) : undefined;
    if (chain) {
      const inWindow =
        chain.firstMs !== undefined && chain.firstMs <= window.to && chain.lastMs! >= window.from;
      if (!inWindow && (input.from || input.to)) continue;
      counts.chains += 1;
      counts.records += chain.count;
      if (chain.firstTs && (!counts.firstTs || chain.firstTs < counts.firstTs))
        counts.firstTs = chain.firstTs;
      if (chain.lastTs && (!counts.lastTs || chain.lastTs > counts.lastTs)) counts.lastTs = chain.lastTs;
      if (chain.failure) return result(chain.failure);
    }
    let previous: Digest | undefined;
    for (const digest of digests) {
      counts.digests += 1;
      const reason = await digestProblem(digest, previous, chain, input.publicKey);
      if (reason) {
        return result({
          kind: 'digest',
          chainId,
          seq: typeof digest?.seq === 'number' ? digest.seq : undefined,
          digestId: typeof digest?.digestId === 'string' ? digest.digestId : undefined,
          reason,
        });
      }
      previous = digest;
    }
    // Every digest of the chain held: what lies after the last one is covered by none.
    const unanchored = chain ? chain.lastSeq - (previous?.seq ?? 0) : 0;
    if (unanchored > 0) {
      counts.unanchoredRecords += unanchored;
      counts.unanchoredChains += 1;
    }
  }
  return result();
}

interface ChainCheck {
  count: number;
  lastSeq: number;
  /** Hash of each record a digest points at. */
  hashes: Map<number, string>;
  failure?: VerifyFailure;
  firstTs?: string;
  lastTs?: string;
  firstMs?: number;
  lastMs?: number;
}

async function checkChain(chainId: string, source: RecordSource, watched: Set<number>): Promise<ChainCheck> {
  const check: ChainCheck = { count: 0, lastSeq: 0, hashes: new Map() };
  let prevHash = GENESIS_HASH;
  const fail = (seq: number | undefined, reason: string): void => {
    check.failure = { kind: 'record', chainId, seq, reason };
  };
  // Keep reading after a failure: the chain's time span decides whether it is in the window.
  for await (const record of source) {
    noteTime(check, record?.ts);
    if (check.failure) continue;
    check.count += 1;
    const expected = check.lastSeq + 1;
    const problem = auditRecordProblem(record);
    if (problem) {
      fail(Number.isSafeInteger(record?.seq) ? record.seq : expected, `record malformed: ${problem}`);
    } else if (record.chainId !== chainId) {
      fail(record.seq, `record belongs to chain ${record.chainId} (moved between chains?)`);
    } else if (record.seq > expected) {
      fail(expected, `seq gap: record ${expected} missing (deleted?)`);
    } else if (record.seq < expected) {
      fail(
        record.seq,
        `seq out of order: record ${record.seq} comes after record ${check.lastSeq} (duplicated or reordered?)`,
      );
    } else if (computeRecordHash(record) !== record.hash) {
      fail(record.seq, 'hash mismatch: record was modified');
    } else if (record.prevHash !== prevHash) {
      fail(record.seq, 'prevHash does not match previous record (records swapped or inserted?)');
    } else {
      prevHash = record.hash;
      check.lastSeq = record.seq;
      if (watched.has(record.seq)) check.hashes.set(record.seq, record.hash);
    }
  }
  return check;
}

function noteTime(check: ChainCheck, ts: unknown): void {
  const ms = typeof ts === 'string' ? Date.parse(ts) : Number.NaN;
  if (Number.isNaN(ms)) return;
  if (check.firstMs === undefined || ms < check.firstMs) {
    check.firstMs = ms;
    check.firstTs = ts as string;
  }
  if (check.lastMs === undefined || ms > check.lastMs) {
    check.lastMs = ms;
    check.lastTs = ts as string;
  }
}

const DIGEST_FIELDS = [
  'digestId',
  'chainId',
  'seq',
  'hash',
  'ts',
  'previousDigestHash',
  'keyId',
  'signature',
];

async function digestProblem(
  digest: Digest,
  previous: Digest | undefined,
  chain: ChainCheck | undefined,
  publicKey: DigestKey,
): Promise<string | undefined> {
  const shape = digestShapeProblem(digest);
  if (shape) return `digest malformed: ${shape}`;
  if (digest.digestId !== digestIdFor(digest.chainId, digest.seq))
    return `digest id does not match its chain and seq (expected ${digestIdFor(digest.chainId, digest.seq)})`;
  const key = typeof publicKey === 'function' ? await publicKey(digest.keyId) : publicKey;
  if (!key) return `digest signed by unknown key ${digest.keyId}`;
  if (!signatureHolds(digest, key)) return 'digest signature invalid';
  if (previous && digest.seq <= previous.seq)
    return `digest out of order: seq ${digest.seq} after a digest of seq ${previous.seq}`;
  const expectedLink = previous ? digestHash(previous) : GENESIS_HASH;
  if (digest.previousDigestHash !== expectedLink)
    return 'digest chain broken: previous digest missing or modified (previousDigestHash does not match)';
  if (!chain) return 'digest head not found in chain (chain has no records: deleted?)';
  if (digest.seq > chain.lastSeq) return 'digest head not found in chain (chain truncated after digest?)';
  if (chain.hashes.get(digest.seq) !== digest.hash)
    return `digest head hash differs from record ${digest.seq} (chain rewritten after digest?)`;
  return undefined;
}

function digestShapeProblem(digest: unknown): string | undefined {
  if (typeof digest !== 'object' || digest === null || Array.isArray(digest)) return 'not a JSON object';
  const value = digest as Record<string, unknown>;
  const unknown = Object.keys(value).find((key) => !DIGEST_FIELDS.includes(key));
  if (unknown) return `unknown field "${unknown}"`;
  for (const field of ['digestId', 'chainId', 'hash', 'ts', 'previousDigestHash', 'keyId', 'signature']) {
    if (typeof value[field] !== 'string') return `${field} must be a string`;
  }
  if (!Number.isSafeInteger(value.seq) || (value.seq as number) < 1) return 'seq must be an integer >= 1';
  return undefined;
}

function signatureHolds(digest: Digest, key: KeyObject): boolean {
  try {
    const signature = Buffer.from(digest.signature, 'base64url');
    if (signature.length !== 64) return false;
    return verify('sha256', digestSigningInput(digest), { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    // A key of the wrong type or a garbled signature cannot prove anything: invalid.
    return false;
  }
}

function toMap(records: ChainRecords): ReadonlyMap<string, RecordSource> {
  return records instanceof Map
    ? records
    : new Map(Object.entries(records as Readonly<Record<string, RecordSource>>));
}

/** Every chain of a store as lazy streams, for {@link verifyLedger} and {@link exportRecords}. */
export async function readLedger(store: AuditStore): Promise<Map<string, AsyncIterable<AuditRecord>>> {
  const heads = await store.listChainHeads();
  return new Map(heads.map((head) => [head.chainId, store.readChain(head.chainId)]));
}

export interface VerifyAuditTrailInput {
  readonly store: AuditStore;
  readonly digests: DigestStore;
  readonly publicKey: DigestKey;
  readonly from?: Date;
  readonly to?: Date;
}

/** {@link verifyLedger} over a store and a digest store: what `airlock audit verify` runs. */
export async function verifyAuditTrail(input: VerifyAuditTrailInput): Promise<VerifyResult> {
  const [records, digests] = await Promise.all([readLedger(input.store), input.digests.list()]);
  return verifyLedger({ records, digests, publicKey: input.publicKey, from: input.from, to: input.to });
}

export interface ExportRecordsInput {
  readonly records: ChainRecords;
  /** Inclusive bounds on a record's `ts`. @default no bound */
  readonly from?: Date;
  readonly to?: Date;
}

/**
 * The records whose `ts` is in [from, to] as JSON Lines (canonical JSON, one record per line, chains
 * in chainId order, records in seq order), for `airlock audit export`. Records keep their hashes,
 * so anyone can recompute them from the file.
 */
export async function* exportRecords(input: ExportRecordsInput): AsyncGenerator<string> {
  const from = input.from?.getTime() ?? -Infinity;
  const to = input.to?.getTime() ?? Infinity;
  const chains = toMap(input.records);
  for (const chainId of [...chains.keys()].sort()) {
    for await (const record of chains.get(chainId)!) {
      const ms = Date.parse(record.ts);
      if (ms >= from && ms <= to) yield `${canonicalJson(record)}\n`;
    }
  }
}
