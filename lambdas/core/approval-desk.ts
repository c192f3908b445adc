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
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly decidedBy?: string;
  readonly decidedAt?: string;
  readonly decisionReason?: string;
  readonly executedAt?: string;
}

/** The 202 body's `approval`. */
export interface PendingApproval {
  readonly id: string;
  readonly status: 'pending';
  readonly approverGroup: string;
  readonly expiresAt: string;
  readonly preview: ApprovalPreview;
}

/** Approvals table (DynamoDB; dynalite locally). */
export interface ApprovalStore {
  /** Stores a new approval; never overwrites. */
  create(record: ApprovalRecord): Promise<void>;
  get(id: string): Promise<ApprovalRecord | undefined>;
  listByStatus(status: ApprovalStatus, limit: number): Promise<ApprovalRecord[]>;
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

/** Tells the approver group that a call waits for them (SNS in AWS, the console locally). */
export interface ApprovalNotifier {
  notify(approval: ApprovalRecord): Promise<void>;
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

  /** Holds a call for a human: stores it as pending and notifies the approver group. */
  async create(
    input: ApprovalBinding & {
      approverGroup: string;
      preview: UpstreamCall;
      requestId: string;
      reasons: readonly string[];
    },
  ): Promise<PendingApproval> {
    const now = this.deps.clock.now();
    const expiresAt = new Date(now.getTime() + this.deps.config.approvals.expiryHours * 3_600_000);
    const record: ApprovalRecord = {
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
      createdAt: now.toISOString(),
      expiresAt: expiresAt.toISOString(),
    };
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
      preview: record.preview,
    };
  }

  /** Approvals the principal may decide (members of the approver group), newest first. */
  async listFor(principal: string, status: ApprovalStatus = 'pending'): Promise<ApprovalRecord[]> {
    const groups = new Set(this.deps.config.principals[principal]?.groups ?? []);
    const records = await this.deps.store.listByStatus(status, 100);
    const now = this.deps.clock.now().getTime();
    return records
      .filter((r) => groups.has(r.approverGroup) || r.principal === principal)
      .filter((r) => status !== 'pending' || Date.parse(r.expiresAt) > now);
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
    return record;
  }

  /**
   * Approves or rejects. Refuses: unknown id (404), the requester themself or a non-member (403),
   * an expired approval (410), one already decided (409).
   */
  async decide(input: {
    id: string;
    approver: string;
    decision: 'approve' | 'reject';
    reason: string;
  }): Promise<ApprovalRecord> {
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
    const changes = {
      status: input.decision === 'approve' ? ('approved' as const) : ('rejected' as const),
      decidedBy: input.approver,
      decidedAt: now.toISOString(),
      decisionReason: input.reason,
    };
    if (!(await this.deps.store.transition(record.id, 'pending', changes))) {
      throw new AirlockError('conflict', `Approval ${record.id} was decided by someone else meanwhile.`);
    }
    return { ...record, ...changes };
  }

  /**
   * Claims an approved approval for execution, exactly once, if the re-sent call is the held one.
   * Throws 404 / 403 (naming the mismatch) / 409 (already used or still pending) / 410 (expired or rejected).
   */
  async consume(id: string, binding: ApprovalBinding): Promise<ApprovalRecord> {
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
    const executed = { status: 'executed' as const, executedAt: now.toISOString() };
    if (!(await this.deps.store.transition(id, 'approved', executed))) {
      throw new AirlockError('conflict', `Approval ${id} was already used; each approval runs once.`);
    }
    return { ...record, ...executed };
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

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
