import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileKillSwitchParameters } from '../../../lambdas/adapters/local/file-kill-switch-parameters';
import { DependencyError } from '../../../lambdas/core/errors';
import { KillSwitch, releasedKillSwitchValue } from '../../../lambdas/core/kill-switch';
import { engageKillSwitch, releaseKillSwitch } from '../../../lambdas/core/kill-switch-operator';

const PREFIX = '/airlock/pilot/kill-switch';
const WORKFLOW_PARAMETER = `${PREFIX}/expense-summary`;

let home: string;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'airlock-kill-switch-'));
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('Class: FileKillSwitchParameters', () => {
  describe('Method: write', () => {
    it('stores each parameter as its own JSON file under <home>/kill-switch/', async () => {
      // Prepare
      const parameters = new FileKillSwitchParameters(home);
      const value = releasedKillSwitchValue('airlock local', new Date('2026-11-01T00:00:00Z'));

      // Act
      await parameters.write(PREFIX, value);
      await parameters.write(WORKFLOW_PARAMETER, value);

      // Assess
      expect((await readdir(join(home, 'kill-switch'))).sort()).toEqual([
        'airlock.pilot.kill-switch.expense-summary.json',
        'airlock.pilot.kill-switch.json',
      ]);
      expect(
        JSON.parse(await readFile(join(home, 'kill-switch', 'airlock.pilot.kill-switch.json'), 'utf8')),
      ).toEqual(JSON.parse(value));
    });

    it.each([
      ['/airlock/pilot/other'],
      ['/airlock/pilot/kill-switch/../../../etc/passwd'],
      ['/airlock/pilot/kill-switch/a/b'],
      ['airlock/pilot/kill-switch'],
      ['/airlock/Pilot/kill-switch'],
    ])('refuses %s, which is not a kill switch parameter, and writes nothing', async (name) => {
      // Prepare
      const parameters = new FileKillSwitchParameters(home);

      // Act
      const writing = parameters.write(name, '{}');

      // Assess
      await expect(writing).rejects.toThrow(DependencyError);
      await expect(writing).rejects.toThrow(/is not a kill switch parameter name/);
      expect(await readdir(home)).toEqual([]);
    });

    it('never lets a reader see a partly written file, and leaves no temporary files', async () => {
      // Prepare
      const parameters = new FileKillSwitchParameters(home);
      const values = ['a', 'b', 'c'].map((letter) => JSON.stringify({ reason: letter.repeat(512 * 1024) }));
      await parameters.write(PREFIX, values[0]);
      const seen = new Set<string | undefined>();
      let writing = true;

      // Act
      const reader = (async () => {
        while (writing) seen.add((await parameters.read([PREFIX]))[PREFIX]);
      })();
      for (let i = 1; i <= 30; i++) await parameters.write(PREFIX, values[i % values.length]);
      writing = false;
      await reader;

      // Assess
      for (const value of seen) expect(values).toContain(value);
      expect(seen.size).toBeGreaterThan(0);
      expect(await readdir(join(home, 'kill-switch'))).toEqual(['airlock.pilot.kill-switch.json']);
    });

    it('removes its temporary file when the write fails', async () => {
      // Prepare: a folder where the parameter file should be makes the rename fail.
      const parameters = new FileKillSwitchParameters(home);
      await mkdir(parameters.fileOf(PREFIX), { recursive: true });

      // Act
      const writing = parameters.write(PREFIX, '{}');

      // Assess
      await expect(writing).rejects.toThrow(/cannot write .*airlock\.pilot\.kill-switch\.json/);
      expect(await readdir(join(home, 'kill-switch'))).toEqual(['airlock.pilot.kill-switch.json']);
    });
  });

  describe('Method: read', () => {
    it('returns undefined for a parameter that has no file yet', async () => {
      // Prepare
      const parameters = new FileKillSwitchParameters(home);
      await parameters.write(PREFIX, '{"x":1}');

      // Act
      const values = await parameters.read([PREFIX, WORKFLOW_PARAMETER]);

      // Assess
      expect(values).toEqual({ [PREFIX]: '{"x":1}', [WORKFLOW_PARAMETER]: undefined });
    });

    it('makes the kill switch engaged when the file was hand-edited into something unreadable', async () => {
      // Prepare
      const parameters = new FileKillSwitchParameters(home);
      await releaseKillSwitch({ source: parameters, writer: parameters, prefix: PREFIX, changedBy: 'ops' });
      await releaseKillSwitch({
        source: parameters,
        writer: parameters,
        prefix: PREFIX,
        workflow: 'expense-summary',
        changedBy: 'ops',
      });
      const workflows = ['expense-summary'];
      const before = await new KillSwitch({ source: parameters, prefix: PREFIX, workflows }).check(
        'expense-summary',
      );
      await writeFile(parameters.fileOf(PREFIX), '{"engaged": fals');

      // Act
      const after = await new KillSwitch({ source: parameters, prefix: PREFIX, workflows }).check(
        'expense-summary',
      );

      // Assess
      expect(before.engaged).toBe(false);
      expect(after).toMatchObject({ engaged: true, scope: 'global' });
      expect(after.reason).toMatch(/not JSON/);
    });

    it('is what engage and release act on in the local pilot', async () => {
      // Prepare
      const parameters = new FileKillSwitchParameters(home);
      const operator = { source: parameters, writer: parameters, prefix: PREFIX, changedBy: 'ops' };

      // Act
      await engageKillSwitch({ ...operator, reason: 'local drill' });
      const engaged = await new KillSwitch({ source: parameters, prefix: PREFIX }).check();

      // Assess
      expect(engaged).toMatchObject({ engaged: true, reason: 'local drill' });
    });
  });
});
