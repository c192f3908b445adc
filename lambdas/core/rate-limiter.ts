/**
 * Sliding-window rate limits per token and per workflow (config `workflows.*.rateLimits`).
 *
 * State is per process: in AWS each Lambda execution environment counts on its own, so the
 * effective workflow limit is the configured one times the connector's reserved concurrency at
 * most. API Gateway's stage throttling and the WAF rate rule bound the total in front of it.
 */
import { AirlockError } from './errors';
import type { Clock } from './ports';

const WINDOW_MS = 60_000;

export class RateLimiter {
  private readonly windows = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    private readonly maxKeys = 10_000,
  ) {}

  /**
   * Counts one call for `key`; throws `rate_limited` naming the limit when it is already reached.
   * @param what how the limit is named to the caller, e.g. 'this token'
   */
  take(key: string, limitPerMinute: number, what: string): void {
    const now = this.clock.now().getTime();
    const since = now - WINDOW_MS;
    let hits = this.windows.get(key);
    if (!hits) {
      if (this.windows.size >= this.maxKeys) this.evictIdle(since);
      // Every window is in use: forgetting one would reset its count, so the new key is refused instead
      // (it takes that many tokens in use within one minute, an abuse in itself).
      if (this.windows.size >= this.maxKeys) {
        throw new AirlockError(
          'rate_limited',
          `Rate limit reached: ${this.maxKeys} tokens and workflows were in use within the last minute. Retry in 60 s.`,
          { details: { retryAfterSeconds: 60 } },
        );
      }
      hits = [];
      this.windows.set(key, hits);
    }
    while (hits.length > 0 && hits[0] <= since) hits.shift();
    if (hits.length >= limitPerMinute) {
      const retryAfterSeconds = Math.max(1, Math.ceil((hits[0] + WINDOW_MS - now) / 1000));
      throw new AirlockError(
        'rate_limited',
        `Rate limit reached: ${limitPerMinute} calls per minute for ${what}. Retry in ${retryAfterSeconds} s or spread the calls out.`,
        { details: { retryAfterSeconds } },
      );
    }
    hits.push(now);
  }

  private evictIdle(since: number): void {
    for (const [key, hits] of this.windows) {
      if (hits.length === 0 || hits[hits.length - 1] <= since) this.windows.delete(key);
    }
  }
}
