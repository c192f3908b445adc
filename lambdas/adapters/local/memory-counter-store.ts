/**
 * A {@link CounterStore} in memory: for unit tests and the bench, where one process stands for every
 * execution environment. Each addition is atomic because Node runs one callback at a time and `add`
 * does not await between its read and its write; like the table's TTL, an expired counter is gone.
 */
import type { CounterAddOptions, CounterStore } from '../../core/counter-store';
import { DependencyError } from '../../core/errors';
import { type Clock, systemClock } from '../../core/ports';

export class MemoryCounterStore implements CounterStore {
  private readonly counters = new Map<string, { value: number; expiresAtMs: number }>();
  /** When true, every addition fails as an unreachable table does. */
  failAdds = false;

  constructor(private readonly clock: Clock = systemClock) {}

  async add(key: string, delta: number, options: CounterAddOptions): Promise<number | undefined> {
    await Promise.resolve();
    // As the DynamoDB adapter reports an unreachable table.
    if (this.failAdds) throw new DependencyError('counter store', 'the counter store is unavailable');
    if (!Number.isSafeInteger(delta))
      throw new TypeError(`MemoryCounterStore.add: delta ${delta} is not an integer`);
    const stored = this.counters.get(key);
    const current = stored && stored.expiresAtMs > this.clock.now().getTime() ? stored.value : 0;
    const next = current + delta;
    if (options.atMost !== undefined && next > options.atMost) return undefined;
    this.counters.set(key, { value: next, expiresAtMs: options.expiresAt.getTime() });
    return next;
  }

  /** The counter's value now (0 when absent or expired). */
  valueOf(key: string): number {
    const stored = this.counters.get(key);
    return stored && stored.expiresAtMs > this.clock.now().getTime() ? stored.value : 0;
  }
}
