/**
 * The table of what each operator command does in AWS (cli/aws-command-permissions.ts) names commands
 * and flags the CLI has: the permission proof checks the roles against it, so an entry for a command
 * that was renamed would prove nothing.
 */
import type { Command } from 'commander';
import { CLI_AWS_COMMANDS } from '../../cli/aws-command-permissions';
import { buildProgram } from '../../cli/program';

function find(program: Command, path: readonly string[]): Command | undefined {
  let command: Command | undefined = program;
  for (const name of path) command = command?.commands.find((c) => c.name() === name);
  return command;
}

describe('CLI_AWS_COMMANDS', () => {
  const { program } = buildProgram();

  it.each(Object.keys(CLI_AWS_COMMANDS))('"%s" is a command of the CLI, with its flags', (entry) => {
    const words = entry.split(' ');
    const flags = words.filter((w) => w.startsWith('--'));
    const command = find(
      program,
      words.filter((w) => !w.startsWith('--')),
    );
    expect(command?.name()).toBe(words.filter((w) => !w.startsWith('--')).at(-1));
    for (const flag of flags) expect(command?.options.map((o) => o.long)).toContain(flag);
  });

  it('gives every command a role, or says why none', () => {
    const unexplained = Object.entries(CLI_AWS_COMMANDS)
      .filter(([, command]) => command.role === undefined && !('why' in command))
      .map(([name]) => name);
    expect(unexplained).toEqual([]);
  });
});
