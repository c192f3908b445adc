/**
 * The optional `oauth` section of the pilot config: the second, certificate-less entry point for
 * remote MCP connectors (Claude Cowork, Claude Desktop, claude.ai), which call from the vendor's
 * cloud and so cannot present a device certificate. Users sign in at the corporate IdP (OIDC).
 */
import { isIP } from 'node:net';
import * as z from 'zod';

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

/** An ID-token claim name, as IdPs spell them (`sub`, `oid`, `email`, `https://example.com/groups`). */
const claimName = z
  .string()
  .regex(/^[A-Za-z0-9_:/.#-]{1,128}$/, 'expected a claim name such as sub, oid or groups');

/**
 * Claims a user or an IdP administrator can change (an address, a login name, a display name): a person
 * who changes theirs to another's would become that person, so none may be `subjectClaim`.
 */
const MUTABLE_CLAIMS = new Set([
  'email',
  'preferred_username',
  'upn',
  'unique_name',
  'name',
  'nickname',
  'given_name',
  'family_name',
  'phone_number',
  'login',
  'username',
]);

export const identityProviderSchema = z.strictObject({
  /** The IdP's OIDC issuer; its `/.well-known/openid-configuration` is read at start. */
  issuer: httpsOrLoopbackUrl,
  /** The client id Airlock is registered under at the IdP. */
  clientId: z.string().min(1),
  /** Secrets Manager secret (locally a file) holding `{"clientSecret": "..."}`; never the secret itself. */
  clientSecretName: z.string().min(1),
  /**
   * The ID-token claim that identifies a user for good: `sub` (Okta, Auth0, Keycloak, Google) or `oid`
   * (Microsoft Entra ID, where `sub` differs per application). Never a claim the user can edit, such as
   * `email` or `preferred_username`. Together with `issuer` it is the user's identity.
   */
  subjectClaim: claimName
    .refine((claim) => !MUTABLE_CLAIMS.has(claim.toLowerCase()), {
      message:
        'expected a claim the IdP assigns for good, such as sub or oid (not one a user or an admin can change, such as email or preferred_username)',
    })
    .default('sub'),
  /**
   * Principal → the value of `subjectClaim` for that person at this issuer (e.g. Okta's `00u1a2b3c4...`,
   * Entra's object id). Only the users listed here (and, with `matchVerifiedEmail`, principals with a
   * verified `email`) can sign in.
   */
  subjects: z.record(z.string(), z.string().min(1).max(255)).default({}),
  /**
   * Also let a principal that has no entry in `subjects` sign in when the ID token carries
   * `email_verified: true` and an `email` equal (ignoring case) to the principal's `email` in the config.
   * Off by default: an e-mail address is an attribute the IdP may let users or admins change.
   */
  matchVerifiedEmail: z.boolean().default(false),
  /** The ID-token claim listing the user's IdP groups. */
  groupsClaim: claimName.default('groups'),
  /**
   * IdP group → Airlock group. Only mapped groups count; a user none of whose mapped groups may run
   * the workflow is refused at sign-in.
   */
  groupMapping: z.record(z.string().min(1), groupName).refine((m) => Object.keys(m).length > 0, {
    message: 'expected at least one IdP group mapped to an Airlock group',
  }),
  /** Scopes asked of the IdP. */
  scopes: z.array(z.string().min(1)).default(['openid', 'email', 'profile']),
  /** Gone: users were matched by a claim against principal names and e-mails, which users could spoof. */
  principalClaim: z
    .never({
      error:
        'principalClaim is no longer supported: list each user under subjects (principal: the IdP user id from subjectClaim), or set matchVerifiedEmail: true',
    })
    .optional(),
});

/**
 * Enterprise-Managed Authorization (MCP extension `io.modelcontextprotocol/enterprise-managed-authorization`):
 * the JWT bearer grant (RFC 7523) with an Identity Assertion JWT Authorization Grant (ID-JAG) that the
 * enterprise IdP signed. The IdP decides, by its own policy, which users' MCP clients may reach Airlock;
 * Airlock maps the assertion's subject with `identityProvider` (subjects, groups) and its Cedar policy still
 * decides. No consent page: the IdP's administrator consented for the organisation.
 */
export const enterpriseManagedAuthorizationSchema = z.strictObject({
  /**
   * The `iss` of the ID-JAGs (Okta: the org authorization server, e.g. `https://acme.okta.com`). Its user
   * ids must be the ones `identityProvider.subjects` lists (Okta: one org, the same `00u...` ids).
   */
  issuer: httpsOrLoopbackUrl,
  /** The IdP's JSON Web Key Set that signs the ID-JAGs (Okta: `https://acme.okta.com/oauth2/v1/keys`). */
  jwksUri: httpsOrLoopbackUrl,
  /** Signature algorithms accepted (never `none`, never an HMAC: the IdP's keys are public). */
  algorithms: z
    .array(z.enum(['RS256', 'PS256', 'ES256', 'EdDSA']))
    .min(1)
    .default(['RS256', 'ES256']),
  /**
   * The longest life (`exp - iat`) an ID-JAG may have: it is a bearer credential; IdPs issue them for
   * about five minutes. Each is accepted once (its `jti` is remembered until it expires).
   */
  maxAssertionLifetimeSeconds: z.number().int().min(30).max(3600).default(300),
  /**
   * Set only when `issuer` is the sign-in IdP (`identityProvider.issuer`) under another origin, such as
   * an Okta custom URL domain: a user id is unique only within one IdP, so an ID-JAG's `sub` is mapped
   * through `identityProvider.subjects` only when both come from the same IdP. Without it, the two
   * issuers must share an origin (Okta's org and custom authorization servers do; Entra's tenant does).
   * @default false
   */
  sameUserIdsAsIdentityProvider: z.boolean().default(false),
  /**
   * Also accept ID-JAGs from public clients (no client secret: a Client ID Metadata Document URL, such as
   * Claude's, or a client registered with `token_endpoint_auth_method: none`). A public client_id proves
   * nothing, so anyone who copies an ID-JAG in transit can redeem it once, within its life
   * (`maxAssertionLifetimeSeconds`). The draft keeps the grant to confidential clients, hence off by
   * default; public clients then sign in through the authorization endpoint (with consent) instead.
   * @default false
   */
  allowPublicClients: z.boolean().default(false),
});

export type EnterpriseManagedAuthorizationConfig = z.infer<typeof enterpriseManagedAuthorizationSchema>;

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
  /**
   * How long a second use of the refresh token just rotated still works for the same client (two
   * requests of one MCP host refreshing at once must not sign the user out); 0 turns the grace off.
   */
  refreshGraceSeconds: z.number().int().min(0).max(60).default(30),
  /**
   * How long a user's consent to a client is remembered (per user and client, for the client as it
   * was shown); 0 asks on every sign-in. A changed client, new scopes or `prompt=consent` always ask.
   */
  consentDays: z.number().int().min(0).max(365).default(30),
  /** Allow RFC 7591 dynamic client registration at `/oauth/register`. */
  dynamicRegistration: z.boolean().default(true),
  /** Registrations accepted per hour, from all sources together (beyond it: 429). */
  registrationsPerHour: z.number().int().min(1).max(100_000).default(200),
  /** Registrations accepted per hour from one source IP address (beyond it: 429). */
  registrationsPerSourcePerHour: z.number().int().min(1).max(10_000).default(10),
  /** A registered client that completes no sign-in within this many hours is deleted. */
  unusedClientHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(24),
  /**
   * Accept ID-JAGs from the enterprise IdP at the token endpoint (Enterprise-Managed Authorization, the
   * JWT bearer grant); see docs/oauth.md. Off when absent.
   * @default - not accepted
   */
  enterpriseManagedAuthorization: enterpriseManagedAuthorizationSchema.optional(),
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

/** What {@link checkOAuthConfig} reads of the whole config. */
export interface OAuthConfigContext {
  readonly oauth?: OAuthConfig;
  readonly principals: Readonly<Record<string, { readonly email?: string }>>;
  readonly groups: Readonly<Record<string, unknown>>;
  readonly workflows: Readonly<Record<string, unknown>>;
}

/**
 * The checks of the `oauth` section against the rest of the config (called from the config schema's
 * superRefine): the workflow and groups exist, `subjects` names principals, no IdP user is two
 * principals, and e-mail matching is unambiguous.
 */
export function checkOAuthConfig(config: OAuthConfigContext, ctx: z.RefinementCtx): void {
  const { oauth } = config;
  if (!oauth) return;
  const idp = oauth.identityProvider;
  const idpPath = ['oauth', 'identityProvider'];
  if (!Object.hasOwn(config.workflows, oauth.workflow)) {
    ctx.addIssue({
      code: 'custom',
      path: ['oauth', 'workflow'],
      message: `unknown workflow "${oauth.workflow}"; expected one of: ${Object.keys(config.workflows).join(', ')}`,
    });
  }
  for (const [claim, group] of Object.entries(idp.groupMapping)) {
    if (!Object.hasOwn(config.groups, group)) {
      ctx.addIssue({
        code: 'custom',
        path: [...idpPath, 'groupMapping', claim],
        message: `unknown group "${group}"; expected one of: ${Object.keys(config.groups).join(', ')}`,
      });
    }
  }
  const ema = oauth.enterpriseManagedAuthorization;
  if (
    ema &&
    !ema.sameUserIdsAsIdentityProvider &&
    new URL(ema.issuer).origin !== new URL(idp.issuer).origin
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['oauth', 'enterpriseManagedAuthorization', 'issuer'],
      message: `${ema.issuer} is not at the origin of identityProvider.issuer (${idp.issuer}): a user id names a person only within one IdP, so an ID-JAG from another IdP could sign in as whoever identityProvider.subjects maps its sub to. Use the sign-in IdP's issuer, or, if this is the same IdP under another domain (an Okta custom URL domain), set sameUserIdsAsIdentityProvider: true`,
    });
  }
  const principalOf = new Map<string, string>();
  for (const [principal, subject] of Object.entries(idp.subjects)) {
    if (!Object.hasOwn(config.principals, principal)) {
      ctx.addIssue({
        code: 'custom',
        path: [...idpPath, 'subjects', principal],
        message: `unknown principal "${principal}"; expected one of: ${Object.keys(config.principals).join(', ')}`,
      });
    }
    const other = principalOf.get(subject);
    if (other !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [...idpPath, 'subjects', principal],
        message: `the IdP user "${subject}" is already principal "${other}"; one IdP user is one principal`,
      });
    }
    principalOf.set(subject, principal);
  }
  if (idp.matchVerifiedEmail) {
    const byEmail = new Map<string, string>();
    for (const [principal, p] of Object.entries(config.principals)) {
      if (p.email === undefined || Object.hasOwn(idp.subjects, principal)) continue;
      const email = p.email.toLowerCase();
      const other = byEmail.get(email);
      if (other !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['principals', principal, 'email'],
          message: `"${p.email}" is also the email of principal "${other}"; with oauth.identityProvider.matchVerifiedEmail every email must name one principal (or map them under subjects)`,
        });
      }
      byEmail.set(email, principal);
    }
  }
}
export type IdentityProviderConfig = z.infer<typeof identityProviderSchema>;
