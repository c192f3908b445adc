/**
 * The optional `oauth` section of the pilot config: the second, certificate-less entry point for
 * remote MCP connectors (Claude Cowork, Claude Desktop, claude.ai), which call from the vendor's
 * cloud and so cannot present a device certificate. Users sign in at the corporate IdP (OIDC).
 */
import { isIP } from 'node:net';
import { z } from 'zod';

const httpsOrLoopbackUrl = z.url().refine(
  (value) => {
    const url = new URL(value);
    if (url.protocol === 'https:') return true;
    // Plain http only for an IdP on this machine (the local pilot's tests); never across a network.
    return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  },
  { message: 'expected an https:// URL (http:// only for 127.0.0.1 or localhost)' },
);

/** An IPv4 or IPv6 CIDR as AWS WAF IP sets take it (a bad one would fail only at deploy time). */
const sourceCidr = z.string().refine(
  (value) => {
    const match = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(value);
    if (!match) return false;
    const version = isIP(match[1]);
    const bits = Number(match[2]);
    return (version === 4 && bits >= 1 && bits <= 32) || (version === 6 && bits >= 1 && bits <= 128);
  },
  {
    message: 'expected a CIDR such as 203.0.113.0/24 or 2001:db8::/32 (prefix 1-32 for IPv4, 1-128 for IPv6)',
  },
);

const groupName = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'expected a lower-case name such as finance');

export const identityProviderSchema = z.strictObject({
  /** The IdP's OIDC issuer; its `/.well-known/openid-configuration` is read at start. */
  issuer: httpsOrLoopbackUrl,
  /** The client id Airlock is registered under at the IdP. */
  clientId: z.string().min(1),
  /** Secrets Manager secret (locally a file) holding `{"clientSecret": "..."}`; never the secret itself. */
  clientSecretName: z.string().min(1),
  /** The ID-token claim naming the user: matched against a principal's name, then its email. */
  principalClaim: z.string().min(1).default('email'),
  /** The ID-token claim listing the user's IdP groups. */
  groupsClaim: z.string().min(1).default('groups'),
  /**
   * IdP group → Airlock group. Only mapped groups count; a user none of whose mapped groups may run
   * the workflow is refused at sign-in.
   */
  groupMapping: z.record(z.string().min(1), groupName).refine((m) => Object.keys(m).length > 0, {
    message: 'expected at least one IdP group mapped to an Airlock group',
  }),
  /** Scopes asked of the IdP. */
  scopes: z.array(z.string().min(1)).default(['openid', 'email', 'profile']),
});

export const oauthConfigSchema = z.strictObject({
  /**
   * The public base URL of the certificate-less entry point, e.g. `https://mcp.airlock.example.com`.
   * It is the authorization server's issuer; the MCP resource is `<publicUrl>/v1/mcp`.
   */
  publicUrl: httpsOrLoopbackUrl.refine((value) => new URL(value).pathname === '/', {
    message: 'expected an origin without a path, e.g. https://mcp.airlock.example.com',
  }),
  /** The workflow whose tools the MCP resource serves; its groups and scopes apply. */
  workflow: z.string().min(1),
  identityProvider: identityProviderSchema,
  /** Access-token lifetime; also capped by the workflow's maxTokenLifetimeMinutes. */
  accessTokenMinutes: z.number().int().min(1).max(60).default(10),
  /** Absolute lifetime of a refresh-token family (a sign-in); rotation never extends it. */
  refreshTokenHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(8),
  /** Allow RFC 7591 dynamic client registration at `/oauth/register`. */
  dynamicRegistration: z.boolean().default(true),
  /** Accept Client ID Metadata Documents (an https URL as client_id). */
  clientIdMetadataDocuments: z.boolean().default(true),
  /**
   * Redirect URIs a client may register or declare. Each entry is an exact URI or a prefix ending
   * in `*`. Loopback redirects (`http://127.0.0.1:<any port>/...`, RFC 8252) are always allowed.
   */
  allowedRedirectUris: z
    .array(z.string().min(1))
    .default(['https://claude.ai/api/mcp/auth_callback', 'https://claude.com/api/mcp/auth_callback']),
  /** Vendor egress ranges for the WAF allowlist (CDK); empty means no allowlist. */
  allowedSourceCidrs: z.array(sourceCidr).default([]),
  /**
   * ACM certificate for `publicUrl`'s host name, in the deployment region: the second custom domain
   * (without mutual TLS) in AWS. Not used by the local pilot; `cdk synth` asks for it.
   */
  certificateArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/,
      'expected an ACM certificate ARN such as arn:aws:acm:eu-west-1:111111111111:certificate/...',
    )
    .optional(),
  /**
   * Reserved concurrency of the OAuth function in AWS (caps its cost; the kill switch's hard mode sets
   * it to 0 either way).
   * @default - none reserved (see functions.reservedConcurrency)
   */
  reservedConcurrency: z.number().int().min(1).optional(),
});

export type OAuthConfig = z.infer<typeof oauthConfigSchema>;
export type IdentityProviderConfig = z.infer<typeof identityProviderSchema>;
