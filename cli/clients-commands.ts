/**
 * `airlock clients config --for claude-code|cowork-3p|claude-desktop`: prints what IT deploys to put
 * Airlock in front of each client (see `clients/client-config.ts` and docs/clients.md).
 */
import { randomUUID } from 'node:crypto';
import { type Command, InvalidArgumentError } from 'commander';
import { CLI_ENV } from '../lib/contracts/environment';
import { type CliContext, CliError, EXIT } from './cli-context';
import {
  type BedrockInference,
  bedrockInferenceOf,
  CLIENT_KINDS,
  ClientConfigError,
  type ClientConfigRequest,
  type ClientKind,
  claudeCodeConfig,
  claudeDesktopConfig,
  coworkInferenceSettings,
  coworkManagedServers,
  DEFAULT_COWORK_INFERENCE_KEYS,
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
  readonly inferenceProfileArn?: string;
  readonly local?: boolean;
  readonly providerSettingKey: string;
  readonly regionSettingKey: string;
  readonly modelsSettingKey: string;
}

/** Registers `airlock clients config`. */
export function registerClientsCommands(program: Command, context: CliContext): void {
  const clients = program.command('clients').description('Generate what IT deploys to desktop AI clients.');
  clients
    .command('config')
    .description(
      "Print a client's MCP configuration for a workflow: Claude Code's MCP JSON and env, Cowork on 3P's managed settings (JSON, .mobileconfig or .reg), or Claude Desktop's config. A workflow with llm also gets the client's Bedrock settings, the model being the workflow's application inference profile, so its tokens are measured per workflow.",
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
    .option(
      '--inference-profile-arn <arn>',
      `a workflow with llm: its Bedrock application inference profile (the Foundation stack's InferenceProfileArn<Workflow> output; default: the workflow's entry in $${CLI_ENV.inferenceProfiles})`,
    )
    .option('--local', "a workflow with llm: the local pilot's Bedrock stand-in profile")
    .option(
      '--provider-setting-key <key>',
      'cowork-3p: the managed setting naming the inference provider (check your client version)',
      DEFAULT_COWORK_INFERENCE_KEYS.provider,
    )
    .option(
      '--region-setting-key <key>',
      "cowork-3p: the managed setting naming Bedrock's region (check your client version)",
      DEFAULT_COWORK_INFERENCE_KEYS.region,
    )
    .option(
      '--models-setting-key <key>',
      "cowork-3p: the managed setting listing the models, here the workflow's profile (check your client version)",
      DEFAULT_COWORK_INFERENCE_KEYS.models,
    )
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
      if (flags.for === 'claude-desktop' && (flags.inferenceProfileArn !== undefined || flags.local)) {
        throw new CliError(
          `${flags.local ? '--local' : '--inference-profile-arn'}: Claude Desktop's config has no model setting; use it with --for claude-code or cowork-3p.`,
          EXIT.usage,
        );
      }
      try {
        const bedrock =
          flags.for === 'claude-desktop'
            ? undefined
            : bedrockInferenceOf(config, flags.workflow, {
                ...(flags.inferenceProfileArn !== undefined ? { flag: flags.inferenceProfileArn } : {}),
                ...(flags.local ? { local: true } : {}),
                ...(context.io.env[CLI_ENV.inferenceProfiles]
                  ? { profilesJson: context.io.env[CLI_ENV.inferenceProfiles] }
                  : {}),
              });
        context.io.stdout.write(render(flags, config, request, bedrock));
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
  bedrock: BedrockInference | undefined,
): string {
  switch (flags.for) {
    case 'claude-code':
      return `${JSON.stringify(claudeCodeConfig(config, request, bedrock), null, 2)}\n`;
    case 'claude-desktop':
      return `${JSON.stringify(claudeDesktopConfig(config, request), null, 2)}\n`;
    case 'cowork-3p': {
      const servers = coworkManagedServers(config, request);
      const inference = coworkInferenceSettings(bedrock, {
        provider: flags.providerSettingKey,
        region: flags.regionSettingKey,
        models: flags.modelsSettingKey,
      });
      if (flags.format === 'mobileconfig')
        return mobileconfigOf(servers, flags.payloadType, () => randomUUID().toUpperCase(), inference);
      if (flags.format === 'reg') return regOf(servers, flags.registryKey, inference);
      return `${JSON.stringify({ managedMcpServers: servers, ...inference }, null, 2)}\n`;
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
