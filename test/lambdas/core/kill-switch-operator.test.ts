import { AirlockError } from '../../../lambdas/core/errors';
import { isSealedByKillSwitch, KillSwitch, releasedKillSwitchValue } from '../../../lambdas/core/kill-switch';
import {
  engageKillSwitch,
  killSwitchStatus,
  releaseKillSwitch,
} from '../../../lambdas/core/kill-switch-operator';
import type {
  Clock,
  KillSwitchParameterSource,
  KillSwitchParameterWriter,
} from '../../../lambdas/core/ports';
import { FakeClock } from '../support/fake-clock';

const PREFIX = '/airlock/pilot/kill-switch';
const WORKFLOW = 'expense-summary';
const WORKFLOW_PARAMETER = `${PREFIX}/${WORKFLOW}`;
const T0 = Date.parse('2026-11-02T09:00:00.000Z');

/** An in-memory parameter store, as both the functions (reading) and the CLI (writing) see it. */
class InMemoryParameters implements KillSwitchParameterSource, KillSwitchParameterWriter {
  readonly values = new Map<string, string>();
  readonly reads: string[][] = [];
  readonly writes: string[] = [];

  async read(names: readonly string[]): Promise<Record<string, string | undefined>> {
    this.reads.push([...names]);
    return Object.fromEntries(names.map((name) => [name, this.values.get(name)]));
  }

  async write(name: string, value: string): Promise<void> {
    this.writes.push(name);
    this.values.set(name, value);
  }

  json(name: string): Record<string, unknown> {
    return JSON.parse(this.values.get(name)!);
  }
}

function deployedPilot(): InMemoryParameters {
  const parameters = new InMemoryParameters();
  const deployedAt = new Date(T0 - 86_400_000);
  parameters.values.set(PREFIX, releasedKillSwitchValue('cdk', deployedAt));
  parameters.values.set(WORKFLOW_PARAMETER, releasedKillSwitchValue('cdk', deployedAt));
  return parameters;
}

/** The functions' kill switch over the parameters (reading every 60 s ± 20 %). */
function functionsOf(parameters: InMemoryParameters, clock: FakeClock): KillSwitch {
  return new KillSwitch({
    source: parameters,
    prefix: PREFIX,
    workflows: [WORKFLOW],
    clock,
    random: () => 1,
  });
}

function operator(parameters: InMemoryParameters, clock: Clock) {
  return { source: parameters, writer: parameters, prefix: PREFIX, changedBy: 'alice@example.com', clock };
}

describe('Function: engageKillSwitch', () => {
  it.each([[''], ['   ']])('refuses to engage without a reason (%j) and writes nothing', async (reason) => {
    // Prepare
    const parameters = deployedPilot();

    // Act
    const engaging = engageKillSwitch({ ...operator(parameters, new FakeClock(T0)), reason });

    // Assess
    await expect(engaging).rejects.toThrow(AirlockError);
    await expect(engaging).rejects.toMatchObject({
      code: 'invalid_request',
      message: 'a reason is required: --reason "..."',
    });
    expect(parameters.writes).toHaveLength(0);
  });

  it('refuses a reason longer than 500 characters', async () => {
    // Act
    const engaging = engageKillSwitch({
      ...operator(deployedPilot(), new FakeClock(T0)),
      reason: 'x'.repeat(501),
    });

    // Assess
    await expect(engaging).rejects.toThrow(/501 characters long; keep it to 500/);
  });

  it('writes engaged with revokeIssuedBefore = now and says when it takes effect', async () => {
    // Prepare
    const parameters = deployedPilot();

    // Act
    const change = await engageKillSwitch({
      ...operator(parameters, new FakeClock(T0)),
      reason: 'INC-42 prompt injection',
      backstopSeconds: 5,
    });

    // Assess
    expect(parameters.json(PREFIX)).toEqual({
      engaged: true,
      reason: 'INC-42 prompt injection',
      changedBy: 'alice@example.com',
      changedAt: '2026-11-02T09:00:00.000Z',
      revokeIssuedBefore: '2026-11-02T09:00:00.000Z',
    });
    expect(change).toMatchObject({
      action: 'engage',
      scope: 'global',
      before: 'released',
      changed: true,
      copied: false,
    });
    // The parameter alone: seen once every function read it again (1.2 × backstopSeconds).
    expect(change.effectiveBy.toISOString()).toBe('2026-11-02T09:00:06.000Z');
    expect(change.summary).toMatch(/^Engaged the global kill switch at 2026-11-02T09:00:00.000Z/);
    expect(parameters.json(WORKFLOW_PARAMETER).engaged).toBe(false);
  });

  it('without copies, is seen by the functions once they read the parameter again (effectiveBy)', async () => {
    // Prepare
    const parameters = deployedPilot();
    const clock = new FakeClock(T0);
    const killSwitch = functionsOf(parameters, clock);
    const before = await killSwitch.check(WORKFLOW);

    // Act
    const change = await engageKillSwitch({ ...operator(parameters, clock), reason: 'INC-42' });
    clock.ms = change.effectiveBy.getTime();
    await killSwitch.check(WORKFLOW);
    await new Promise((resolve) => setImmediate(resolve));
    const after = await killSwitch.check(WORKFLOW);

    // Assess
    expect(before.engaged).toBe(false);
    expect(after).toMatchObject({ engaged: true, scope: 'global', reason: 'INC-42' });
  });

  it('writes the copy first, then the parameter, and is seen by the next request at once', async () => {
    // Prepare
    const parameters = deployedPilot();
    const copies = new InMemoryParameters();
    const order: string[] = [];
    const clock = new FakeClock(T0);
    const killSwitch = functionsOf(parameters, clock);
    await killSwitch.check(WORKFLOW);

    // Act
    const change = await engageKillSwitch({
      ...operator(parameters, clock),
      copies: {
        read: (n) => copies.read(n),
        write: async (n, v) => {
          order.push('copy');
          await copies.write(n, v);
        },
      },
      writer: {
        write: async (n, v) => {
          order.push('parameter');
          await parameters.write(n, v);
        },
      },
      reason: 'INC-43',
    });
    const next = await killSwitch.check(WORKFLOW, await copies.read([PREFIX, WORKFLOW_PARAMETER]));

    // Assess
    expect(order).toEqual(['copy', 'parameter']);
    expect(copies.json(PREFIX)).toEqual(parameters.json(PREFIX));
    expect(change).toMatchObject({ copied: true });
    expect(change.effectiveBy.getTime()).toBe(T0);
    expect(change.summary).toMatch(/every request from now on is refused/);
    expect(next).toMatchObject({ engaged: true, reason: 'INC-43' });
  });

  it('says the switch is engaged for every request when only the parameter write fails', async () => {
    // Prepare
    const copies = new InMemoryParameters();

    // Act
    const engaging = engageKillSwitch({
      ...operator(deployedPilot(), new FakeClock(T0)),
      copies,
      writer: {
        write: async () => {
          throw new Error('ThrottlingException: Rate exceeded');
        },
      },
      reason: 'INC-44',
    });

    // Assess
    await expect(engaging).rejects.toThrow(
      /engaged for every request .* the parameter \/airlock\/pilot\/kill-switch could not be written: ThrottlingException/,
    );
    expect(copies.json(PREFIX)).toMatchObject({ engaged: true });
  });

  it('engages one workflow only when a workflow is named', async () => {
    // Prepare
    const parameters = deployedPilot();

    // Act
    const change = await engageKillSwitch({
      ...operator(parameters, new FakeClock(T0)),
      workflow: WORKFLOW,
      reason: 'wrong GL codes',
    });

    // Assess
    expect(change).toMatchObject({ scope: 'workflow', workflow: WORKFLOW, parameter: WORKFLOW_PARAMETER });
    expect(change.summary).toMatch(/workflow "expense-summary" kill switch/);
    expect(parameters.writes).toEqual([WORKFLOW_PARAMETER]);
    expect(parameters.json(PREFIX).engaged).toBe(false);
  });

  it('refuses a workflow name that cannot be a parameter name', async () => {
    // Act
    const engaging = engageKillSwitch({
      ...operator(deployedPilot(), new FakeClock(T0)),
      workflow: '../other',
      reason: 'x',
    });

    // Assess
    await expect(engaging).rejects.toThrow(/Invalid workflow "..\/other"/);
  });

  it('reports an engage of an engaged switch as no change, and moves revokeIssuedBefore forward', async () => {
    // Prepare
    const parameters = deployedPilot();
    const clock = new FakeClock(T0);
    await engageKillSwitch({ ...operator(parameters, clock), reason: 'first' });
    clock.advance(60_000);

    // Act
    const change = await engageKillSwitch({ ...operator(parameters, clock), reason: 'second' });

    // Assess
    expect(change).toMatchObject({ before: 'engaged', changed: false });
    expect(change.summary).toMatch(/^Already engaged; re-engaged/);
    expect(parameters.json(PREFIX)).toMatchObject({
      reason: 'second',
      revokeIssuedBefore: '2026-11-02T09:01:00.000Z',
    });
  });
});

describe('Function: releaseKillSwitch', () => {
  it('writes released and keeps every token issued before the release dead', async () => {
    // Prepare
    const parameters = deployedPilot();
    const clock = new FakeClock(T0);
    await engageKillSwitch({ ...operator(parameters, clock), reason: 'INC-42' });
    clock.advance(3_600_000);

    // Act
    const change = await releaseKillSwitch({ ...operator(parameters, clock), reason: 'INC-42 closed' });
    clock.advance(10_000);
    const state = await functionsOf(parameters, clock).check(WORKFLOW);

    // Assess
    expect(change).toMatchObject({ action: 'release', before: 'engaged', changed: true });
    expect(parameters.json(PREFIX)).toMatchObject({
      engaged: false,
      reason: 'INC-42 closed',
      revokeIssuedBefore: '2026-11-02T10:00:00.000Z',
    });
    expect(state.engaged).toBe(false);
    // Issued before the incident, and issued by a function that had not yet seen the engage: both dead.
    expect(isSealedByKillSwitch(state, new Date(T0 - 60_000))).toBe(true);
    expect(isSealedByKillSwitch(state, new Date(T0 + 3000))).toBe(true);
    expect(isSealedByKillSwitch(state, new Date(T0 + 3_600_000 + 5000))).toBe(false);
    expect(change.summary).toMatch(/Tokens issued before 2026-11-02T10:00:00.000Z stay revoked/);
  });

  it('is seen within 1.2 × backstopSeconds: a function counts the switch engaged while its reading says so', async () => {
    // Prepare
    const parameters = deployedPilot();
    const copies = new InMemoryParameters();
    const clock = new FakeClock(T0);
    await engageKillSwitch({ ...operator(parameters, clock), copies, reason: 'INC-42' });
    const killSwitch = functionsOf(parameters, clock);
    await killSwitch.check(WORKFLOW);

    // Act
    const change = await releaseKillSwitch({ ...operator(parameters, clock), copies, backstopSeconds: 60 });
    const copied = await copies.read([PREFIX, WORKFLOW_PARAMETER]);
    const atOnce = await killSwitch.check(WORKFLOW, copied);
    clock.ms = change.effectiveBy.getTime();
    await killSwitch.check(WORKFLOW, copied);
    await new Promise((resolve) => setImmediate(resolve));
    const later = await killSwitch.check(WORKFLOW, copied);

    // Assess
    expect(change.effectiveBy.toISOString()).toBe('2026-11-02T09:01:12.000Z');
    expect(atOnce.engaged).toBe(true);
    expect(later.engaged).toBe(false);
  });

  it('refuses to count as released when the parameter write fails after the copy was released', async () => {
    // Prepare
    const parameters = deployedPilot();
    const copies = new InMemoryParameters();
    const clock = new FakeClock(T0);
    await engageKillSwitch({ ...operator(parameters, clock), copies, reason: 'INC-42' });

    // Act
    const releasing = releaseKillSwitch({
      ...operator(parameters, clock),
      copies,
      writer: {
        write: async () => {
          throw new Error('AccessDeniedException');
        },
      },
    });

    // Assess
    await expect(releasing).rejects.toThrow(/The kill switch is still engaged/);
    expect(parameters.json(PREFIX).engaged).toBe(true);
  });

  it('keeps the later cut-off of the copy and the parameter', async () => {
    // Prepare: the copy was engaged later than the parameter (a retried half-written engage)
    const parameters = deployedPilot();
    const copies = new InMemoryParameters();
    const clock = new FakeClock(T0);
    await engageKillSwitch({ ...operator(parameters, clock), reason: 'first' });
    clock.advance(60_000);
    await engageKillSwitch({ ...operator(copies, clock), reason: 'second' });
    clock.advance(60_000);

    // Act
    const change = await releaseKillSwitch({ ...operator(parameters, clock), copies });

    // Assess
    expect(change.revokeIssuedBefore?.toISOString()).toBe('2026-11-02T09:02:00.000Z');
  });

  it('keeps revokeIssuedBefore unchanged when the switch is already released', async () => {
    // Prepare
    const parameters = deployedPilot();
    const clock = new FakeClock(T0);
    await engageKillSwitch({ ...operator(parameters, clock), reason: 'INC-42' });
    clock.advance(60_000);
    await releaseKillSwitch(operator(parameters, clock));
    clock.advance(60_000);

    // Act
    const change = await releaseKillSwitch(operator(parameters, clock));

    // Assess
    expect(change).toMatchObject({ before: 'released', changed: false });
    expect(change.revokeIssuedBefore?.toISOString()).toBe('2026-11-02T09:01:00.000Z');
    expect(parameters.json(PREFIX).reason).toBe('released by alice@example.com');
  });

  it('repairs a missing or unreadable parameter with a valid released value', async () => {
    // Prepare
    const parameters = deployedPilot();
    parameters.values.set(PREFIX, 'not json');
    parameters.values.delete(WORKFLOW_PARAMETER);
    const clock = new FakeClock(T0);

    // Act
    const global = await releaseKillSwitch(operator(parameters, clock));
    const workflow = await releaseKillSwitch({ ...operator(parameters, clock), workflow: WORKFLOW });
    const state = await functionsOf(parameters, clock).check(WORKFLOW);

    // Assess
    expect(global.before).toBe('unreadable');
    expect(workflow.before).toBe('missing');
    expect(state.engaged).toBe(false);
  });
});

describe('Function: killSwitchStatus', () => {
  it('reports the global and every workflow parameter from one read, missing ones as engaged', async () => {
    // Prepare
    const parameters = deployedPilot();
    const clock = new FakeClock(T0);
    await engageKillSwitch({ ...operator(parameters, clock), workflow: WORKFLOW, reason: 'wrong GL codes' });
    parameters.reads.length = 0;

    // Act
    const report = await killSwitchStatus({
      source: parameters,
      prefix: PREFIX,
      workflows: [WORKFLOW, 'payroll'],
      clock,
    });

    // Assess
    expect(parameters.reads).toEqual([[PREFIX, WORKFLOW_PARAMETER, `${PREFIX}/payroll`]]);
    expect(report.global).toMatchObject({ status: 'released', engaged: false, changedBy: 'cdk' });
    expect(report.workflows[WORKFLOW]).toMatchObject({
      status: 'engaged',
      engaged: true,
      reason: 'wrong GL codes',
      changedBy: 'alice@example.com',
      effective: { engaged: true, scope: 'workflow' },
    });
    expect(report.workflows.payroll).toMatchObject({ status: 'missing', engaged: true });
    expect(report.workflows.payroll.problem).toMatch(/does not exist/);
    expect(report.anyEngaged).toBe(true);
  });

  it('reports each copy, and counts a switch engaged when either its parameter or its copy says so', async () => {
    // Prepare
    const parameters = deployedPilot();
    const copies = new InMemoryParameters();
    const clock = new FakeClock(T0);
    await engageKillSwitch({ ...operator(copies, clock), workflow: WORKFLOW, reason: 'copy only' });

    // Act
    const report = await killSwitchStatus({
      source: parameters,
      copies,
      prefix: PREFIX,
      workflows: [WORKFLOW],
      clock,
    });

    // Assess
    expect(report.global).toMatchObject({ engaged: false, copy: 'missing', engagedEither: false });
    expect(report.workflows[WORKFLOW]).toMatchObject({
      engaged: false,
      copy: { engaged: true, reason: 'copy only' },
      engagedEither: true,
      effective: { engaged: true, scope: 'workflow', reason: 'copy only' },
    });
    expect(report.anyEngaged).toBe(true);
  });

  it('reports nothing engaged on a freshly deployed pilot', async () => {
    // Act
    const report = await killSwitchStatus({
      source: deployedPilot(),
      prefix: PREFIX,
      workflows: [WORKFLOW],
      clock: new FakeClock(T0),
    });

    // Assess
    expect(report.anyEngaged).toBe(false);
    expect(report.workflows[WORKFLOW].effective).toMatchObject({ engaged: false, scope: null });
  });
});
