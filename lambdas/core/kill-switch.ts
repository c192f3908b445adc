/**
 * The kill switch: one global parameter (`/airlock/{stage}/kill-switch`) and one per workflow
 * (`/airlock/{stage}/kill-switch/{workflow}`), each holding a JSON {@link KillSwitchValue}.
 *
 * Fail closed throughout: a parameter that is missing, is not JSON or does not match the schema
 * counts as engaged, and so does a state that could not be read for longer than the staleness
 * bound. `revokeIssuedBefore` outlives a release: tokens issued before it stay dead.
 */
import { z } from 'zod';
import { AirlockError } from './errors';
import { type Clock, type KillSwitchParameterSource, systemClock } from './ports';

/** The JSON value of one kill-switch parameter. Unknown fields make the value unreadable (engaged). */
export const killSwitchValueSchema = z.strictObject({
  engaged: z.boolean(),
  reason: z.string().max(1000),
  changedBy: z.string().max(200),
  changedAt: z.iso.datetime({ offset: true }),
  revokeIssuedBefore: z.iso.datetime({ offset: true }).nullable(),
});

export type KillSwitchValue = z.infer<typeof killSwitchValueSchema>;

export type KillSwitchScope = 'global' | 'workflow';

/** Names that may follow the prefix: the config's workflow names (also safe as SSM path segments). */
const WORKFLOW_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** One parameter as read, already judged: a readable value, or why it counts as engaged. */
export type KillSwitchReading =
  | {
      readonly parameter: string;
      readonly status: 'engaged' | 'released';
      readonly value: KillSwitchValue;
    }
  | {
      readonly parameter: string;
      readonly status: 'missing' | 'unreadable';
      /** Why the parameter counts as engaged, in a sentence an operator can act on. */
      readonly problem: string;
    };

/** What a request needs to know about the kill switch. */
export interface KillSwitchState {
  /** True when the request must be refused (engaged, or undecidable). */
  readonly engaged: boolean;
  /** Which parameter engaged it (global wins over workflow); null when released. */
  readonly scope: KillSwitchScope | null;
  /** The operator's reason, or why the state counts as engaged; 'not engaged' when released. */
  readonly reason: string;
  /** When the deciding parameter last changed (when released: the latest change of the two). */
  readonly changedAt?: Date;
  /** Tokens issued before this instant are dead: the latest of the global and the workflow value. */
  readonly revokeIssuedBefore: Date | null;
  /** Set when the latest read failed (the state is then served from cache, or engaged): for the logs only. */
  readonly readError?: string;
}

/** The global parameter's name, e.g. `killSwitchPrefix('pilot')` → `/airlock/pilot/kill-switch`. */
export function killSwitchPrefix(stage: string): string {
  if (!WORKFLOW_NAME.test(stage)) {
    throw new AirlockError(
      'invalid_request',
      `Invalid stage "${stage}": expected lower-case letters, digits and dashes, starting with a letter.`,
    );
  }
  return `/airlock/${stage}/kill-switch`;
}

/** The parameter that holds the global switch (no workflow) or one workflow's switch. */
export function killSwitchParameterName(prefix: string, workflow?: string): string {
  if (workflow === undefined) return prefix;
  if (!WORKFLOW_NAME.test(workflow)) {
    throw new AirlockError(
      'invalid_request',
      `Invalid workflow "${workflow}": expected a workflow name from the config (lower-case letters, digits and dashes).`,
    );
  }
  return `${prefix}/${workflow}`;
}

/**
 * The value a deployment (or the local pilot's first start) writes so the switch starts released.
 * Without it the missing parameter counts as engaged.
 */
export function releasedKillSwitchValue(changedBy: string, changedAt: Date): string {
  return serializeKillSwitchValue({
    engaged: false,
    reason: 'created released by the deployment',
    changedBy,
    changedAt: changedAt.toISOString(),
    revokeIssuedBefore: null,
  });
}

/** The parameter value as stored: JSON with a fixed key order, so diffs and audit hashes are stable. */
export function serializeKillSwitchValue(value: KillSwitchValue): string {
  const checked = killSwitchValueSchema.parse(value);
  return JSON.stringify({
    engaged: checked.engaged,
    reason: checked.reason,
    changedBy: checked.changedBy,
    changedAt: checked.changedAt,
    revokeIssuedBefore: checked.revokeIssuedBefore,
  });
}

/**
 * Judges one raw parameter value. Missing, non-JSON or off-schema values are not released:
 * the caller treats them as engaged.
 */
export function readKillSwitchParameter(parameter: string, raw: string | undefined): KillSwitchReading {
  if (raw === undefined) {
    return {
      parameter,
      status: 'missing',
      problem: `kill switch parameter ${parameter} does not exist, so it counts as engaged; deploy the stack (or release the switch) to create it`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return {
      parameter,
      status: 'unreadable',
      problem: `kill switch parameter ${parameter} is unreadable (not JSON), so it counts as engaged; write a valid value with "airlock kill-switch engage" or "release"`,
    };
  }
  const parsed = killSwitchValueSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.length > 0 ? issue.path.join('.') : 'value';
    return {
      parameter,
      status: 'unreadable',
      problem: `kill switch parameter ${parameter} is unreadable (${field}: ${issue.message}), so it counts as engaged; write a valid value with "airlock kill-switch engage" or "release"`,
    };
  }
  return { parameter, status: parsed.data.engaged ? 'engaged' : 'released', value: parsed.data };
}

/**
 * Combines the global reading with a workflow's (if any) into the state a request is judged by.
 * The global switch decides first because it seals everything.
 */
export function combineKillSwitchReadings(
  global: KillSwitchReading,
  workflow?: KillSwitchReading,
): KillSwitchState {
  const revokeIssuedBefore = latestRevocation([global, workflow]);
  const scoped: [KillSwitchScope, KillSwitchReading | undefined][] = [
    ['global', global],
    ['workflow', workflow],
  ];
  for (const [scope, reading] of scoped) {
    if (!reading || reading.status === 'released') continue;
    if ('value' in reading) {
      return {
        engaged: true,
        scope,
        reason: reading.value.reason,
        changedAt: new Date(reading.value.changedAt),
        revokeIssuedBefore,
      };
    }
    return { engaged: true, scope, reason: reading.problem, revokeIssuedBefore };
  }
  const changes = [global, workflow]
    .map((reading) => (reading && 'value' in reading ? Date.parse(reading.value.changedAt) : Number.NaN))
    .filter((ms) => !Number.isNaN(ms));
  return {
    engaged: false,
    scope: null,
    reason: 'not engaged',
    changedAt: changes.length > 0 ? new Date(Math.max(...changes)) : undefined,
    revokeIssuedBefore,
  };
}

function latestRevocation(readings: readonly (KillSwitchReading | undefined)[]): Date | null {
  let latest: number | null = null;
  for (const reading of readings) {
    if (!reading || !('value' in reading) || reading.value.revokeIssuedBefore === null) continue;
    const ms = Date.parse(reading.value.revokeIssuedBefore);
    if (latest === null || ms > latest) latest = ms;
  }
  return latest === null ? null : new Date(latest);
}

/** A request refused because the kill switch is engaged (HTTP 503 `kill_switch_engaged`). */
export class KillSwitchEngagedError extends AirlockError {
  constructor(state: KillSwitchState) {
    const what = state.scope === 'workflow' ? 'for this workflow' : 'for all workflows';
    super(
      'kill_switch_engaged',
      `Airlock is sealed ${what} by the kill switch: ${state.reason}. Ask your Airlock operator when it will be released.`,
      {
        details: {
          scope: state.scope ?? 'global',
          reason: state.reason,
          changedAt: state.changedAt?.toISOString() ?? null,
        },
      },
    );
  }
}

/** Throws {@link KillSwitchEngagedError} unless the state is released. */
export function assertKillSwitchReleased(state: KillSwitchState): void {
  if (state.engaged) throw new KillSwitchEngagedError(state);
}

/** True when a token issued at `issuedAt` is sealed by `revokeIssuedBefore` (even after a release). */
export function isSealedByKillSwitch(state: KillSwitchState, issuedAt: Date): boolean {
  // Strictly by the millisecond: a JWT `iat` has whole seconds, so a token issued in the same
  // second as the revocation counts as before it. Refusing one second too many fails closed.
  return state.revokeIssuedBefore !== null && issuedAt.getTime() < state.revokeIssuedBefore.getTime();
}

export interface KillSwitchOptions {
  /** Where the raw parameter values come from (SSM in AWS, files in the local pilot). */
  readonly source: KillSwitchParameterSource;
  /** The global parameter's name, e.g. `/airlock/pilot/kill-switch` (see {@link killSwitchPrefix}). */
  readonly prefix: string;
  /**
   * How long a successful read is served before the next check reads again: the propagation bound.
   * @default 5000
   */
  readonly cacheMs?: number;
  /**
   * How long a cached state may still be served while reads fail; beyond it the switch counts as engaged.
   * @default 30000
   */
  readonly stalenessMs?: number;
  /**
   * A read that has not answered by then counts as failed (a hanging parameter store must not hang requests).
   * @default 2000
   */
  readonly readTimeoutMs?: number;
  /** @default the system clock */
  readonly clock?: Clock;
}

interface CacheEntry {
  /** The last successful read and when it started (a read started before a change cannot show it). */
  good?: { readonly global: KillSwitchReading; readonly workflow?: KillSwitchReading; readonly at: number };
  /** After a failed read, checks wait until then before reading again instead of each paying the timeout. */
  retryAfter?: number;
  lastError?: string;
  inFlight?: Promise<void>;
}

/**
 * Reads the kill switch for a request: global and workflow parameter in one source call, cached for
 * `cacheMs`, shared by concurrent checks, bounded by a timeout, and engaged when undecidable.
 */
export class KillSwitch {
  private readonly source: KillSwitchParameterSource;
  private readonly prefix: string;
  private readonly cacheMs: number;
  private readonly stalenessMs: number;
  private readonly readTimeoutMs: number;
  private readonly refreshAheadMs: number;
  private readonly clock: Clock;
  private readonly entries = new Map<string, CacheEntry>();

  constructor(options: KillSwitchOptions) {
    this.source = options.source;
    this.prefix = options.prefix;
    this.cacheMs = options.cacheMs ?? 5000;
    this.stalenessMs = options.stalenessMs ?? 30_000;
    this.readTimeoutMs = options.readTimeoutMs ?? 2000;
    this.refreshAheadMs = this.cacheMs * 0.8;
    this.clock = options.clock ?? systemClock;
    if (!(this.cacheMs >= 0 && this.stalenessMs >= this.cacheMs && this.readTimeoutMs > 0)) {
      throw new RangeError(
        `KillSwitch: expected 0 <= cacheMs (${this.cacheMs}) <= stalenessMs (${this.stalenessMs}) and readTimeoutMs (${this.readTimeoutMs}) > 0`,
      );
    }
  }

  /**
   * The state for a request of `workflow` (or the global state alone). Never throws: whatever
   * cannot be read counts as engaged. Pass only workflows of the config (validate the request
   * first): each name is cached and read on its own, so made-up names would cost parameter reads.
   */
  async check(workflow?: string): Promise<KillSwitchState> {
    let workflowParameter: string | undefined;
    try {
      workflowParameter = workflow === undefined ? undefined : killSwitchParameterName(this.prefix, workflow);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { engaged: true, scope: 'workflow', reason, revokeIssuedBefore: null };
    }
    const key = workflowParameter ?? this.prefix;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = {};
      this.entries.set(key, entry);
    }
    const now = this.clock.now().getTime();
    const age = entry.good === undefined ? Number.POSITIVE_INFINITY : now - entry.good.at;
    const fresh = age < this.cacheMs;
    const backingOff = entry.retryAfter !== undefined && now < entry.retryAfter;
    if (!fresh && !backingOff) {
      entry.inFlight ??= this.refresh(entry, workflowParameter).finally(() => {
        entry.inFlight = undefined;
      });
      await entry.inFlight;
    } else if (fresh && !backingOff && age >= this.refreshAheadMs && entry.inFlight === undefined) {
      // Refresh ahead in the background: under traffic a change is seen within cacheMs, read time
      // included, instead of cacheMs plus the read (the propagation bound the runbook promises).
      entry.inFlight = this.refresh(entry, workflowParameter).finally(() => {
        entry.inFlight = undefined;
      });
    }
    return this.stateOf(entry);
  }

  private stateOf(entry: CacheEntry): KillSwitchState {
    const now = this.clock.now().getTime();
    const good = entry.good;
    const readError = entry.lastError === undefined ? {} : { readError: entry.lastError };
    // Within the staleness bound a failed refresh is survivable: serve the last state read.
    if (good && now - good.at < this.stalenessMs) {
      return { ...combineKillSwitchReadings(good.global, good.workflow), ...readError };
    }
    const last = good ? combineKillSwitchReadings(good.global, good.workflow) : undefined;
    return {
      engaged: true,
      scope: 'global',
      // The reason reaches clients: it names no internals (the cause is in readError, for the logs).
      reason: good
        ? `kill switch state unreadable for more than ${Math.round(this.stalenessMs / 1000)} s`
        : 'kill switch state unreadable',
      revokeIssuedBefore: last?.revokeIssuedBefore ?? null,
      ...readError,
    };
  }

  private async refresh(entry: CacheEntry, workflowParameter: string | undefined): Promise<void> {
    const startedAt = this.clock.now().getTime();
    const names = workflowParameter === undefined ? [this.prefix] : [this.prefix, workflowParameter];
    try {
      const values = await this.readWithTimeout(names);
      entry.good = {
        global: readKillSwitchParameter(this.prefix, values[this.prefix]),
        workflow:
          workflowParameter === undefined
            ? undefined
            : readKillSwitchParameter(workflowParameter, values[workflowParameter]),
        at: startedAt,
      };
      entry.retryAfter = undefined;
      entry.lastError = undefined;
    } catch (error) {
      entry.lastError = error instanceof Error ? error.message : String(error);
      entry.retryAfter = this.clock.now().getTime() + Math.min(this.cacheMs, 1000);
    }
  }

  private readWithTimeout(names: readonly string[]): Promise<Record<string, string | undefined>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the parameter store did not answer within ${this.readTimeoutMs} ms`)),
        this.readTimeoutMs,
      );
      // A pending timer must not keep a CLI process or a test alive.
      timer.unref?.();
      this.source.read(names).then(
        (values) => {
          clearTimeout(timer);
          resolve(values);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }
}
