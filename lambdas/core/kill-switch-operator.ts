/**
 * What an operator does with the kill switch: engage, release, and look at it. The CLI wires these to
 * `airlock kill-switch engage|release|status` over the SSM adapter (AWS) or the file adapter (`--local`).
 * The functions only read and write parameters; they never read the state through a cache.
 */
import { AirlockError } from './errors';
import {
  combineKillSwitchReadings,
  type KillSwitchReading,
  type KillSwitchScope,
  type KillSwitchState,
  type KillSwitchValue,
  killSwitchParameterName,
  readKillSwitchParameter,
  serializeKillSwitchValue,
} from './kill-switch';
import {
  type Clock,
  type KillSwitchParameterSource,
  type KillSwitchParameterWriter,
  systemClock,
} from './ports';

const MAX_REASON_LENGTH = 500;

export interface KillSwitchOperatorOptions {
  readonly source: KillSwitchParameterSource;
  readonly writer: KillSwitchParameterWriter;
  /** The global parameter's name, e.g. `/airlock/pilot/kill-switch`. */
  readonly prefix: string;
  /** Engage or release one workflow's switch only. @default - the global switch */
  readonly workflow?: string;
  /** Who acts (recorded in the parameter and the audit record), e.g. the caller's IAM ARN or OS user. */
  readonly changedBy: string;
  /** The functions' `killSwitch.cacheSeconds`: how long until every function sees the change. @default 5 */
  readonly cacheSeconds?: number;
  /** @default the system clock */
  readonly clock?: Clock;
}

export interface EngageKillSwitchOptions extends KillSwitchOperatorOptions {
  /** Why, in words the on-call and the auditors will read later. Required. */
  readonly reason: string;
}

export interface ReleaseKillSwitchOptions extends KillSwitchOperatorOptions {
  /** Why it is safe again. @default 'released by <changedBy>' */
  readonly reason?: string;
}

/** What an engage or release did, for the CLI to print and the audit record to keep. */
export interface KillSwitchChange {
  readonly action: 'engage' | 'release';
  readonly scope: KillSwitchScope;
  readonly workflow?: string;
  readonly parameter: string;
  /** The parameter as it was before the write ('missing' and 'unreadable' counted as engaged). */
  readonly before: KillSwitchReading['status'];
  /** False when the switch was already in the requested position (the reason and times are still rewritten). */
  readonly changed: boolean;
  /** The value written. */
  readonly value: KillSwitchValue;
  readonly changedAt: Date;
  /** Every function sees the change by then at the latest (changedAt + cacheSeconds). */
  readonly effectiveBy: Date;
  /** Tokens issued before this stay dead, engaged or not. */
  readonly revokeIssuedBefore: Date | null;
  /** One sentence for the operator. */
  readonly summary: string;
}

/**
 * Engages the global switch, or one workflow's. Every token issued before now is sealed for good
 * (`revokeIssuedBefore` = now), so releasing later does not bring them back.
 */
export async function engageKillSwitch(options: EngageKillSwitchOptions): Promise<KillSwitchChange> {
  const reason = requireReason(options.reason);
  const target = targetOf(options);
  const before = await readOne(options.source, target.parameter);
  const changedAt = (options.clock ?? systemClock).now();
  const value: KillSwitchValue = {
    engaged: true,
    reason,
    changedBy: requireChangedBy(options.changedBy),
    changedAt: changedAt.toISOString(),
    revokeIssuedBefore: changedAt.toISOString(),
  };
  await options.writer.write(target.parameter, serializeKillSwitchValue(value));
  const effectiveBy = effectiveByOf(changedAt, options.cacheSeconds);
  const changed = before.status !== 'engaged';
  return {
    action: 'engage',
    ...target,
    before: before.status,
    changed,
    value,
    changedAt,
    effectiveBy,
    revokeIssuedBefore: changedAt,
    summary: `${changed ? 'Engaged' : 'Already engaged; re-engaged'} the ${describe(target)} kill switch at ${changedAt.toISOString()}: every function refuses by ${effectiveBy.toISOString()}, and tokens issued before ${changedAt.toISOString()} stay revoked after release.`,
  };
}

/**
 * Releases the global switch, or one workflow's. Tokens issued before the release stay dead:
 * `revokeIssuedBefore` moves to the release time when the switch was engaged, because a function
 * still serving its cached "released" state may have issued tokens in the seconds after the engage.
 */
export async function releaseKillSwitch(options: ReleaseKillSwitchOptions): Promise<KillSwitchChange> {
  const changedBy = requireChangedBy(options.changedBy);
  const reason =
    options.reason === undefined || options.reason.trim() === ''
      ? `released by ${changedBy}`
      : requireReason(options.reason);
  const target = targetOf(options);
  const before = await readOne(options.source, target.parameter);
  const changedAt = (options.clock ?? systemClock).now();
  const kept = 'value' in before ? before.value.revokeIssuedBefore : null;
  // Released already: keep its revocation as is, so a repeated release seals nothing new.
  const revokeIssuedBefore = before.status === 'released' ? kept : latestIso(kept, changedAt.toISOString());
  const value: KillSwitchValue = {
    engaged: false,
    reason,
    changedBy,
    changedAt: changedAt.toISOString(),
    revokeIssuedBefore,
  };
  await options.writer.write(target.parameter, serializeKillSwitchValue(value));
  const effectiveBy = effectiveByOf(changedAt, options.cacheSeconds);
  const changed = before.status !== 'released';
  const sealed =
    revokeIssuedBefore === null ? '' : ` Tokens issued before ${revokeIssuedBefore} stay revoked.`;
  return {
    action: 'release',
    ...target,
    before: before.status,
    changed,
    value,
    changedAt,
    effectiveBy,
    revokeIssuedBefore: revokeIssuedBefore === null ? null : new Date(revokeIssuedBefore),
    summary: `${changed ? 'Released' : 'Already released; rewrote'} the ${describe(target)} kill switch at ${changedAt.toISOString()}: every function serves again by ${effectiveBy.toISOString()} (unless the global switch is engaged).${sealed}`,
  };
}

export interface KillSwitchStatusOptions {
  readonly source: KillSwitchParameterSource;
  readonly prefix: string;
  /** The workflows to report on (usually every workflow in the config). @default [] */
  readonly workflows?: readonly string[];
  /** @default the system clock */
  readonly clock?: Clock;
}

export interface KillSwitchParameterStatus {
  readonly parameter: string;
  /** 'missing' and 'unreadable' count as engaged. */
  readonly status: KillSwitchReading['status'];
  readonly engaged: boolean;
  readonly reason?: string;
  readonly changedBy?: string;
  readonly changedAt?: string;
  readonly revokeIssuedBefore?: string | null;
  /** Why a missing or unreadable parameter counts as engaged. */
  readonly problem?: string;
}

export interface KillSwitchWorkflowStatus extends KillSwitchParameterStatus {
  /** What a request of this workflow meets now: the global and the workflow switch combined. */
  readonly effective: KillSwitchState;
}

export interface KillSwitchStatusReport {
  readonly checkedAt: Date;
  readonly global: KillSwitchParameterStatus;
  readonly workflows: Readonly<Record<string, KillSwitchWorkflowStatus>>;
  /** True when the global switch, or any listed workflow's, counts as engaged. */
  readonly anyEngaged: boolean;
}

/** Reads the global and every listed workflow's parameter (one source call) straight from the source. */
export async function killSwitchStatus(options: KillSwitchStatusOptions): Promise<KillSwitchStatusReport> {
  const workflows = options.workflows ?? [];
  const names = workflows.map((workflow) => killSwitchParameterName(options.prefix, workflow));
  const values = await options.source.read([options.prefix, ...names]);
  const global = readKillSwitchParameter(options.prefix, values[options.prefix]);
  const report: Record<string, KillSwitchWorkflowStatus> = {};
  workflows.forEach((workflow, i) => {
    const reading = readKillSwitchParameter(names[i], values[names[i]]);
    report[workflow] = { ...statusOf(reading), effective: combineKillSwitchReadings(global, reading) };
  });
  const globalStatus = statusOf(global);
  return {
    checkedAt: (options.clock ?? systemClock).now(),
    global: globalStatus,
    workflows: report,
    anyEngaged: globalStatus.engaged || Object.values(report).some((w) => w.engaged),
  };
}

function statusOf(reading: KillSwitchReading): KillSwitchParameterStatus {
  if ('value' in reading) {
    return {
      parameter: reading.parameter,
      status: reading.status,
      engaged: reading.value.engaged,
      reason: reading.value.reason,
      changedBy: reading.value.changedBy,
      changedAt: reading.value.changedAt,
      revokeIssuedBefore: reading.value.revokeIssuedBefore,
    };
  }
  return { parameter: reading.parameter, status: reading.status, engaged: true, problem: reading.problem };
}

interface Target {
  readonly scope: KillSwitchScope;
  readonly workflow?: string;
  readonly parameter: string;
}

function targetOf(options: KillSwitchOperatorOptions): Target {
  const parameter = killSwitchParameterName(options.prefix, options.workflow);
  return options.workflow === undefined
    ? { scope: 'global', parameter }
    : { scope: 'workflow', workflow: options.workflow, parameter };
}

function describe(target: Target): string {
  return target.workflow === undefined ? 'global' : `workflow "${target.workflow}"`;
}

async function readOne(source: KillSwitchParameterSource, parameter: string): Promise<KillSwitchReading> {
  const values = await source.read([parameter]);
  return readKillSwitchParameter(parameter, values[parameter]);
}

function requireReason(reason: string | undefined): string {
  const trimmed = reason?.trim() ?? '';
  if (trimmed === '') throw new AirlockError('invalid_request', 'a reason is required: --reason "..."');
  if (trimmed.length > MAX_REASON_LENGTH) {
    throw new AirlockError(
      'invalid_request',
      `the reason is ${trimmed.length} characters long; keep it to ${MAX_REASON_LENGTH} and link the incident ticket for more`,
    );
  }
  return trimmed;
}

function requireChangedBy(changedBy: string): string {
  const trimmed = changedBy.trim();
  if (trimmed === '') {
    throw new AirlockError(
      'invalid_request',
      'who is acting is unknown: pass changedBy (the operator identity)',
    );
  }
  return trimmed.slice(0, 200);
}

function effectiveByOf(changedAt: Date, cacheSeconds = 5): Date {
  return new Date(changedAt.getTime() + cacheSeconds * 1000);
}

function latestIso(a: string | null, b: string): string {
  return a !== null && Date.parse(a) > Date.parse(b) ? a : b;
}
