/**
 * Enterprise-Managed Authorization (MCP extension `io.modelcontextprotocol/enterprise-managed-authorization`):
 * the JWT bearer grant (RFC 7523 §2.1) with an Identity Assertion JWT Authorization Grant (ID-JAG,
 * draft-ietf-oauth-identity-assertion-authz-grant) the enterprise IdP signed for this authorization
 * server. The IdP's policy decided that this user's MCP client may reach Airlock; Airlock still maps
 * the user (by the IdP's stable id, as at sign-in) and its own kill switch and Cedar policy decide. There
 * is no consent page (the IdP's administrator consented for the organisation) and no refresh token: the
 * client asks its IdP for a new ID-JAG (draft §4.4.3).
 *
 * The client must be confidential unless the config sets `allowPublicClients` (a public client is
 * refused `unauthorized_client`: its client_id is no secret). What is checked, each refusal
 * `invalid_grant` and on the audit record: the `typ` header (`oauth-id-jag+jwt`), the signature by the configured IdP's key set with an allowed algorithm, `iss`,
 * `aud` (exactly this server's issuer, draft §4.4.1), `client_id` (the authenticated client), `resource`
 * (when present, this MCP resource), `exp`/`iat` (a short life, within the configured maximum and the
 * clock skew), `jti` (once only: remembered by a conditional write until the assertion expires), `sub`
 * (an enrolled principal, by that id alone, never by e-mail), and `scope` (within the workflow's scopes).
 */
import { randomUUID } from 'node:crypto';
import { errors as joseErrors } from 'jose';
import type { EnterpriseManagedAuthorizationConfig } from '../../../lib/config/oauth-schema';
import { DependencyError } from '../errors';
import { type JwtKeys, JwtVerificationError, verifySignedJwt } from '../tokens/jwt-signature';
import type { AuthorizationServerContext, OAuthParameters } from './authorization-server-context';
import { resolveCorporateIdentity, resolveEnrolledUser, UnknownIdentityError } from './corporate-identity';
import type { RegisteredClient } from './oauth-client';
import { OAuthError } from './oauth-error';
import type { OAuthIssuanceGate } from './oauth-issuance-gate';
import { assertionKey, type TokenFamily } from './oauth-store';
import type { AccessTokenResponse, TokenIssuer } from './token-issuer';

/** RFC 7523 §2.1. */
export const JWT_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** The `typ` of an ID-JAG (draft §3). */
export const ID_JAG_TYPE = 'oauth-id-jag+jwt';
/** RFC 8693 token type of an ID-JAG, as the IdP issues it (draft §4.3). */
export const ID_JAG_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id-jag';
/** What authorization server metadata lists in `authorization_grant_profiles_supported` (draft §7.2). */
export const ID_JAG_GRANT_PROFILE = 'urn:ietf:params:oauth:grant-profile:id-jag';
/** The MCP extension this grant implements. */
export const ENTERPRISE_MANAGED_AUTHORIZATION_EXTENSION =
  'io.modelcontextprotocol/enterprise-managed-authorization';

/** An ID-JAG far larger than any IdP issues is refused before it is parsed. */
const MAX_ASSERTION_LENGTH = 8192;

/** Why an assertion was refused: the audit record's reason. */
type RefusalReason =
  | 'assertion_missing'
  | 'assertion_malformed'
  | 'assertion_type'
  | 'assertion_signature'
  | 'assertion_issuer'
  | 'assertion_audience'
  | 'assertion_expired'
  | 'assertion_lifetime'
  | 'assertion_client'
  | 'assertion_resource'
  | 'assertion_scope'
  | 'assertion_replayed'
  | 'assertion_subject'
  | 'client_public';

class AssertionRefusedError extends OAuthError {
  constructor(
    readonly reason: RefusalReason,
    description: string,
    options: { cause?: unknown; code?: 'invalid_grant' | 'invalid_request' | 'unauthorized_client' } = {},
  ) {
    super(options.code ?? 'invalid_grant', description, { cause: options.cause });
  }
}

export class IdentityAssertionGrant {
  constructor(
    private readonly context: AuthorizationServerContext,
    private readonly gate: OAuthIssuanceGate,
    private readonly tokens: TokenIssuer,
    private readonly settings: EnterpriseManagedAuthorizationConfig,
    private readonly keys: JwtKeys,
  ) {}

  async exchange(
    client: RegisteredClient,
    params: OAuthParameters,
    requestId: string,
  ): Promise<AccessTokenResponse> {
    const context = this.context;
    const workflow = context.oauth.workflow;
    let principal = '(unknown)';
    let subject: string | undefined;
    let assertionId: string | undefined;
    try {
      // A public client's client_id is no secret: whoever holds a copy of its ID-JAG could redeem it as
      // that client. The draft (Security Considerations) keeps the grant to confidential clients; a
      // public one signs in through the authorization endpoint, unless the config accepts the risk.
      if (client.tokenEndpointAuthMethod === 'none' && !this.settings.allowPublicClients) {
        throw new AssertionRefusedError(
          'client_public',
          'The ID-JAG grant is for confidential clients: register the client with a client secret (token_endpoint_auth_method client_secret_basic or client_secret_post), or sign in through the authorization endpoint. An administrator may accept public clients with oauth.enterpriseManagedAuthorization.allowPublicClients.',
          { code: 'unauthorized_client' },
        );
      }
      const claims = await this.verified(params.assertion, client);
      subject = claims.sub;
      assertionId = claims.jti;
      const identity = this.identityOf(claims.payload);
      principal = identity.principal;
      const scope = this.scopeOf(claims.scope, params.scope);
      if (
        params.resource !== undefined &&
        context.resourceOf(params.resource) !== context.endpoints.resource
      ) {
        throw new AssertionRefusedError(
          'assertion_resource',
          `resource must be ${context.endpoints.resource}.`,
        );
      }
      // The kill switch and the policy before the assertion is used up: a refusal leaves it usable.
      await this.gate.assertMayIssue(principal, scope, requestId);
      const skew = context.deps.clockSkewSeconds ?? 30;
      if (!(await context.store.claimAssertion(assertionKey(claims.iss, claims.jti), claims.exp + skew))) {
        throw new AssertionRefusedError(
          'assertion_replayed',
          'This ID-JAG was already used; ask your identity provider for a new one.',
        );
      }
      const lifetime = context.accessTokenSeconds();
      const family: TokenFamily = {
        familyId: randomUUID(),
        clientId: client.clientId,
        principal,
        workflow,
        scope,
        resource: context.endpoints.resource,
        createdAt: context.now().toISOString(),
        // The grant is its access token: nothing of it outlives the token (plus the replay memory).
        expiresAt: context.nowSeconds() + lifetime,
      };
      await context.store.putFamily(family);
      return await this.tokens.issueWithoutRefresh(family, scope, requestId, {
        grantType: 'jwt-bearer',
        idpIssuer: claims.iss.slice(0, 255),
        idpSubject: claims.sub.slice(0, 255),
        assertionJti: claims.jti.slice(0, 255),
      });
    } catch (error) {
      // A dependency down (the IdP's key set, the store) stays a 503: the assertion is not at fault.
      const refusal = error instanceof OAuthError ? error : undefined;
      await context.gate.refused(
        { principal, workflow, requestId, channel: 'oauth' },
        [
          refusal?.code ?? 'temporarily_unavailable',
          ...(error instanceof AssertionRefusedError ? [error.reason] : []),
        ],
        {
          clientId: client.clientId.slice(0, 255),
          grantType: 'jwt-bearer',
          ...(subject === undefined ? {} : { idpSubject: subject.slice(0, 255) }),
          ...(assertionId === undefined ? {} : { assertionJti: assertionId.slice(0, 255) }),
          ...(refusal ? { description: refusal.description.slice(0, 300) } : {}),
        },
      );
      throw refusal ?? error;
    }
  }

  /** Records a JWT bearer request whose client did not authenticate (nothing of its assertion is trusted). */
  async recordUnauthenticated(params: OAuthParameters, error: unknown, requestId: string): Promise<void> {
    const context = this.context;
    await context.gate.refused(
      { principal: '(unknown)', workflow: context.oauth.workflow, requestId, channel: 'oauth' },
      [error instanceof OAuthError ? error.code : 'temporarily_unavailable', 'client_not_authenticated'],
      {
        grantType: 'jwt-bearer',
        ...(params.client_id ? { clientId: params.client_id.slice(0, 255) } : {}),
        ...(error instanceof OAuthError ? { description: error.description.slice(0, 300) } : {}),
      },
    );
  }

  /** The assertion's signature and claims, checked as the draft's §4.4.1 and the MCP profile ask. */
  private async verified(
    assertion: string | undefined,
    client: RegisteredClient,
  ): Promise<{
    payload: Record<string, unknown>;
    iss: string;
    sub: string;
    jti: string;
    exp: number;
    scope?: string;
  }> {
    if (assertion === undefined || assertion === '') {
      throw new AssertionRefusedError('assertion_missing', 'assertion (the ID-JAG) is required.', {
        code: 'invalid_request',
      });
    }
    if (assertion.length > MAX_ASSERTION_LENGTH) {
      throw new AssertionRefusedError('assertion_malformed', 'The assertion is too long to be an ID-JAG.');
    }
    const context = this.context;
    const skew = context.deps.clockSkewSeconds ?? 30;
    const maxLifetime = this.settings.maxAssertionLifetimeSeconds;
    let payload: Record<string, unknown>;
    try {
      payload = await verifySignedJwt(assertion, this.keys, {
        algorithms: this.settings.algorithms,
        typ: ID_JAG_TYPE,
        // The issuer as configured, with or without its trailing slash (IdPs differ; the rest is exact).
        issuer: [...new Set([this.settings.issuer, this.settings.issuer.replace(/\/$/, '')])],
        // Our issuer as IdP admins type it, with or without a trailing slash (the draft's examples have one).
        audience: [context.endpoints.issuer, `${context.endpoints.issuer}/`],
        clockToleranceSeconds: skew,
        now: context.now(),
        requiredClaims: ['iss', 'sub', 'aud', 'client_id', 'jti', 'exp', 'iat'],
        maxTokenAgeSeconds: maxLifetime,
      });
    } catch (error) {
      if (error instanceof JwtVerificationError && keySetUnavailable(error.cause)) {
        throw new DependencyError(
          'identity provider key set',
          `The identity provider's key set (${this.settings.jwksUri}) could not be read.`,
          { cause: error },
        );
      }
      throw refusalOf(error, this.settings.issuer, context.endpoints.issuer);
    }
    // Draft §4.4.1: `aud` is this issuer, alone (jose accepted it as one of several).
    const aud = payload.aud;
    if (Array.isArray(aud) && aud.length !== 1) {
      throw new AssertionRefusedError(
        'assertion_audience',
        `The ID-JAG must name only this authorization server (${context.endpoints.issuer}) as its audience.`,
      );
    }
    const { iss, sub, jti, exp, iat } = payload;
    if (
      typeof iss !== 'string' ||
      typeof sub !== 'string' ||
      sub === '' ||
      typeof jti !== 'string' ||
      jti === ''
    ) {
      throw new AssertionRefusedError('assertion_malformed', 'The ID-JAG lacks sub or jti.');
    }
    if (typeof exp !== 'number' || typeof iat !== 'number' || exp - iat > maxLifetime) {
      throw new AssertionRefusedError(
        'assertion_lifetime',
        `The ID-JAG lives longer than the ${maxLifetime} seconds Airlock accepts; configure the identity provider to issue shorter ones.`,
      );
    }
    if (iat > context.nowSeconds() + skew) {
      throw new AssertionRefusedError('assertion_lifetime', 'The ID-JAG was issued in the future.');
    }
    if (payload.client_id !== client.clientId) {
      throw new AssertionRefusedError(
        'assertion_client',
        'The ID-JAG was issued for another client (client_id differs from the authenticated client).',
      );
    }
    if (payload.resource !== undefined && !this.isOurResource(payload.resource)) {
      throw new AssertionRefusedError(
        'assertion_resource',
        `The ID-JAG is for another resource; it must be ${context.endpoints.resource}.`,
      );
    }
    const scope = payload.scope;
    if (scope !== undefined && typeof scope !== 'string') {
      throw new AssertionRefusedError('assertion_scope', 'The ID-JAG scope claim must be a string.');
    }
    return { payload, iss, sub, jti, exp, ...(scope === undefined ? {} : { scope }) };
  }

  private isOurResource(resource: unknown): boolean {
    const values = Array.isArray(resource) ? resource : [resource];
    return (
      values.length === 1 &&
      typeof values[0] === 'string' &&
      values[0].replace(/\/$/, '') === this.context.endpoints.resource
    );
  }

  /**
   * The principal, by the IdP's stable user id only (`identityProvider.subjects`, with this issuer).
   * Never by e-mail, even with `matchVerifiedEmail`: that opt-in vouches for the sign-in IdP's ID tokens,
   * and the MCP extension maps an ID-JAG by its subject. When the assertion carries the groups claim, its
   * mapped groups must include one of the workflow's, as at sign-in; when it carries none (IdPs put few
   * claims in an ID-JAG), the IdP's policy issued it and Cedar decides with the principal's groups.
   */
  private identityOf(payload: Record<string, unknown>) {
    const { config, oauth } = this.context.deps;
    const idp = { ...oauth.identityProvider, issuer: this.settings.issuer, matchVerifiedEmail: false };
    try {
      return payload[idp.groupsClaim] === undefined
        ? resolveEnrolledUser(config, { identityProvider: idp }, payload)
        : resolveCorporateIdentity(config, { identityProvider: idp, workflow: oauth.workflow }, payload);
    } catch (error) {
      if (error instanceof UnknownIdentityError) {
        throw new AssertionRefusedError('assertion_subject', error.description, { cause: error });
      }
      throw error;
    }
  }

  /**
   * The MCP profile §7.2.1: the token's scopes are those of the ID-JAG (all of them offered here,
   * §7.6.2) narrowed to the ones the request asks for; no `scope` claim means the workflow's.
   */
  private scopeOf(granted: string | undefined, requested: string | undefined): string[] {
    const offered = this.context.scopes;
    let allowed = [...offered];
    if (granted !== undefined) {
      const named = [...new Set(granted.trim().split(/ +/).filter(Boolean))].sort();
      const unknown = named.filter((s) => !offered.includes(s));
      if (named.length === 0 || unknown.length > 0) {
        throw new AssertionRefusedError(
          'assertion_scope',
          `The ID-JAG grants scopes Airlock does not offer (${unknown.map((s) => s.slice(0, 40)).join(' ') || 'none'}); available: ${offered.join(' ')}.`,
        );
      }
      allowed = named;
    }
    if (requested === undefined || requested.trim() === '') return allowed;
    const narrowed = [...new Set(requested.trim().split(/ +/))].filter((s) => allowed.includes(s)).sort();
    if (narrowed.length === 0) {
      throw new OAuthError(
        'invalid_scope',
        `None of the requested scopes is granted; granted: ${allowed.join(' ')}.`,
      );
    }
    return narrowed;
  }
}

/** jose could not fetch the key set (a timeout, a network error, an unusable answer): not the token's fault. */
function keySetUnavailable(cause: unknown): boolean {
  return (
    cause instanceof joseErrors.JWKSTimeout ||
    cause instanceof joseErrors.JWKSInvalid ||
    (cause instanceof Error && !(cause instanceof joseErrors.JOSEError))
  );
}

/** A verification failure in the words a client's developer (and IT) can act on. */
function refusalOf(error: unknown, issuer: string, audience: string): AssertionRefusedError {
  if (!(error instanceof JwtVerificationError)) {
    return new AssertionRefusedError('assertion_signature', 'The ID-JAG signature could not be verified.', {
      cause: error,
    });
  }
  const failure = error.failure;
  switch (failure.kind) {
    case 'expired':
      return new AssertionRefusedError(
        'assertion_expired',
        'The ID-JAG has expired; ask your identity provider for a new one.',
        { cause: error },
      );
    case 'bad_signature':
    case 'alg_not_allowed':
      return new AssertionRefusedError(
        'assertion_signature',
        'The ID-JAG is not signed by a key of the identity provider Airlock trusts.',
        { cause: error },
      );
    case 'claim_check_failed':
    case 'claim_invalid':
      if (failure.claim === 'typ') {
        return new AssertionRefusedError(
          'assertion_type',
          `The assertion is not an ID-JAG (typ must be ${ID_JAG_TYPE}).`,
          {
            cause: error,
          },
        );
      }
      if (failure.claim === 'iss') {
        return new AssertionRefusedError(
          'assertion_issuer',
          `The ID-JAG was not issued by ${issuer}, the identity provider Airlock trusts.`,
          {
            cause: error,
          },
        );
      }
      if (failure.claim === 'aud') {
        return new AssertionRefusedError(
          'assertion_audience',
          `The ID-JAG is for another authorization server; its aud must be ${audience}.`,
          {
            cause: error,
          },
        );
      }
      if (failure.claim === 'iat' || failure.claim === 'nbf' || failure.claim === 'exp') {
        return new AssertionRefusedError(
          'assertion_lifetime',
          `The ID-JAG is outside its validity window (${failure.claim}).`,
          {
            cause: error,
          },
        );
      }
      return new AssertionRefusedError(
        'assertion_malformed',
        `The ID-JAG lacks a valid ${failure.claim} claim.`,
        {
          cause: error,
        },
      );
    default:
      // A key the set does not hold (an unknown kid) or a token that is no JWS: never valid.
      return new AssertionRefusedError(
        'assertion_signature',
        'The ID-JAG is not signed by a key of the identity provider Airlock trusts.',
        { cause: error },
      );
  }
}
