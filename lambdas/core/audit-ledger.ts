/**
 * The audit ledger: appends decisions to this writer's hash chain.
 *
 * Why nothing is lost, duplicated or overwritten with many writers: every writer (a Lambda
 * execution environment, the local pilot process, a CLI run) owns a chain of its own, named by a
 * random id, so writers never race for the same position. Within a process appends are queued,
 * so seq 1, 2, 3, ... are taken one at a time. The store writes each record only if its
 * (chainId, seq) does not exist yet, so even a misconfigured second writer on the same chain cannot
 * overwrite a record; it gets a conflict and its request is refused.
 */

import {
  type AuditEvent,
  type AuditRecord,
  assertValidAuditEvent,
  CHAIN_ID_PATTERN,
  GENESIS_HASH,
  hashCanonicalRecord,
} from './audit-record';
import { canonicalJson } from './canonical-json';
import { DependencyError } from './errors';
import type { Clock } from './ports';

/** The last record of a chain, as the anchor needs it. */
export interface ChainHead {
  readonly chainId: string;
  readonly seq: number;
  readonly hash: string;
  readonly ts: string;
}

export interface ReadChainOptions {
  /** First seq to read. @default 1 */
  readonly fromSeq?: number;
}

/** Where records live: DynamoDB in AWS, the same adapter against dynalite locally. */
export interface AuditStore {
  /**
   * Writes a record only if its (chainId, seq) does not exist.
   * @throws AuditConflictError when it exists (nothing is written); any other error when the store failed.
   */
  append(record: AuditRecord): Promise<void>;
  /**
   * The record at (chainId, seq), read consistently, or `undefined`. Used only when an
   * {@link AuditConflictError} does not carry the existing record.
   */
  readRecord?(chainId: string, seq: number): Promise<AuditRecord | undefined>;
  /** The last record of every chain. */
  listChainHeads(): Promise<ChainHead[]>;
  /** One chain's records in seq order, as stored (the verifier checks them; the store does not). */
  readChain(chainId: string, options?: ReadChainOptions): AsyncIterable<AuditRecord>;
}

/** What a ledger needs of its store: appending, and reading one record back after a conflict. */
export type AuditLogStore = Pick<AuditStore, 'append' | 'readRecord'>;

/** The store already holds a record at this (chainId, seq); nothing was written. */
export class AuditConflictError extends Error {
  public readonly name = 'AuditConflictError';
  constructor(
    public readonly chainId: string,
    public readonly seq: number,
    options?: { cause?: unknown; existingHash?: string },
  ) {
    super(`audit record ${chainId}#${seq} already exists; records are never overwritten`, options);
    this.existingHash = options?.existingHash;
  }

  /** The `hash` of the record the store holds at (chainId, seq), when it came back with the refusal. */
  public readonly existingHash?: string;
}

export interface AuditLedgerProps {
  readonly store: AuditLogStore;
  /** This writer's chain; must be unique per writer (e.g. `<function>-<uuid>`, see {@link newChainId}). */
  readonly chainId: string;
  readonly clock: Clock;
}

/**
 * A chain id for a new writer: `<prefix>-<random uuid>`. The prefix (function or process name) is
 * reduced to the characters a chain id allows.
 */
export function newChainId(prefix: string, randomId: string): string {
  const safePrefix = prefix
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 64);
  return `${safePrefix || 'writer'}-${randomId}`;
}

/** Appends audit events to one chain; one instance per writer, shared by every request it serves. */
export class AuditLedger {
  private readonly store: AuditLogStore;
  private readonly clock: Clock;
  public readonly chainId: string;
  private head: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH };
  // A record whose write failed without a clear answer (e.g. a timeout): it may have landed after all.
  private unconfirmed: AuditRecord | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(props: AuditLedgerProps) {
    if (!CHAIN_ID_PATTERN.test(props.chainId))
      throw new TypeError(
        `AuditLedger: chainId ${JSON.stringify(props.chainId)} must match ${CHAIN_ID_PATTERN} (use newChainId)`,
      );
    this.store = props.store;
    this.clock = props.clock;
    this.chainId = props.chainId;
  }

  /** The last record this ledger knows was written (seq 0 before the first append). */
  get lastSeq(): number {
    return this.head.seq;
  }

  /**
   * Chains `event` and writes it. Appends from one process are queued, so concurrent callers get
   * consecutive seq numbers.
   * @returns the stored record.
   * @throws AuditEventError when the event is malformed (a bug in the caller).
   * @throws DependencyError('audit-ledger') when the record could not be written: refuse the request.
   *   The chain does not advance, so the next append takes the same seq.
   */
  append(event: AuditEvent): Promise<AuditRecord> {
    assertValidAuditEvent(event);
    const result = this.queue.then(() => this.appendNow(event));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async appendNow(event: AuditEvent): Promise<AuditRecord> {
    const record = this.chain(event);
    try {
      await this.store.append(record);
    } catch (error) {
      if (!(error instanceof AuditConflictError)) {
        this.unconfirmed = record;
        throw new DependencyError(
          'audit-ledger',
          `audit record ${this.chainId}#${record.seq} could not be written`,
          {
            cause: error,
          },
        );
      }
      if (!(await this.adoptUnconfirmed(error))) {
        throw new DependencyError(
          'audit-ledger',
          `audit record ${this.chainId}#${record.seq} already exists: another writer uses chain ${this.chainId}`,
          { cause: error },
        );
      }
      return this.appendNow(event);
    }
    this.unconfirmed = undefined;
    this.head = { seq: record.seq, hash: record.hash };
    return record;
  }

  /**
   * After a conflict: when the record at that seq is the one whose write looked failed, it landed after
   * all, so the chain advances past it instead of staying stuck on a position it already holds.
   */
  private async adoptUnconfirmed(conflict: AuditConflictError): Promise<boolean> {
    const candidate = this.unconfirmed;
    if (!candidate || candidate.seq !== conflict.seq) return false;
    let storedHash = conflict.existingHash;
    if (storedHash === undefined && this.store.readRecord) {
      try {
        storedHash = (await this.store.readRecord(this.chainId, conflict.seq))?.hash;
      } catch (error) {
        throw new DependencyError(
          'audit-ledger',
          `audit record ${this.chainId}#${conflict.seq} could not be read back`,
          {
            cause: error,
          },
        );
      }
    }
    if (storedHash !== candidate.hash) return false;
    this.unconfirmed = undefined;
    this.head = { seq: candidate.seq, hash: candidate.hash };
    return true;
  }

  private chain(event: AuditEvent): AuditRecord {
    // Round-trip through canonical JSON so the stored record is exactly the hashed data
    // (optional fields left out rather than `undefined`); the hash is of that same text.
    const text = canonicalJson({
      type: event.type,
      principal: event.principal,
      workflow: event.workflow,
      connector: event.connector,
      operation: event.operation,
      decision: event.decision,
      reasons: event.reasons,
      requestId: event.requestId,
      docHashes: event.docHashes,
      intent: event.intent,
      details: event.details,
      chainId: this.chainId,
      seq: this.head.seq + 1,
      ts: this.clock.now().toISOString(),
      prevHash: this.head.hash,
    });
    const fields = JSON.parse(text) as Omit<AuditRecord, 'hash'>;
    return { ...fields, hash: hashCanonicalRecord(text) };
  }
}

/** What a writer needs of a ledger: append an event, get the committed record back. */
export type AuditAppender = Pick<AuditLedger, 'append'>;

/**
 * Several chains for one process that serves requests concurrently (the local pilot). Each chain
 * still takes its records strictly one at a time; the records of one request always go to the same
 * chain (chosen by request id), so their order holds, while different requests append in parallel.
 * A Lambda execution environment serves one request at a time and needs only one chain.
 */
export class AuditLedgerPool implements AuditAppender {
  private readonly ledgers: readonly AuditLedger[];

  constructor(props: {
    readonly store: AuditLogStore;
    readonly chainIds: readonly string[];
    readonly clock: Clock;
  }) {
    if (props.chainIds.length === 0) throw new TypeError('AuditLedgerPool: at least one chain id is needed');
    this.ledgers = props.chainIds.map(
      (chainId) => new AuditLedger({ store: props.store, chainId, clock: props.clock }),
    );
  }

  append(event: AuditEvent): Promise<AuditRecord> {
    return this.ledgers[chainIndex(event.requestId, this.ledgers.length)].append(event);
  }
}

/** FNV-1a of the request id: cheap, stable, and spreads ids evenly enough across a few chains. */
function chainIndex(requestId: string, chains: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < requestId.length; i++) {
    hash ^= requestId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % chains;
}
