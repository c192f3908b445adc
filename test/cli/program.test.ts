/**
 * What every `airlock` command promises a person and a script alike: help that exits 0, usage
 * errors that exit 2 in one `airlock: ...` line, and with `--json` an error document on stdout.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../cli/program';
import { fakeCliIo, runAirlock } from './support/fake-cli-io';

/** Every command a person can run, as the words they type (`kill-switch engage`, ...), found in the program itself. */
function commandPaths(): string[] {
  const paths: string[] = [];
  const walk = (command: Command, prefix: string[]) => {
    for (const child of command.commands) {
      if (child.name() === 'help') continue;
      const path = [...prefix, child.name()];
      paths.push(path.join(' '));
      walk(child, path);
    }
  };
  walk(buildProgram(fakeCliIo()).program, []);
  return paths;
}

const COMMANDS = commandPaths();

describe('Function: runCli', () => {
  it('knows the command groups the runbooks name', () => {
    // Assess
    expect(COMMANDS).toEqual(
      expect.arrayContaining([
        'config check',
        'audit verify',
        'audit export',
        'audit anchor',
        'local',
        'certs issue',
        'kill-switch engage',
        'kill-switch release',
        'kill-switch status',
        'revoke',
        'bridge',
        'approvals list',
        'approvals approve',
      ]),
    );
  });

  it.each(COMMANDS)('prints the help of "%s" on stdout and exits 0', async (path) => {
    // Act
    const run = await runAirlock([...path.split(' '), '--help']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: airlock ${path} [options]`);
    expect(run.stderr).toBe('');
  });

  it.each(COMMANDS)('refuses an unknown flag of "%s" in one line and exits 2', async (path) => {
    // Act
    const run = await runAirlock([...path.split(' '), '--no-such-flag']);

    // Assess
    expect(run.code).toBe(2);
    // One line naming the flag (or a required option checked first, as `bridge --workflow`), then the hint.
    expect(run.stderr).toMatch(
      /^airlock: (unknown option '--no-such-flag'|required option '[^']+' not specified)\n\(run with --help for usage\)\n$/,
    );
    expect(run.stdout).toBe('');
  });

  it('refuses an unknown command in one line and exits 2', async () => {
    // Act
    const run = await runAirlock(['kill-swtich', 'engage']);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^airlock: unknown command 'kill-swtich'/);
  });

  it('shows the commands of a group run without one and exits 2', async () => {
    // Act
    const run = await runAirlock(['kill-switch']);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage: airlock kill-switch [options] [command]');
    expect(run.stderr).toContain('engage');
  });

  it('prints a usage error as a JSON error document on stdout with --json', async () => {
    // Act
    const unknownFlag = await runAirlock(['--json', 'audit', 'verify', '--no-such-flag']);
    const noCommand = await runAirlock(['--json', 'audit']);

    // Assess
    expect(unknownFlag.code).toBe(2);
    expect(JSON.parse(unknownFlag.stdout)).toEqual({
      error: { message: "unknown option '--no-such-flag'", exitCode: 2 },
    });
    expect(noCommand.code).toBe(2);
    expect(JSON.parse(noCommand.stdout)).toEqual({
      error: { message: 'a command is required (run with --help for usage)', exitCode: 2 },
    });
  });

  it('does not offer AWS-only digest flags on audit export, which reads no digests', async () => {
    // Act
    const help = await runAirlock(['audit', 'export', '--help']);
    const refused = await runAirlock(['audit', 'export', '--bucket', 'digests']);

    // Assess
    expect(help.stdout).toContain('--table <name>');
    expect(help.stdout).not.toContain('--bucket');
    expect(help.stdout).not.toContain('--key-id');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("airlock: unknown option '--bucket'");
  });

  describe('config check', () => {
    let folder: string;
    beforeEach(async () => {
      folder = await mkdtemp(join(tmpdir(), 'airlock-cli-program-'));
    });
    afterEach(async () => {
      await rm(folder, { recursive: true, force: true });
    });

    it('names the bad field of an invalid config in one line and exits 2', async () => {
      // Prepare
      const file = join(folder, 'airlock.config.yaml');
      await writeFile(file, 'stage: 42\n');

      // Act
      const run = await runAirlock(['--config', file, 'config', 'check']);

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^airlock: Invalid Airlock config: .*stage/);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    });

    it('says which file is missing and exits 2, with a JSON error document under --json', async () => {
      // Act
      const run = await runAirlock(['--json', '--config', join(folder, 'absent.yaml'), 'config', 'check']);

      // Assess
      expect(run.code).toBe(2);
      expect(JSON.parse(run.stdout).error).toEqual({
        message: expect.stringContaining('absent.yaml'),
        exitCode: 2,
      });
      expect(run.stderr).toMatch(/^airlock: Invalid Airlock config: .*absent\.yaml/);
    });

    it('summarizes the example pilot and exits 0', async () => {
      // Act
      const run = await runAirlock(['config', 'check']);

      // Assess
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('is valid (stage "pilot")');
      expect(run.stdout).toContain('workflows:  expense-summary');
    });
  });
});
