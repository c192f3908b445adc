import { RateLimiter } from '../../../lambdas/core/rate-limiter';
import { FakeClock } from '../support/fake-clock';
import { refusal } from '../support/refusal';

describe('Class: RateLimiter', () => {
  it('refuses a call over the limit per minute, naming the limit and when to retry', () => {
    // Prepare
    const clock = new FakeClock(Date.parse('2026-11-02T09:00:00.000Z'));
    const limiter = new RateLimiter(clock);
    limiter.take('token:a', 2, 'this token');
    limiter.take('token:a', 2, 'this token');
    clock.advance(15_000);

    // Act
    const error = refusal(() => limiter.take('token:a', 2, 'this token'));

    // Assess
    expect(error.code).toBe('rate_limited');
    expect(error.message).toBe(
      'Rate limit reached: 2 calls per minute for this token. Retry in 45 s or spread the calls out.',
    );
  });

  it('a caller minting tokens cannot grow it past its bound: new keys are refused while every window is in use', () => {
    // Prepare: three keys in use within the minute fill a limiter bounded at three
    const clock = new FakeClock(Date.parse('2026-11-02T09:00:00.000Z'));
    const limiter = new RateLimiter(clock, 3);
    for (const key of ['workflow:w', 'token:1', 'token:2']) limiter.take(key, 100, key);

    // Act
    const refused = refusal(() => limiter.take('token:3', 100, 'this token'));
    limiter.take('workflow:w', 100, 'workflow "w"');
    clock.advance(60_001);
    limiter.take('token:4', 100, 'this token');

    // Assess: refused while full (the workflow's own window kept counting), accepted once windows idled
    expect(refused.code).toBe('rate_limited');
    expect(refused.message).toBe(
      'Rate limit reached: 3 tokens and workflows were in use within the last minute. Retry in 60 s.',
    );
    expect(refused.details).toEqual({ retryAfterSeconds: 60 });
  });
});
