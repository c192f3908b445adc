/**
 * What each principal moved today without a person's approval, per connector and currency, so an
 * entry split into pieces under the approval threshold is held once the pieces add up past it
 * (Cedar: `erp-daily-total-over-threshold-needs-approval` reads `context.dailyAmountCents`).
 *
 * The count lives in the shared counters, so it holds across every Lambda execution environment, and
 * it is taken before the decision: a call's amount is added first (one atomic ADD, which returns the
 * total with it), and given back when the call does not run (denied, held, refused before the
 * upstream). Two calls racing therefore each see the other: neither slips under the threshold because
 * the other had not been counted yet. A call that reached the upstream stays counted, failed or not.
 * Amounts a person approved are not counted: they were looked at.
 */
import { type CounterStore, counterExpiryOf, dailyCounterKey } from './counter-store';
import type { Clock } from './ports';

/** The counter kind of a principal's daily amounts. */
export const AMOUNT_COUNTER = 'amount';

/** An amount taken into the principal's total of the day. */
export interface ReservedAmount {
  /** What the principal had moved today before this call, in cents. */
  readonly earlierTodayCents: bigint;
  /** Gives the amount back: the call did not run. Never throws (a total left too high holds more, not less). */
  release(): Promise<void>;
  /** Counter writes so far (1, and 2 once given back): what the cost estimate prices. */
  readonly writes: number;
}

export interface DailyAmountsDeps {
  readonly counters: CounterStore;
  readonly clock: Clock;
}

export class DailyAmounts {
  constructor(private readonly deps: DailyAmountsDeps) {}

  /**
   * Adds `cents` to the principal's total of today for the connector and currency.
   * @throws when the counter store cannot answer: the call is refused (a total that cannot be read
   *   cannot be compared with a threshold)
   */
  async reserve(input: {
    readonly connector: string;
    readonly principal: string;
    /** Upper-case ISO 4217 code; `-` when the call names none. */
    readonly currency: string;
    readonly cents: number;
  }): Promise<ReservedAmount> {
    const now = this.deps.clock.now();
    const key = dailyCounterKey(AMOUNT_COUNTER, [input.connector, input.principal, input.currency], now);
    const expiresAt = counterExpiryOf(now);
    const total = (await this.deps.counters.add(key, input.cents, { expiresAt })) ?? input.cents;
    let released = false;
    return {
      earlierTodayCents: BigInt(total - input.cents),
      release: async () => {
        if (released) return;
        released = true;
        await this.deps.counters.add(key, -input.cents, { expiresAt }).catch(() => undefined);
      },
      get writes() {
        return released ? 2 : 1;
      },
    };
  }
}
