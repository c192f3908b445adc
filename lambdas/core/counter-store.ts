/**
 * Counters every execution environment shares: what one Lambda environment counts, the others see.
 * The daily spend cap, the share of it each principal may use with self-reported usage, and each
 * principal's daily amount (entries split to stay under an approval threshold) are kept here. A
 * counter belongs to one UTC day and is forgotten a day after it (the store's TTL).
 *
 * AWS: a DynamoDB table whose items change only by atomic `ADD`; local pilot: the same adapter over
 * dynalite. A store that cannot answer refuses the request (fail closed): a count that cannot be read
 * cannot be checked against its bound.
 */

export interface CounterAddOptions {
  /** When the store may forget the counter (a day after the day it counts). */
  readonly expiresAt: Date;
  /**
   * The addition is made only when the counter's new value stays at or below this bound; otherwise
   * nothing changes and {@link CounterStore.add} resolves to `undefined`. @default - no bound
   */
  readonly atMost?: number;
}

/** Shared integer counters, changed only by atomic additions. */
export interface CounterStore {
  /**
   * Adds `delta` (an integer, negative to give back) to counter `key`, which starts at 0, in one atomic
   * step, so concurrent additions from any number of environments are all counted.
   * @returns the counter's value after the addition, or `undefined` when `atMost` refused it
   * @throws when the store cannot be reached or answers garbage (the caller refuses the request)
   */
  add(key: string, delta: number, options: CounterAddOptions): Promise<number | undefined>;
}

/** The UTC day of an instant, `YYYY-MM-DD`: every daily counter's last key part. */
export function counterDayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** When a counter of the UTC day of `at` may be forgotten: the end of the following day. */
export function counterExpiryOf(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 2));
}

/**
 * The key of a daily counter: its kind, what it counts for, and the UTC day. Parts are names the
 * config validated (workflows, principals, connectors) or ISO codes, so `#` never occurs in them.
 */
export function dailyCounterKey(kind: string, parts: readonly string[], at: Date): string {
  return [kind, ...parts, counterDayOf(at)].join('#');
}
