/**
 * Human-in-the-loop approvals. The gateway, not the agent, decides when a human must say yes (the
 * Cedar policy files say so); the agent does not wait: it gets 202 with a pending approval and
 * re-sends the same call with the approval's id once a member of the approver group approved it.
 *
 * An approval binds the principal, workflow, connector, operation, the arguments' hash and the policy
 * set's version; it is executed at most once (a conditional update from `approved` to `executed`).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { AirlockConfig } from '../../lib/config/schema';
import { clearedClassifications } from '../../lib/contracts/classifications';
import type { UpstreamCall } from '../connectors/connector';
import { canonicalJson } from './canonical-json';
import { AirlockError } from './errors';
import type { Clock } from './ports';

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'executed';

/** What must be identical between the held call and its re-send. */
export interface ApprovalBinding {
  readonly principal: string;
  readonly workflow: string;
  readonly connector: string;
  readonly operation: string;
  readonly argumentsHash: string;
  readonly policyVersion: string;
}

export interface ApprovalPreview {
  /** The exact upstream call that will run (no secrets: connectors never put them in a description). */
  readonly call: UpstreamCall;
  /** sha256 of the canonical JSON of `call`, so an approver can compare what they saw with what ran. */
  readonly sha256: string;
}

export interface ApprovalRecord extends ApprovalBinding {
  readonly id: string;
  readonly status: ApprovalStatus;
  readonly approverGroup: string;
  readonly preview: ApprovalPreview;
  /** Policy ids that held the call. */
  readonly reasons: readonly string[];
  readonly requestId: string;
  /** The agent's stated purpose of the call, as it gave it (recorded in the audit trail too). */
  readonly intent?: string;
  /** Names of parameter values looked up for the approver (config `nameLookup`), e.g. `{glCode: "Travel"}`. */
  readonly names?: Readonly<Record<string, string>>;
  /**
   * The documents the principal read through Airlock since {@link documentsSince}, with any token, before
   * the held call, as their audit records name them: what the agent saw when it decided to ask. Hashes
   * only, never the data.
   */
  readonly documents?: readonly RunDocument[];
  /** How many more documents were read than {@link documents} lists (the audit trail names them). */
  readonly documentsNotShown?: number;
  /**
   * Since when {@link documents} lists every read of the principal (every token and workflow). Absent on
   * approvals held before reads were kept per principal, whose list is one token's.
   */
  readonly documentsSince?: string;
  /** The document list could not be read: nobody knows from it what was read (never "nothing"). */
  readonly documentsUnavailable?: boolean;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly decidedBy?: string;
  readonly decidedAt?: string;
  readonly decisionReason?: string;
  readonly executedAt?: string;
  /** When the approver group was reminded that this approval is about to expire. */
  readonly remindedAt?: string;
}

/** A document a principal read: which operation returned it, its name, and the sha256 the audit record holds. */
export interface RunDocument {
  readonly connector: string;
  readonly operation: string;
  /** What the connector calls it: a file key, an HTTP method and path, a query's name. */
  readonly id: string;
  readonly sha256: string;
  readonly readAt: string;
  /**
   * The classification the read was decided on (its operation's), which decides who is shown {@link id}
   * ({@link documentsAsSeenBy}). Absent on a read noted before classifications were kept.
   */
  readonly classification?: string;
  /**
   * {@link id} with the personal data in it redacted (as a result is for a caller not cleared for `pii`),
   * noted when the read was (the connector function has the detectors); absent when the name holds none.
   */
  readonly idRedacted?: string;
}

/** Said in place of a document's name to someone not cleared for its classification. */
export function withheldDocumentName(classification: string | undefined): string {
  return `[withheld: ${classification ?? 'unclassified'} document]`;
}

/**
 * The approval as someone cleared for `cleared` may see it, treating a document's name as its content is
 * treated: the agent was cleared for what it read, the approver of its write may not be, and neither is
 * everyone a notice reaches. A name under a classification outside `cleared` (other than `pii`), or none
 * recorded, is withheld; a withheld document keeps its connector, operation, time and sha256, so the
 * reader still sees that, where and when it was read. A name that is shown has its personal data redacted
 * unless `cleared` holds `pii`, whatever its classification, as a result is for such a caller.
 */
export function documentsAsSeenBy<R extends { readonly documents?: readonly RunDocument[] }>(
  record: R,
  cleared: readonly string[],
): R {
  const documents = record.documents;
  if (!documents) return record;
  return {
    ...record,
    documents: documents.map(({ idRedacted, ...d }) => {
      const shown =
        d.classification !== undefined && (cleared.includes(d.classification) || d.classification === 'pii');
      if (!shown) return { ...d, id: withheldDocumentName(d.classification) };
      return cleared.includes('pii') || idRedacted === undefined ? d : { ...d, id: idRedacted };
    }),
  };
}

/**
 * The 202 body's `approval`: what the agent is shown. Its preview names the operation's method and
 * the parameters the agent sent, never where the call goes (the upstream's URL and host stay between
 * Airlock and the approvers); `sha256` is of the full call the approvers see.
 */
export interface PendingApproval {
  readonly id: string;
  readonly status: 'pending';
  readonly approverGroup: string;
  readonly expiresAt: string;
  readonly preview: { readonly call: AgentCallPreview; readonly sha256: string };
}

/** The upstream call as the agent may see it: without the internal URL and host. */
export type AgentCallPreview = Omit<UpstreamCall, 'url' | 'destinationHost'>;

/** How many approvals one listing page holds at most. */
export const MAX_APPROVALS_PAGE = 100;

/** Approvals table (DynamoDB; dynalite locally). */
export interface ApprovalStore {
  /** Stores a new approval; never overwrites. */
  create(record: ApprovalRecord): Promise<void>;
  get(id: string): Promise<ApprovalRecord | undefined>;
  /**
   * Approvals of one status, newest first, at most `limit`; with `after`, those that come after that
   * approval in the same order (the next page).
   */
  listByStatus(status: ApprovalStatus, limit: number, after?: ApprovalPosition): Promise<ApprovalRecord[]>;
  /**
   * Conditional update: applies `changes` only if the record's status is still `from`.
   * Returns false when it was not (someone else decided or executed it first).
   */
  transition(
    id: string,
    from: ApprovalStatus,
    changes: Partial<ApprovalRecord> & { status: ApprovalStatus },
  ): Promise<boolean>;
}

/** Where a listing stopped: the last approval of a page, by the listing's sort key. */
export interface ApprovalPosition {
  readonly createdAt: string;
  readonly id: string;
}

/** One page of a listing. */
export interface ApprovalPage {
  readonly approvals: ApprovalRecord[];
  /** Pass as `cursor` for the next page; absent on the last one. A page may hold fewer than asked. */
  readonly next?: string;
}

/** A decision checked against every rule and ready to be recorded, then committed. */
export interface PreparedDecision {
  readonly record: ApprovalRecord;
  readonly changes: Pick<ApprovalRecord, 'decidedBy' | 'decidedAt' | 'decisionReason'> & {
    readonly status: 'approved' | 'rejected';
  };
}

/** Tells the approver group that a call waits for them (SNS in AWS, the console locally). */
export interface ApprovalNotifier {
  notify(approval: ApprovalRecord): Promise<void>;
  /** Tells the requester what was decided (approved or rejected, by whom, why). */
  notifyDecision?(approval: ApprovalRecord): Promise<void>;
}

export interface ApprovalDeskDeps {
  readonly store: ApprovalStore;
  readonly notifier: ApprovalNotifier;
  readonly config: AirlockConfig;
  readonly clock: Clock;
  /** Reports a notification failure (the approval still exists and can be listed). */
  readonly onNotifyError?: (error: unknown) => void;
}

const APPROVAL_ID = /^apr_[0-9a-f]{32}$/;

export class ApprovalDesk {
  constructor(private readonly deps: ApprovalDeskDeps) {}

  /**
   * The approval that would hold a call, not stored yet: the caller records it first, then
   * {@link ApprovalDesk.hold}s it, so no approval exists that the audit trail does not name.
   */
  draft(
    input: ApprovalBinding & {
      approverGroup: string;
      preview: UpstreamCall;
      requestId: string;
      reasons: readonly string[];
      intent?: string;
      names?: Readonly<Record<string, string>>;
      documents?: readonly RunDocument[];
      documentsNotShown?: number;
      documentsSince?: string;
      documentsUnavailable?: boolean;
    },
  ): ApprovalRecord {
    const now = this.deps.clock.now();
    const expiresAt = new Date(now.getTime() + this.deps.config.approvals.expiryHours * 3_600_000);
    return {
      id: `apr_${randomUUID().replaceAll('-', '')}`,
      status: 'pending',
      principal: input.principal,
      workflow: input.workflow,
      connector: input.connector,
      operation: input.operation,
      argumentsHash: input.argumentsHash,
      policyVersion: input.policyVersion,
      approverGroup: input.approverGroup,
      preview: { call: input.preview, sha256: sha256Hex(canonicalJson(input.preview)) },
      reasons: [...input.reasons],
      requestId: input.requestId,
      ...(input.intent ? { intent: input.intent } : {}),
      ...(input.names && Object.keys(input.names).length > 0 ? { names: { ...input.names } } : {}),
      ...(input.documents && input.documents.length > 0
        ? { documents: input.documents.map((d) => ({ ...d })) }
        : {}),
      ...(input.documentsNotShown ? { documentsNotShown: input.documentsNotShown } : {}),
      ...(input.documentsSince ? { documentsSince: input.documentsSince } : {}),
      ...(input.documentsUnavailable ? { documentsUnavailable: true } : {}),
      createdAt: now.toISOString(),
      expiresAt: expiresAt.toISOString(),
    };
  }

  /** Stores a drafted approval as pending and notifies the approver group; returns the agent's view. */
  async hold(record: ApprovalRecord): Promise<PendingApproval> {
    await this.deps.store.create(record);
    try {
      await this.deps.notifier.notify(record);
    } catch (error) {
      this.deps.onNotifyError?.(error);
    }
    return {
      id: record.id,
      status: 'pending',
      approverGroup: record.approverGroup,
      expiresAt: record.expiresAt,
      preview: { call: agentPreviewOf(record.preview.call), sha256: record.preview.sha256 },
    };
  }

  /**
   * Reminds the approver group of each pending approval that expires within `withinHours` and was not
   * reminded yet, once: the reminder is marked first (a conditional update that still finds it
   * pending), then sent. Returns the approvals reminded. Reads at most `maxPages` pages of pending
   * approvals per run (newest first: the oldest, closest to expiry, are read last, so keep runs frequent).
   */
  async remindDue(withinHours: number, maxPages = 10): Promise<ApprovalRecord[]> {
    const now = this.deps.clock.now();
    const horizon = now.getTime() + withinHours * 3_600_000;
    const reminded: ApprovalRecord[] = [];
    let after: ApprovalPosition | undefined;
    for (let page = 0; page < maxPages; page += 1) {
      const records = await this.deps.store.listByStatus('pending', MAX_APPROVALS_PAGE, after);
      for (const record of records) {
        const expires = Date.parse(record.expiresAt);
        if (record.remindedAt || expires <= now.getTime() || expires > horizon) continue;
        const remindedAt = now.toISOString();
        if (!(await this.deps.store.transition(record.id, 'pending', { status: 'pending', remindedAt })))
          continue;
        const due = { ...record, remindedAt };
        try {
          await this.deps.notifier.notify(due);
          reminded.push(due);
        } catch (error) {
          this.deps.onNotifyError?.(error);
        }
      }
      const last = records.at(-1);
      if (records.length < MAX_APPROVALS_PAGE || !last) break;
      after = { createdAt: last.createdAt, id: last.id };
    }
    return reminded;
  }

  /** {@link ApprovalDesk.draft} and {@link ApprovalDesk.hold} in one step, with nothing recorded between. */
  async create(input: Parameters<ApprovalDesk['draft']>[0]): Promise<PendingApproval> {
    return this.hold(this.draft(input));
  }

  /**
   * Approvals the principal may decide (members of the approver group) and their own requests, newest
   * first, one page at a time. Pending and approved approvals that have expired are left out: they can
   * no longer be decided or run, and listing them as approved would say otherwise.
   * @throws AirlockError `invalid_request` for a cursor no listing returned
   */
  async listFor(
    principal: string,
    status: ApprovalStatus = 'pending',
    page: { readonly limit?: number; readonly cursor?: string } = {},
  ): Promise<ApprovalPage> {
    const limit = page.limit ?? MAX_APPROVALS_PAGE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_APPROVALS_PAGE) {
      throw new AirlockError(
        'invalid_request',
        `limit: expected a whole number from 1 to ${MAX_APPROVALS_PAGE}.`,
      );
    }
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    const groups = new Set(this.deps.config.principals[principal]?.groups ?? []);
    const records = await this.deps.store.listByStatus(status, limit, after);
    const now = this.deps.clock.now().getTime();
    const expires = status === 'pending' || status === 'approved';
    const last = records.at(-1);
    return {
      approvals: records
        .filter((r) => groups.has(r.approverGroup) || r.principal === principal)
        .filter((r) => !expires || Date.parse(r.expiresAt) > now)
        .map((r) => this.seenBy(principal, r)),
      ...(records.length === limit && last ? { next: encodeCursor(last) } : {}),
    };
  }

  /** One approval, if the principal is its requester or a member of its approver group. */
  async show(principal: string, id: string): Promise<ApprovalRecord> {
    const record = await this.load(id);
    const groups = this.deps.config.principals[principal]?.groups ?? [];
    if (record.principal !== principal && !groups.includes(record.approverGroup)) {
      throw new AirlockError(
        'forbidden',
        `Only members of "${record.approverGroup}" or the requester may see ${id}.`,
        {
          reasons: ['not-an-approver'],
        },
      );
    }
    return this.seenBy(principal, record);
  }

  /**
   * The record as `principal` may see it: the names of documents read under a classification it is not
   * cleared for are withheld ({@link documentsAsSeenBy}). Everything shown to a person goes through it.
   */
  seenBy(principal: string, record: ApprovalRecord): ApprovalRecord {
    const clearances = this.deps.config.principals[principal]?.clearances ?? [];
    return documentsAsSeenBy(record, clearedClassifications(clearances));
  }

  /**
   * Checks a decision against every rule, changing nothing: the caller records it, then
   * {@link ApprovalDesk.commitDecision}s it, so no approval changes status without a record. Refuses:
   * unknown id (404), the requester themself or a non-member (403), an expired approval (410), one
   * already decided (409).
   */
  async prepareDecision(input: {
    id: string;
    approver: string;
    decision: 'approve' | 'reject';
    reason: string;
  }): Promise<PreparedDecision> {
    const record = await this.load(input.id);
    const groups = this.deps.config.principals[input.approver]?.groups ?? [];
    if (record.principal === input.approver) {
      throw new AirlockError('forbidden', 'Separation of duties: nobody approves their own request.', {
        reasons: ['self-approval'],
      });
    }
    if (!groups.includes(record.approverGroup)) {
      throw new AirlockError(
        'forbidden',
        `Only members of the group "${record.approverGroup}" may decide this approval.`,
        { reasons: ['not-an-approver'] },
      );
    }
    if (record.status !== 'pending') {
      throw new AirlockError('conflict', `Approval ${record.id} was already ${record.status}.`);
    }
    const now = this.deps.clock.now();
    if (Date.parse(record.expiresAt) <= now.getTime()) {
      throw new AirlockError(
        'gone',
        `Approval ${record.id} expired at ${record.expiresAt}; the agent must ask again.`,
      );
    }
    return {
      record,
      changes: {
        status: input.decision === 'approve' ? 'approved' : 'rejected',
        decidedBy: input.approver,
        decidedAt: now.toISOString(),
        decisionReason: input.reason,
      },
    };
  }

  /**
   * Applies a prepared decision: pending to approved or rejected, if still pending.
   * @throws AirlockError `conflict` (409) when someone else decided it meanwhile (nothing changed)
   */
  async commitDecision(prepared: PreparedDecision): Promise<ApprovalRecord> {
    const { record, changes } = prepared;
    if (!(await this.deps.store.transition(record.id, 'pending', changes))) {
      throw new AirlockError('conflict', `Approval ${record.id} was decided by someone else meanwhile.`);
    }
    return { ...record, ...changes };
  }

  /** {@link ApprovalDesk.prepareDecision} and {@link ApprovalDesk.commitDecision}, with nothing recorded between. */
  async decide(input: Parameters<ApprovalDesk['prepareDecision']>[0]): Promise<ApprovalRecord> {
    return this.commitDecision(await this.prepareDecision(input));
  }

  /**
   * Checks, changing nothing, that a re-sent call may run under the approval: it is the held call and
   * the approval is approved and not expired. The caller records the write, then
   * {@link ApprovalDesk.claim}s the approval, so an approval is never used up without a record.
   * Throws 404 / 403 (naming the mismatch) / 409 (already used or still pending) / 410 (expired or rejected).
   */
  async checkConsumable(id: string, binding: ApprovalBinding): Promise<ApprovalRecord> {
    const record = await this.load(id);
    const mismatch = (Object.keys(binding) as (keyof ApprovalBinding)[]).filter(
      (k) => record[k] !== binding[k],
    );
    if (mismatch.length > 0) {
      throw new AirlockError(
        'forbidden',
        `This call differs from the one approved in ${id} (${mismatch.map(describeBindingField).join(', ')}). Re-send exactly the approved call, or make a new request.`,
        { reasons: mismatch.map((k) => `approval-mismatch:${k}`) },
      );
    }
    const now = this.deps.clock.now();
    if (record.status === 'rejected') {
      throw new AirlockError(
        'gone',
        `${record.decidedBy ?? 'An approver'} rejected this call${record.decisionReason ? `: "${record.decisionReason}"` : ''}. Tell the user; do not retry.`,
      );
    }
    if (record.status === 'executed') {
      throw new AirlockError(
        'conflict',
        `Approval ${id} was already used at ${record.executedAt}; each approval runs once.`,
      );
    }
    if (Date.parse(record.expiresAt) <= now.getTime()) {
      throw new AirlockError(
        'gone',
        `Approval ${id} expired at ${record.expiresAt}; make the request again.`,
      );
    }
    if (record.status === 'pending') {
      throw new AirlockError(
        'conflict',
        `Approval ${id} is still waiting for a member of "${record.approverGroup}". Retry after it is approved.`,
      );
    }
    return record;
  }

  /**
   * Claims a checked approval for execution, exactly once: approved to executed.
   * @throws AirlockError `conflict` (409) when another re-send claimed it first
   */
  async claim(record: ApprovalRecord): Promise<ApprovalRecord> {
    const executed = { status: 'executed' as const, executedAt: this.deps.clock.now().toISOString() };
    if (!(await this.deps.store.transition(record.id, 'approved', executed))) {
      throw new AirlockError('conflict', `Approval ${record.id} was already used; each approval runs once.`);
    }
    return { ...record, ...executed };
  }

  /** {@link ApprovalDesk.checkConsumable} and {@link ApprovalDesk.claim}, with nothing recorded between. */
  async consume(id: string, binding: ApprovalBinding): Promise<ApprovalRecord> {
    return this.claim(await this.checkConsumable(id, binding));
  }

  private async load(id: string): Promise<ApprovalRecord> {
    if (!APPROVAL_ID.test(id)) {
      throw new AirlockError(
        'not_found',
        `No approval "${id.slice(0, 80)}". Approval ids look like apr_… (32 hex digits).`,
      );
    }
    const record = await this.deps.store.get(id);
    if (!record) throw new AirlockError('not_found', `No approval ${id}.`);
    return record;
  }
}

function describeBindingField(field: keyof ApprovalBinding): string {
  return field === 'argumentsHash'
    ? 'the arguments changed'
    : field === 'policyVersion'
      ? 'the policies changed since'
      : `a different ${field}`;
}

/** The upstream call as the agent is shown it: the method and its own parameters, not where it goes. */
export function agentPreviewOf(call: UpstreamCall): AgentCallPreview {
  const { url: _url, destinationHost: _host, ...rest } = call;
  return rest;
}

const CURSOR_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

function encodeCursor(record: ApprovalPosition): string {
  return Buffer.from(JSON.stringify([record.createdAt, record.id]), 'utf8').toString('base64url');
}

/** A cursor a listing returned; anything else is refused before it reaches the store. */
function decodeCursor(cursor: string): ApprovalPosition {
  let parsed: unknown;
  try {
    parsed = cursor.length <= 200 ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined;
  } catch {
    parsed = undefined;
  }
  if (
    Array.isArray(parsed) &&
    parsed.length === 2 &&
    typeof parsed[0] === 'string' &&
    CURSOR_ISO.test(parsed[0]) &&
    typeof parsed[1] === 'string' &&
    APPROVAL_ID.test(parsed[1])
  ) {
    return { createdAt: parsed[0], id: parsed[1] };
  }
  throw new AirlockError('invalid_request', 'cursor: pass the "next" value a listing returned, unchanged.');
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
