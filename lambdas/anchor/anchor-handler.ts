/**
 * The anchor function's events. Two EventBridge rules invoke it:
 * - the schedule (`Scheduled Event`): sign every chain head that grew and store the digests;
 * - kill-switch changes (`Parameter Store Change` from SSM): append a `kill_switch_changed` record,
 *   so the ledger shows when the switch moved even if the CLI that moved it could not write.
 * Anything else is logged and ignored: throwing would only make EventBridge retry an event this
 * function will never understand. Failures of real work throw, so EventBridge retries and the
 * dead-letter queue keeps what still failed.
 */
import type { AnchorResult, DigestStore } from '../core/audit-anchor';
import { anchorChains } from '../core/audit-anchor';
import type { AuditAppender, AuditStore } from '../core/audit-ledger';
import { type AuditDetails, type AuditEvent, AuditEventError } from '../core/audit-record';
import { readKillSwitchParameter } from '../core/kill-switch';
import type { Clock, KillSwitchParameterSource, TokenSigner } from '../core/ports';

/** The part of Powertools' Logger the handler uses (tests pass a recorder). */
export interface AnchorLogger {
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
}

export interface AnchorHandlerDeps {
  /** The anchor only lists the chain heads. */
  readonly store: Pick<AuditStore, 'listChainHeads'>;
  readonly digests: DigestStore;
  readonly signer: TokenSigner;
  /** This function's own chain, for `kill_switch_changed` records. */
  readonly ledger: AuditAppender;
  readonly clock: Clock;
  readonly logger: AnchorLogger;
  /**
   * The global kill-switch parameter (`/airlock/{stage}/kill-switch`): only it and the workflow
   * parameters below it are recorded.
   * @default any name of the form `/airlock/{stage}/kill-switch[/{workflow}]`
   */
  readonly killSwitchPrefix?: string;
  /**
   * Reads the changed parameter's value so the record carries the operator's reason. The event
   * itself holds no value and no caller (CloudTrail has the caller).
   * @default the value is not read
   */
  readonly killSwitchParameters?: KillSwitchParameterSource;
}

/** The EventBridge event of an SSM parameter change (the fields the anchor reads). */
export interface ParameterStoreChangeDetail {
  readonly name: string;
  readonly operation: string;
  readonly type?: string;
  readonly description?: string;
}

/** What the handler did with an event; returned so the invocation's result shows it. */
export type AnchorOutcome =
  | { readonly outcome: 'anchored'; readonly anchored: string[]; readonly unchanged: number }
  | {
      readonly outcome: 'recorded';
      readonly parameter: string;
      readonly operation: string;
      readonly chainId: string;
      readonly seq: number;
    }
  | { readonly outcome: 'ignored'; readonly reason: string };

export type AnchorHandler = (event: unknown) => Promise<AnchorOutcome>;

const KILL_SWITCH_NAME = /^\/airlock\/[a-z][a-z0-9-]{0,62}\/kill-switch(?:\/([a-z][a-z0-9-]{0,62}))?$/;
const OPERATION = /^[A-Za-z]{1,64}$/;

/** Builds the anchor function's handler over injected adapters. */
export function createAnchorHandler(deps: AnchorHandlerDeps): AnchorHandler {
  return async (event) => {
    const detailType = fieldOf(event, 'detail-type');
    if (detailType === 'Scheduled Event') return anchorNow(deps);
    if (detailType === 'Parameter Store Change' && fieldOf(event, 'source') === 'aws.ssm')
      return recordKillSwitchChange(deps, event as Record<string, unknown>);
    const reason = `unexpected event (detail-type ${JSON.stringify(detailType ?? null)})`;
    deps.logger.warn('Anchor ignored an event it does not handle', {
      reason,
      source: fieldOf(event, 'source'),
      id: fieldOf(event, 'id'),
    });
    return { outcome: 'ignored', reason };
  };
}

async function anchorNow(deps: AnchorHandlerDeps): Promise<AnchorOutcome> {
  // A failure throws (DependencyError): EventBridge retries, then the dead-letter queue keeps it.
  const result: AnchorResult = await anchorChains({
    store: deps.store,
    digests: deps.digests,
    signer: deps.signer,
    clock: deps.clock,
  });
  const anchored = result.anchored.map((digest) => digest.digestId);
  deps.logger.info('Anchored audit chain heads', { anchored, unchanged: result.unchanged });
  return { outcome: 'anchored', anchored, unchanged: result.unchanged };
}

async function recordKillSwitchChange(
  deps: AnchorHandlerDeps,
  event: Record<string, unknown>,
): Promise<AnchorOutcome> {
  const detail = (event.detail ?? {}) as Partial<ParameterStoreChangeDetail>;
  const name = typeof detail.name === 'string' ? detail.name : '';
  const operation = typeof detail.operation === 'string' ? detail.operation : '';
  const match = KILL_SWITCH_NAME.exec(name);
  const underPrefix =
    deps.killSwitchPrefix === undefined ||
    name === deps.killSwitchPrefix ||
    name.startsWith(`${deps.killSwitchPrefix}/`);
  if (!match || !underPrefix || !OPERATION.test(operation)) {
    const reason = `parameter change is not a kill switch of this deployment (name ${JSON.stringify(name)}, operation ${JSON.stringify(operation)})`;
    deps.logger.warn('Anchor ignored a parameter change', { reason });
    return { outcome: 'ignored', reason };
  }

  const requestId =
    typeof event.id === 'string' && event.id.length > 0 ? event.id : `ssm-${deps.clock.now().getTime()}`;
  const base: AuditDetails = {
    parameter: name,
    operation,
    ...(typeof detail.type === 'string' ? { parameterType: detail.type } : {}),
    ...(typeof event.time === 'string' ? { eventTime: event.time } : {}),
    // The SSM event names no caller; CloudTrail's ssm:PutParameter / DeleteParameter entry does.
    caller: 'not in the event: see CloudTrail for this parameter at eventTime',
  };
  const auditEvent = (details: AuditDetails): AuditEvent => ({
    type: 'kill_switch_changed',
    principal: 'ssm',
    workflow: match[1] ?? '*',
    decision: 'recorded',
    reasons: [`ssm:${operation}`],
    requestId,
    docHashes: [],
    details,
  });

  const value = await valueDetails(deps, name);
  let record: Awaited<ReturnType<AuditAppender['append']>>;
  try {
    record = await deps.ledger.append(auditEvent({ ...base, ...value }));
  } catch (error) {
    // The operator's reason looked like a secret (the ledger refuses those): record the change without it.
    if (!(error instanceof AuditEventError)) throw error;
    record = await deps.ledger.append(
      auditEvent({ ...base, value: 'left out: it did not pass the audit ledger checks' }),
    );
  }
  deps.logger.info('Recorded a kill switch change', {
    parameter: name,
    operation,
    chainId: record.chainId,
    seq: record.seq,
  });
  return { outcome: 'recorded', parameter: name, operation, chainId: record.chainId, seq: record.seq };
}

/** The parameter's value as read now (it may have changed again since the event). */
async function valueDetails(deps: AnchorHandlerDeps, name: string): Promise<AuditDetails> {
  if (!deps.killSwitchParameters) return {};
  let raw: string | undefined;
  try {
    raw = (await deps.killSwitchParameters.read([name]))[name];
  } catch (error) {
    // The change itself is the fact to record; an unreadable value must not lose it.
    deps.logger.warn('Could not read the changed kill switch parameter', {
      parameter: name,
      error: String(error),
    });
    return { value: 'unreadable: the parameter could not be read' };
  }
  const reading = readKillSwitchParameter(name, raw);
  if (!('value' in reading)) return { status: reading.status };
  return {
    status: reading.status,
    reason: reading.value.reason,
    changedBy: reading.value.changedBy,
    changedAt: reading.value.changedAt,
    revokeIssuedBefore: reading.value.revokeIssuedBefore,
    valueReadAt: deps.clock.now().toISOString(),
  };
}

function fieldOf(event: unknown, field: string): string | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const value = (event as Record<string, unknown>)[field];
  return typeof value === 'string' ? value : undefined;
}
