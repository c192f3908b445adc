import fc from 'fast-check';
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
import { loadConfig, parseConfig } from '../../../lib/config/load-config';
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

/** Resolves once the reads started in the background have settled. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The raw JSON of a value, as a copy in the revocations table holds it. */
function copyOf(value: Partial<KillSwitchValue>): string {
  return serializeKillSwitchValue({
    engaged: false,
    reason: 'released by the CLI',
    changedBy: 'oncall',
    changedAt: new Date(T0 - 60_000).toISOString(),
    revokeIssuedBefore: null,
    ...value,
  });
}

/** Copies of the global and the workflow switch, both released. */
function releasedCopies(): Record<string, string> {
  return { [PREFIX]: copyOf({}), [WORKFLOW_PARAMETER]: copyOf({}) };
}

function killSwitchOf(
  source: KillSwitchParameterSource,
  clock: FakeClock,
  options: Partial<ConstructorParameters<typeof KillSwitch>[0]> = {},
): KillSwitch {
  return new KillSwitch({
    source,
    prefix: PREFIX,
    workflows: [WORKFLOW, 'other'],
    clock,
    random: () => 0.5,
    ...options,
  });
}

describe('Class: KillSwitch', () => {
  describe('Method: check (the parameters alone)', () => {
    it('reports released when both the global and the workflow parameter are released', async () => {
      // Act
      const state = await killSwitchOf(releasedPilot(), new FakeClock(T0)).check(WORKFLOW);

      // Assess
      expect(state).toMatchObject({
        engaged: false,
        scope: null,
        reason: 'not engaged',
        revokeIssuedBefore: null,
      });
    });

    it('reads the global and every workflow parameter of the config in one source call', async () => {
      // Prepare
      const source = releasedPilot();

      // Act
      await killSwitchOf(source, new FakeClock(T0)).check(WORKFLOW);

      // Assess
      expect(source.reads).toEqual([[PREFIX, WORKFLOW_PARAMETER, `${PREFIX}/other`]]);
    });

    it('reports the global switch engaged for every workflow, with the operator reason', async () => {
      // Prepare
      const source = releasedPilot();
      source.set(PREFIX, {
        engaged: true,
        reason: 'INC-42',
        changedAt: new Date(T0).toISOString(),
        revokeIssuedBefore: new Date(T0).toISOString(),
      });
      const killSwitch = killSwitchOf(source, new FakeClock(T0));

      // Act
      const forWorkflow = await killSwitch.check(WORKFLOW);
      const global = await killSwitch.check();

      // Assess
      for (const state of [forWorkflow, global]) {
        expect(state).toMatchObject({ engaged: true, scope: 'global', reason: 'INC-42' });
        expect(state.revokeIssuedBefore?.getTime()).toBe(T0);
      }
    });

    it('engages only the workflow whose parameter is engaged', async () => {
      // Prepare
      const source = releasedPilot();
      source.set(WORKFLOW_PARAMETER, { engaged: true, reason: 'wrong GL codes' });
      const killSwitch = killSwitchOf(source, new FakeClock(T0));

      // Act & Assess
      expect(await killSwitch.check(WORKFLOW)).toMatchObject({ engaged: true, scope: 'workflow' });
      expect((await killSwitch.check('other')).engaged).toBe(false);
      expect((await killSwitch.check()).engaged).toBe(false);
    });

    it('lets the global switch decide when both are engaged', async () => {
      // Prepare
      const source = releasedPilot();
      source.set(PREFIX, { engaged: true, reason: 'global incident' });
      source.set(WORKFLOW_PARAMETER, { engaged: true, reason: 'workflow incident' });

      // Act
      const state = await killSwitchOf(source, new FakeClock(T0)).check(WORKFLOW);

      // Assess
      expect(state).toMatchObject({ scope: 'global', reason: 'global incident' });
    });

    it('counts a missing global parameter as engaged (the deployment is incomplete)', async () => {
      // Prepare
      const source = releasedPilot();
      source.values.delete(PREFIX);

      // Act
      const state = await killSwitchOf(source, new FakeClock(T0)).check(WORKFLOW);

      // Assess
      expect(state).toMatchObject({ engaged: true, scope: 'global' });
      expect(state.reason).toMatch(/does not exist, so it counts as engaged/);
    });

    it('counts a missing workflow parameter as engaged for that workflow only', async () => {
      // Prepare
      const source = releasedPilot();
      source.values.delete(WORKFLOW_PARAMETER);
      const killSwitch = killSwitchOf(source, new FakeClock(T0));

      // Act & Assess
      expect(await killSwitch.check(WORKFLOW)).toMatchObject({ engaged: true, scope: 'workflow' });
      expect((await killSwitch.check('other')).engaged).toBe(false);
    });

    it('counts a workflow that is not in the config as engaged: it has no parameter to read', async () => {
      // Act
      const state = await killSwitchOf(releasedPilot(), new FakeClock(T0)).check('made-up');

      // Assess
      expect(state).toMatchObject({ engaged: true, scope: 'workflow' });
    });

    it('counts a workflow name that cannot be a parameter name as engaged, without reading', async () => {
      // Prepare
      const source = releasedPilot();

      // Act
      const state = await killSwitchOf(source, new FakeClock(T0)).check('../etc');

      // Assess
      expect(state).toMatchObject({ engaged: true, scope: 'workflow' });
      expect(source.reads).toHaveLength(0);
    });

    it('reads again every period ± jitter while checks come in, and sees a change after one interval', async () => {
      // Prepare: random 1 draws the longest interval, 72 s
      const source = releasedPilot();
      const clock = new FakeClock(T0);
      const killSwitch = killSwitchOf(source, clock, { random: () => 1 });
      await killSwitch.check(WORKFLOW);
      source.set(PREFIX, { engaged: true, reason: 'INC-7 (set in the SSM console)' });

      // Act
      clock.advance(71_000);
      const before = await killSwitch.check(WORKFLOW);
      await settle();
      clock.advance(1000);
      const due = await killSwitch.check(WORKFLOW);
      await settle();
      const after = await killSwitch.check(WORKFLOW);

      // Assess: the read due at 72 s runs in the background; the next check sees it
      expect(before.engaged).toBe(false);
      expect(due.engaged).toBe(false);
      expect(after).toMatchObject({ engaged: true, reason: 'INC-7 (set in the SSM console)' });
      expect(source.reads).toHaveLength(2);
    });

    it('serves the last reading while reads fail, until the staleness bound, then counts as engaged', async () => {
      // Prepare
      const source = releasedPilot();
      const clock = new FakeClock(T0);
      const killSwitch = killSwitchOf(source, clock, { stalenessMs: 300_000 });
      await killSwitch.check(WORKFLOW);
      source.mode = 'fail';

      // Act
      clock.advance(299_000);
      const within = await killSwitch.check(WORKFLOW);
      await settle();
      clock.advance(2000);
      const beyond = await killSwitch.check(WORKFLOW);

      // Assess
      expect(within.engaged).toBe(false);
      expect(beyond).toMatchObject({
        engaged: true,
        scope: 'global',
        reason: 'kill switch state unreadable for more than 300 s',
      });
      expect(beyond.readError).toMatch(/AccessDeniedException/);
    });

    it('counts as engaged when the very first read fails, without naming internals to the caller', async () => {
      // Prepare
      const source = releasedPilot();
      source.mode = 'fail';

      // Act
      const state = await killSwitchOf(source, new FakeClock(T0)).check(WORKFLOW);

      // Assess
      expect(state).toMatchObject({ engaged: true, reason: 'kill switch state unreadable' });
      expect(state.reason).not.toMatch(/AccessDenied/);
    });

    it('backs off from a failing source exponentially, never hitting it on every check', async () => {
      // Prepare
      const source = releasedPilot();
      source.mode = 'fail';
      const clock = new FakeClock(T0);
      const killSwitch = killSwitchOf(source, clock, { random: () => 1 });

      // Act: a check every 100 ms for 30 s
      for (let i = 0; i < 300; i++) {
        await killSwitch.check(WORKFLOW);
        await settle();
        clock.advance(100);
      }

      // Assess: retries after 1, 2, 4, 8 and 16 s
      expect(source.reads).toHaveLength(5);
    });

    it('shares one read among concurrent checks', async () => {
      // Prepare
      const source = releasedPilot();
      let open!: () => void;
      source.gate = new Promise((resolve) => {
        open = resolve;
      });
      const killSwitch = killSwitchOf(source, new FakeClock(T0));

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
      const killSwitch = killSwitchOf(source, new FakeClock(T0), { readTimeoutMs: 50 });

      // Act
      const started = Date.now();
      const state = await killSwitch.check(WORKFLOW);

      // Assess
      expect(Date.now() - started).toBeLessThan(2000);
      expect(state).toMatchObject({ engaged: true, reason: 'kill switch state unreadable' });
      expect(state.readError).toMatch(/did not answer within 50 ms/);
    });

    it('keeps the cut-off of a stale reading: tokens issued before it stay dead', async () => {
      // Prepare
      const source = releasedPilot();
      source.set(PREFIX, { revokeIssuedBefore: new Date(T0).toISOString() });
      const clock = new FakeClock(T0);
      const killSwitch = killSwitchOf(source, clock);
      await killSwitch.check(WORKFLOW);
      source.mode = 'fail';
      clock.advance(600_000);

      // Act
      const state = await killSwitch.check(WORKFLOW, releasedCopies());

      // Assess
      expect(state.engaged).toBe(false);
      expect(state.revokeIssuedBefore?.getTime()).toBe(T0);
    });
  });

  describe('Method: check (with the copies a request read)', () => {
    it('is engaged by an engaged copy at once, whatever the parameter reading says', async () => {
      // Prepare
      const source = releasedPilot();
      const killSwitch = killSwitchOf(source, new FakeClock(T0));
      await killSwitch.check(WORKFLOW);
      const copies = { ...releasedCopies(), [PREFIX]: copyOf({ engaged: true, reason: 'INC-9' }) };

      // Act
      const state = await killSwitch.check(WORKFLOW, copies);

      // Assess
      expect(state).toMatchObject({ engaged: true, scope: 'global', reason: 'INC-9' });
      expect(source.reads).toHaveLength(1);
    });

    it('is engaged while the parameter reading says so, though the copy is released', async () => {
      // Prepare
      const source = releasedPilot();
      source.set(WORKFLOW_PARAMETER, { engaged: true, reason: 'set in the SSM console' });
      const killSwitch = killSwitchOf(source, new FakeClock(T0));
      await killSwitch.check(WORKFLOW); // the environment has read the parameters

      // Act
      const state = await killSwitch.check(WORKFLOW, releasedCopies());

      // Assess
      expect(state).toMatchObject({ engaged: true, scope: 'workflow', reason: 'set in the SSM console' });
    });

    it('counts an unreadable copy as engaged', async () => {
      // Act
      const state = await killSwitchOf(releasedPilot(), new FakeClock(T0)).check(WORKFLOW, {
        ...releasedCopies(),
        [WORKFLOW_PARAMETER]: '{"engaged": fals',
      });

      // Assess
      expect(state).toMatchObject({ engaged: true, scope: 'workflow' });
      expect(state.reason).toMatch(/unreadable \(not JSON\)/);
    });

    it('decides from the copies alone at first, and spreads its first parameter read over one period', async () => {
      // Prepare: random 0.25 puts the first read 15 s after the first check
      const source = releasedPilot();
      const clock = new FakeClock(T0);
      const killSwitch = killSwitchOf(source, clock, { random: () => 0.25 });

      // Act
      const first = await killSwitch.check(WORKFLOW, releasedCopies());
      await settle();
      clock.advance(14_000);
      await killSwitch.check(WORKFLOW, releasedCopies());
      await settle();
      const readsBefore = source.reads.length;
      clock.advance(1000);
      await killSwitch.check(WORKFLOW, releasedCopies());
      await settle();

      // Assess
      expect(first.engaged).toBe(false);
      expect(readsBefore).toBe(0);
      expect(source.reads).toHaveLength(1);
    });

    it('reads the parameters first when a scope has no copy (nothing else can decide it)', async () => {
      // Prepare
      const source = releasedPilot();
      source.set(WORKFLOW_PARAMETER, { engaged: true, reason: 'only in SSM' });

      // Act
      const state = await killSwitchOf(source, new FakeClock(T0)).check(WORKFLOW, {
        [PREFIX]: copyOf({}),
      });

      // Assess
      expect(source.reads).toHaveLength(1);
      expect(state).toMatchObject({ engaged: true, scope: 'workflow', reason: 'only in SSM' });
    });

    it('keeps serving on the copies when the parameters cannot be read for longer than the staleness bound', async () => {
      // Prepare: SSM throttled or denied for ten minutes
      const source = releasedPilot();
      const clock = new FakeClock(T0);
      const killSwitch = killSwitchOf(source, clock);
      await killSwitch.check(WORKFLOW, releasedCopies());
      source.mode = 'fail';
      clock.advance(600_000);

      // Act
      const released = await killSwitch.check(WORKFLOW, releasedCopies());
      const engaged = await killSwitch.check(WORKFLOW, {
        ...releasedCopies(),
        [PREFIX]: copyOf({ engaged: true, reason: 'INC-11' }),
      });

      // Assess
      expect(released.engaged).toBe(false);
      expect(engaged).toMatchObject({ engaged: true, reason: 'INC-11' });
    });

    it('takes the later cut-off of the copy and the parameter', async () => {
      // Prepare
      const source = releasedPilot();
      source.set(PREFIX, { revokeIssuedBefore: new Date(T0 - 1000).toISOString() });
      const copies = {
        ...releasedCopies(),
        [PREFIX]: copyOf({ revokeIssuedBefore: new Date(T0).toISOString() }),
      };

      // Act
      const state = await killSwitchOf(source, new FakeClock(T0)).check(WORKFLOW, copies);

      // Assess
      expect(state.revokeIssuedBefore?.getTime()).toBe(T0);
    });
  });

  describe('Method: constructor', () => {
    it('refuses a staleness bound shorter than one read interval with its jitter', () => {
      // Act & Assess
      expect(
        () =>
          new KillSwitch({ source: releasedPilot(), prefix: PREFIX, periodMs: 60_000, stalenessMs: 60_000 }),
      ).toThrow(/stalenessMs \(60000\) >= periodMs × \(1 \+ jitter\)/);
    });
  });
});

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

describe('Config: killSwitch', () => {
  const base = () => JSON.parse(JSON.stringify(loadConfig('config/airlock.config.yaml')));

  it.each([
    [
      { cacheSeconds: 5, stalenessSeconds: 30 },
      'killSwitch.cacheSeconds: replaced by killSwitch.backstopSeconds',
    ],
    [
      { backstopSeconds: 60, stalenessSeconds: 30 },
      'killSwitch.stalenessSeconds: must be at least 1.2 × killSwitch.backstopSeconds',
    ],
  ])('refuses %j, naming the field and what to do', (killSwitch, message) => {
    // Act & Assess
    expect(() => parseConfig({ ...base(), killSwitch }, 'airlock.config.yaml')).toThrow(message);
  });

  it('defaults to a 60 s backstop and a 300 s staleness bound', () => {
    // Act
    const { killSwitch } = parseConfig({ ...base(), killSwitch: undefined }, 'airlock.config.yaml');

    // Assess
    expect(killSwitch).toEqual({ backstopSeconds: 60, stalenessSeconds: 300 });
  });
});

describe('Class: KillSwitch, remembered readings', () => {
  /** Raw values a parameter or its copy may hold: released, engaged, revoking, unreadable, off-schema. */
  const RAW_VALUES = [
    copyOf({}),
    copyOf({ engaged: true, reason: 'incident 42', changedAt: new Date(T0 - 1000).toISOString() }),
    copyOf({ engaged: true, reason: 'tokens revoked', revokeIssuedBefore: new Date(T0).toISOString() }),
    copyOf({ reason: 'released again', revokeIssuedBefore: new Date(T0 - 5000).toISOString() }),
    'not json',
    '{"engaged":"yes"}',
    undefined,
  ];
  const raw = fc.constantFrom(...RAW_VALUES);
  const step = fc.record({ global: raw, workflow: raw, globalCopy: raw, workflowCopy: raw });

  it('answers every request as a switch that has judged nothing before would, across flips and copies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        // Prepare
        const source = releasedPilot();
        const clock = new FakeClock(T0);
        const longLived = killSwitchOf(source, clock);
        for (const { global, workflow, globalCopy, workflowCopy } of steps) {
          for (const [name, value] of [
            [PREFIX, global],
            [WORKFLOW_PARAMETER, workflow],
          ] as const) {
            if (value === undefined) source.values.delete(name);
            else source.values.set(name, value);
          }
          const copies = { [PREFIX]: globalCopy, [WORKFLOW_PARAMETER]: workflowCopy };
          // Both hold a snapshot of the parameters as they are now.
          clock.advance(120_000);
          await longLived.check(WORKFLOW);
          await settle();
          const fresh = killSwitchOf(source, clock);
          await fresh.check(WORKFLOW);

          // Act
          const remembered = await longLived.check(WORKFLOW, copies);
          const judgedAfresh = await fresh.check(WORKFLOW, copies);

          // Assess
          expect(remembered).toEqual(judgedAfresh);
          expect(await longLived.check(undefined, copies)).toEqual(await fresh.check(undefined, copies));
        }
      }),
      { numRuns: 200 },
    );
  });
});
