/**
 * What IT deploys to put Airlock in front of each desktop client, generated from the pilot config so
 * the tools, their policy locks and the token helper cannot drift from what Airlock enforces.
 *
 * - Claude Code: an MCP server entry (`.mcp.json` / `managed-mcp.json`) that connects directly to
 *   `/v1/mcp` over the device certificate (`CLAUDE_CODE_CLIENT_CERT`, `CLAUDE_CODE_CLIENT_KEY`,
 *   `NODE_EXTRA_CA_CERTS`) with `airlock token --headers` as its `headersHelper`, or the stdio bridge.
 * - Cowork on third-party inference: the `managedMcpServers` value with a `toolPolicy` per tool, and
 *   the macOS `.mobileconfig` / Windows `.reg` that carry it.
 * - Claude Desktop: the bridge entry of `claude_desktop_config.json`.
 */
import { localInferenceProfileArn } from '../../lambdas/adapters/local/provider-metrics-usage-source';
import { workflowScopes } from '../../lambdas/core/credential-request';
import type { AirlockConfig } from '../../lib/config/schema';
import { CLI_ENV } from '../../lib/contracts/environment';

export const CLIENT_KINDS = ['claude-code', 'cowork-3p', 'claude-desktop'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

/** What a client does with a tool before calling it (Cowork's per-tool lock). */
export type ToolPolicy = 'allow' | 'ask' | 'blocked';

export interface ClientConfigRequest {
  readonly workflow: string;
  /** Airlock's mutual-TLS base URL, e.g. `https://airlock.example.com`. */
  readonly server: string;
  /** The MCP server's name in the client. @default airlock */
  readonly name?: string;
  /** The `airlock` command on the users' devices. @default npx airlock */
  readonly airlockCommand?: string;
  /** Device certificate, key and CA paths on the users' devices (placeholders by default). */
  readonly certPath?: string;
  readonly keyPath?: string;
  readonly caPath?: string;
  /** Claude Code: the bridge instead of the direct form. */
  readonly bridge?: boolean;
  /** How often the client runs the helper, in seconds. @default half the workflow's token lifetime */
  readonly helperTtlSeconds?: number;
}

const DEFAULT_CERT = '$HOME/.airlock/device.pem';
const DEFAULT_KEY = '$HOME/.airlock/device.key.pem';
const DEFAULT_CA = '$HOME/.airlock/ca.pem';

/**
 * Per tool, what the client does before calling it, from the workflow's operations: reads `allow`;
 * writes and exports `ask` (the user confirms, and Airlock's policy may still hold the call for an
 * approver); operations of the workflow's connectors that the workflow does not grant `blocked` (Airlock
 * refuses them anyway; the lock keeps the model from trying).
 */
export function toolPolicyOf(config: AirlockConfig, workflow: string): Record<string, ToolPolicy> {
  const definition = workflowOf(config, workflow);
  const policy: Record<string, ToolPolicy> = {};
  for (const [connectorName, granted] of Object.entries(definition.connectors)) {
    const connector = Object.hasOwn(config.connectors, connectorName)
      ? config.connectors[connectorName]
      : undefined;
    if (!connector) continue;
    for (const [operation, op] of Object.entries(connector.operations)) {
      const tool = `${connectorName}_${operation}`;
      if (!granted.includes(operation)) policy[tool] = 'blocked';
      else policy[tool] = op.access === 'read' ? 'allow' : 'ask';
    }
  }
  return Object.fromEntries(Object.entries(policy).sort(([a], [b]) => a.localeCompare(b)));
}

/** The `headersHelper` command: a token for the device certificate, at least as long-lived as the helper's TTL. */
export function headersHelperOf(config: AirlockConfig, request: ClientConfigRequest): string {
  const ttl = helperTtlOf(config, request);
  return [
    request.airlockCommand ?? 'npx airlock',
    'token --headers',
    `--workflow ${request.workflow}`,
    `--server ${request.server}`,
    `--cert ${request.certPath ?? DEFAULT_CERT}`,
    `--key ${request.keyPath ?? DEFAULT_KEY}`,
    `--ca ${request.caPath ?? DEFAULT_CA}`,
    `--scopes ${scopesOf(config, request.workflow)}`,
    `--ttl-seconds ${ttl}`,
  ].join(' ');
}

/**
 * The workflow's scopes, written into the device's command: on a device there is no Airlock config to
 * read them from (tried with Claude Code: without them the helper failed outside an Airlock checkout,
 * and Claude Code connected without a token).
 */
function scopesOf(config: AirlockConfig, workflow: string): string {
  return [...workflowScopes(config, workflow)].sort().join(',');
}

/** The helper's TTL: half the workflow's token lifetime unless given, never longer than the lifetime. */
export function helperTtlOf(config: AirlockConfig, request: ClientConfigRequest): number {
  const lifetimeSeconds = workflowOf(config, request.workflow).maxTokenLifetimeMinutes * 60;
  const ttl = request.helperTtlSeconds ?? Math.floor(lifetimeSeconds / 2);
  if (ttl > lifetimeSeconds) {
    throw new ClientConfigError(
      `--helper-ttl-seconds ${ttl}: workflow "${request.workflow}" issues tokens of at most ${lifetimeSeconds} seconds (maxTokenLifetimeMinutes), so the client would send an expired token; use at most ${lifetimeSeconds}.`,
    );
  }
  return ttl;
}

/** A workflow's Bedrock application inference profile, as the client calls the model through it. */
export interface BedrockInference {
  readonly profileArn: string;
  /** The profile's region (the ARN's). */
  readonly region: string;
}

/** Where the profile's ARN may come from, in this order: the flag, the local pilot's naming, the CLI variable. */
export interface InferenceProfileSource {
  /** `--inference-profile-arn`. */
  readonly flag?: string;
  /** `--local`: the local Bedrock stand-in's profile of the workflow. */
  readonly local?: boolean;
  /** `AIRLOCK_INFERENCE_PROFILES`: JSON `{workflow: arn}` (the Foundation stack's `InferenceProfileArns`). */
  readonly profilesJson?: string;
}

/** An application inference profile ARN: partition, region, account, `application-inference-profile/<id>`. */
const APPLICATION_PROFILE_ARN =
  /^arn:aws(?:-[a-z]+)*:bedrock:([a-z]{2}(?:-[a-z]+)+-\d+):\d{12}:application-inference-profile\/[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ARN_EXAMPLE = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123example';

/**
 * The workflow's inference profile for the client's Bedrock settings: none for a workflow without
 * `llm` (its client gets no Bedrock settings); for one with `llm`, the ARN from the flag, the local
 * pilot's stand-in or `AIRLOCK_INFERENCE_PROFILES`, and a refusal naming where to put it when none says,
 * so a client is never configured to call the model outside the profile that measures it.
 */
export function bedrockInferenceOf(
  config: AirlockConfig,
  workflow: string,
  source: InferenceProfileSource,
): BedrockInference | undefined {
  const definition = workflowOf(config, workflow);
  if (!definition.llm) {
    if (source.flag !== undefined) {
      throw new ClientConfigError(
        `--inference-profile-arn: workflow "${workflow}" has no llm section, so its client gets no Bedrock settings; drop the flag or add workflows.${workflow}.llm to the config.`,
      );
    }
    return undefined;
  }
  if (source.flag !== undefined) return parseProfileArn(source.flag, '--inference-profile-arn');
  if (source.local) {
    return { profileArn: localInferenceProfileArn(config.stage, workflow), region: 'local' };
  }
  const variable = CLI_ENV.inferenceProfiles;
  if (source.profilesJson) {
    let profiles: unknown;
    try {
      profiles = JSON.parse(source.profilesJson);
    } catch {
      throw new ClientConfigError(
        `${variable}: not JSON; export the Foundation stack's InferenceProfileArns output as it is, or pass --inference-profile-arn.`,
      );
    }
    const arn =
      profiles && typeof profiles === 'object' && Object.hasOwn(profiles, workflow)
        ? (profiles as Record<string, unknown>)[workflow]
        : undefined;
    if (typeof arn === 'string') return parseProfileArn(arn, `${variable} (workflow "${workflow}")`);
  }
  throw new ClientConfigError(
    `--inference-profile-arn: workflow "${workflow}" has an llm section, so its client calls Bedrock through the workflow's application inference profile (that is how its tokens are measured); pass the Foundation stack's InferenceProfileArn output for it, export ${variable} (the InferenceProfileArns output), or use --local for the local pilot's stand-in.`,
  );
}

function parseProfileArn(arn: string, where: string): BedrockInference {
  const match = APPLICATION_PROFILE_ARN.exec(arn);
  if (!match) {
    throw new ClientConfigError(
      `${where}: "${arn}" is not a Bedrock application inference profile ARN; expected one such as ${ARN_EXAMPLE} (the Foundation stack's InferenceProfileArn output).`,
    );
  }
  return { profileArn: arn, region: match[1] };
}

/**
 * Claude Code's Bedrock settings (`env`): the model is the workflow's profile, so Bedrock counts its tokens.
 * The background model (Claude Code's "haiku" tier: titles, summaries, quick sub-tasks) is pinned to the
 * same profile: left unset, Claude Code would call a Haiku model (or the main model's foundation ID)
 * outside the profile, and that usage would be missing from the workflow's measured cost.
 * `ANTHROPIC_DEFAULT_HAIKU_MODEL` is the current name; `ANTHROPIC_SMALL_FAST_MODEL` is its deprecated
 * predecessor, still set for older Claude Code versions (https://code.claude.com/docs/en/model-config).
 */
export function claudeCodeBedrockEnv(bedrock: BedrockInference | undefined): Record<string, string> {
  if (!bedrock) return {};
  return {
    CLAUDE_CODE_USE_BEDROCK: '1',
    AWS_REGION: bedrock.region,
    ANTHROPIC_MODEL: bedrock.profileArn,
    ANTHROPIC_DEFAULT_HAIKU_MODEL: bedrock.profileArn,
    ANTHROPIC_SMALL_FAST_MODEL: bedrock.profileArn,
  };
}

/**
 * Claude Code's MCP configuration (`.mcp.json`, or `managed-mcp.json` deployed by IT) and its managed
 * settings' `env`: the device certificate for mutual TLS and, for a workflow with `llm`, Bedrock through
 * the workflow's inference profile.
 */
export function claudeCodeConfig(
  config: AirlockConfig,
  request: ClientConfigRequest,
  bedrock?: BedrockInference,
) {
  const name = request.name ?? 'airlock';
  if (request.bridge) {
    const mcpServers = { [name]: bridgeEntry(config, request) };
    return bedrock ? { mcpServers, env: claudeCodeBedrockEnv(bedrock) } : { mcpServers };
  }
  return {
    mcpServers: {
      [name]: {
        type: 'http' as const,
        url: `${request.server}/v1/mcp`,
        headersHelper: headersHelperOf(config, request),
      },
    },
    /** Claude Code's managed settings (`managed-settings.json` → `env`). */
    env: {
      CLAUDE_CODE_CLIENT_CERT: request.certPath ?? DEFAULT_CERT,
      CLAUDE_CODE_CLIENT_KEY: request.keyPath ?? DEFAULT_KEY,
      NODE_EXTRA_CA_CERTS: request.caPath ?? DEFAULT_CA,
      ...claudeCodeBedrockEnv(bedrock),
    },
  };
}

/** The managed-setting keys that carry Cowork on 3P's Bedrock inference (flags, checked against the client's reference). */
export interface CoworkInferenceKeys {
  /** @default inferenceProvider */
  readonly provider: string;
  /** @default inferenceBedrockRegion */
  readonly region: string;
  /** @default inferenceModels */
  readonly models: string;
}

export const DEFAULT_COWORK_INFERENCE_KEYS: CoworkInferenceKeys = {
  provider: 'inferenceProvider',
  region: 'inferenceBedrockRegion',
  models: 'inferenceModels',
};

/**
 * Cowork on 3P's inference settings for a workflow with `llm`: provider `bedrock`, the profile's region,
 * and the profile's ARN as the only model (a JSON string array in MDM, like every array-typed key).
 */
export function coworkInferenceSettings(
  bedrock: BedrockInference | undefined,
  keys: CoworkInferenceKeys = DEFAULT_COWORK_INFERENCE_KEYS,
): Record<string, string | string[]> {
  if (!bedrock) return {};
  return {
    [keys.provider]: 'bedrock',
    [keys.region]: bedrock.region,
    [keys.models]: [bedrock.profileArn],
  };
}

/** A managed setting's value as the OS preference store holds it: a string (arrays as JSON). */
function mdmString(value: string | string[]): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Claude Desktop's `claude_desktop_config.json`: the stdio bridge (it has no client-certificate setting). */
export function claudeDesktopConfig(config: AirlockConfig, request: ClientConfigRequest) {
  return { mcpServers: { [request.name ?? 'airlock']: bridgeEntry(config, request) } };
}

export interface ManagedMcpServer {
  readonly name: string;
  readonly url: string;
  readonly headersHelper?: string;
  readonly headersHelperTtlSec?: number;
  readonly toolPolicy: Record<string, ToolPolicy>;
}

/**
 * Cowork on third-party inference: the `managedMcpServers` value. With an `oauth` section in the
 * config, the entry is the OAuth entry point (`oauth.publicUrl`/v1/mcp; Cowork signs the user in at
 * the IdP, discovered from the 401's resource metadata), since Cowork's documentation does not say it
 * presents a client certificate. Without one, the entry is the mutual-TLS URL with the token helper,
 * which works only where the device presents the certificate.
 */
export function coworkManagedServers(
  config: AirlockConfig,
  request: ClientConfigRequest,
): ManagedMcpServer[] {
  const toolPolicy = toolPolicyOf(config, request.workflow);
  const name = request.name ?? 'airlock';
  if (config.oauth && config.oauth.workflow === request.workflow) {
    return [{ name, url: new URL('/v1/mcp', config.oauth.publicUrl).toString(), toolPolicy }];
  }
  return [
    {
      name,
      url: `${request.server}/v1/mcp`,
      headersHelper: headersHelperOf(config, request),
      headersHelperTtlSec: helperTtlOf(config, request),
      toolPolicy,
    },
  ];
}

/** A macOS configuration profile carrying `managedMcpServers` (a JSON string) for the given preference domain. */
export function mobileconfigOf(
  servers: readonly ManagedMcpServer[],
  payloadType: string,
  uuid: () => string,
  settings: Readonly<Record<string, string | string[]>> = {},
): string {
  const json = xmlEscape(JSON.stringify(servers));
  const extra = Object.entries(settings)
    .map(
      ([key, value]) =>
        `\n      <key>${xmlEscape(key)}</key>\n      <string>${xmlEscape(mdmString(value))}</string>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>PayloadContent</key>
  <array>
    <dict>
      <key>PayloadType</key>
      <string>${xmlEscape(payloadType)}</string>
      <key>PayloadIdentifier</key>
      <string>${xmlEscape(payloadType)}.airlock</string>
      <key>PayloadUUID</key>
      <string>${uuid()}</string>
      <key>PayloadVersion</key>
      <integer>1</integer>
      <key>managedMcpServers</key>
      <string>${json}</string>${extra}
    </dict>
  </array>
  <key>PayloadDisplayName</key>
  <string>Airlock MCP servers</string>
  <key>PayloadIdentifier</key>
  <string>airlock.managed-mcp-servers</string>
  <key>PayloadType</key>
  <string>Configuration</string>
  <key>PayloadUUID</key>
  <string>${uuid()}</string>
  <key>PayloadVersion</key>
  <integer>1</integer>
</dict>
</plist>
`;
}

/** A Windows registry file setting `managedMcpServers` (REG_SZ, JSON) under the given policy key. */
export function regOf(
  servers: readonly ManagedMcpServer[],
  policyKey: string,
  settings: Readonly<Record<string, string | string[]>> = {},
): string {
  const lines = [
    ['managedMcpServers', JSON.stringify(servers)],
    ...Object.entries(settings).map(([key, value]) => [key, mdmString(value)]),
  ].map(([key, value]) => `"${regEscape(key)}"="${regEscape(value)}"\r\n`);
  return `Windows Registry Editor Version 5.00\r\n\r\n[${policyKey}]\r\n${lines.join('')}`;
}

function regEscape(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

export class ClientConfigError extends Error {
  public readonly name = 'ClientConfigError';
}

function bridgeEntry(config: AirlockConfig, request: ClientConfigRequest) {
  const [command, ...prefix] = (request.airlockCommand ?? 'npx airlock').split(' ');
  return {
    command,
    args: [
      ...prefix,
      'bridge',
      '--workflow',
      request.workflow,
      '--server',
      request.server,
      '--cert',
      request.certPath ?? DEFAULT_CERT,
      '--key',
      request.keyPath ?? DEFAULT_KEY,
      '--ca',
      request.caPath ?? DEFAULT_CA,
      '--scopes',
      scopesOf(config, request.workflow),
    ],
  };
}

function workflowOf(config: AirlockConfig, workflow: string) {
  const definition = Object.hasOwn(config.workflows, workflow) ? config.workflows[workflow] : undefined;
  if (!definition) {
    throw new ClientConfigError(
      `--workflow: "${workflow}" is not a workflow of the config; workflows: ${Object.keys(config.workflows).join(', ')}.`,
    );
  }
  return definition;
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
