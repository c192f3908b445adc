/**
 * The audit record (DESIGN.md "Audit record"): one per decision, linked into a hash chain per
 * writer. `hash` is the SHA-256 of the canonical JSON of every other field, `prevHash` included,
 * so changing, removing or reordering any record breaks a hash or a link the verifier recomputes.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json';

export const AUDIT_EVENT_TYPES = [
  'credential_issued',
  'credential_denied',
  'connector_allowed',
  'connector_denied',
  'connector_pending',
  'connector_failed',
  'connector_completed',
  'approval_created',
  'approval_decided',
  'approval_executed',
  'approval_refused',
  'approval_sign_in',
  'kill_switch_changed',
  'revocation',
  'usage_reported',
  'policy_shadowed',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/**
 * What was decided. `error`: allowed, but the dependency or upstream failed; `recorded`: a change
 * or a report with nothing to allow or deny (kill switch flipped, usage reported, revocation).
 */
export const AUDIT_DECISIONS = ['allow', 'deny', 'pending', 'error', 'recorded'] as const;

export type AuditDecision = (typeof AUDIT_DECISIONS)[number];

/** JSON data allowed in `details`: small, no secrets, numbers within the safe-integer range. */
export type AuditDetailValue = string | number | boolean | null | AuditDetailValue[] | AuditDetails;
export interface AuditDetails {
  readonly [key: string]: AuditDetailValue;
}

/** What a caller hands to `AuditLedger.append`: the decision, without the chain fields. */
export interface AuditEvent {
  readonly type: AuditEventType;
  /** Who: the principal from the client certificate (`anonymous` when there was none). */
  readonly principal: string;
  /** The workflow the request was for (`*` for something global, e.g. the global kill switch). */
  readonly workflow: string;
  readonly connector?: string;
  readonly operation?: string;
  readonly decision: AuditDecision;
  /** Machine-readable reasons: the Cedar policy ids that decided, an error code, ... */
  readonly reasons: readonly string[];
  readonly requestId: string;
  /** SHA-256 (hex) of every document returned to the agent, never the data itself ({@link hashDocument}). */
  readonly docHashes: readonly string[];
  /** The agent's stated intent, when it gave one. */
  readonly intent?: string;
  /** Small extra facts (amount, approver, model, ...). Never a secret, a token or document content. */
  readonly details?: AuditDetails;
}

/** An event placed in a chain. Every field except `hash` is covered by `hash`. */
export interface AuditRecord extends AuditEvent {
  /** The writer's chain (one per Lambda execution environment, local pilot process or CLI run). */
  readonly chainId: string;
  /** 1, 2, 3, ... without gaps within a chain. */
  readonly seq: number;
  /** ISO 8601 UTC time the ledger appended the record. */
  readonly ts: string;
  /** `hash` of record `seq - 1`, or {@link GENESIS_HASH} for `seq` 1. */
  readonly prevHash: string;
  /** SHA-256 (lowercase hex) of the canonical JSON of every other field. */
  readonly hash: string;
}

/** `prevHash` of the first record of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * A chain id: a letter or digit then letters, digits, `.`, `_`, `-` (at most 128). Kept path- and
 * S3-key-safe because digests are stored under `digests/<chainId>/...`.
 */
export const CHAIN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** An event or record that cannot be written as it is (a bug in the caller, never a user error). */
export class AuditEventError extends Error {
  public readonly name = 'AuditEventError';
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const MAX_DETAILS_BYTES = 4096;
const MAX_INTENT_CHARS = 2000;
const MAX_NAME_CHARS = 256;
// Keys that name a credential: their value must never reach the ledger, whatever it looks like.
const SECRET_KEY =
  /^(secret|password|passwd|token|access_?token|refresh_?token|id_?token|authorization|private_?key|client_?secret|api_?key|cookie)$/i;
// Values that are credentials whatever their key: a JWT, a PEM private key.
const SECRET_VALUE = /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*$|-----BEGIN [A-Z ]*PRIVATE KEY-----/;
// A JWT or a PEM private key anywhere in free text (an agent's intent): a token pasted into a sentence
// is still a token. `eyJ` is `{"` in base64url, the start of every JWT header and payload.
const SECRET_IN_TEXT = /eyJ[\w-]{2,}\.eyJ[\w-]{2,}\.[\w-]*|-----BEGIN [A-Z ]*PRIVATE KEY-----/g;
/** True when `text` holds a JWT or a PEM private key anywhere: what an audit record may never carry. */
export function holdsCredential(text: string): boolean {
  return new RegExp(SECRET_IN_TEXT.source).test(text);
}

/** What a masked credential reads as in a bounded record. */
export const MASKED_SECRET = '[credential removed]';

/** SHA-256 (lowercase hex) of a document returned to the agent, for `docHashes`. */
export function hashDocument(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

/** The hash a record must carry: SHA-256 of the canonical JSON of every field but `hash`. */
export function computeRecordHash(record: Omit<AuditRecord, 'hash'> | AuditRecord): string {
  const { hash: _ignored, ...covered } = record as AuditRecord;
  return hashCanonicalRecord(canonicalJson(covered));
}

/** The `hash` of a record whose other fields are already in canonical JSON (`text`). */
export function hashCanonicalRecord(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Adds `hash` to a record. */
export function sealAuditRecord(record: Omit<AuditRecord, 'hash'>): AuditRecord {
  return { ...record, hash: computeRecordHash(record) };
}

/**
 * Checks an event before it is chained, so a record that would not verify, not store or leak a
 * secret is refused at the source.
 * @throws AuditEventError naming the field and what it must be.
 */
export function assertValidAuditEvent(event: AuditEvent): void {
  const problem = auditEventProblem(event);
  if (problem) throw new AuditEventError(`audit event refused: ${problem}`);
}

/** Why `event` would be refused by {@link assertValidAuditEvent}, or `undefined` when it would be written. */
export function auditEventProblemOf(event: AuditEvent): string | undefined {
  return auditEventProblem(event);
}

/** The most reasons a bounded record keeps; the rest are counted in its last reason. */
const MAX_BOUNDED_REASONS = 50;

/**
 * A refusal's event in a form the ledger accepts, whatever the request carried: tokens and private
 * keys masked wherever they appear, over-long text cut, at most 50 reasons (the last one saying how
 * many more there were), oversized details replaced by their size. A refusal is recorded in this
 * form rather than not at all; a decision that lets something through is never bounded, it is
 * refused instead (see CallRecord, IssuanceGate).
 */
export function boundedAuditEvent(event: AuditEvent): AuditEvent {
  const reasons = event.reasons.map((reason) => boundedName(String(reason)));
  const bounded: AuditEvent = {
    ...event,
    principal: boundedName(event.principal),
    workflow: boundedName(event.workflow),
    requestId: boundedName(event.requestId),
    ...(event.connector !== undefined ? { connector: boundedName(event.connector) } : {}),
    ...(event.operation !== undefined ? { operation: boundedName(event.operation) } : {}),
    reasons:
      reasons.length > MAX_BOUNDED_REASONS
        ? [
            ...reasons.slice(0, MAX_BOUNDED_REASONS - 1),
            `and-${reasons.length - MAX_BOUNDED_REASONS + 1}-more`,
          ]
        : reasons,
    ...(event.intent !== undefined
      ? { intent: maskSecrets(String(event.intent)).slice(0, MAX_INTENT_CHARS) }
      : {}),
    ...(event.details !== undefined ? { details: boundedDetails(event.details) } : {}),
  };
  // Anything still refused (a malformed docHash, say) is dropped to what is always recordable.
  if (auditEventProblem(bounded) === undefined) return bounded;
  const { intent: _intent, details: _details, ...rest } = bounded;
  return { ...rest, docHashes: [], details: { bounded: 'record reduced to its decision' } };
}

function maskSecrets(text: string): string {
  return text.replace(SECRET_IN_TEXT, MASKED_SECRET);
}

function boundedName(value: string): string {
  const masked = SECRET_VALUE.test(value) ? MASKED_SECRET : maskSecrets(value);
  return masked.length === 0 ? '(empty)' : masked.slice(0, MAX_NAME_CHARS);
}

function boundedDetails(details: AuditDetails): AuditDetails {
  const masked = maskDetail(details, 0) as AuditDetails;
  let size: number;
  try {
    size = Buffer.byteLength(canonicalJson(masked), 'utf8');
  } catch {
    return { bounded: 'details could not be recorded' };
  }
  return size > MAX_DETAILS_BYTES ? { bounded: `details of ${size} bytes left out` } : masked;
}

function maskDetail(value: unknown, depth: number): AuditDetailValue {
  if (typeof value === 'string') return SECRET_VALUE.test(value) ? MASKED_SECRET : maskSecrets(value);
  if (typeof value === 'number')
    return Number.isFinite(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER ? value : String(value);
  if (value === null || typeof value === 'boolean') return value;
  if (depth > 8) return '[nested too deep]';
  if (Array.isArray(value)) return value.map((item) => maskDetail(item, depth + 1));
  if (isPlainObject(value)) {
    const result: Record<string, AuditDetailValue> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      result[SECRET_KEY.test(key) ? `${key}Masked` : key] = SECRET_KEY.test(key)
        ? MASKED_SECRET
        : maskDetail(item, depth + 1);
    }
    return result;
  }
  return String(value);
}

/** Why `value` is not a well-formed audit record, or `undefined` when it is (hash not checked). */
export function auditRecordProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) return 'record is not a JSON object';
  const record = value as Record<string, unknown>;
  if (typeof record.chainId !== 'string' || !CHAIN_ID_PATTERN.test(record.chainId))
    return 'chainId must be a chain id (letters, digits, ".", "_", "-")';
  if (!Number.isSafeInteger(record.seq) || (record.seq as number) < 1) return 'seq must be an integer >= 1';
  if (typeof record.ts !== 'string' || !ISO_UTC.test(record.ts)) return 'ts must be an ISO 8601 UTC time';
  if (typeof record.prevHash !== 'string' || !SHA256_HEX.test(record.prevHash))
    return 'prevHash must be 64 lowercase hex characters';
  if (typeof record.hash !== 'string' || !SHA256_HEX.test(record.hash))
    return 'hash must be 64 lowercase hex characters';
  const known = new Set([...EVENT_FIELDS, 'chainId', 'seq', 'ts', 'prevHash', 'hash']);
  const unknown = Object.keys(record).find((key) => !known.has(key));
  if (unknown !== undefined) return `unknown field "${unknown}"`;
  return auditEventProblem(record as unknown as AuditEvent);
}

const EVENT_FIELDS = [
  'type',
  'principal',
  'workflow',
  'connector',
  'operation',
  'decision',
  'reasons',
  'requestId',
  'docHashes',
  'intent',
  'details',
] as const;

function auditEventProblem(event: AuditEvent): string | undefined {
  if (!isPlainObject(event)) return 'event is not an object';
  if (!(AUDIT_EVENT_TYPES as readonly string[]).includes(event.type))
    return `type must be one of ${AUDIT_EVENT_TYPES.join(', ')} (got ${JSON.stringify(event.type)})`;
  if (!(AUDIT_DECISIONS as readonly string[]).includes(event.decision))
    return `decision must be one of ${AUDIT_DECISIONS.join(', ')} (got ${JSON.stringify(event.decision)})`;
  for (const field of ['principal', 'workflow', 'requestId'] as const) {
    const problem = nameProblem(field, event[field], true);
    if (problem) return problem;
  }
  for (const field of ['connector', 'operation'] as const) {
    const problem = nameProblem(field, event[field], false);
    if (problem) return problem;
  }
  if (!Array.isArray(event.reasons) || event.reasons.length > 50)
    return 'reasons must be an array of at most 50';
  for (const [index, reason] of event.reasons.entries()) {
    const problem = nameProblem(`reasons[${index}]`, reason, true);
    if (problem) return problem;
  }
  if (!Array.isArray(event.docHashes) || event.docHashes.length > 1000)
    return 'docHashes must be an array of at most 1000';
  const badHash = event.docHashes.findIndex((hash) => typeof hash !== 'string' || !SHA256_HEX.test(hash));
  if (badHash >= 0)
    return `docHashes[${badHash}] must be a SHA-256 hex digest (hashDocument), never the data`;
  if (event.intent !== undefined) {
    if (typeof event.intent !== 'string' || event.intent.length > MAX_INTENT_CHARS)
      return `intent must be a string of at most ${MAX_INTENT_CHARS} characters`;
    if (holdsCredential(event.intent)) return 'intent holds what looks like a token or private key';
  }
  if (event.details !== undefined) {
    if (!isPlainObject(event.details)) return 'details must be a plain object';
    const problem = detailProblem(event.details, 'details');
    if (problem) return problem;
    let size: number;
    try {
      size = Buffer.byteLength(canonicalJson(event.details), 'utf8');
    } catch (error) {
      return `details: ${(error as Error).message}`;
    }
    if (size > MAX_DETAILS_BYTES)
      return `details must be at most ${MAX_DETAILS_BYTES} bytes as JSON (got ${size})`;
  }
  return undefined;
}

function nameProblem(field: string, value: unknown, required: boolean): string | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME_CHARS)
    return `${field} must be a non-empty string of at most ${MAX_NAME_CHARS} characters`;
  if (SECRET_VALUE.test(value)) return `${field} holds what looks like a token or private key`;
  return undefined;
}

function detailProblem(value: unknown, path: string): string | undefined {
  if (typeof value === 'number') {
    // DynamoDB's document client refuses numbers beyond the safe-integer range on read.
    if (!Number.isFinite(value) || Math.abs(value) > Number.MAX_SAFE_INTEGER)
      return `${path} must be a finite number within ±${Number.MAX_SAFE_INTEGER}`;
    return undefined;
  }
  if (typeof value === 'string')
    return SECRET_VALUE.test(value) ? `${path} holds what looks like a token or private key` : undefined;
  if (value === null || typeof value === 'boolean') return undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const problem = detailProblem(item, `${path}[${index}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue; // left out of the record, as in canonical JSON
      if (SECRET_KEY.test(key))
        return `${path}.${key} names a credential; never put secrets in the audit ledger`;
      const problem = detailProblem(item, `${path}.${key}`);
      if (problem) return problem;
    }
    return undefined;
  }
  return `${path} must be JSON data (string, number, boolean, null, array, object)`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  // Object.prototype of any realm has a null prototype; a class instance's prototype does not.
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}
