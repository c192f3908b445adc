/**
 * What an operator does with the kill switch: engage, release, and look at it. The CLI wires these to
 * `airlock kill-switch engage|release|status` over the SSM adapter (AWS) or the file adapter (`--local`),
 * and over the parameters' copies in the revocations table, which every request reads: a change is
 * written to the copy first, then to the parameter (what EventBridge and the audit record follow).
 * These never read the state through a cache.
 */
import { AirlockError } from './errors';
import {
  combineScopes,
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

/** The functions' default `killSwitch.backstopSeconds`, and the jitter they read with. */
const DEFAULT_BACKSTOP_SECONDS = 60;
const BACKSTOP_JITTER = 0.2;

/** Where the kill switch's copies are (the revocations table): read and written like the parameters. */
export type KillSwitchCopyStore = KillSwitchParameterSource & KillSwitchParameterWriter;

export interface KillSwitchOperatorOptions {
  readonly source: KillSwitchParameterSource;
  readonly writer: KillSwitchParameterWriter;
  /** The global parameter's name, e.g. `/airlock/pilot/kill-switch`. */
  readonly prefix: string;
  /** Engage or release one workflow's switch only. @default - the global switch */
  readonly workflow?: string;
  /** Who acts (recorded in the parameter and the audit record), e.g. the caller's IAM ARN or OS user. */
  readonly changedBy: string;
  /**
   * The copies every request reads. Without them, only the parameter changes, and the functions see it
   * within their backstop period instead of at the next request.
   * @default - none
   */
  readonly copies?: KillSwitchCopyStore;
  /** The functions' `killSwitch.backstopSeconds`: how long a change of the parameter alone can take. @default 60 */
  readonly backstopSeconds?: number;
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
  /** True when the revocations table's copy was written too (the next request sees the change). */
  readonly copied: boolean;
  /** The value written. */
  readonly value: KillSwitchValue;
  readonly changedAt: Date;
  /**
   * Every function sees the change by then at the latest: at once for an engage written to the copy;
   * otherwise once every environment read the parameter again (changedAt + 1.2 × backstopSeconds),
   * because a function counts the switch engaged while either the copy or its last reading says so.
   */
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
  const before = await readBoth(options, target.parameter);
  const changedAt = (options.clock ?? systemClock).now();
  const value: KillSwitchValue = {
    engaged: true,
    reason,
    changedBy: requireChangedBy(options.changedBy),
    changedAt: changedAt.toISOString(),
    revokeIssuedBefore: changedAt.toISOString(),
  };
  await writeBoth(options, target.parameter, serializeKillSwitchValue(value), 'engage');
  const copied = options.copies !== undefined;
  const effectiveBy = copied ? changedAt : backstopBound(changedAt, options.backstopSeconds);
  const changed = before.status !== 'engaged';
  return {
    action: 'engage',
    ...target,
    before: before.status,
    changed,
    copied,
    value,
    changedAt,
    effectiveBy,
    revokeIssuedBefore: changedAt,
    summary: `${changed ? 'Engaged' : 'Already engaged; re-engaged'} the ${describe(target)} kill switch at ${changedAt.toISOString()}: ${
      copied
        ? 'every request from now on is refused'
        : `every function refuses by ${effectiveBy.toISOString()} (the parameter alone was written)`
    }, and tokens issued before ${changedAt.toISOString()} stay revoked after release.`,
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
  const before = await readBoth(options, target.parameter);
  const changedAt = (options.clock ?? systemClock).now();
  const kept = before.revokeIssuedBefore;
  // Released already: keep its revocation as is, so a repeated release seals nothing new.
  const revokeIssuedBefore = before.status === 'released' ? kept : latestIso(kept, changedAt.toISOString());
  const value: KillSwitchValue = {
    engaged: false,
    reason,
    changedBy,
    changedAt: changedAt.toISOString(),
    revokeIssuedBefore,
  };
  await writeBoth(options, target.parameter, serializeKillSwitchValue(value), 'release');
  const copied = options.copies !== undefined;
  // A function counts the switch engaged while its last parameter reading says so: a release is seen
  // once every environment read the parameter again.
  const effectiveBy = backstopBound(changedAt, options.backstopSeconds);
  const changed = before.status !== 'released';
  const sealed =
    revokeIssuedBefore === null ? '' : ` Tokens issued before ${revokeIssuedBefore} stay revoked.`;
  return {
    action: 'release',
    ...target,
    before: before.status,
    changed,
    copied,
    value,
    changedAt,
    effectiveBy,
    revokeIssuedBefore: revokeIssuedBefore === null ? null : new Date(revokeIssuedBefore),
    summary: `${changed ? 'Released' : 'Already released; rewrote'} the ${describe(target)} kill switch at ${changedAt.toISOString()}: every function serves again by ${effectiveBy.toISOString()} (unless the global switch is engaged).${sealed}`,
  };
}

export interface KillSwitchStatusOptions {
  readonly source: KillSwitchParameterSource;
  /** The copies in the revocations table; without them only the parameters are reported. */
  readonly copies?: KillSwitchParameterSource;
  readonly prefix: string;
  /** The workflows to report on (usually every workflow in the config). @default [] */
  readonly workflows?: readonly string[];
  /** @default the system clock */
  readonly clock?: Clock;
}

/** One place's value of one switch (the parameter, or its copy). */
export interface KillSwitchValueStatus {
  readonly parameter: string;
  /** 'missing' and 'unreadable' count as engaged (a missing copy has no say: see {@link KillSwitchParameterStatus.copy}). */
  readonly status: KillSwitchReading['status'];
  readonly engaged: boolean;
  readonly reason?: string;
  readonly changedBy?: string;
  readonly changedAt?: string;
  readonly revokeIssuedBefore?: string | null;
  /** Why a missing or unreadable parameter counts as engaged. */
  readonly problem?: string;
}

/** One switch: its parameter, and its copy in the revocations table. */
export interface KillSwitchParameterStatus extends KillSwitchValueStatus {
  /**
   * The copy every request reads: its value, `missing` (no copy: the parameter alone decides, within
   * the backstop period), or absent when the copies were not read.
   */
  readonly copy?: KillSwitchValueStatus | 'missing';
  /** Engaged when the parameter or the copy says so (what the functions count). */
  readonly engagedEither: boolean;
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

/**
 * Reads the global and every listed workflow's parameter (one source call) and their copies (one
 * read) straight from the source; a switch counts as engaged when either place says so.
 */
export async function killSwitchStatus(options: KillSwitchStatusOptions): Promise<KillSwitchStatusReport> {
  const workflows = options.workflows ?? [];
  const names = [
    options.prefix,
    ...workflows.map((workflow) => killSwitchParameterName(options.prefix, workflow)),
  ];
  const [values, copies] = await Promise.all([options.source.read(names), options.copies?.read(names)]);
  const readingsOf = (name: string): KillSwitchReading[] => {
    const copy = copies?.[name];
    return [
      readKillSwitchParameter(name, values[name]),
      ...(copy === undefined ? [] : [readKillSwitchParameter(name, copy)]),
    ];
  };
  const statusOfName = (name: string): KillSwitchParameterStatus => {
    const [parameter, copy] = readingsOf(name);
    const copyStatus = copies === undefined ? undefined : copy === undefined ? 'missing' : statusOf(copy);
    const parameterStatus = statusOf(parameter);
    return {
      ...parameterStatus,
      ...(copyStatus === undefined ? {} : { copy: copyStatus }),
      engagedEither: parameterStatus.engaged || (typeof copyStatus === 'object' && copyStatus.engaged),
    };
  };
  const report: Record<string, KillSwitchWorkflowStatus> = {};
  workflows.forEach((workflow, i) => {
    const name = names[i + 1];
    report[workflow] = {
      ...statusOfName(name),
      effective: combineScopes([
        ['global', readingsOf(options.prefix)],
        ['workflow', readingsOf(name)],
      ]),
    };
  });
  const globalStatus = statusOfName(options.prefix);
  return {
    checkedAt: (options.clock ?? systemClock).now(),
    global: globalStatus,
    workflows: report,
    anyEngaged: globalStatus.engagedEither || Object.values(report).some((w) => w.engagedEither),
  };
}

function statusOf(reading: KillSwitchReading): KillSwitchValueStatus {
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

/** The switch as it was before a change: engaged if either place says so, with the later cut-off of the two. */
async function readBoth(
  options: KillSwitchOperatorOptions,
  parameter: string,
): Promise<{ status: KillSwitchReading['status']; revokeIssuedBefore: string | null }> {
  const [values, copies] = await Promise.all([
    options.source.read([parameter]),
    options.copies?.read([parameter]),
  ]);
  const readings = [readKillSwitchParameter(parameter, values[parameter])];
  const copy = copies?.[parameter];
  if (copy !== undefined) readings.push(readKillSwitchParameter(parameter, copy));
  const cutOffs = readings.flatMap((r) =>
    'value' in r && r.value.revokeIssuedBefore ? [r.value.revokeIssuedBefore] : [],
  );
  const status =
    readings.find((r) => r.status === 'engaged')?.status ??
    readings.find((r) => r.status !== 'released')?.status ??
    'released';
  return {
    status,
    revokeIssuedBefore: cutOffs.reduce<string | null>((latest, iso) => latestIso(latest, iso), null),
  };
}

/**
 * Writes the copy first (what the next request reads), then the parameter (what EventBridge, the
 * anchor's audit record and the backstop read). If the parameter cannot be written after the copy
 * was, the switch is in the copy's position for every request, and the error says so.
 */
async function writeBoth(
  options: KillSwitchOperatorOptions,
  parameter: string,
  value: string,
  action: 'engage' | 'release',
): Promise<void> {
  if (options.copies) await options.copies.write(parameter, value);
  try {
    await options.writer.write(parameter, value);
  } catch (error) {
    if (!options.copies) throw error;
    throw new KillSwitchHalfWrittenError(parameter, action, error);
  }
}

/**
 * The copy in the revocations table was written but the parameter was not. After an engage the switch
 * is engaged for every request (the copy says so) but EventBridge and the audit record have not seen
 * it; after a release it stays engaged (the parameter still says so). Running the command again fixes both.
 */
export class KillSwitchHalfWrittenError extends AirlockError {
  constructor(parameter: string, action: 'engage' | 'release', cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(
      'unavailable',
      action === 'engage'
        ? `The kill switch is engaged for every request (its copy in the revocations table is written), but the parameter ${parameter} could not be written: ${detail}. The anchor has not recorded the change; run the command again.`
        : `The kill switch is still engaged: its copy in the revocations table is released, but the parameter ${parameter} could not be written (${detail}), and it keeps the switch engaged. Run the command again.`,
      { cause },
    );
  }
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

/** When every environment has read the parameter again: the longest backstop interval after the change. */
function backstopBound(changedAt: Date, backstopSeconds = DEFAULT_BACKSTOP_SECONDS): Date {
  return new Date(changedAt.getTime() + backstopSeconds * (1 + BACKSTOP_JITTER) * 1000);
}

function latestIso(a: string | null, b: string): string {
  return a !== null && Date.parse(a) > Date.parse(b) ? a : b;
}
