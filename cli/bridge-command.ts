/**
 * `airlock bridge`: the desktop side of Airlock. A stdio MCP server that a desktop assistant (Claude
 * Desktop, Claude Code) starts as a local command; it holds the device certificate, gets a short-lived
 * token from `POST /v1/credentials` over mutual TLS, and forwards `tools/list` and `tools/call` to
 * Airlock's `POST /v1/mcp` (see `bridge/bridge-server.ts`).
 *
 * This file is the command: its flags, and turning them into {@link BridgeOptions}, with every
 * problem (a missing certificate, an expired one, an unknown workflow) named before anything is sent.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { workflowScopes } from '../lambdas/core/credential-request';
import { ConfigError } from '../lib/config/load-config';
import { CLI_ENV } from '../lib/contracts/environment';
import type { BridgeOptions } from './bridge/bridge-options';
import { runBridge } from './bridge/bridge-server';
import { type CliContext, CliError, EXIT } from './cli-context';
import { addTargetOptions, resolveTarget, type ServerTarget, type TargetOptions } from './cli-target';
import { airlockApiClient } from './operator-ports';

const DEFAULT_DURATION_MINUTES = 60;

interface BridgeCommandFlags extends TargetOptions {
  readonly workflow: string;
  readonly scopes?: string[];
  readonly durationMinutes?: number;
  readonly retrySeconds?: number;
}

/** Registers `airlock bridge`. */
export function registerBridgeCommand(program: Command, context: CliContext): void {
  addTargetOptions(
    program
      .command('bridge')
      .description(
        'Serve Airlock to a desktop assistant as a stdio MCP server (stdout is the MCP channel; messages go to stderr).',
      )
      .requiredOption('--workflow <name>', 'the workflow the assistant works for, e.g. expense-summary'),
    { acts: 'api' },
  )
    .option(
      '--scopes <list>',
      'comma-separated scopes (default: every scope the workflow allows)',
      parseScopes,
    )
    .option('--duration-minutes <n>', "token lifetime (default: the workflow's maximum)", parseMinutes)
    .option(
      '--retry-seconds <n>',
      'while Airlock is sealed or unreachable, ask again this often and tell the desktop when it is back (default: 15)',
      parseSeconds,
    )
    .action(async (flags: BridgeCommandFlags) => {
      // The desktop may start the bridge before the pilot: it then reports, and recovers once it runs.
      const server = await resolveTarget(context, flags, { acts: 'api' }, { requireRunningPilot: false });
      const options = bridgeOptions(flags, server, context);
      const api = airlockApiClient(server);
      try {
        await runBridge(options, api.fetch, {
          stdin: context.stdin,
          stdout: context.io.stdout,
          stderr: context.io.stderr,
        });
      } finally {
        api.close();
      }
    });
}

export function parseScopes(value: string): string[] {
  const scopes = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (scopes.length === 0) throw new InvalidArgumentError('expected scopes such as receipts:read,erp:read');
  return scopes;
}

function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600)
    throw new InvalidArgumentError('expected a whole number of seconds from 1 to 3600');
  return seconds;
}

export function parseMinutes(value: string): number {
  const minutes = Number(value);
  if (!Number.isInteger(minutes) || minutes < 1)
    throw new InvalidArgumentError('expected a whole number of minutes, 1 or more');
  return minutes;
}

/** The workflow, its scopes and the token lifetime; every problem is a usage error naming what to fix. */
export function bridgeOptions(
  flags: Pick<BridgeCommandFlags, 'workflow' | 'scopes' | 'durationMinutes' | 'retrySeconds'>,
  server: ServerTarget,
  context: CliContext,
): BridgeOptions {
  let scopes = flags.scopes;
  let durationMinutes = flags.durationMinutes;
  if (!scopes || durationMinutes === undefined) {
    const config = loadConfigFor(context, flags.workflow, Boolean(scopes));
    const workflow = config?.workflows[flags.workflow];
    if (config && !workflow) {
      throw new CliError(
        `--workflow: "${flags.workflow}" is not a workflow of ${context.configPath}; workflows: ${Object.keys(config.workflows).join(', ')}.`,
        EXIT.usage,
      );
    }
    scopes ??= config ? [...workflowScopes(config, flags.workflow)].sort() : [];
    durationMinutes ??= workflow?.maxTokenLifetimeMinutes ?? DEFAULT_DURATION_MINUTES;
  }
  return {
    workflow: flags.workflow,
    server: server.url,
    scopes,
    durationMinutes,
    ...(flags.retrySeconds === undefined ? {} : { retrySeconds: flags.retrySeconds }),
  };
}

function loadConfigFor(context: CliContext, workflow: string, optional: boolean) {
  try {
    return context.loadConfig();
  } catch (error) {
    if (optional) return undefined;
    const why = error instanceof CliError ? error.message : (error as Error).message;
    throw new CliError(
      `Cannot find the scopes of workflow "${workflow}" (${why}). Pass --scopes, e.g. receipts:read,erp:read, or point --config / ${CLI_ENV.config} at the pilot config.`,
      EXIT.usage,
      { cause: error instanceof ConfigError ? error : undefined },
    );
  }
}
