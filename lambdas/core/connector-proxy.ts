/**
 * The connector proxy: every call an agent makes to an enterprise system goes through here.
 *
 * The caller arrives proven by its entry point's Authenticator (token, binding, revocation, kill
 * switch). Then: connector and operation known and in the workflow → scope →
 * parameters → rate limits → Cedar (allow / deny / approval required) → upstream → DLP → audit →
 * metrics. The REST route and the MCP endpoint both call {@link ConnectorProxy.call}: one code path.
 *
 * Audit: a read is answered only after its record (with the sha256 of every document returned) is
 * committed; a write is recorded before it is executed upstream and again when it completes, so
 * nothing is executed without a record. A ledger failure refuses the call.
 */
import { createHash } from 'node:crypto';
import type { AirlockConfig, OperationConfig } from '../../lib/config/schema';
import type { Connector, UpstreamCall } from '../connectors/connector';
import type { ConnectorPolicyContext } from '../connectors/policy-context';
import type { ApprovalDesk, PendingApproval } from './approval-desk';
import type { AuditAppender } from './audit-ledger';
import { type AuditEvent, assertValidAuditEvent } from './audit-record';
import type { Caller } from './caller';
import { canonicalJson } from './canonical-json';
import { deriveDataPolicyContext } from './dlp/data-policy-context';
import { scanConnectorResult } from './dlp/result-scanner';
import { AirlockError } from './errors';
import type { PolicyDecision, PolicyEngine } from './policy-engine';
import type { Clock } from './ports';
import type { RateLimiter } from './rate-limiter';
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

/** An operation the caller may call, as MCP `tools/list` shows it. */
export interface AvailableOperation {
  readonly connector: string;
  readonly operation: string;
  readonly config: OperationConfig;
  readonly inputSchema: ReturnType<Connector['inputSchema']>;
}

const MAX_INTENT_LENGTH = 1000;

export class ConnectorProxy {
  constructor(private readonly deps: ConnectorProxyDeps) {}

  /** The operations the caller's scopes, its workflow and the policy allow (approval-gated ones included). */
  availableOperations(caller: Caller): AvailableOperation[] {
    const workflow = this.deps.config.workflows[caller.workflow];
    if (!workflow) return [];
    const available: AvailableOperation[] = [];
    for (const [connectorName, operations] of Object.entries(workflow.connectors)) {
      const connector = this.deps.connectors.get(connectorName);
      const connectorConfig = this.deps.config.connectors[connectorName];
      if (!connector || !connectorConfig) continue;
      for (const operation of operations) {
        const op: OperationConfig | undefined = connectorConfig.operations[operation];
        if (!op || !caller.scopes.has(`${connectorName}:${op.access}`)) continue;
        const decision = this.deps.policy.decide({
          principal: caller.principal,
          action: op.action,
          resource: {
            kind: 'resource',
            connector: connectorName,
            id: operation,
            classification: op.classification,
          },
          workflow: caller.workflow,
          context: { approval: 'none', scope: [...caller.scopes] },
        });
        if (decision.decision === 'deny') continue;
        available.push({
          connector: connectorName,
          operation,
          config: op,
          inputSchema: connector.inputSchema(operation),
        });
      }
    }
    return available;
  }

  /** Runs one call for an authenticated caller. Throws {@link AirlockError} for every refusal, after recording it. */
  async call(caller: Caller, call: ConnectorCall): Promise<ConnectorOutcome> {
    const started = performance.now();
    const known = this.isKnownOperation(call);
    // Only configured names reach the audit record and the metric dimensions: a caller cannot mint
    // new dimensions or put arbitrary text in the ledger by naming operations that do not exist.
    const base = {
      principal: caller.principal,
      workflow: caller.workflow,
      ...(known ? { connector: call.connector, operation: call.operation } : {}),
      requestId: call.requestId,
      ...(call.intent ? { intent: call.intent.slice(0, MAX_INTENT_LENGTH) } : {}),
    };
    let upstreamCall: UpstreamCall | undefined;
    let approvalWrites = 0;
    try {
      assertRecordableIntent(base);
      const { connector, op } = this.resolve(caller, call);
      const params = connector.parseParameters(call.operation, call.params);
      upstreamCall = connector.describe(call.operation, params);
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
      this.deps.spendCap?.check(caller.workflow);

      const argumentsHash = sha256Hex(
        canonicalJson({ connector: call.connector, operation: call.operation, params }),
      );
      const approvalState = call.approvalId ? 'approved' : 'none';
      const decision = this.decide(
        caller,
        call,
        op,
        connector.policyContext(call.operation, params),
        upstreamCall,
        approvalState,
      );

      if (decision.decision === 'deny') {
        throw new AirlockError(
          'forbidden',
          `Policy does not allow ${call.connector}/${call.operation} for ${caller.principal} in workflow "${caller.workflow}".`,
          { reasons: decision.reasons },
        );
      }
      if (decision.decision === 'approval_required' && !call.approvalId) {
        const approval = await this.deps.approvals.create({
          principal: caller.principal,
          workflow: caller.workflow,
          connector: call.connector,
          operation: call.operation,
          argumentsHash,
          policyVersion: this.deps.policy.versionHash,
          approverGroup: decision.approverGroup ?? 'unknown',
          preview: upstreamCall,
          requestId: call.requestId,
          reasons: decision.reasons,
        });
        await this.deps.ledger.append({
          ...base,
          type: 'connector_pending',
          decision: 'pending',
          reasons: [...decision.reasons],
          docHashes: [],
          details: { approvalId: approval.id, argumentsHash, approverGroup: approval.approverGroup },
        });
        // The approval item and the audit record.
        this.meter(caller, base, 'approval_requested', 0, started, 2);
        return { status: 'pending_approval', approval };
      }
      if (call.approvalId) {
        // Exactly once: the approval moves from approved to executed before anything runs upstream.
        await this.deps.approvals.consume(call.approvalId, {
          principal: caller.principal,
          workflow: caller.workflow,
          connector: call.connector,
          operation: call.operation,
          argumentsHash,
          policyVersion: this.deps.policy.versionHash,
        });
        approvalWrites = 1;
      }

      const isWrite = op.access !== 'read';
      if (isWrite) {
        await this.deps.ledger.append({
          ...base,
          type: 'connector_allowed',
          decision: 'allow',
          reasons: [...decision.reasons],
          docHashes: [],
          details: {
            argumentsHash,
            stage: 'before_upstream',
            ...(call.approvalId ? { approvalId: call.approvalId } : {}),
          },
        });
      }
      let upstream: Awaited<ReturnType<Connector['invoke']>>;
      try {
        upstream = await connector.invoke(call.operation, params, { requestId: call.requestId });
      } catch (error) {
        await this.deps.ledger.append({
          ...base,
          type: 'connector_failed',
          decision: 'error',
          reasons: [error instanceof AirlockError ? error.code : 'upstream_error'],
          docHashes: [],
          details: { argumentsHash },
        });
        this.meter(caller, base, 'failed', 0, started, (isWrite ? 2 : 1) + approvalWrites);
        throw error;
      }
      const cleared = this.deps.config.principals[caller.principal]?.clearances.includes('pii') ?? false;
      const filtered = cleared
        ? { value: upstream.result, redactions: 0, withheld: 0 }
        : await scanConnectorResult(upstream.result, {
            phoneRegions: this.deps.config.dataProtection.phoneRegions,
          });
      await this.deps.ledger.append({
        ...base,
        type: isWrite ? 'connector_completed' : 'connector_allowed',
        decision: 'allow',
        reasons: [...decision.reasons],
        docHashes: upstream.documents.map((d) => sha256Hex(d.bytes)),
        details: {
          argumentsHash,
          redactions: filtered.redactions,
          withheld: filtered.withheld,
          bytesOut: upstream.bytesOut,
        },
      });
      this.meter(caller, base, 'allowed', upstream.bytesOut, started, (isWrite ? 2 : 1) + approvalWrites, {
        secretReads: upstream.secretReads ?? 0,
      });
      return { status: 'completed', result: filtered.value, redactions: filtered.redactions };
    } catch (error) {
      if (error instanceof AirlockError && error.code !== 'upstream_error') {
        const recorded = await this.recordRefusal(base, error);
        this.meter(
          caller,
          base,
          error.code === 'forbidden' ? 'denied' : 'refused',
          0,
          started,
          recorded ? 1 : 0,
        );
      }
      throw error;
    }
  }

  private resolve(caller: Caller, call: ConnectorCall): { connector: Connector; op: OperationConfig } {
    const connector = this.deps.connectors.get(call.connector);
    if (!this.isKnownOperation(call) || !connector) {
      throw new AirlockError(
        'not_found',
        `Unknown operation ${call.connector.slice(0, 64)}/${call.operation.slice(0, 64)}. Operations of your workflow: ${this.operationsOf(caller.workflow).join(', ')}.`,
      );
    }
    const op: OperationConfig = this.deps.config.connectors[call.connector].operations[call.operation];
    const workflowConnectors = this.deps.config.workflows[caller.workflow]?.connectors ?? {};
    const allowed = Object.hasOwn(workflowConnectors, call.connector)
      ? workflowConnectors[call.connector]
      : [];
    if (!allowed.includes(call.operation)) {
      throw new AirlockError(
        'forbidden',
        `Workflow "${caller.workflow}" does not include ${call.connector}/${call.operation}.`,
        { reasons: ['operation-not-in-workflow'] },
      );
    }
    const scope = `${call.connector}:${op.access}`;
    if (!caller.scopes.has(scope)) {
      throw new AirlockError(
        'forbidden',
        `Your token lacks the scope "${scope}". Request a token with that scope from POST /v1/credentials.`,
        { reasons: [`missing-scope:${scope}`] },
      );
    }
    return { connector, op };
  }

  private decide(
    caller: Caller,
    call: ConnectorCall,
    op: OperationConfig,
    callContext: ConnectorPolicyContext,
    upstreamCall: UpstreamCall,
    approval: 'none' | 'approved',
  ): PolicyDecision {
    const { resourceId, amount, currency, format } = callContext;
    const dataContext = deriveDataPolicyContext(
      { amount, currency, format, destinationHost: upstreamCall.destinationHost },
      this.deps.config.workflows[caller.workflow],
    );
    return this.deps.policy.decide({
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
        approval,
        scope: [...caller.scopes],
        ...dataContext,
      },
    });
  }

  private operationsOf(workflow: string): string[] {
    return Object.entries(this.deps.config.workflows[workflow]?.connectors ?? {}).flatMap(([c, ops]) =>
      ops.map((o) => `${c}/${o}`),
    );
  }

  private async recordRefusal(
    base: Omit<AuditEvent, 'type' | 'decision' | 'reasons' | 'docHashes'>,
    error: AirlockError,
  ): Promise<boolean> {
    const { intent, ...rest } = base;
    const event = recordableIntent(intent) ? base : rest;
    try {
      await this.deps.ledger.append({
        ...event,
        type: 'connector_denied',
        decision: 'deny',
        reasons: [error.code, ...(error.reasons ?? [])],
        docHashes: [],
      });
      return true;
    } catch {
      // Refused either way.
      return false;
    }
  }

  private isKnownOperation(call: ConnectorCall): boolean {
    const connector = Object.hasOwn(this.deps.config.connectors, call.connector)
      ? this.deps.config.connectors[call.connector]
      : undefined;
    return connector !== undefined && Object.hasOwn(connector.operations, call.operation);
  }

  private meter(
    caller: Caller,
    names: { connector?: string; operation?: string },
    outcome: 'allowed' | 'denied' | 'approval_requested' | 'failed' | 'refused',
    bytesOut: number,
    started: number,
    dynamodbWrites: number,
    upstream: { readonly secretReads: number } = { secretReads: 0 },
  ): void {
    this.deps.meter.record({
      runId: caller.tokenId,
      workflow: caller.workflow,
      connector: names.connector,
      operation: names.operation,
      outcome,
      bytesOut,
      durationMs: performance.now() - started,
      usage: {
        apiRequests: 1,
        kmsRequests: 0,
        // What the connector read (its token request's secret), not a guess per call: the value is cached.
        secretsManagerCalls: upstream.secretReads,
        dynamodbWrites,
      },
      timestamp: this.deps.clock.now(),
    });
  }
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** An intent the audit ledger would refuse (it looks like a token or a key) is refused up front, with a reason. */
function recordableIntent(intent: string | undefined): boolean {
  if (intent === undefined) return true;
  try {
    assertValidAuditEvent({
      type: 'connector_allowed',
      principal: 'probe',
      workflow: 'probe',
      decision: 'allow',
      reasons: [],
      requestId: 'probe',
      docHashes: [],
      intent,
    });
    return true;
  } catch {
    return false;
  }
}

function assertRecordableIntent(base: { intent?: string }): void {
  if (!recordableIntent(base.intent)) {
    throw new AirlockError(
      'invalid_request',
      'intent: it looks like it contains a token or a private key; describe the purpose of the call in words instead.',
    );
  }
}
