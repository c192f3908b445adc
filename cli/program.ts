/**
 * The `airlock` command line: one commander program, one module per command group.
 * Exit codes: 0 success, 1 check failed or refused, 2 usage or config error.
 */
import { Command, CommanderError } from 'commander';
import { CLI_ENV } from '../lib/contracts/environment';
import { registerApprovalsCommands } from './approvals-commands';
import { registerAuditCommands } from './audit-commands';
import { registerBridgeCommand } from './bridge-command';
import {
  CliContext,
  CliError,
  type CliIo,
  describeFailure,
  EXIT,
  type GlobalOptions,
  processIo,
} from './cli-context';
import { registerClientsCommands } from './clients-commands';
import { registerConfigCommands } from './config-commands';
import { registerConnectorsCommands } from './connectors-commands';
import { registerCostCommands } from './cost-commands';
import { registerDoctorCommand } from './doctor-command';
import { registerKillSwitchCommands } from './kill-switch-commands';
import { registerLocalCommands } from './local-commands';
import { registerPoliciesCommands } from './policies-commands';
import { registerRevokeCommand } from './revoke-command';
import { registerTokenCommand } from './token-command';

/** Builds the program; each register function adds one command group. */
export function buildProgram(io: CliIo = processIo): { program: Command; context: CliContext } {
  const program = new Command('airlock')
    .description('Operate an Airlock deployment or the local pilot.')
    .option(
      '--config <file>',
      `pilot config file (default: $${CLI_ENV.config} or config/airlock.config.yaml)`,
    )
    .option('--json', 'print results as JSON')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // One prefix for every failure, commander's usage errors included.
      outputError: (text, write) => write(text.replace(/^error: /, 'airlock: ')),
    });
  const context = new CliContext(io, () => program.opts<GlobalOptions>());
  registerConfigCommands(program, context);
  registerConnectorsCommands(program, context);
  registerAuditCommands(program, context);
  registerLocalCommands(program, context);
  registerKillSwitchCommands(program, context);
  registerRevokeCommand(program, context);
  registerBridgeCommand(program, context);
  registerTokenCommand(program, context);
  registerClientsCommands(program, context);
  registerApprovalsCommands(program, context);
  registerCostCommands(program, context);
  registerPoliciesCommands(program, context);
  registerDoctorCommand(program, context, runCli);
  return { program, context };
}

/**
 * Runs the CLI and returns the exit code (never throws, never prints a stack trace). Every failure is one
 * line on stderr, `airlock: ...`; with `--json` stdout also gets `{"error":{"message","exitCode"}}`
 * unless the command already printed its result there.
 */
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
      // Commander already wrote its message (or the help) to stderr; a script reading --json gets it too.
      if (context.json) printJsonError(io, usageMessage(error), EXIT.usage);
      return EXIT.usage;
    }
    if (error instanceof CliError) {
      if (context.json && !error.resultPrinted) printJsonError(io, error.message, error.exitCode);
      io.stderr.write(`airlock: ${error.message}\n`);
      return error.exitCode;
    }
    // Anything else is a bug in Airlock, not the operator's mistake: say so, in one line.
    const message = `unexpected failure (a bug in Airlock; please report it with the command you ran): ${describeFailure(error)}`;
    if (context.json) printJsonError(io, message, EXIT.failed);
    io.stderr.write(`airlock: ${message}\n`);
    return EXIT.failed;
  }
}

function printJsonError(io: CliIo, message: string, exitCode: number): void {
  io.stdout.write(`${JSON.stringify({ error: { message, exitCode } })}\n`);
}

/** Commander's message without its `error: ` prefix; a command group run without a command has none. */
function usageMessage(error: CommanderError): string {
  if (error.code === 'commander.help') return 'a command is required (run with --help for usage)';
  return error.message.replace(/^error: /, '');
}
