/**
 * The connector proxy: every call an agent makes to an enterprise system goes through here, in stages.
 *
 * The caller arrives proven by its entry point's Authenticator (token, binding, revocation, kill
 * switch). Then: **prepare** (the operation is known, in the workflow and the token's scopes; the
 * parameters are valid and within the token's `resource`; the exact upstream call is described) →
 * **limit** (rate limits, spend cap) → **authorize** (the principal's daily amount taken, then Cedar:
 * allow, deny, or approval required) → **hold** or **check** an approval → **act** (the write's
 * record, the approval claimed, upstream) → **filter** (DLP) → audit and metrics. The REST route and
 * the MCP endpoint both call {@link ConnectorProxy.call}: one code path.
 *
 * Audit: a read is answered only after its record (with the sha256 of every document returned) is
 * committed; a write is recorded before it is executed upstream and again when it completes, so
 * nothing is executed without a record. A held call is recorded before its approval is stored, and a
 * re-sent call's record is committed before its approval is used up, so an audit outage neither
 * creates an approval the trail does not name nor burns one without running. A ledger failure refuses
 * the call (see call-record.ts); every other refusal, a dependency's included, is recorded.
 */

import { createHash } from 'node:crypto';
import type { ParameterConfig } from '../../lib/config/operation-schema';
import type { AirlockConfig, OperationConfig } from '../../lib/config/schema';
import { clearedClassifications } from '../../lib/contracts/classifications';
import { MAX_INTENT_LENGTH } from '../../lib/contracts/limits';
import { TOOL_DEFINITION_CHANGED_REASON } from '../../lib/contracts/metrics';
import type { Connector, ConnectorResult, UpstreamCall } from '../connectors/connector';
import type { ParameterValues } from '../connectors/operation-parameters';
import type { ApprovalDesk, ApprovalRecord, PendingApproval, RunDocument } from './approval-desk';
import type { AuditAppender } from './audit-ledger';
import { CallRecord } from './call-record';
import type { Caller } from './caller';
import { canonicalJson } from './canonical-json';
import type { DailyAmounts, ReservedAmount } from './daily-amounts';
import { type DataPolicyContext, deriveDataPolicyContext } from './dlp/data-policy-context';
import { personalDataInRequest } from './dlp/outgoing-scan';
import { scanConnectorResult } from './dlp/result-scanner';
import { AirlockError, DependencyError } from './errors';
import { type AvailableOperation, OperationCatalog } from './operation-catalog';
import { redactPii } from './pii-redactor';
import type { PolicyDecision, PolicyEngine } from './policy-engine';
import type { Clock } from './ports';
import type { RateLimiter } from './rate-limiter';
import { joinReads, type ReadWindows, type RunReadLog, readWindows } from './run-read-log';
import { isShadowRefusal, recordShadowDecision } from './shadow-record';
import type { SpendCap } from './spend-cap';
import type { UsageMeter } from './usage-meter';

export interface ConnectorProxyDeps {
  readonly config: AirlockConfig;
  readonly connectors: ReadonlyMap<string, Connector>;
  readonly policy: PolicyEngine;
  readonly ledger: AuditAppender;
  readonly approvals: ApprovalDesk;
  readonly rateLimiter: RateLimiter;
  readonly meter: UsageMeter;
  /** Daily spend cap per workflow (large-batch throttling). @default - no cap */
  readonly spendCap?: SpendCap;
  /**
   * Each principal's amounts of the day (split entries held once they add up past the threshold).
   * @default - no daily total in the policy context
   */
  readonly dailyAmounts?: DailyAmounts;
  /**
   * What each principal read recently (every token), for the approver of the principal's held write.
   * @default - approvals show no documents
   */
  readonly runReads?: RunReadLog;
  /** Reports a failure to note or list a run's documents (the call goes on; the audit record has the hashes). */
  readonly onRunReadsError?: (error: unknown) => void;
  readonly clock: Clock;
}

export interface ConnectorCall {
  readonly connector: string;
  readonly operation: string;
  /** The operation's parameters (the REST body without `intent`, or the MCP tool arguments). */
  readonly params: unknown;
  /** Why the agent makes the call, in its own words; recorded in the audit, never trusted. */
  readonly intent?: string;
  /** The id of an approval this call re-sends (REST `Airlock-Approval` header, MCP `approvalId`). */
  readonly approvalId?: string;
  readonly requestId: string;
}

export type ConnectorOutcome =
  | { readonly status: 'completed'; readonly result: unknown; readonly redactions: number }
  | { readonly status: 'pending_approval'; readonly approval: PendingApproval };

/** A call whose operation, parameters and exact upstream call are known. */
interface PreparedCall {
  readonly connector: Connector;
  readonly op: OperationConfig;
  readonly params: ParameterValues;
  readonly upstreamCall: UpstreamCall;
  /** sha256 of the canonical call: what an approval is bound to and every record names. */
  readonly argumentsHash: string;
}

type MeterOutcome = 'allowed' | 'denied' | 'approval_requested' | 'failed' | 'refused';

/** A name lookup for the approver never holds a call up longer than this. */
const NAME_LOOKUP_TIMEOUT_MS = 3000;

export class ConnectorProxy {
  private readonly catalog: OperationCatalog;

  /** How long a read window is: the longest token lifetime of any workflow (see {@link readWindows}). */
  private readonly readWindowMinutes: number;

  constructor(private readonly deps: ConnectorProxyDeps) {
    this.catalog = new OperationCatalog(deps);
    this.readWindowMinutes = Math.max(
      1,
      ...Object.values(deps.config.workflows).map((w) => w.maxTokenLifetimeMinutes),
    );
  }

  /** The operations the caller's scopes, its workflow and the policy allow (approval-gated ones included). */
  availableOperations(caller: Caller): AvailableOperation[] {
    return this.catalog.available(caller);
  }

  /**
   * The available operations as a tool listing shows them: those whose upstream definition changed
   * since it was pinned are kept and marked (a call to one is refused), so the agent and the person
   * see why a tool stopped working. A connector that cannot tell (its upstream down) marks nothing:
   * the call checks again.
   */
  async listedOperations(caller: Caller): Promise<AvailableOperation[]> {
    const available = this.catalog.available(caller);
    const names = [...new Set(available.map((op) => op.connector))];
    const changed = new Map<string, ReadonlySet<string>>();
    await Promise.all(
      names.map(async (name) => {
        const connector = this.deps.connectors.get(name);
        if (!connector?.changedOperations) return;
        try {
          changed.set(name, await connector.changedOperations(undefined, caller.principal));
        } catch {
          // Listed unmarked; the call itself refuses a changed tool.
        }
      }),
    );
    return available.map((op) =>
      changed.get(op.connector)?.has(op.operation) ? { ...op, changedUpstream: true } : op,
    );
  }

  /** Runs one call for an authenticated caller. Throws {@link AirlockError} for every refusal, after recording it. */
  async call(caller: Caller, call: ConnectorCall): Promise<ConnectorOutcome> {
    const started = performance.now();
    const record = new CallRecord(this.deps.ledger, caller, call, this.catalog.isKnown(call));
    // The shared counters this call wrote (the spend cap's, the daily amount's): DynamoDB writes too.
    // ...and the shadow policies' record, when they would have decided otherwise.
    const counted = {
      spend: 0,
      amount: undefined as ReservedAmount | undefined,
      shadowRecords: 0,
      shadowRefusals: 0,
      // 1 when the call is refused because its upstream tool changed since it was pinned (alarmed).
      toolDefinitionChanges: 0,
      // Read-log writes or lookups that failed: an approver shown less than the agent read (alarmed).
      readLogFailures: 0,
    };
    const meter = (
      outcome: MeterOutcome,
      writes: number,
      bytesOut = 0,
      secretReads = 0,
      s3Requests?: ConnectorResult['s3Requests'],
    ) =>
      this.meter(caller, record.names, outcome, {
        started,
        writes: writes + counted.spend + (counted.amount?.writes ?? 0) + counted.shadowRecords,
        bytesOut,
        secretReads,
        shadowRefusals: counted.shadowRefusals,
        toolDefinitionChanges: counted.toolDefinitionChanges,
        readLogFailures: counted.readLogFailures,
        s3Requests,
      });
    const readLogFailed = () => {
      counted.readLogFailures += 1;
    };
    // The call's amount, while it counts in the principal's total of the day without having run.
    let unspent: ReservedAmount | undefined;
    try {
      record.assertRecordableIntent();
      const prepared = await this.prepare(caller, call);
      this.limitRate(caller);
      if (this.deps.spendCap) {
        counted.spend = 1;
        await this.deps.spendCap.check(caller.workflow);
      }
      const data = await this.dataContext(caller, call, prepared);
      counted.amount = unspent = data.reserved;
      const decision = await this.authorize(caller, call, prepared, data.context, record, counted);
      if (decision.decision === 'approval_required' && !call.approvalId) {
        const approval = await this.hold(caller, call, prepared, decision, record, readLogFailed);
        await unspent?.release();
        // The audit record and the approval item.
        meter('approval_requested', 2);
        return { status: 'pending_approval', approval };
      }
      const approval = call.approvalId ? await this.checkApproval(caller, call, prepared) : undefined;
      return await this.act(call, prepared, decision, record, caller, approval, {
        readLogFailed,
        upstreamStarted: () => {
          // Past this point the call may have run: its amount stays counted.
          unspent = undefined;
        },
        meter: (outcome, writes, bytesOut, reads, s3Requests) =>
          meter(outcome, writes + (approval ? 1 : 0), bytesOut, reads, s3Requests),
      });
    } catch (error) {
      await unspent?.release();
      const refusal = record.settled ? undefined : refusalOf(error);
      if (refusal) {
        const recorded = await record.refused(refusal);
        if (refusal.reasons?.includes(TOOL_DEFINITION_CHANGED_REASON)) counted.toolDefinitionChanges = 1;
        meter(refusal.code === 'forbidden' ? 'denied' : 'refused', recorded ? 1 : 0);
      }
      throw error;
    }
  }

  /** The operation, its valid parameters and the exact upstream call; touches nothing. */
  private async prepare(caller: Caller, call: ConnectorCall): Promise<PreparedCall> {
    const { connector, op } = this.catalog.resolve(caller, call);
    // Only a kind with code to load first costs an await.
    const loading = connector.loadParser?.();
    if (loading) await loading;
    const params = connector.parseParameters(call.operation, call.params);
    if (caller.resource !== undefined) {
      // The token's signed `resource` narrows it; each kind says what lies within one.
      const problem = connector.resourceProblem(call.operation, params, caller.resource);
      if (problem !== undefined) {
        throw new AirlockError('forbidden', problem, { reasons: ['outside-token-resource'] });
      }
    }
    return {
      connector,
      op,
      params,
      upstreamCall: connector.describe(call.operation, params),
      argumentsHash: sha256Hex(
        canonicalJson({ connector: call.connector, operation: call.operation, params }),
      ),
    };
  }

  /** Rate limits per token and per workflow (this environment's count; API Gateway and WAF bound the total). */
  private limitRate(caller: Caller): void {
    const workflow = this.deps.config.workflows[caller.workflow];
    this.deps.rateLimiter.take(
      `token:${caller.tokenId}`,
      workflow.rateLimits.perTokenPerMinute,
      'this token',
    );
    this.deps.rateLimiter.take(
      `workflow:${caller.workflow}`,
      workflow.rateLimits.perWorkflowPerMinute,
      `workflow "${caller.workflow}"`,
    );
  }

  /**
   * The data-protection part of the call's Cedar context. A write that moves an amount (and is not
   * the re-send of an approved call) is first taken into the principal's total of the day, which
   * Cedar reads; the caller gives it back when the call does not run.
   */
  private async dataContext(
    caller: Caller,
    call: ConnectorCall,
    prepared: PreparedCall,
  ): Promise<{ context: DataPolicyContext; reserved?: ReservedAmount }> {
    const { connector, op, params, upstreamCall } = prepared;
    const { amount, currency, format } = connector.policyContext(call.operation, params);
    const workflow = this.deps.config.workflows[caller.workflow];
    const input = { amount, currency, format, destinationHost: upstreamCall.destinationHost };
    const outgoing = op.access === 'read' ? [] : await this.outgoingPersonalData(op, params);
    const withOutgoing = (derived: DataPolicyContext): DataPolicyContext =>
      outgoing.length > 0 ? { ...derived, requestPersonalData: outgoing } : derived;
    const context = withOutgoing(deriveDataPolicyContext(input, workflow));
    if (
      !this.deps.dailyAmounts ||
      context.amountCents === undefined ||
      op.access === 'read' ||
      call.approvalId
    ) {
      return { context };
    }
    const reserved = await this.deps.dailyAmounts.reserve({
      connector: call.connector,
      principal: caller.principal,
      currency: context.currency ?? '-',
      cents: context.amountCents,
    });
    return {
      context: withOutgoing(
        deriveDataPolicyContext({ ...input, amountEarlierTodayCents: reserved.earlierTodayCents }, workflow),
      ),
      reserved,
    };
  }

  /**
   * The kinds of personal data in what a write or an export sends, outside the parameters the config
   * declares as meant to carry it; a value too deeply nested to scan is refused (fail closed).
   */
  private async outgoingPersonalData(op: OperationConfig, params: ParameterValues): Promise<string[]> {
    const exempt = new Set(
      Object.entries(declaredParameters(op))
        .filter(([, parameter]) => parameter.personalData === true)
        .map(([name]) => name),
    );
    try {
      return await personalDataInRequest(params, {
        exempt,
        phoneRegions: this.deps.config.dataProtection.phoneRegions,
      });
    } catch (error) {
      if (error instanceof RangeError) {
        throw new AirlockError(
          'invalid_request',
          'The parameters are nested too deeply to be checked for personal data.',
        );
      }
      throw error;
    }
  }

  /**
   * Cedar decides; a denial throws `forbidden` with the deciding policies. What the shadow policies
   * would have decided otherwise is recorded first, and changes nothing.
   */
  private async authorize(
    caller: Caller,
    call: ConnectorCall,
    prepared: PreparedCall,
    dataContext: DataPolicyContext,
    record: CallRecord,
    counted: { shadowRecords: number; shadowRefusals: number },
  ): Promise<PolicyDecision> {
    const { connector, op, params } = prepared;
    const { resourceId } = connector.policyContext(call.operation, params);
    const decision = this.deps.policy.decide({
      principal: caller.principal,
      action: op.action,
      resource: {
        kind: 'resource',
        connector: call.connector,
        id: resourceId,
        classification: op.classification,
      },
      workflow: caller.workflow,
      context: {
        approval: call.approvalId ? 'approved' : 'none',
        scope: [...caller.scopes],
        channel: caller.channel,
        ...dataContext,
      },
    });
    if (decision.shadow) {
      if (await recordShadowDecision(this.deps.ledger, record.base, decision)) counted.shadowRecords = 1;
      if (isShadowRefusal(decision)) counted.shadowRefusals = 1;
    }
    if (decision.decision === 'deny') {
      throw new AirlockError(
        'forbidden',
        `Policy does not allow ${call.connector}/${call.operation} for ${caller.principal} in workflow "${caller.workflow}".`,
        { reasons: decision.reasons },
      );
    }
    return decision;
  }

  /**
   * A call a person must approve: the approval (bound to the exact call) is recorded, then stored, so
   * no approval exists that the trail does not name.
   */
  private async hold(
    caller: Caller,
    call: ConnectorCall,
    prepared: PreparedCall,
    decision: PolicyDecision,
    record: CallRecord,
    /** The list of documents read before could not be looked up (counted for the call's metrics). */
    readLogFailed: () => void,
  ): Promise<PendingApproval> {
    const approval = this.deps.approvals.draft({
      principal: caller.principal,
      workflow: caller.workflow,
      connector: call.connector,
      operation: call.operation,
      argumentsHash: prepared.argumentsHash,
      policyVersion: this.deps.policy.versionHash,
      approverGroup: decision.approverGroup ?? 'unknown',
      preview: prepared.upstreamCall,
      requestId: call.requestId,
      reasons: decision.reasons,
      ...(call.intent ? { intent: call.intent.slice(0, MAX_INTENT_LENGTH) } : {}),
      names: await this.lookUpNames(prepared, call.requestId),
      ...(await this.documentsReadBy(caller, readLogFailed)),
    });
    await record.held(decision, {
      approvalId: approval.id,
      argumentsHash: prepared.argumentsHash,
      approverGroup: approval.approverGroup,
    });
    return this.deps.approvals.hold(approval);
  }

  /**
   * What the caller's principal read before this call, with this token or any other still valid (see
   * {@link readWindows}). Best effort: a failure says the list is unknown, and is reported to `failed`.
   */
  private async documentsReadBy(
    caller: Caller,
    failed: () => void,
  ): Promise<{
    documents: RunDocument[];
    documentsNotShown: number;
    documentsSince?: string;
    documentsUnavailable?: boolean;
  }> {
    if (!this.deps.runReads) return { documents: [], documentsNotShown: 0 };
    const windows = this.readWindowsOf(caller);
    try {
      const [earlier, later] = await Promise.all([
        this.deps.runReads.list(windows.previous),
        this.deps.runReads.list(windows.current),
      ]);
      const reads = joinReads(earlier, later);
      return {
        documents: reads.documents,
        documentsNotShown: reads.notShown,
        documentsSince: windows.since.toISOString(),
      };
    } catch (error) {
      this.deps.onRunReadsError?.(error);
      failed();
      // The approver is told the list is unknown, never that the principal read nothing.
      return { documents: [], documentsNotShown: 0, documentsUnavailable: true };
    }
  }

  /**
   * Notes what a read returned under the caller's principal, in the current read window. Best effort: the
   * audit record just written holds the hashes anyway; a failure is reported to `failed` (and metered, so
   * that an approver shown less than the agent read is alarmed on).
   */
  private async noteRunReads(
    caller: Caller,
    call: ConnectorCall,
    read: readonly ReadDocument[],
    failed: () => void,
  ) {
    if (!this.deps.runReads || read.length === 0) return;
    const now = this.deps.clock.now();
    const windows = this.readWindowsOf(caller);
    try {
      await this.deps.runReads.append(
        windows.current,
        runDocumentsOf(call, read, now, this.deps.config.dataProtection.phoneRegions),
        windows.keepUntil,
      );
    } catch (error) {
      this.deps.onRunReadsError?.(error);
      failed();
    }
  }

  private readWindowsOf(caller: Caller): ReadWindows {
    return readWindows(caller.principal, this.readWindowMinutes, this.deps.clock.now());
  }

  /**
   * The names an approver reads beside raw values (config `nameLookup`: a GL code's account name), each
   * from a read of the same connector. Best effort: a lookup that fails or finds nothing names nothing.
   */
  private async lookUpNames(prepared: PreparedCall, requestId: string): Promise<Record<string, string>> {
    const names: Record<string, string> = {};
    for (const [parameter, config] of Object.entries(declaredParameters(prepared.op))) {
      const lookup = config.nameLookup;
      const value = prepared.params[parameter];
      if (!lookup || value === undefined || value === null) continue;
      try {
        const { result } = await prepared.connector.invoke(
          lookup.operation,
          { [lookup.parameter]: String(value) },
          { requestId, signal: AbortSignal.timeout(NAME_LOOKUP_TIMEOUT_MS) },
        );
        const list = (result as Record<string, unknown> | null)?.[lookup.list];
        const match = Array.isArray(list)
          ? list.find((item) => String((item as Record<string, unknown>)?.[lookup.key]) === String(value))
          : undefined;
        const label = (match as Record<string, unknown> | undefined)?.[lookup.label];
        if (typeof label === 'string' && label.length > 0) names[parameter] = label.slice(0, 200);
      } catch {
        // The approver sees the raw value; the call is held either way.
      }
    }
    return names;
  }

  /** The approval a re-sent call names, checked (bound to this exact call, approved, not expired); not used up yet. */
  private async checkApproval(
    caller: Caller,
    call: ConnectorCall,
    prepared: PreparedCall,
  ): Promise<ApprovalRecord> {
    return this.deps.approvals.checkConsumable(call.approvalId ?? '', {
      principal: caller.principal,
      workflow: caller.workflow,
      connector: call.connector,
      operation: call.operation,
      argumentsHash: prepared.argumentsHash,
      policyVersion: this.deps.policy.versionHash,
    });
  }

  /**
   * Runs the call upstream, filters what comes back, and records it. A write is recorded first; an
   * approved call's approval is used up only after that record is committed, just before it runs.
   */
  private async act(
    call: ConnectorCall,
    prepared: PreparedCall,
    decision: PolicyDecision,
    record: CallRecord,
    caller: Caller,
    approval: ApprovalRecord | undefined,
    hooks: {
      upstreamStarted(): void;
      /** A read could not be noted in the read log (counted for the call's metrics). */
      readLogFailed(): void;
      meter(
        outcome: MeterOutcome,
        writes: number,
        bytesOut?: number,
        secretReads?: number,
        s3Requests?: ConnectorResult['s3Requests'],
      ): void;
    },
  ): Promise<ConnectorOutcome> {
    const { connector, op, params, argumentsHash } = prepared;
    const { meter } = hooks;
    const isWrite = op.access !== 'read';
    if (isWrite || approval) {
      await record.beforeUpstream(decision, { argumentsHash, approvalId: approval?.id });
    }
    if (approval) await this.deps.approvals.claim(approval);
    let upstream: Awaited<ReturnType<Connector['invoke']>>;
    try {
      hooks.upstreamStarted();
      upstream = await connector.invoke(call.operation, params, {
        requestId: call.requestId,
        subject: caller.principal,
        clearedFor: clearedClassifications(this.deps.config.principals[caller.principal]?.clearances ?? []),
      });
    } catch (error) {
      // A refusal the connector made itself (a tool changed upstream, a result too large) is recorded
      // once, as a refusal, by call(); anything else is the upstream's or a dependency's failure.
      if (!(error instanceof AirlockError) || error.code === 'upstream_error') {
        await record.failed(error, argumentsHash);
        meter('failed', isWrite ? 2 : 1);
      }
      throw error;
    }
    const cleared = this.deps.config.principals[caller.principal]?.clearances.includes('pii') ?? false;
    const filtered = cleared
      ? { value: upstream.result, redactions: 0, withheld: 0 }
      : await scanConnectorResult(upstream.result, {
          phoneRegions: this.deps.config.dataProtection.phoneRegions,
        });
    const hashes = upstream.documents.map((d) => ({
      id: d.id,
      sha256: sha256Hex(d.bytes),
      classification: d.classification ?? op.classification,
    }));
    await record.completed(
      isWrite,
      decision,
      hashes.map((d) => d.sha256),
      {
        argumentsHash,
        redactions: filtered.redactions,
        withheld: filtered.withheld + (upstream.withheld ?? 0),
        bytesOut: upstream.bytesOut,
      },
    );
    if (!isWrite) await this.noteRunReads(caller, call, hashes, hooks.readLogFailed);
    meter('allowed', isWrite ? 2 : 1, upstream.bytesOut, upstream.secretReads ?? 0, upstream.s3Requests);
    return { status: 'completed', result: filtered.value, redactions: filtered.redactions };
  }

  private meter(
    caller: Caller,
    names: { connector?: string; operation?: string },
    outcome: MeterOutcome,
    usage: {
      started: number;
      writes: number;
      bytesOut: number;
      secretReads: number;
      shadowRefusals: number;
      toolDefinitionChanges: number;
      readLogFailures: number;
      s3Requests?: ConnectorResult['s3Requests'];
    },
  ): void {
    this.deps.meter.record({
      runId: caller.tokenId,
      workflow: caller.workflow,
      connector: names.connector,
      operation: names.operation,
      outcome,
      bytesOut: usage.bytesOut,
      durationMs: performance.now() - usage.started,
      usage: {
        apiRequests: 1,
        kmsRequests: 0,
        // What the connector read (its token request's secret), not a guess per call: the value is cached.
        secretsManagerCalls: usage.secretReads,
        dynamodbWrites: usage.writes,
        s3Tier1Requests: usage.s3Requests?.tier1 ?? 0,
        s3Tier2Requests: usage.s3Requests?.tier2 ?? 0,
      },
      timestamp: this.deps.clock.now(),
      ...(usage.shadowRefusals > 0 ? { shadowRefusals: usage.shadowRefusals } : {}),
      ...(usage.toolDefinitionChanges > 0 ? { toolDefinitionChanges: usage.toolDefinitionChanges } : {}),
      ...(usage.readLogFailures > 0 ? { readLogFailures: usage.readLogFailures } : {}),
    });
  }
}

/**
 * The refusal a failed call is recorded with: its own AirlockError, or for a dependency that could not
 * answer (the caller gets 503) one naming the dependency. None for an upstream failure (recorded as
 * `connector_failed` already) or an audit-ledger failure (a record of it could not be written).
 */
function refusalOf(error: unknown): AirlockError | undefined {
  if (error instanceof AirlockError) return error.code === 'upstream_error' ? undefined : error;
  if (error instanceof DependencyError && !/^audit[ -]ledger$/.test(error.dependency)) {
    return new AirlockError('unavailable', error.message, {
      reasons: [`dependency:${error.dependency.replaceAll(' ', '-')}`],
    });
  }
  return undefined;
}

/** A document a read returned: its name, hash and classification (its own, else its operation's). */
export interface ReadDocument {
  readonly id: string;
  readonly sha256: string;
  readonly classification: string;
}

/** Longest document name kept on the read list. */
const MAX_RUN_DOCUMENT_NAME = 300;

/**
 * What the read list keeps of a read's documents. Each name is kept with its classification, and with its
 * personal data redacted where it holds any (`idRedacted`), which is what someone not cleared for `pii` is
 * shown (documentsAsSeenBy): the approvals function carries no detectors, so it is redacted here, before
 * the name is cut to its length (a cut could split an address the detectors would otherwise find).
 */
export function runDocumentsOf(
  call: Pick<ConnectorCall, 'connector' | 'operation'>,
  read: readonly ReadDocument[],
  now: Date,
  phoneRegions?: readonly string[],
): RunDocument[] {
  return read.map(({ id, sha256, classification }) => {
    const redacted = redactPii(id, phoneRegions === undefined ? {} : { phoneRegions });
    return {
      connector: call.connector,
      operation: call.operation,
      id: id.slice(0, MAX_RUN_DOCUMENT_NAME),
      sha256,
      readAt: now.toISOString(),
      classification,
      ...(redacted.redactions > 0 ? { idRedacted: redacted.value.slice(0, MAX_RUN_DOCUMENT_NAME) } : {}),
    };
  });
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The parameters the config declares for an operation; none for an upstream MCP server's tool, whose
 * schema is the pinned one (so no parameter of it is exempt from the outgoing scan or named for approvers).
 */
function declaredParameters(op: OperationConfig): Readonly<Record<string, ParameterConfig>> {
  return 'parameters' in op ? op.parameters : {};
}
