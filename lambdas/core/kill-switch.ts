/**
 * The kill switch: one global parameter (`/airlock/{stage}/kill-switch`) and one per workflow
 * (`/airlock/{stage}/kill-switch/{workflow}`), each holding a JSON {@link KillSwitchValue}, kept in two
 * places: the SSM parameter (what operators and EventBridge see) and its copy in the revocations table
 * (what every request reads, with the revocation read it makes anyway). The CLI writes both.
 *
 * A request counts the switch as engaged when either place says so. The copy is read per request
 * (consistently): a change made with the CLI is seen by the next request. The parameter is read by
 * each execution environment only every `periodMs` ± `jitter` (a backstop for changes made in SSM
 * directly), so a thousand environments stay far under SSM's 40 reads per second
 * (docs/runbooks/kill-switch.md "How fast it takes effect").
 *
 * Fail closed throughout: a value that is missing from SSM, is not JSON or does not match the schema
 * counts as engaged; a scope that neither place can decide (no copy, and no parameter read within the
 * staleness bound) counts as engaged. `revokeIssuedBefore` outlives a release: tokens issued before it
 * stay dead.
 */
import * as z from 'zod';
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
  return combineScopes(
    workflow === undefined
      ? [['global', [global]]]
      : [
          ['global', [global]],
          ['workflow', [workflow]],
        ],
  );
}

/**
 * Combines what each scope's places say (its DynamoDB copy, its SSM parameter): a scope is engaged
 * when any reading of it is not released, and the global scope decides first. Each scope needs at
 * least one reading.
 */
export function combineScopes(
  scopes: readonly [KillSwitchScope, readonly KillSwitchReading[]][],
): KillSwitchState {
  const all = scopes.flatMap(([, readings]) => readings);
  const revokeIssuedBefore = latestRevocation(all);
  for (const [scope, readings] of scopes) {
    // A reading with a value names the operator's reason; prefer it over a missing or unreadable one.
    const engaged =
      readings.find((reading) => reading.status === 'engaged') ??
      readings.find((reading) => reading.status !== 'released');
    if (!engaged) continue;
    if ('value' in engaged) {
      return {
        engaged: true,
        scope,
        reason: engaged.value.reason,
        changedAt: new Date(engaged.value.changedAt),
        revokeIssuedBefore,
      };
    }
    return { engaged: true, scope, reason: engaged.problem, revokeIssuedBefore };
  }
  const changes = all
    .map((reading) => ('value' in reading ? Date.parse(reading.value.changedAt) : Number.NaN))
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
  /** Where the parameters are read (SSM in AWS, files in the local pilot). */
  readonly source: KillSwitchParameterSource;
  /** The global parameter's name, e.g. `/airlock/pilot/kill-switch` (see {@link killSwitchPrefix}). */
  readonly prefix: string;
  /**
   * The config's workflows: one read fetches the global parameter and each of theirs. A workflow not
   * listed has no parameter to read, so only its DynamoDB copy can release it.
   * @default []
   */
  readonly workflows?: readonly string[];
  /**
   * Mean time between two parameter reads of one execution environment: how long a change made in SSM
   * alone (not with the CLI) can take to be seen. SSM's default quota (40 reads per second per account
   * and region) allows `40 × periodMs / 1000` environments at the shortest interval; keep it well below.
   * @default 60000
   */
  readonly periodMs?: number;
  /** Each interval is `periodMs × (1 ± jitter)`, drawn anew, so environments started together drift apart. @default 0.2 */
  readonly jitter?: number;
  /**
   * How long the last parameter read still counts while reads fail. Beyond it the parameter has no say:
   * the DynamoDB copy decides alone, and a scope without a copy counts as engaged.
   * @default 300000
   */
  readonly stalenessMs?: number;
  /**
   * A read that has not answered by then counts as failed (a hanging parameter store must not hang requests).
   * @default 2000
   */
  readonly readTimeoutMs?: number;
  /** @default the system clock */
  readonly clock?: Clock;
  /** Uniform in [0, 1), for the jitter. @default Math.random */
  readonly random?: () => number;
}

/** The kill-switch copies a request read from the revocations table, by parameter name (absent: no copy). */
export type KillSwitchCopies = Readonly<Record<string, string | undefined>>;

/** What answers "is the switch engaged for this workflow": the kill switch, or the guard that adds the copies. */
export interface KillSwitchReader {
  /** Never throws: whatever cannot be decided counts as engaged. */
  check(workflow?: string): Promise<KillSwitchState>;
}

/** The parameters as one read returned them, and when that read started. */
interface ParameterSnapshot {
  readonly values: Readonly<Record<string, string | undefined>>;
  readonly at: number;
}

/** Failed reads back off exponentially from this, up to the period. */
const FIRST_RETRY_MS = 1000;

/** Bounds of the remembered readings: parameters (the global one and each workflow's), values of each (the parameter's and its copy's, before and after a flip). */
const JUDGED_PARAMETERS_KEPT = 256;
const JUDGED_VALUES_KEPT = 4;

/**
 * The kill switch of one execution environment: the SSM parameters, read in one call every
 * `periodMs` ± `jitter` (in the background while requests are served), combined per request with the
 * DynamoDB copies the request read. An environment waits for a parameter read only when some scope
 * has no copy and no usable parameter reading: then nothing else can decide.
 */
export class KillSwitch implements KillSwitchReader {
  private readonly source: KillSwitchParameterSource;
  private readonly prefix: string;
  private readonly names: readonly string[];
  private readonly periodMs: number;
  private readonly jitter: number;
  private readonly stalenessMs: number;
  private readonly readTimeoutMs: number;
  private readonly clock: Clock;
  private readonly random: () => number;
  private snapshot?: ParameterSnapshot;
  /** When the next read is due; undefined until the first check decides. */
  private nextReadAt?: number;
  private failures = 0;
  private lastError?: string;
  private inFlight?: Promise<void>;
  /**
   * The last readings judged, by raw value: the parameters and their copies change only when an
   * operator flips the switch, yet every request judges them (JSON parse and schema check, ~1.5 KB of
   * garbage each). A reading depends only on the parameter name and the raw value, so one judged
   * before is the answer again. Per parameter name, then per raw value.
   */
  private readonly judged = new Map<string, Map<string, KillSwitchReading>>();

  constructor(options: KillSwitchOptions) {
    this.source = options.source;
    this.prefix = options.prefix;
    this.periodMs = options.periodMs ?? 60_000;
    this.jitter = options.jitter ?? 0.2;
    this.stalenessMs = options.stalenessMs ?? 300_000;
    this.readTimeoutMs = options.readTimeoutMs ?? 2000;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    if (
      !(
        this.periodMs > 0 &&
        this.jitter >= 0 &&
        this.jitter < 1 &&
        this.stalenessMs >= this.periodMs * (1 + this.jitter) &&
        this.readTimeoutMs > 0
      )
    ) {
      throw new RangeError(
        `KillSwitch: expected periodMs (${this.periodMs}) > 0, 0 <= jitter (${this.jitter}) < 1, stalenessMs (${this.stalenessMs}) >= periodMs × (1 + jitter), readTimeoutMs (${this.readTimeoutMs}) > 0`,
      );
    }
    const workflows = (options.workflows ?? []).map((workflow) =>
      killSwitchParameterName(this.prefix, workflow),
    );
    this.names = [this.prefix, ...new Set(workflows)];
  }

  /** Every parameter one read fetches: the global one first. */
  get parameterNames(): readonly string[] {
    return this.names;
  }

  /**
   * The state for a request of `workflow` (or the global state alone), given the DynamoDB copies the
   * request read (none: the parameters decide alone). Never throws: whatever cannot be decided counts
   * as engaged. Pass only workflows of the config (validate the request first).
   */
  async check(workflow?: string, copies: KillSwitchCopies = {}): Promise<KillSwitchState> {
    let workflowParameter: string | undefined;
    try {
      workflowParameter = workflow === undefined ? undefined : killSwitchParameterName(this.prefix, workflow);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { engaged: true, scope: 'workflow', reason, revokeIssuedBefore: null };
    }
    const scopes: [KillSwitchScope, string][] = [['global', this.prefix]];
    if (workflowParameter !== undefined) scopes.push(['workflow', workflowParameter]);
    const now = this.clock.now().getTime();
    const usable = this.snapshot !== undefined && now - this.snapshot.at < this.stalenessMs;
    const undecided = scopes.some(([, name]) => copies[name] === undefined);
    if (this.nextReadAt === undefined && !undecided) {
      // Every scope has its copy: the first parameter read can wait, spread over one period, so
      // environments started together (a scale-out, a deployment) do not read SSM in the same second.
      this.nextReadAt = now + this.random() * this.periodMs;
    }
    const due = this.nextReadAt === undefined || now >= this.nextReadAt;
    if (!usable && undecided && (due || this.inFlight)) {
      // Nothing else can decide a scope: wait for the read (shared with any read in flight).
      await this.read();
    } else if (due && this.inFlight === undefined) {
      void this.read();
    }
    return this.stateOf(scopes, copies);
  }

  /** Starts a read unless one is in flight, and resolves when the read in flight is done. */
  private read(): Promise<void> {
    this.inFlight ??= this.refresh().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private stateOf(scopes: readonly [KillSwitchScope, string][], copies: KillSwitchCopies): KillSwitchState {
    const now = this.clock.now().getTime();
    const snapshot = this.snapshot;
    const usable = snapshot !== undefined && now - snapshot.at < this.stalenessMs;
    const readError = this.lastError === undefined ? {} : { readError: this.lastError };
    const readings: [KillSwitchScope, KillSwitchReading[]][] = [];
    // Cut-offs only ever move forward: one read from a stale parameter still counts.
    const cutOffs: KillSwitchReading[] = [];
    for (const [scope, name] of scopes) {
      const found: KillSwitchReading[] = [];
      const copy = copies[name];
      if (copy !== undefined) found.push(this.judge(name, copy));
      if (snapshot !== undefined) {
        // A parameter the reads do not fetch (a workflow not in the config) reads as missing.
        const parameter = this.judge(name, snapshot.values[name]);
        if (usable) found.push(parameter);
        else cutOffs.push(parameter);
      }
      if (found.length === 0) {
        return {
          engaged: true,
          scope: 'global',
          // The reason reaches clients: it names no internals (the cause is in readError, for the logs).
          reason: snapshot
            ? `kill switch state unreadable for more than ${Math.round(this.stalenessMs / 1000)} s`
            : 'kill switch state unreadable',
          revokeIssuedBefore: latestRevocation([...readings.flatMap(([, r]) => r), ...cutOffs]),
          ...readError,
        };
      }
      readings.push([scope, found]);
    }
    const state = combineScopes(readings);
    const revokeIssuedBefore = latestRevocation([...readings.flatMap(([, r]) => r), ...cutOffs]);
    return { ...state, revokeIssuedBefore, ...readError };
  }

  /** {@link readKillSwitchParameter}, remembered for the raw values last seen (they are few). */
  private judge(parameter: string, raw: string | undefined): KillSwitchReading {
    if (raw === undefined) return readKillSwitchParameter(parameter, raw);
    let byRaw = this.judged.get(parameter);
    const known = byRaw?.get(raw);
    if (known !== undefined) return known;
    if (byRaw === undefined) {
      if (this.judged.size >= JUDGED_PARAMETERS_KEPT) this.judged.clear();
      byRaw = new Map();
      this.judged.set(parameter, byRaw);
    } else if (byRaw.size >= JUDGED_VALUES_KEPT) byRaw.clear();
    const reading = readKillSwitchParameter(parameter, raw);
    byRaw.set(raw, reading);
    return reading;
  }

  private async refresh(): Promise<void> {
    const startedAt = this.clock.now().getTime();
    try {
      const values = await this.readWithTimeout(this.names);
      this.snapshot = { values, at: startedAt };
      this.failures = 0;
      this.lastError = undefined;
      this.nextReadAt = startedAt + this.periodMs * (1 + this.jitter * (2 * this.random() - 1));
    } catch (error) {
      this.lastError = error instanceof Error ? error.message : String(error);
      this.failures++;
      // Exponential backoff with jitter, never longer than the period: a throttled parameter store
      // must not be asked harder, and a read that alone can decide must not wait longer than usual.
      const backoff = Math.min(this.periodMs, FIRST_RETRY_MS * 2 ** (this.failures - 1));
      this.nextReadAt = this.clock.now().getTime() + backoff * (0.5 + 0.5 * this.random());
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
