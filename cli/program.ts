/**
 * The `airlock` command line: one commander program, one module per command group.
 * Exit codes: 0 success, 1 check failed or refused, 2 usage or config error.
 */
import { Command, CommanderError } from 'commander';
import { registerApprovalsCommands } from './approvals-commands';
import { registerAuditCommands } from './audit-commands';
import { registerBridgeCommand } from './bridge-command';
import { CliContext, CliError, type CliIo, EXIT, type GlobalOptions, processIo } from './cli-context';
import { registerConfigCommands } from './config-commands';
import { registerCostCommands } from './cost-commands';
import { registerKillSwitchCommands } from './kill-switch-commands';
import { registerLocalCommands } from './local-commands';
import { registerRevokeCommand } from './revoke-command';

/** Builds the program; each register function adds one command group. */
export function buildProgram(io: CliIo = processIo): { program: Command; context: CliContext } {
  const program = new Command('airlock')
    .description('Operate an Airlock deployment or the local pilot.')
    .option('--config <file>', 'pilot config file (default: $AIRLOCK_CONFIG or config/airlock.config.yaml)')
    .option('--json', 'print results as JSON')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  const context = new CliContext(io, () => program.opts<GlobalOptions>());
  registerConfigCommands(program, context);
  registerAuditCommands(program, context);
  registerLocalCommands(program, context);
  registerKillSwitchCommands(program, context);
  registerRevokeCommand(program, context);
  registerBridgeCommand(program, context);
  registerApprovalsCommands(program, context);
  registerCostCommands(program, context);
  return { program, context };
}

/** Runs the CLI and returns the exit code (never throws, never prints a stack trace). */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const { program, context } = buildProgram(io);
  try {
    await program.parseAsync([...argv]);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.exitCode === 0
      ) {
        return EXIT.ok;
      }
      return EXIT.usage;
    }
    if (error instanceof CliError) {
      if (context.json && !error.resultPrinted) {
        io.stdout.write(
          `${JSON.stringify({ error: { message: error.message, exitCode: error.exitCode } })}\n`,
        );
      }
      io.stderr.write(`airlock: ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr.write(`airlock: unexpected failure: ${(error as Error)?.message ?? String(error)}\n`);
    return EXIT.failed;
  }
}
