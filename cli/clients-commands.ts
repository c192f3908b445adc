/**
 * `airlock clients config --for claude-code|cowork-3p|claude-desktop`: prints what IT deploys to put
 * Airlock in front of each client (see `clients/client-config.ts` and docs/clients.md).
 */
import { randomUUID } from 'node:crypto';
import { type Command, InvalidArgumentError } from 'commander';
import { type CliContext, CliError, EXIT } from './cli-context';
import {
  CLIENT_KINDS,
  ClientConfigError,
  type ClientConfigRequest,
  type ClientKind,
  claudeCodeConfig,
  claudeDesktopConfig,
  coworkManagedServers,
  mobileconfigOf,
  regOf,
} from './clients/client-config';

const FORMATS = ['json', 'mobileconfig', 'reg'] as const;
type Format = (typeof FORMATS)[number];

interface ClientsConfigFlags {
  readonly for: ClientKind;
  readonly workflow: string;
  readonly server: string;
  readonly name?: string;
  readonly airlockCommand?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
  readonly bridge?: boolean;
  readonly helperTtlSeconds?: number;
  readonly format: Format;
  readonly payloadType: string;
  readonly registryKey: string;
}

/** Registers `airlock clients config`. */
export function registerClientsCommands(program: Command, context: CliContext): void {
  const clients = program.command('clients').description('Generate what IT deploys to desktop AI clients.');
  clients
    .command('config')
    .description(
      "Print a client's MCP configuration for a workflow: Claude Code's MCP JSON, Cowork on 3P's managedMcpServers (JSON, .mobileconfig or .reg), or Claude Desktop's config.",
    )
    .requiredOption('--for <client>', `the client: ${CLIENT_KINDS.join(', ')}`, parseClient)
    .requiredOption('--workflow <name>', 'the workflow the client works for, e.g. expense-summary')
    .requiredOption(
      '--server <url>',
      "Airlock's mutual-TLS URL, e.g. https://airlock.example.com",
      parseServer,
    )
    .option('--name <name>', "the MCP server's name in the client (default: airlock)")
    .option('--airlock-command <command>', 'the airlock command on the devices (default: npx airlock)')
    .option('--cert <path>', 'device certificate path on the devices (default: $HOME/.airlock/device.pem)')
    .option('--key <path>', 'device key path on the devices (default: $HOME/.airlock/device.key.pem)')
    .option('--ca <path>', "Airlock's server CA path on the devices (default: $HOME/.airlock/ca.pem)")
    .option('--bridge', 'Claude Code: use the stdio bridge instead of the direct form')
    .option(
      '--helper-ttl-seconds <n>',
      "how often the client runs the headersHelper (default: half the workflow's token lifetime)",
      parsePositive,
    )
    .option('--format <format>', `cowork-3p output: ${FORMATS.join(', ')}`, parseFormat, 'json')
    .option(
      '--payload-type <domain>',
      "the .mobileconfig payload's preference domain (your client's documentation names it)",
      'com.anthropic.claudefordesktop',
    )
    .option('--registry-key <key>', 'the .reg policy key', 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Claude')
    .action((flags: ClientsConfigFlags) => {
      const config = context.loadConfig();
      const request: ClientConfigRequest = {
        workflow: flags.workflow,
        server: flags.server,
        ...(flags.name ? { name: flags.name } : {}),
        ...(flags.airlockCommand ? { airlockCommand: flags.airlockCommand } : {}),
        ...(flags.cert ? { certPath: flags.cert } : {}),
        ...(flags.key ? { keyPath: flags.key } : {}),
        ...(flags.ca ? { caPath: flags.ca } : {}),
        ...(flags.bridge ? { bridge: true } : {}),
        ...(flags.helperTtlSeconds ? { helperTtlSeconds: flags.helperTtlSeconds } : {}),
      };
      if (flags.format !== 'json' && flags.for !== 'cowork-3p') {
        throw new CliError(
          `--format ${flags.format}: only --for cowork-3p has MDM formats; use --format json.`,
          EXIT.usage,
        );
      }
      try {
        context.io.stdout.write(render(flags, config, request));
      } catch (error) {
        if (error instanceof ClientConfigError) throw new CliError(error.message, EXIT.usage);
        throw error;
      }
    });
}

function render(
  flags: ClientsConfigFlags,
  config: ReturnType<CliContext['loadConfig']>,
  request: ClientConfigRequest,
): string {
  switch (flags.for) {
    case 'claude-code':
      return `${JSON.stringify(claudeCodeConfig(config, request), null, 2)}\n`;
    case 'claude-desktop':
      return `${JSON.stringify(claudeDesktopConfig(request), null, 2)}\n`;
    case 'cowork-3p': {
      const servers = coworkManagedServers(config, request);
      if (flags.format === 'mobileconfig')
        return mobileconfigOf(servers, flags.payloadType, () => randomUUID().toUpperCase());
      if (flags.format === 'reg') return regOf(servers, flags.registryKey);
      return `${JSON.stringify({ managedMcpServers: servers }, null, 2)}\n`;
    }
  }
}

function parseClient(value: string): ClientKind {
  if (!(CLIENT_KINDS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`expected one of ${CLIENT_KINDS.join(', ')}`);
  return value as ClientKind;
}

function parseFormat(value: string): Format {
  if (!(FORMATS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`expected one of ${FORMATS.join(', ')}`);
  return value as Format;
}

function parseServer(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected an https:// URL such as https://airlock.example.com');
  }
  if (url.protocol !== 'https:' || url.pathname !== '/' || url.search || url.hash)
    throw new InvalidArgumentError(
      'expected an https:// URL with no path, such as https://airlock.example.com',
    );
  return url.origin;
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError('expected a whole number of seconds, 1 or more');
  return n;
}
