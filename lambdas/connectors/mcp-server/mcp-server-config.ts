/**
 * The config of an `mcp-server` connector: an upstream MCP server (streamable HTTP) whose tools Airlock
 * exposes one by one. A tool the config does not name is never exposed (default deny); each named tool
 * declares its access, Cedar action and classification here, never from the upstream's annotations.
 */
import * as z from 'zod';
import { connectorBase, operationNameSchema } from '../../../lib/config/operation-schema';

/** Upstream MCP tool names (MCP's own rule: 1–128 of letters, digits, `_`, `-`, `.`). */
export const MCP_TOOL_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

const secretNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, 'expected a Secrets Manager secret name');

/** The arguments of a tool whose values Cedar reads (an amount, its currency, an export format). */
const policyArgumentsSchema = z.strictObject({
  amount: z.string().min(1).optional(),
  currency: z.string().min(1).optional(),
  format: z.string().min(1).optional(),
});

/** One upstream tool exposed as an operation of the connector. */
export const mcpToolSchema = z.strictObject({
  /**
   * What the tool does, as the agent is told it (the upstream's own description is pinned, not shown:
   * a changed description cannot smuggle instructions to the model).
   */
  description: z.string().min(1),
  /** The upstream's tool name. @default - the operation's name */
  tool: z
    .string()
    .regex(MCP_TOOL_NAME_PATTERN, 'expected an MCP tool name (letters, digits, _ - .)')
    .optional(),
  /** What the tool does to the enterprise system; maps to the scope `<connector>:<access>`. */
  access: z.enum(['read', 'write', 'export']),
  /** Cedar action the tool is authorized as. */
  action: z.enum(['List', 'Read', 'Write', 'Export']),
  /** Classification of the data the tool returns or changes. */
  classification: z.enum(['public', 'internal', 'confidential', 'pii']),
  /** Which of the tool's arguments Cedar reads as `amount`, `currency` and `format`. @default - none */
  policyArguments: policyArgumentsSchema.default({}),
});

/**
 * One rule for every upstream tool whose name matches a glob (`get-*`): exposed as the operation named
 * after the tool in camel case (`get-sum` → `getSum`), once the tool is pinned. A tool named under
 * `operations` is decided there, whatever pattern it matches.
 */
export const mcpToolPatternSchema = z.strictObject({
  /** A glob over the upstream's tool names: `*` matches any run of characters. */
  match: z
    .string()
    .regex(/^[A-Za-z0-9_.*-]{1,128}$/, 'expected a glob of MCP tool names (letters, digits, _ - . and *)'),
  /** What the agent is told the tools do. @default - each tool's pinned description */
  description: z.string().min(1).optional(),
  access: mcpToolSchema.shape.access,
  action: mcpToolSchema.shape.action,
  classification: mcpToolSchema.shape.classification,
  /** Which of the tools' arguments Cedar reads as `amount`, `currency` and `format`. @default - none */
  policyArguments: policyArgumentsSchema.default({}),
});

/** One tool definition as pinned (`airlock connectors pin`): what the hash covers, and the hash. */
export const pinnedToolSchema = z.strictObject({
  /** sha256 (hex) of the canonical JSON of `{name, description, inputSchema}`. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 in hex'),
  description: z.string(),
  inputSchema: z.record(z.string(), z.unknown()),
});

const headerAuthSchema = z.strictObject({
  type: z.literal('header'),
  /** The header sent with every upstream request, e.g. `authorization` or `x-api-key`. */
  header: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/, 'expected an HTTP header name')
    .refine(
      (name) =>
        ![
          'host',
          'content-length',
          'content-type',
          'accept',
          'mcp-session-id',
          'mcp-protocol-version',
        ].includes(name.toLowerCase()),
      'expected a header the MCP transport does not set itself',
    ),
  /** Secrets Manager secret holding `{"value": "..."}`, the header's value (created by the stack). */
  secretName: secretNameSchema,
});

const clientCredentialsAuthSchema = z.strictObject({
  type: z.literal('oauth2-client-credentials'),
  /** The authorization server's token endpoint (https). */
  tokenUrl: z.url({ protocol: /^https$/, error: 'expected an https:// URL' }),
  /** Secrets Manager secret holding `{clientId, clientSecret}` (created by the stack). */
  secretName: secretNameSchema,
  scope: z.string().optional(),
});

/**
 * RFC 8693 token exchange: the connector acts on behalf of the signed-in user. Airlock signs a
 * short-lived subject assertion about the caller with this connector's own key and exchanges it, with
 * the connector's client credentials, for an upstream token of that user (docs/mcp-servers.md).
 */
const tokenExchangeAuthSchema = z.strictObject({
  type: z.literal('oauth2-token-exchange'),
  /** The authorization server's token endpoint (https; http on loopback only). */
  tokenUrl: z.url({ protocol: /^https?$/, error: 'expected an https:// URL' }),
  /** Secrets Manager secret holding `{clientId, clientSecret}` of the connector's client (created by the stack). */
  secretName: secretNameSchema,
  /**
   * `iss` of the subject assertions, which the authorization server trusts the connector's public key for.
   * @default - `urn:airlock:connector:<connector>`
   */
  subjectIssuer: z.string().min(1).max(256).optional(),
  /** RFC 8693 `audience`: the upstream as the authorization server names it. @default - not sent */
  audience: z.string().min(1).max(512).optional(),
  /** RFC 8693 `resource` (RFC 8707): the upstream's URI. @default - not sent */
  resource: z.url({ error: 'expected an absolute URI' }).optional(),
  /** Scope of the exchanged token. @default - not sent (the server's default) */
  scope: z.string().min(1).max(1024).optional(),
  /** RFC 8693 `requested_token_type`; the answer must be a bearer token of this type. */
  requestedTokenType: z.string().min(1).default('urn:ietf:params:oauth:token-type:access_token'),
});

/**
 * In AWS, the VPC through which the functions that run connectors reach a private upstream: they get a
 * network interface in these subnets. Imported by id, so `cdk synth` looks nothing up.
 */
const vpcSchema = z.strictObject({
  vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'expected a VPC id (vpc-...)'),
  /** Private subnets (with a NAT gateway or VPC endpoints: the functions reach AWS services through them too). */
  subnetIds: z
    .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'expected a subnet id (subnet-...)'))
    .min(1)
    .max(16),
  /**
   * Security groups of the functions' network interfaces (Lambda takes at most 5).
   * @default - one the stack creates: no inbound, outbound TCP 443 and the upstream's own ports only
   */
  securityGroupIds: z
    .array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'expected a security group id (sg-...)'))
    .min(1)
    .max(5)
    .optional(),
});

export const mcpServerConnectorSchema = z.strictObject({
  kind: z.literal('mcp-server'),
  ...connectorBase,
  /** The upstream's streamable HTTP endpoint. http:// only on loopback (a local upstream). */
  url: z.url({ protocol: /^https?$/, error: 'expected an https:// URL' }),
  /** How the connector proves itself to the upstream. @default - no credentials (an open upstream) */
  auth: z
    .discriminatedUnion('type', [
      z.strictObject({ type: z.literal('none') }),
      headerAuthSchema,
      clientCredentialsAuthSchema,
      tokenExchangeAuthSchema,
    ])
    .default({ type: 'none' }),
  /** In AWS, reach the upstream through this VPC (docs/mcp-servers.md#private-upstreams). @default - no VPC */
  vpc: vpcSchema.optional(),
  /** Hosts the connector may reach; the URL's host (and the token URL's) must be among them. */
  allowedHosts: z.array(z.string().min(1)).min(1),
  /** Deadline of each upstream exchange (connect, list, call). */
  timeoutMs: z.number().int().positive().max(30_000).default(10_000),
  /** An upstream answer larger than this is refused (502): the transport never buffers more. */
  maxResponseBytes: z
    .number()
    .int()
    .positive()
    .max(6 * 1024 * 1024)
    .default(4 * 1024 * 1024),
  /** A tool result larger than this is cut to text of this size, with a notice saying so. */
  maxResultBytes: z
    .number()
    .int()
    .positive()
    .max(6 * 1024 * 1024)
    .default(256 * 1024),
  /**
   * The upstream tools exposed, by operation name. A tool named neither here nor by a pinned tool's
   * pattern is not exposed.
   */
  operations: z.record(operationNameSchema, mcpToolSchema),
  /**
   * Rules for the upstream tools whose names match a glob, tried in order (the first that matches
   * decides). Only pinned tools are exposed; a tool named under `operations` is decided there.
   * @default - none: only the tools under `operations`
   */
  toolPatterns: z.array(mcpToolPatternSchema).optional(),
  /**
   * The pinned tool definitions, by upstream tool name: filled from the connector's lock file
   * (`config/mcp-pins/<connector>.json`, written by `airlock connectors pin`), never written by hand.
   * @default - none pinned: every call is refused until the connector is pinned
   */
  pins: z.record(z.string(), pinnedToolSchema).optional(),
  /**
   * The operations a tool pattern added from the lock file (the rest are named under `operations`):
   * filled by the config loader with `pins`, never written by hand. @default - none
   */
  patternOperations: z.array(operationNameSchema).optional(),
});

export type McpServerConnectorConfig = z.infer<typeof mcpServerConnectorSchema>;
export type McpToolConfig = z.infer<typeof mcpToolSchema>;
export type PinnedTool = z.infer<typeof pinnedToolSchema>;
export type McpToolPattern = z.infer<typeof mcpToolPatternSchema>;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** `iss` of a token-exchange connector's subject assertions. */
export function subjectIssuerOf(connector: string, auth: { readonly subjectIssuer?: string }): string {
  return auth.subjectIssuer ?? `urn:airlock:connector:${connector}`;
}

/** The upstream tool an operation calls. */
export function upstreamToolOf(operation: string, tool: McpToolConfig): string {
  return tool.tool ?? operation;
}

/** Checks across fields the schema cannot express; `report` names the field. */
export function checkMcpServerConfig(
  config: McpServerConnectorConfig,
  report: (path: readonly (string | number)[], message: string) => void,
): void {
  const url = new URL(config.url);
  const hosts = new Set(config.allowedHosts.map((host) => host.toLowerCase()));
  if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) {
    report(
      ['url'],
      `expected an https:// URL (plain http is accepted on loopback only, got host "${url.hostname}")`,
    );
  }
  if (url.username || url.password || url.hash) {
    report(['url'], 'must not carry credentials or a fragment');
  }
  if (!hosts.has(url.hostname.toLowerCase())) {
    report(['allowedHosts'], `the url's host "${url.hostname}" must be in allowedHosts`);
  }
  if (config.auth.type === 'oauth2-client-credentials' || config.auth.type === 'oauth2-token-exchange') {
    const tokenUrl = new URL(config.auth.tokenUrl);
    const host = tokenUrl.hostname.toLowerCase();
    if (!hosts.has(host)) report(['allowedHosts'], `the token URL's host "${host}" must be in allowedHosts`);
    if (tokenUrl.protocol === 'http:' && !LOOPBACK.has(tokenUrl.hostname)) {
      report(
        ['auth', 'tokenUrl'],
        `expected an https:// URL (plain http is accepted on loopback only, got host "${tokenUrl.hostname}")`,
      );
    }
    if (tokenUrl.username || tokenUrl.password || tokenUrl.hash) {
      report(['auth', 'tokenUrl'], 'must not carry credentials or a fragment');
    }
  }
  if (config.vpc && new Set(config.vpc.subnetIds).size !== config.vpc.subnetIds.length) {
    report(['vpc', 'subnetIds'], 'names a subnet twice');
  }
  const seen = new Map<string, string>();
  for (const [operation, tool] of Object.entries(config.operations)) {
    const upstream = upstreamToolOf(operation, tool);
    if (!MCP_TOOL_NAME_PATTERN.test(upstream)) {
      report(
        ['operations', operation, 'tool'],
        `"${upstream}" is not an MCP tool name; name the upstream tool in "tool"`,
      );
    }
    const other = seen.get(upstream);
    if (other)
      report(
        ['operations', operation, 'tool'],
        `the upstream tool "${upstream}" is already exposed as "${other}"`,
      );
    seen.set(upstream, operation);
  }
}
