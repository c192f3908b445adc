import { AirlockError } from '../../../lambdas/core/errors';
import {
  assertKillSwitchReleased,
  isSealedByKillSwitch,
  KillSwitch,
  KillSwitchEngagedError,
  type KillSwitchState,
  type KillSwitchValue,
  killSwitchParameterName,
  killSwitchPrefix,
  readKillSwitchParameter,
  releasedKillSwitchValue,
  serializeKillSwitchValue,
} from '../../../lambdas/core/kill-switch';
import type { KillSwitchParameterSource } from '../../../lambdas/core/ports';
import { FakeClock } from '../support/fake-clock';

const PREFIX = '/airlock/pilot/kill-switch';
const WORKFLOW = 'expense-summary';
const WORKFLOW_PARAMETER = `${PREFIX}/${WORKFLOW}`;
const T0 = Date.parse('2026-11-02T09:00:00.000Z');

/** An in-memory parameter store that records each read and can be made to fail or hang. */
class FakeParameterSource implements KillSwitchParameterSource {
  readonly values = new Map<string, string>();
  readonly reads: string[][] = [];
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  /** When set, reads wait for this gate before answering (to hold several checks in flight). */
  gate?: Promise<void>;

  async read(names: readonly string[]): Promise<Record<string, string | undefined>> {
    this.reads.push([...names]);
    if (this.gate) await this.gate;
    if (this.mode === 'fail')
      throw new Error('AccessDeniedException: not authorized to perform ssm:GetParameters');
    if (this.mode === 'hang') return new Promise(() => {});
    return Object.fromEntries(names.map((name) => [name, this.values.get(name)]));
  }

  set(name: string, value: Partial<KillSwitchValue>): void {
    this.values.set(
      name,
      serializeKillSwitchValue({
        engaged: false,
        reason: 'created released by the deployment',
        changedBy: 'deployment',
        changedAt: new Date(T0 - 3_600_000).toISOString(),
        revokeIssuedBefore: null,
        ...value,
      }),
    );
  }
}

function releasedPilot(): FakeParameterSource {
  const source = new FakeParameterSource();
  source.set(PREFIX, {});
  source.set(WORKFLOW_PARAMETER, {});
  source.set(`${PREFIX}/other`, {});
  return source;
}

describe('Class: KillSwitch', () => {
  describe('Method: check', () => {
    it('reports released when both the global and the workflow parameter are released', async () => {
      // Prepare
      const killSwitch = new KillSwitch({
        source: releasedPilot(),
        prefix: PREFIX,
        clock: new FakeClock(T0),
      });

      // Act
      const state = await killSwitch.check(WORKFLOW);

      // Assess
      expect(state).toMatchObject({ engaged: false, scope: null, revokeIssuedBefore: null });
      expect(() => assertKillSwitchReleased(state)).not.toThrow();
    });

    it('reads the global and the workflow parameter in one source call', async () => {
      // Prepare
      const source = releasedPilot();
      const killSwitch = new KillSwitch({ source, prefix: PREFIX, clock: new FakeClock(T0) });

      // Act
      await killSwitch.check(WORKFLOW);

      // Assess
      expect(source.reads).toEqual([[PREFIX, WORKFLOW_PARAMETER]]);
    });

    it('reports the global switch engaged for every workflow, with the operator reason', async () => {
      // Prepare
      const source = releasedPilot();
      const changedAt = new Date(T0 - 1000).toISOString();
      source.set(PREFIX, {
        engaged: true,
        reason: 'incident INC-42',
        changedAt,
        revokeIssuedBefore: changedAt,
      });
      const killSwitch = new KillSwitch({ source, prefix: PREFIX, clock: new FakeClock(T0) });

      // Act
      const states = [
        await killSwitch.check(WORKFLOW),
        await killSwitch.check('other'),
        await killSwitch.check(),
      ];

      // Assess
      for (const state of states) {
        expect(state).toMatchObject({ engaged: true, scope: 'global', reason: 'incident INC-42' });
        expect(state.changedAt?.toISOString()).toBe(changedAt);
      }
    });

    it('engages only the workflow whose parameter is engaged', async () => {
      // Prepare
      const source = releasedPilot();
      source.set(WORKFLOW_PARAMETER, { engaged: true, reason: 'receipts leaked into a prompt' });
      const killSwitch = new KillSwitch({ source, prefix: PREFIX, clock: new FakeClock(T0) });

      // Act
      const sealed = await killSwitch.check(WORKFLOW);
      const other = await killSwitch.check('other');
      const global = await killSwitch.check();

      // Assess
      expect(sealed).toMatchObject({
        engaged: true,
        scope: 'workflow',
        reason: 'receipts leaked into a prompt',
      });
      expect(other.engaged).toBe(false);
      expect(global.engaged).toBe(false);
    });

    it('lets the global switch decide when both are engaged', async () => {
      // Prepare
      const source = releasedPilot();
      source.set(PREFIX, { engaged: true, reason: 'global incident' });
      source.set(WORKFLOW_PARAMETER, { engaged: true, reason: 'workflow incident' });
      const killSwitch = new KillSwitch({ source, prefix: PREFIX, clock: new FakeClock(T0) });

      // Act
      const state = await killSwitch.check(WORKFLOW);

      // Assess
      expect(state).toMatchObject({ scope: 'global', reason: 'global incident' });
    });

    it.each([
      ['the global one is later', '2026-11-02T08:30:00.000Z', '2026-11-01T12:00:00.000Z'],
      ['the workflow one is later', '2026-11-01T12:00:00.000Z', '2026-11-02T08:30:00.000Z'],
    ])(
      'reports the latest revokeIssuedBefore of the two when %s',
      async (_, globalRevoke, workflowRevoke) => {
        // Prepare
        const source = releasedPilot();
        source.set(PREFIX, { revokeIssuedBefore: globalRevoke });
        source.set(WORKFLOW_PARAMETER, { revokeIssuedBefore: workflowRevoke });
        const killSwitch = new KillSwitch({ source, prefix: PREFIX, clock: new FakeClock(T0) });

        // Act
        const state = await killSwitch.check(WORKFLOW);

        // Assess
        expect(state.engaged).toBe(false);
        expect(state.revokeIssuedBefore?.toISOString()).toBe('2026-11-02T08:30:00.000Z');
      },
    );

    it('serves a read for cacheMs (5 s by default) and sees a change once it has passed', async () => {
      // Prepare
      const source = releasedPilot();
      const clock = new FakeClock(T0);
      const killSwitch = new KillSwitch({ source, prefix: PREFIX, clock });
      await killSwitch.check(WORKFLOW);
      source.set(PREFIX, { engaged: true, reason: 'incident' });

      // Act
      clock.advance(4999);
      const cached = await killSwitch.check(WORKFLOW);
      clock.advance(1);
      const refreshed = await killSwitch.check(WORKFLOW);

      // Assess
      expect(cached.engaged).toBe(false);
      expect(refreshed).toMatchObject({ engaged: true, reason: 'incident' });
      expect(source.reads).toHaveLength(2);
    });

    it('refreshes ahead in the background under traffic, so a change is seen before cacheMs has passed', async () => {
      // Prepare
      const source = releasedPilot();
      const clock = new FakeClock(T0);
      const killSwitch = new KillSwitch({ source, prefix: PREFIX, clock });
      await killSwitch.check(WORKFLOW);
      source.set(PREFIX, { engaged: true, reason: 'incident' });

      // Act
      clock.advance(3999);
      const beforeRefreshAhead = await killSwitch.check(WORKFLOW);
      clock.advance(1);
      const servedWhileRefreshing = await killSwitch.check(WORKFLOW);
      await new Promise((resolve) => setImmediate(resolve));
      clock.advance(100);
      const afterRefresh = await killSwitch.check(WORKFLOW);

      // Assess
      expect(beforeRefreshAhead.engaged).toBe(false);
      expect(servedWhileRefreshing.engaged).toBe(false);
      expect(afterRefresh).toMatchObject({ engaged: true, reason: 'incident' });
      expect(source.reads).toHaveLength(2);
    });

    it('sees a change within a shorter configured cacheMs', async () => {
      // Prepare
      const source = releasedPilot();
      const clock = new FakeClock(T0);
      const killSwitch = new KillSwitch({ source, prefix: PREFIX, clock, cacheMs: 1000 });
      await killSwitch.check();
      source.set(PREFIX, { engaged: true, reason: 'incident' });

      // Act
      clock.advance(1000);
      const state = await killSwitch.check();

      // Assess
      expect(state.engaged).toBe(true);
    });

    it('serves the cached state while reads fail, until the staleness bound, then counts as engaged', async () => {
      // Prepare
      const source = releasedPilot();
      const clock = new FakeClock(T0);
      const killSwitch = new KillSwitch({ source, prefix: PREFIX, clock });
      await killSwitch.check(WORKFLOW);
      source.mode = 'fail';

      // Act
      clock.advance(6000);
      const stale = await killSwitch.check(WORKFLOW);
      clock.advance(23_999);
      const lastStale = await killSwitch.check(WORKFLOW);
      clock.advance(1);
      const expired = await killSwitch.check(WORKFLOW);

      // Assess
      expect(stale.engaged).toBe(false);
      expect(stale.readError).toMatch(/AccessDeniedException/);
      expect(lastStale.engaged).toBe(false);
      expect(expired).toMatchObject({
        engaged: true,
        scope: 'global',
        reason: 'kill switch state unreadable for more than 30 s',
      });
      expect(() => assertKillSwitchReleased(expired)).toThrow(KillSwitchEngagedError);
    });

    it('is released again once the source answers again', async () => {
      // Prepare
      const source = releasedPilot();
      const clock = new FakeClock(T0);
      const killSwitch = new KillSwitch({ source, prefix: PREFIX, clock });
      await killSwitch.check();
      source.mode = 'fail';
      clock.advance(31_000);
      const unreadable = await killSwitch.check();
      source.mode = 'ok';

      // Act
      clock.advance(1000);
      const recovered = await killSwitch.check();

      // Assess
      expect(unreadable.engaged).toBe(true);
      expect(recovered).toMatchObject({ engaged: false });
      expect(recovered.readError).toBeUndefined();
    });

    it('counts as engaged when the very first read fails, without naming internals to the caller', async () => {
      // Prepare
      const source = releasedPilot();
      source.mode = 'fail';
      const killSwitch = new KillSwitch({ source, prefix: PREFIX, clock: new FakeClock(T0) });

      // Act
      const state = await killSwitch.check(WORKFLOW);

      // Assess
      expect(state).toMatchObject({ engaged: true, scope: 'global', reason: 'kill switch state unreadable' });
      expect(state.readError).toMatch(/ssm:GetParameters/);
    });

    it('does not hit a failing source again on every check (waits min(cacheMs, 1 s) before retrying)', async () => {
      // Prepare
      const source = releasedPilot();
      source.mode = 'fail';
      const clock = new FakeClock(T0);
      const killSwitch = new KillSwitch({ source, prefix: PREFIX, clock });
      await killSwitch.check();

      // Act
      clock.advance(999);
      await killSwitch.check();
      clock.advance(1);
      await killSwitch.check();

      // Assess
      expect(source.reads).toHaveLength(2);
    });

    it.each([
      ['is not JSON', '{"engaged": false', /unreadable \(not JSON\)/],
      ['has engaged as a string', JSON.stringify({ ...releasedValue(), engaged: 'no' }), /engaged:/],
      ['has an unknown field', JSON.stringify({ ...releasedValue(), ttl: 5 }), /unreadable/],
      ['has no changedAt', JSON.stringify({ ...releasedValue(), changedAt: undefined }), /changedAt/],
      [
        'has a changedAt that is not a date',
        JSON.stringify({ ...releasedValue(), changedAt: 'today' }),
        /changedAt/,
      ],
      ['is an empty string', '', /not JSON/],
    ])('counts a global value that %s as engaged, naming the parameter', async (_, raw, problem) => {
      // Prepare
      const source = releasedPilot();
      source.values.set(PREFIX, raw);
      const killSwitch = new KillSwitch({ source, prefix: PREFIX, clock: new FakeClock(T0) });

      // Act
      const state = await killSwitch.check(WORKFLOW);

      // Assess
      expect(state).toMatchObject({ engaged: true, scope: 'global' });
      expect(state.reason).toMatch(problem);
      expect(state.reason).toContain(PREFIX);
    });

    it('counts a missing global parameter as engaged (the deployment is incomplete)', async () => {
      // Prepare
      const source = releasedPilot();
      source.values.delete(PREFIX);
      const killSwitch = new KillSwitch({ source, prefix: PREFIX, clock: new FakeClock(T0) });

      // Act
      const state = await killSwitch.check();

      // Assess
      expect(state).toMatchObject({ engaged: true, scope: 'global' });
      expect(state.reason).toMatch(/does not exist/);
    });

    it('counts a missing workflow parameter as engaged for that workflow only', async () => {
      // Prepare
      const source = releasedPilot();
      const killSwitch = new KillSwitch({ source, prefix: PREFIX, clock: new FakeClock(T0) });

      // Act
      const unknown = await killSwitch.check('new-workflow');
      const known = await killSwitch.check(WORKFLOW);

      // Assess
      expect(unknown).toMatchObject({ engaged: true, scope: 'workflow' });
      expect(unknown.reason).toContain(`${PREFIX}/new-workflow does not exist`);
      expect(known.engaged).toBe(false);
    });

    it('counts a workflow name that cannot be a parameter name as engaged, without reading', async () => {
      // Prepare
      const source = releasedPilot();
      const killSwitch = new KillSwitch({ source, prefix: PREFIX, clock: new FakeClock(T0) });

      // Act
      const state = await killSwitch.check('../kill-switch');

      // Assess
      expect(state).toMatchObject({ engaged: true, scope: 'workflow' });
      expect(source.reads).toHaveLength(0);
    });

    it('shares one read among concurrent checks', async () => {
      // Prepare
      const source = releasedPilot();
      let open!: () => void;
      source.gate = new Promise((resolve) => {
        open = resolve;
      });
      const killSwitch = new KillSwitch({ source, prefix: PREFIX, clock: new FakeClock(T0) });

      // Act
      const checks = Array.from({ length: 20 }, () => killSwitch.check(WORKFLOW));
      open();
      const states = await Promise.all(checks);

      // Assess
      expect(source.reads).toHaveLength(1);
      expect(states.every((state) => state.engaged === false)).toBe(true);
    });

    it('bounds a read that hangs by the timeout and counts it as failed', async () => {
      // Prepare
      const source = releasedPilot();
      source.mode = 'hang';
      const killSwitch = new KillSwitch({
        source,
        prefix: PREFIX,
        clock: new FakeClock(T0),
        readTimeoutMs: 50,
      });

      // Act
      const started = Date.now();
      const state = await killSwitch.check(WORKFLOW);

      // Assess
      expect(Date.now() - started).toBeLessThan(2000);
      expect(state).toMatchObject({ engaged: true, reason: 'kill switch state unreadable' });
      expect(state.readError).toMatch(/did not answer within 50 ms/);
    });

    it('serves the cached state when a refresh hangs within the staleness bound', async () => {
      // Prepare
      const source = releasedPilot();
      const clock = new FakeClock(T0);
      const killSwitch = new KillSwitch({ source, prefix: PREFIX, clock, readTimeoutMs: 50 });
      await killSwitch.check(WORKFLOW);
      source.mode = 'hang';
      clock.advance(10_000);

      // Act
      const state = await killSwitch.check(WORKFLOW);

      // Assess
      expect(state.engaged).toBe(false);
      expect(state.readError).toMatch(/did not answer/);
    });
  });

  describe('Method: constructor', () => {
    it('refuses a staleness bound shorter than the cache', () => {
      // Act & Assess
      expect(
        () => new KillSwitch({ source: releasedPilot(), prefix: PREFIX, cacheMs: 10_000, stalenessMs: 5000 }),
      ).toThrow(/cacheMs \(10000\) <= stalenessMs \(5000\)/);
    });
  });
});

function releasedValue(): KillSwitchValue {
  return JSON.parse(releasedKillSwitchValue('deployment', new Date(T0)));
}

describe('Function: assertKillSwitchReleased', () => {
  it('throws kill_switch_engaged (503) with scope, reason and changedAt for the client', () => {
    // Prepare
    const state: KillSwitchState = {
      engaged: true,
      scope: 'workflow',
      reason: 'incident INC-42',
      changedAt: new Date(T0),
      revokeIssuedBefore: new Date(T0),
    };

    // Act
    let thrown: unknown;
    try {
      assertKillSwitchReleased(state);
    } catch (error) {
      thrown = error;
    }

    // Assess
    expect(thrown).toBeInstanceOf(KillSwitchEngagedError);
    expect(thrown).toBeInstanceOf(AirlockError);
    const error = thrown as KillSwitchEngagedError;
    expect(error.code).toBe('kill_switch_engaged');
    expect(error.status).toBe(503);
    expect(error.message).toMatch(/sealed for this workflow by the kill switch: incident INC-42/);
    expect(error.details).toEqual({
      scope: 'workflow',
      reason: 'incident INC-42',
      changedAt: '2026-11-02T09:00:00.000Z',
    });
  });
});

describe('Function: isSealedByKillSwitch', () => {
  const state: KillSwitchState = {
    engaged: false,
    scope: null,
    reason: 'not engaged',
    revokeIssuedBefore: new Date(T0),
  };

  it('seals a token issued before revokeIssuedBefore, even with the switch released', () => {
    expect(isSealedByKillSwitch(state, new Date(T0 - 1))).toBe(true);
  });

  it('leaves a token issued at or after revokeIssuedBefore, or when nothing was ever revoked', () => {
    expect(isSealedByKillSwitch(state, new Date(T0))).toBe(false);
    expect(isSealedByKillSwitch(state, new Date(T0 + 1000))).toBe(false);
    expect(isSealedByKillSwitch({ ...state, revokeIssuedBefore: null }, new Date(0))).toBe(false);
  });
});

describe('Function: killSwitchParameterName', () => {
  it('names the global and the per-workflow parameter', () => {
    // Act & Assess
    expect(killSwitchPrefix('pilot')).toBe(PREFIX);
    expect(killSwitchParameterName(PREFIX)).toBe(PREFIX);
    expect(killSwitchParameterName(PREFIX, WORKFLOW)).toBe(WORKFLOW_PARAMETER);
  });

  it('refuses names that are not workflow or stage names', () => {
    // Act & Assess
    expect(() => killSwitchParameterName(PREFIX, 'Expense Summary')).toThrow(
      /Invalid workflow "Expense Summary"/,
    );
    expect(() => killSwitchParameterName(PREFIX, 'a/b')).toThrow(/Invalid workflow/);
    expect(() => killSwitchPrefix('Prod')).toThrow(/Invalid stage "Prod"/);
  });
});

describe('Function: readKillSwitchParameter', () => {
  it('reads the value the deployment writes as released', () => {
    // Act
    const reading = readKillSwitchParameter(PREFIX, releasedKillSwitchValue('cdk', new Date(T0)));

    // Assess
    expect(reading).toMatchObject({ status: 'released', value: { engaged: false, changedBy: 'cdk' } });
  });
});
