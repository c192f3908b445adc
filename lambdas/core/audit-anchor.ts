/**
 * The anchor: signs the head of every chain that grew since its last digest and stores the digest
 * where it cannot be changed (S3 Object Lock in AWS, exclusive-create files locally).
 *
 * A digest proves that at `ts` the chain `chainId` held a record `seq` whose hash was `hash`; since
 * each record's hash covers its predecessor's, it fixes every record up to `seq`. Rewriting,
 * deleting or truncating anything up to an anchored head is then detectable even by someone who
 * can rewrite the whole table (they cannot sign with the KMS key nor change a locked object).
 */
import { createHash } from 'node:crypto';
import type { AuditStore, ChainHead } from './audit-ledger';
import { GENESIS_HASH } from './audit-record';
import { canonicalJson } from './canonical-json';
import { DependencyError } from './errors';
import type { Clock, TokenSigner } from './ports';

/** A signed statement of a chain's head. */
export interface Digest {
  /** `<chainId>/<seq, 12 digits>`: one digest per head, so a second anchor run cannot fork it. */
  readonly digestId: string;
  readonly chainId: string;
  readonly seq: number;
  /** The hash of record `seq`. */
  readonly hash: string;
  /** When the head was signed (ISO 8601 UTC). */
  readonly ts: string;
  /** {@link digestHash} of this chain's previous digest, or {@link GENESIS_HASH} for its first. */
  readonly previousDigestHash: string;
  /** The signing key's id (the KMS key ARN in AWS). */
  readonly keyId: string;
  /** ES256 signature (base64url of raw r||s) over {@link digestSigningInput}. */
  readonly signature: string;
}

/** Where digests live. Implementations never overwrite one. */
export interface DigestStore {
  /** @throws DigestConflictError when a digest with this `digestId` exists (nothing is written). */
  put(digest: Digest): Promise<void>;
  /** Every digest, in (chainId, seq) order. */
  list(): Promise<Digest[]>;
}

/** A digest with this id exists already; digests are never overwritten. */
export class DigestConflictError extends Error {
  public readonly name = 'DigestConflictError';
  constructor(
    public readonly digestId: string,
    where: string,
    options?: { cause?: unknown },
  ) {
    super(`digest ${digestId} already exists at ${where}; digests are never overwritten`, options);
  }
}

/** The digest id (and storage key stem) for a chain head. */
export function digestIdFor(chainId: string, seq: number): string {
  return `${chainId}/${String(seq).padStart(12, '0')}`;
}

/** Orders digests by (chainId, seq), the order {@link DigestStore.list} returns. */
export function compareDigests(a: Digest, b: Digest): number {
  if (a.chainId !== b.chainId) return a.chainId < b.chainId ? -1 : 1;
  return a.seq - b.seq;
}

/** The bytes a digest's signature covers: canonical JSON of every field but `signature`. */
export function digestSigningInput(digest: Omit<Digest, 'signature'> | Digest): Uint8Array {
  const { signature: _ignored, ...signed } = digest as Digest;
  return new TextEncoder().encode(canonicalJson(signed));
}

/** SHA-256 (hex) of a whole digest, signature included: what the next digest links to. */
export function digestHash(digest: Digest): string {
  return createHash('sha256').update(canonicalJson(digest), 'utf8').digest('hex');
}

export interface AnchorChainsProps {
  /** The anchor only lists the chain heads. */
  readonly store: Pick<AuditStore, 'listChainHeads'>;
  readonly digests: DigestStore;
  readonly signer: TokenSigner;
  readonly clock: Clock;
}

export interface AnchorResult {
  /** Digests written by this run. */
  readonly anchored: Digest[];
  /** Chains whose head was already anchored (by an earlier or a concurrent run). */
  readonly unchanged: number;
}

/**
 * Signs and stores a digest for every chain head whose seq advanced since the chain's last digest.
 * Safe to run concurrently: a head another run anchored first is counted as unchanged.
 * @throws DependencyError('audit-anchor') when the ledger, the signer or the digest store fails.
 */
export async function anchorChains(props: AnchorChainsProps): Promise<AnchorResult> {
  const { store, digests, signer, clock } = props;
  const [heads, existing] = await Promise.all([
    dependency('the audit chain heads could not be listed', () => store.listChainHeads()),
    dependency('the digests could not be listed', () => digests.list()),
  ]);
  const lastDigest = new Map<string, Digest>();
  for (const digest of existing) {
    const previous = lastDigest.get(digest.chainId);
    if (!previous || digest.seq > previous.seq) lastDigest.set(digest.chainId, digest);
  }

  const anchored: Digest[] = [];
  let unchanged = 0;
  for (const head of [...heads].sort(byChainId)) {
    const previous = lastDigest.get(head.chainId);
    if (previous && previous.seq >= head.seq) {
      unchanged += 1;
      continue;
    }
    const digest = await signHead(head, previous, signer, clock);
    try {
      await digests.put(digest);
      anchored.push(digest);
    } catch (error) {
      if (error instanceof DigestConflictError) unchanged += 1;
      else
        throw new DependencyError('audit-anchor', `digest ${digest.digestId} could not be stored`, {
          cause: error,
        });
    }
  }
  return { anchored, unchanged };
}

async function signHead(
  head: ChainHead,
  previous: Digest | undefined,
  signer: TokenSigner,
  clock: Clock,
): Promise<Digest> {
  const unsigned: Omit<Digest, 'signature'> = {
    digestId: digestIdFor(head.chainId, head.seq),
    chainId: head.chainId,
    seq: head.seq,
    hash: head.hash,
    ts: clock.now().toISOString(),
    previousDigestHash: previous ? digestHash(previous) : GENESIS_HASH,
    keyId: signer.keyId,
  };
  const signature = await dependency(`the digest of ${unsigned.digestId} could not be signed`, () =>
    signer.sign(digestSigningInput(unsigned)),
  );
  return { ...unsigned, signature: Buffer.from(signature).toString('base64url') };
}

async function dependency<T>(message: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw new DependencyError('audit-anchor', message, { cause: error });
  }
}

function byChainId(a: ChainHead, b: ChainHead): number {
  return a.chainId < b.chainId ? -1 : a.chainId > b.chainId ? 1 : 0;
}
