/**
 * The table of what each operator command does in AWS (cli/aws-command-permissions.ts) names commands
 * and flags the CLI has: the permission proof checks the roles against it, so an entry for a command
 * that was renamed would prove nothing.
 */
import type { Command } from 'commander';
import { CLI_AWS_COMMANDS } from '../../cli/aws-command-permissions';
import { buildProgram } from '../../cli/program';

/**
 * The command a path of words names; a last word that is one of the command's action choices
 * (`revoke list`) names the command itself, with that action.
 */
function find(program: Command, path: readonly string[]): { command?: Command; action?: string } {
  let command: Command | undefined = program;
  for (const [i, name] of path.entries()) {
    const sub: Command | undefined = command?.commands.find((c) => c.name() === name);
    const isAction =
      sub === undefined &&
      i === path.length - 1 &&
      (command?.registeredArguments[0]?.argChoices ?? []).includes(name);
    if (isAction) return { command, action: name };
    command = sub;
  }
  return { command };
}

describe('CLI_AWS_COMMANDS', () => {
  const { program } = buildProgram();

  it.each(Object.keys(CLI_AWS_COMMANDS))('"%s" is a command of the CLI, with its flags', (entry) => {
    const words = entry.split(' ');
    const flags = words.filter((w) => w.startsWith('--'));
    const path = words.filter((w) => !w.startsWith('--'));
    const { command, action } = find(program, path);
    expect(action ?? command?.name()).toBe(path.at(-1));
    for (const flag of flags) expect(command?.options.map((o) => o.long)).toContain(flag);
  });

  it('gives every command a role, or says why none', () => {
    const unexplained = Object.entries(CLI_AWS_COMMANDS)
      .filter(([, command]) => command.role === undefined && !('why' in command))
      .map(([name]) => name);
    expect(unexplained).toEqual([]);
  });
});
