/**
 * The kill switch at scale: N Lambda execution environments, each with its own kill switch and
 * revocation guard (the real classes), serving requests on one virtual clock against a Parameter
 * Store that throttles at its default quota (40 GetParameters per second per account and region) and
 * an in-memory revocations table. It counts what each store is asked per second, the requests refused
 * while the switch was released (throttling that sealed everyone), the requests served after the
 * engage was written, and how long each environment took to refuse.
 *
 * Two designs are run side by side:
 * - `copies` (Airlock's): every request reads the switch's copy with its revocation read; each
 *   environment reads SSM every `killSwitch.backstopSeconds` ± 20 % as a backstop;
 * - `ssm-poll` (the former one): SSM alone, read by each environment every 5 s, 30 s staleness bound.
 *
 * Used by `npm run bench` (section `killswitch`) and by test/lambdas/core/kill-switch-fleet.test.ts.
 */
import { KillSwitch, serializeKillSwitchValue } from '../lambdas/core/kill-switch';
import type {
  Clock,
  KillSwitchParameterSource,
  RevocationEntries,
  RevocationQuery,
  RevocationStore,
} from '../lambdas/core/ports';
import { RevocationGuard } from '../lambdas/core/revocation-guard';
import type { BenchRow } from './bench-row';

const PREFIX = '/airlock/pilot/kill-switch';
const WORKFLOW = 'expense-summary';
const NAMES = [PREFIX, `${PREFIX}/${WORKFLOW}`];
/** SSM Parameter Store's default throughput for GetParameters, per account and region. */
export const SSM_QUOTA_PER_SECOND = 40;

export type FleetDesign = 'copies' | 'ssm-poll';

export interface FleetOptions {
  readonly environments: number;
  readonly design: FleetDesign;
  /** How the operator engages: the CLI (the copy, then the parameter) or a hand edit of the parameter alone. */
  readonly change: 'cli' | 'parameter-only';
  /** Each environment serves one request every this many ms (its first at a random phase). @default 1000 */
  readonly requestIntervalMs?: number;
  /** When the switch is engaged, after the fleet has run this long. @default 180000 */
  readonly engageAtMs?: number;
  /** How long the fleet runs after the engage. @default 90000 */
  readonly observeMs?: number;
  /** `killSwitch.backstopSeconds` of the copies design. @default 60 */
  readonly backstopSeconds?: number;
  /** @default 1 */
  readonly seed?: number;
}

export interface RateSummary {
  /** Calls per second over the whole run. */
  readonly mean: number;
  /** The busiest one-second window. */
  readonly peak: number;
}

export interface FleetResult {
  readonly options: Required<FleetOptions>;
  /** GetParameters calls sent to SSM (throttled ones included). */
  readonly ssm: RateSummary & { readonly throttled: number; readonly calls: number };
  /** BatchGetItem calls sent to the revocations table. */
  readonly dynamodb: RateSummary;
  readonly requests: number;
  /** Requests refused before the engage: the switch was released, but could not be read. */
  readonly refusedWhileReleased: number;
  /** Requests served that started after the engage was written: the switch let them through. */
  readonly servedAfterEngage: number;
  /**
   * Per environment: the time from its first request after the engage to its first refused one (0
   * when the first request after the engage was refused). Waiting for a request is not counted.
   */
  readonly lagMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Environments that served every request after the engage until the end (never saw it). */
  readonly neverRefused: number;
}

/** A deterministic PRNG (mulberry32), so a run is the same run every time. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class VirtualClock implements Clock {
  ms = Date.parse('2026-12-01T00:00:00.000Z');
  now(): Date {
    return new Date(this.ms);
  }
}

/** Calls per virtual second. */
class RateCounter {
  private readonly perSecond = new Map<number, number>();
  count(atMs: number): number {
    const second = Math.floor(atMs / 1000);
    const n = (this.perSecond.get(second) ?? 0) + 1;
    this.perSecond.set(second, n);
    return n;
  }
  summary(seconds: number): RateSummary {
    const total = [...this.perSecond.values()].reduce((a, b) => a + b, 0);
    return { mean: total / seconds, peak: Math.max(0, ...this.perSecond.values()) };
  }
}

/** Parameter Store as it behaves at its quota: beyond 40 calls in a second, ThrottlingException. */
class ThrottlingParameterStore implements KillSwitchParameterSource {
  readonly values = new Map<string, string>();
  readonly rate = new RateCounter();
  calls = 0;
  throttled = 0;
  constructor(private readonly clock: VirtualClock) {}

  async read(names: readonly string[]): Promise<Record<string, string | undefined>> {
    this.calls++;
    if (this.rate.count(this.clock.ms) > SSM_QUOTA_PER_SECOND) {
      this.throttled++;
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    }
    return Object.fromEntries(names.map((name) => [name, this.values.get(name)]));
  }
}

/** The revocations table: the kill switch's copies, nothing revoked; one call per read. */
class RevocationTable implements Pick<RevocationStore, 'readEntries'> {
  readonly copies = new Map<string, string>();
  readonly rate = new RateCounter();
  constructor(
    private readonly clock: VirtualClock,
    private readonly holdsCopies: boolean,
  ) {}

  async readEntries(query: RevocationQuery): Promise<RevocationEntries> {
    this.rate.count(this.clock.ms);
    const killSwitch: Record<string, string | undefined> = {};
    if (this.holdsCopies) {
      for (const name of query.killSwitch ?? []) {
        const copy = this.copies.get(name);
        if (copy !== undefined) killSwitch[name] = copy;
      }
    }
    return { killSwitch };
  }
}

function switchValue(engaged: boolean, atMs: number): string {
  return serializeKillSwitchValue({
    engaged,
    reason: engaged ? 'INC-9000: fleet drill' : 'created released by the deployment',
    changedBy: 'oncall',
    changedAt: new Date(atMs).toISOString(),
    revokeIssuedBefore: engaged ? new Date(atMs).toISOString() : null,
  });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Runs the fleet on its virtual clock and reports what the stores saw and what the requests met. */
export async function simulateKillSwitchFleet(options: FleetOptions): Promise<FleetResult> {
  const o: Required<FleetOptions> = {
    requestIntervalMs: 1000,
    engageAtMs: 180_000,
    observeMs: 90_000,
    backstopSeconds: 60,
    seed: 1,
    ...options,
  };
  const clock = new VirtualClock();
  const start = clock.ms;
  const rand = random(o.seed);
  const ssm = new ThrottlingParameterStore(clock);
  const table = new RevocationTable(clock, o.design === 'copies');
  for (const name of NAMES) {
    ssm.values.set(name, switchValue(false, start - 86_400_000));
    table.copies.set(name, switchValue(false, start - 86_400_000));
  }
  const guards = Array.from({ length: o.environments }, () => {
    const killSwitch = new KillSwitch({
      source: ssm,
      prefix: PREFIX,
      workflows: [WORKFLOW],
      clock,
      random: rand,
      ...(o.design === 'copies'
        ? { periodMs: o.backstopSeconds * 1000, stalenessMs: o.backstopSeconds * 5000 }
        : { periodMs: 5000, jitter: 0, stalenessMs: 30_000 }),
    });
    return new RevocationGuard({ revocations: table, killSwitch, prefix: PREFIX });
  });
  const phases = guards.map(() => Math.floor(rand() * o.requestIntervalMs));
  const engageAt = start + o.engageAtMs;
  const end = engageAt + o.observeMs;
  const firstAfter = new Array<number | undefined>(o.environments);
  const firstRefused = new Array<number | undefined>(o.environments);
  let requests = 0;
  let refusedWhileReleased = 0;
  let servedAfterEngage = 0;
  let engaged = false;
  const tickMs = 100;
  for (let tick = start; tick < end; tick += tickMs) {
    if (!engaged && tick >= engageAt) {
      // The CLI writes the copy first, then the parameter; a hand edit writes the parameter alone.
      const value = switchValue(true, tick);
      if (o.change === 'cli') table.copies.set(PREFIX, value);
      ssm.values.set(PREFIX, value);
      engaged = true;
    }
    clock.ms = tick;
    const due: number[] = [];
    for (let env = 0; env < guards.length; env++) {
      const offset = tick - start - phases[env];
      if (offset >= 0 && offset % o.requestIntervalMs < tickMs) due.push(env);
    }
    const states = await Promise.all(due.map((env) => guards[env].check(WORKFLOW)));
    states.forEach((state, i) => {
      const env = due[i];
      requests++;
      if (!engaged) {
        if (state.engaged) refusedWhileReleased++;
        return;
      }
      firstAfter[env] ??= tick;
      if (state.engaged) firstRefused[env] ??= tick;
      else servedAfterEngage++;
    });
    // Let the reads started in the background finish before the clock moves on.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const seconds = (end - start) / 1000;
  const lags: number[] = [];
  let neverRefused = 0;
  for (let env = 0; env < guards.length; env++) {
    const after = firstAfter[env];
    const refused = firstRefused[env];
    if (after === undefined) continue;
    if (refused === undefined) neverRefused++;
    else lags.push(refused - after);
  }
  lags.sort((a, b) => a - b);
  return {
    options: o,
    ssm: { ...ssm.rate.summary(seconds), throttled: ssm.throttled, calls: ssm.calls },
    dynamodb: table.rate.summary(seconds),
    requests,
    refusedWhileReleased,
    servedAfterEngage,
    lagMs: { p50: percentile(lags, 50), p99: percentile(lags, 99), max: lags.at(-1) ?? 0 },
    neverRefused,
  };
}

/** `npm run bench -- killswitch`: the rows at N = 10, 100 and 1,000 environments. */
export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const environments of [10, 100, 1000]) {
    const cli = await simulateKillSwitchFleet({ environments, design: 'copies', change: 'cli' });
    const hand = await simulateKillSwitchFleet({ environments, design: 'copies', change: 'parameter-only' });
    const label = `N=${environments.toLocaleString('en-US')}`;
    rows.push(
      {
        name: `kill switch ${label}: SSM reads`,
        value: cli.ssm.mean,
        unit: '/s',
        note: `peak ${cli.ssm.peak}/s, throttled ${cli.ssm.throttled} (quota ${SSM_QUOTA_PER_SECOND}/s); backstop 60 s ± 20 %`,
      },
      {
        name: `kill switch ${label}: DynamoDB reads`,
        value: cli.dynamodb.mean,
        unit: '/s',
        note: `one BatchGetItem per request (1 request/s per environment); peak ${cli.dynamodb.peak}/s`,
      },
      {
        name: `kill switch ${label}: propagation p99 (CLI)`,
        value: cli.lagMs.p99,
        unit: 'ms',
        note: `served after the engage: ${cli.servedAfterEngage}; refused while released: ${cli.refusedWhileReleased}`,
      },
      {
        name: `kill switch ${label}: propagation p99 (SSM edit alone)`,
        value: hand.lagMs.p99 / 1000,
        unit: 's',
        note: `max ${(hand.lagMs.max / 1000).toFixed(1)} s; bound 1.2 × backstopSeconds = 72 s; never refused: ${hand.neverRefused}`,
      },
    );
  }
  const former = await simulateKillSwitchFleet({ environments: 1000, design: 'ssm-poll', change: 'cli' });
  rows.push({
    name: 'kill switch N=1,000, former design: SSM reads',
    value: former.ssm.mean,
    unit: '/s',
    note: `SSM alone every 5 s: ${former.ssm.throttled} of ${former.ssm.calls} throttled; ${former.refusedWhileReleased} of ${former.requests} requests refused while released`,
  });
  return rows;
}
