/**
 * `airlock token`: a short-lived access token for the device certificate, asked for over mutual TLS
 * at `POST /v1/credentials`. With `--headers` it prints the JSON object of request headers a
 * `headersHelper` prints (Claude Code, Cowork on third-party inference), so a client that connects
 * directly to `/v1/mcp` with the device certificate gets a fresh token whenever it runs the helper.
 *
 * stdout carries the token (or the headers) and nothing else; every refusal is one line on stderr
 * with the CLI's exit codes (1 refused or unreachable, 2 a usage error), never a stack trace.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { describeBridgeFailure } from './bridge/bridge-error';
import { BridgeTokenSource } from './bridge/bridge-token-source';
import { bridgeOptions, parseMinutes, parseScopes } from './bridge-command';
import { type CliContext, CliError, EXIT } from './cli-context';
import { addTargetOptions, resolveTarget, type TargetOptions } from './cli-target';
import { airlockApiClient } from './operator-ports';

interface TokenCommandFlags extends TargetOptions {
  readonly workflow: string;
  readonly scopes?: string[];
  readonly durationMinutes?: number;
  readonly headers?: boolean;
  readonly ttlSeconds?: number;
}

/** Registers `airlock token`. */
export function registerTokenCommand(program: Command, context: CliContext): void {
  addTargetOptions(
    program
      .command('token')
      .description(
        'Print a short-lived access token for your device certificate (with --headers: the JSON headers a headersHelper prints).',
      )
      .requiredOption('--workflow <name>', 'the workflow the token is for, e.g. expense-summary'),
    { acts: 'api' },
  )
    .option(
      '--scopes <list>',
      'comma-separated scopes (default: every scope the workflow allows)',
      parseScopes,
    )
    .option('--duration-minutes <n>', "token lifetime (default: the workflow's maximum)", parseMinutes)
    .option('--headers', 'print {"Authorization":"Bearer <token>"} for a headersHelper')
    .option(
      '--ttl-seconds <n>',
      "the helper's TTL (headersHelperTtlSec): refuse a token that would expire before the client runs the helper again",
      parseTtlSeconds,
    )
    .action(async (flags: TokenCommandFlags) => {
      const server = await resolveTarget(context, flags, { acts: 'api' });
      const options = bridgeOptions(flags, server, context);
      if (flags.ttlSeconds !== undefined && options.durationMinutes * 60 < flags.ttlSeconds) {
        throw new CliError(
          `--ttl-seconds ${flags.ttlSeconds}: the token would live ${options.durationMinutes} minutes, less than the helper's TTL, so the client would send an expired token; lower headersHelperTtlSec to at most ${options.durationMinutes * 60} or raise --duration-minutes (at most the workflow's maxTokenLifetimeMinutes).`,
          EXIT.usage,
        );
      }
      const api = airlockApiClient(server);
      try {
        const issued = await new BridgeTokenSource(api.fetch, options).issue();
        if (flags.headers) {
          // The helper's contract: one JSON object of string headers on stdout, nothing else.
          context.io.stdout.write(`${JSON.stringify({ Authorization: `Bearer ${issued.accessToken}` })}\n`);
          return;
        }
        context.result(issued.accessToken, {
          accessToken: issued.accessToken,
          tokenType: 'Bearer',
          expiresAt: issued.expiresAt,
          workflow: options.workflow,
          scopes: options.scopes,
        });
      } catch (error) {
        throw new CliError(describeBridgeFailure(error, server.url), EXIT.failed, {
          cause: error,
        });
      } finally {
        api.close();
      }
    });
}

function parseTtlSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 1)
    throw new InvalidArgumentError('expected a whole number of seconds, 1 or more');
  return seconds;
}
