/**
 * The kill switch at scale (issue "P1a" item 6): 1,000 simulated execution environments, each with
 * the real kill switch and revocation guard, on one virtual clock, against a Parameter Store that
 * throttles at its default quota (40 reads per second) and an in-memory revocations table
 * (bench/kill-switch-fleet.ts; `npm run bench -- killswitch` prints the figures at N = 10, 100, 1,000).
 * What is asserted is what users see: no request refused while the switch is released, none served
 * after an engage, and a change reaching every environment within its bound; the store rates show why.
 */
import { SSM_QUOTA_PER_SECOND, simulateKillSwitchFleet } from '../../../bench/kill-switch-fleet';

/** A request every 5 s per environment keeps the run short; the bench runs one per second. */
const FLEET = { environments: 1000, requestIntervalMs: 5000, engageAtMs: 120_000, observeMs: 90_000 };

describe('Function: simulateKillSwitchFleet', () => {
  it('holds at 1,000 environments: SSM under its quota in every second, nothing refused while released, nothing served after an engage', async () => {
    // Act
    const fleet = await simulateKillSwitchFleet({ ...FLEET, design: 'copies', change: 'cli' });

    // Assess
    expect(fleet.ssm.throttled).toBe(0);
    expect(fleet.ssm.peak).toBeLessThanOrEqual(SSM_QUOTA_PER_SECOND);
    // 1,000 environments / 60 s: about 17 reads a second on average.
    expect(fleet.ssm.mean).toBeLessThan(1000 / (60 * 0.8));
    expect(fleet.refusedWhileReleased).toBe(0);
    expect(fleet.servedAfterEngage).toBe(0);
    expect(fleet.lagMs.max).toBe(0);
    expect(fleet.neverRefused).toBe(0);
  });

  it('brings a change made in SSM alone (a hand edit) to every environment within 1.2 × backstopSeconds', async () => {
    // Act
    const fleet = await simulateKillSwitchFleet({ ...FLEET, design: 'copies', change: 'parameter-only' });

    // Assess: one backstop interval at most, plus the read that a request sets off
    expect(fleet.neverRefused).toBe(0);
    expect(fleet.lagMs.max).toBeLessThanOrEqual(60_000 * 1.2 + FLEET.requestIntervalMs);
    expect(fleet.refusedWhileReleased).toBe(0);
  });

  it('shows why: SSM polled every 5 s at 1,000 environments is throttled and sealed requests while released', async () => {
    // Act: the former design (SSM alone, read by each environment every 5 s, 30 s staleness bound)
    const fleet = await simulateKillSwitchFleet({ ...FLEET, design: 'ssm-poll', change: 'cli' });

    // Assess
    expect(fleet.ssm.mean).toBeGreaterThan(SSM_QUOTA_PER_SECOND * 4);
    expect(fleet.ssm.throttled).toBeGreaterThan(fleet.ssm.calls / 2);
    expect(fleet.refusedWhileReleased).toBeGreaterThan(fleet.requests / 10);
  });
});
