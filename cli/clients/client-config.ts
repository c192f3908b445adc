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
import type { AirlockConfig } from '../../lib/config/schema';

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
    `--ttl-seconds ${ttl}`,
  ].join(' ');
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

/** Claude Code's MCP configuration (`.mcp.json`, or `managed-mcp.json` deployed by IT). */
export function claudeCodeConfig(config: AirlockConfig, request: ClientConfigRequest) {
  const name = request.name ?? 'airlock';
  if (request.bridge) return { mcpServers: { [name]: bridgeEntry(request) } };
  return {
    mcpServers: {
      [name]: {
        type: 'http' as const,
        url: `${request.server}/v1/mcp`,
        headersHelper: headersHelperOf(config, request),
      },
    },
    /** Claude Code's managed settings (`managed-settings.json` → `env`): the device certificate for mutual TLS. */
    env: {
      CLAUDE_CODE_CLIENT_CERT: request.certPath ?? DEFAULT_CERT,
      CLAUDE_CODE_CLIENT_KEY: request.keyPath ?? DEFAULT_KEY,
      NODE_EXTRA_CA_CERTS: request.caPath ?? DEFAULT_CA,
    },
  };
}

/** Claude Desktop's `claude_desktop_config.json`: the stdio bridge (it has no client-certificate setting). */
export function claudeDesktopConfig(request: ClientConfigRequest) {
  return { mcpServers: { [request.name ?? 'airlock']: bridgeEntry(request) } };
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
): string {
  const json = xmlEscape(JSON.stringify(servers));
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
      <string>${json}</string>
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
export function regOf(servers: readonly ManagedMcpServer[], policyKey: string): string {
  const value = JSON.stringify(servers).replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return `Windows Registry Editor Version 5.00\r\n\r\n[${policyKey}]\r\n"managedMcpServers"="${value}"\r\n`;
}

export class ClientConfigError extends Error {
  public readonly name = 'ClientConfigError';
}

function bridgeEntry(request: ClientConfigRequest) {
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
