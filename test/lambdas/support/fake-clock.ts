import type { Clock } from '../../../lambdas/core/ports';

/** A clock the test moves by hand, so cache ages and expiries are exact. */
export class FakeClock implements Clock {
  constructor(public ms: number) {}

  now(): Date {
    return new Date(this.ms);
  }

  advance(ms: number): void {
    this.ms += ms;
  }
}
