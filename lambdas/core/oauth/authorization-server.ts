/**
 * The broker as an OAuth 2.1 authorization server for the MCP resource (MCP authorization spec):
 * client registration (RFC 7591) or Client ID Metadata Documents, the authorization code flow with
 * PKCE S256, sign-in at the corporate IdP (OIDC), resource indicators (RFC 8707) bound into `aud`,
 * rotating refresh tokens whose replay revokes the whole family, token revocation (RFC 7009), and
 * the kill switch over all of it.
 *
 * Pure: every dependency is a port. The handler in `lambdas/oauth` turns HTTP into these calls.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { OAuthConfig } from '../../../lib/config/oauth-schema';
import type { AirlockConfig } from '../../../lib/config/schema';
import { type AccessTokenClaims, assertNotRevoked, TokenRejectedError } from '../access-token';
import type { AuditEvent } from '../audit-record';
import { type Caller, scopesOf } from '../caller';
import { workflowScopes } from '../credential-request';
import { DependencyError } from '../errors';
import { type KillSwitch, KillSwitchEngagedError } from '../kill-switch';
import type { PolicyEngine } from '../policy-engine';
import type { Clock, RevocationStore, TokenSigner } from '../ports';
import { resolveCorporateIdentity } from './corporate-identity';
import {
  createOAuthAccessTokenVerifier,
  issueOAuthAccessToken,
  type OAuthAccessTokenVerifier,
} from './oauth-access-token';
import {
  clientFromMetadataDocument,
  clientSecretMatches,
  isClientMetadataDocumentUrl,
  type RegisteredClient,
  redirectUriRegistered,
  registerClient,
} from './oauth-client';
import { OAuthError } from './oauth-error';
import {
  authorizationServerMetadata,
  type OAuthEndpoints,
  oauthEndpoints,
  protectedResourceMetadata,
} from './oauth-metadata';
import { type OAuthStore, opaqueTokenHash, type TokenFamily } from './oauth-store';
import { assertS256Challenge, pkceVerifierMatches, s256ChallengeOf } from './pkce';

/** The corporate IdP, seen as an OIDC relying party sees it. */
export interface CorporateIdentityProvider {
  /** The URL to send the user's browser to (authorization code flow with PKCE and a nonce). */
  authorizationUrl(request: {
    state: string;
    nonce: string;
    codeChallenge: string;
    redirectUri: string;
  }): Promise<string>;
  /**
   * Exchanges the IdP's code and returns the claims of the verified ID token (signature, `iss`,
   * `aud`, `exp`, `nonce` checked). Throws when any of that fails.
   */
  signIn(request: {
    code: string;
    codeVerifier: string;
    nonce: string;
    redirectUri: string;
  }): Promise<Record<string, unknown>>;
}

/** Fetches a Client ID Metadata Document (https only, bounded size and time, no redirects). */
export type ClientMetadataFetcher = (clientIdUrl: string) => Promise<unknown>;

export interface OAuthAuthorizationServerDeps {
  readonly config: AirlockConfig;
  readonly oauth: OAuthConfig;
  readonly store: OAuthStore;
  readonly identityProvider: CorporateIdentityProvider;
  readonly fetchClientMetadata: ClientMetadataFetcher;
  readonly signer: TokenSigner;
  readonly policy: Pick<PolicyEngine, 'decide'>;
  readonly killSwitch: Pick<KillSwitch, 'check'>;
  readonly revocations: Pick<RevocationStore, 'isRevoked'>;
  readonly ledger: { append(event: AuditEvent): Promise<unknown> };
  readonly clock: Clock;
  /** @default 30 */
  readonly clockSkewSeconds?: number;
}

/** Client authentication as it arrived: HTTP Basic, or form parameters. */
export interface ClientCredentials {
  readonly basic?: { readonly clientId: string; readonly clientSecret: string };
}

/** Form parameters of a request (query or `application/x-www-form-urlencoded` body). */
export type OAuthParameters = Readonly<Record<string, string | undefined>>;

export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly refresh_token: string;
  readonly scope: string;
}

const PENDING_SIGN_IN_SECONDS = 10 * 60;
const CODE_SECONDS = 60;
const CLIENT_METADATA_CACHE_SECONDS = 60 * 60;
const MAX_STATE_LENGTH = 512;
const MAX_PARAMETER_LENGTH = 2048;

function random(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** `?a=b` appended to a redirect URI that may already carry a query. */
function withQuery(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [name, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(name, value);
  return url.toString();
}

export class OAuthAuthorizationServer {
  readonly endpoints: OAuthEndpoints;
  private readonly scopes: readonly string[];
  private readonly verifier: OAuthAccessTokenVerifier;

  constructor(private readonly deps: OAuthAuthorizationServerDeps) {
    this.endpoints = oauthEndpoints(deps.oauth.publicUrl);
    if (!Object.hasOwn(deps.config.workflows, deps.oauth.workflow)) {
      throw new TypeError(
        `oauth.workflow: unknown workflow "${deps.oauth.workflow}"; expected one of ${Object.keys(deps.config.workflows).join(', ')}`,
      );
    }
    this.scopes = [...workflowScopes(deps.config, deps.oauth.workflow)].sort();
    this.verifier = createOAuthAccessTokenVerifier({
      issuer: this.endpoints.issuer,
      resource: this.endpoints.resource,
      keys: async (kid) => (kid === deps.signer.keyId ? deps.signer.getPublicKey() : undefined),
      clockSkewSeconds: deps.clockSkewSeconds ?? 30,
      clock: deps.clock,
    });
  }

  /** RFC 9728 protected resource metadata of the MCP resource. */
  resourceMetadata(): Record<string, unknown> {
    return protectedResourceMetadata(this.endpoints, this.scopes);
  }

  /** RFC 8414 authorization server metadata. */
  serverMetadata(): Record<string, unknown> {
    return authorizationServerMetadata(this.endpoints, {
      scopes: this.scopes,
      dynamicRegistration: this.deps.oauth.dynamicRegistration,
      clientIdMetadataDocuments: this.deps.oauth.clientIdMetadataDocuments,
    });
  }

  /** RFC 7591 dynamic client registration; returns the 201 body. */
  async register(body: unknown): Promise<Record<string, unknown>> {
    if (!this.deps.oauth.dynamicRegistration) {
      throw new OAuthError('invalid_request', 'Dynamic client registration is turned off here.');
    }
    const registration = registerClient(body, this.redirectPolicy(), this.deps.clock.now());
    await this.deps.store.putClient(registration.client);
    return registration.response;
  }

  /**
   * The authorization endpoint. Returns where to send the browser: the corporate IdP, or back to the
   * client with an error. Throws {@link OAuthError} (shown to the user, never redirected) when the
   * client or its redirect URI cannot be trusted (RFC 6749 §4.1.2.1).
   */
  async authorize(params: OAuthParameters): Promise<string> {
    const clientId = this.parameter(params, 'client_id');
    if (!clientId) throw new OAuthError('invalid_request', 'client_id is required.');
    const client = await this.findClient(clientId);
    if (!client) throw new OAuthError('invalid_client', 'Unknown client_id; register the client first.');
    const redirectUri = this.parameter(params, 'redirect_uri');
    if (!redirectUri) throw new OAuthError('invalid_request', 'redirect_uri is required.');
    if (!redirectUriRegistered(client, redirectUri)) {
      throw new OAuthError('invalid_request', 'redirect_uri is not registered for this client.');
    }
    const clientState = this.parameter(params, 'state');
    if (clientState !== undefined && clientState.length > MAX_STATE_LENGTH) {
      throw new OAuthError('invalid_request', `state must be at most ${MAX_STATE_LENGTH} characters.`);
    }
    const back = (error: OAuthError) =>
      withQuery(redirectUri, {
        error: error.code,
        error_description: error.description,
        state: clientState,
        iss: this.endpoints.issuer,
      });
    try {
      if (params.response_type !== 'code') {
        throw new OAuthError('unsupported_response_type', 'response_type must be code.');
      }
      const codeChallenge = assertS256Challenge(params.code_challenge, params.code_challenge_method);
      const resource = this.resourceOf(params.resource);
      const scope = this.scopeOf(params.scope, this.scopes);
      const nonce = random();
      const idpCodeVerifier = random();
      const pending = {
        id: random(),
        clientId: client.clientId,
        redirectUri,
        codeChallenge,
        resource,
        scope,
        ...(clientState === undefined ? {} : { clientState }),
        idpNonce: nonce,
        idpCodeVerifier,
        expiresAt: this.nowSeconds() + PENDING_SIGN_IN_SECONDS,
      };
      await this.deps.store.putPendingAuthorization(pending);
      return await this.deps.identityProvider.authorizationUrl({
        state: pending.id,
        nonce,
        codeChallenge: s256ChallengeOf(idpCodeVerifier),
        redirectUri: this.endpoints.idpCallback,
      });
    } catch (error) {
      if (error instanceof OAuthError) return back(error);
      return back(
        new OAuthError('temporarily_unavailable', 'The sign-in could not be started; try again shortly.'),
      );
    }
  }

  /**
   * The corporate IdP's redirect back to Airlock. Maps the signed-in user to a principal, checks
   * policy and the kill switch, and returns the client's redirect URI with a one-minute code (or an
   * error). Throws {@link OAuthError} when the sign-in it completes is unknown or expired.
   */
  async completeSignIn(params: OAuthParameters, requestId: string): Promise<string> {
    const state = this.parameter(params, 'state');
    const pending = state ? await this.deps.store.takePendingAuthorization(state) : undefined;
    if (!pending || pending.expiresAt < this.nowSeconds()) {
      throw new OAuthError(
        'invalid_request',
        'This sign-in is unknown or has expired; start again from your MCP client.',
      );
    }
    const back = (extra: Record<string, string | undefined>) =>
      withQuery(pending.redirectUri, { ...extra, state: pending.clientState, iss: this.endpoints.issuer });
    const workflow = this.deps.oauth.workflow;
    let principal = '(unknown)';
    try {
      if (params.error !== undefined || !params.code) {
        throw new OAuthError('access_denied', 'The sign-in at your identity provider did not complete.');
      }
      let claims: Record<string, unknown>;
      try {
        claims = await this.deps.identityProvider.signIn({
          code: params.code,
          codeVerifier: pending.idpCodeVerifier,
          nonce: pending.idpNonce,
          redirectUri: this.endpoints.idpCallback,
        });
      } catch (cause) {
        throw new OAuthError('access_denied', 'The identity provider did not confirm the sign-in.', {
          cause,
        });
      }
      const identity = resolveCorporateIdentity(this.deps.config, this.deps.oauth, claims);
      principal = identity.principal;
      await this.assertMayIssue(principal, pending.scope);
      const code = random();
      await this.deps.store.putCode({
        codeHash: opaqueTokenHash(code),
        clientId: pending.clientId,
        redirectUri: pending.redirectUri,
        codeChallenge: pending.codeChallenge,
        resource: pending.resource,
        scope: pending.scope,
        principal,
        workflow,
        familyId: `fam_${randomUUID()}`,
        expiresAt: this.nowSeconds() + CODE_SECONDS,
      });
      return back({ code });
    } catch (error) {
      const refusal =
        error instanceof OAuthError
          ? error
          : new OAuthError(
              'temporarily_unavailable',
              'The sign-in could not be completed; try again shortly.',
            );
      await this.record({
        type: 'credential_denied',
        principal,
        workflow,
        decision: 'deny',
        reasons: [refusal.code],
        requestId,
        docHashes: [],
        details: { channel: 'oauth', clientId: pending.clientId },
      }).catch(() => undefined);
      return back({ error: refusal.code, error_description: refusal.description });
    }
  }

  /** The token endpoint (authorization_code and refresh_token grants). */
  async token(
    params: OAuthParameters,
    credentials: ClientCredentials,
    requestId: string,
  ): Promise<TokenResponse> {
    const grantType = this.parameter(params, 'grant_type');
    if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required.');
    if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
      throw new OAuthError(
        'unsupported_grant_type',
        'grant_type must be authorization_code or refresh_token.',
      );
    }
    const client = await this.authenticateClient(params, credentials);
    return grantType === 'authorization_code'
      ? this.exchangeCode(client, params, requestId)
      : this.refresh(client, params, requestId);
  }

  /** RFC 7009 revocation: a refresh or access token of this client ends its whole family. */
  async revoke(params: OAuthParameters, credentials: ClientCredentials, requestId: string): Promise<void> {
    const client = await this.authenticateClient(params, credentials);
    const token = this.parameter(params, 'token');
    if (!token) throw new OAuthError('invalid_request', 'token is required.');
    let familyId: string | undefined;
    const refresh = await this.deps.store.getRefreshToken(opaqueTokenHash(token));
    if (refresh && refresh.clientId === client.clientId) familyId = refresh.familyId;
    if (!familyId) {
      try {
        const claims = await this.verifier.verify(token);
        if (claims.client_id === client.clientId) familyId = claims.fam;
      } catch (error) {
        if (!(error instanceof TokenRejectedError)) throw error;
        // RFC 7009 §2.2: an invalid or unknown token is answered with 200 all the same.
      }
    }
    if (familyId) await this.revokeFamily(familyId, 'revoked_by_client', requestId);
  }

  /**
   * Proves a caller of the OAuth entry point's `/v1/mcp`: a valid OAuth access token, its family not
   * revoked, the kill switch released for its workflow, the token and principal not revoked. Returns
   * the same {@link Caller} the connector pipeline takes from mTLS; throws 401 / 503 otherwise.
   */
  async authenticate(token: string): Promise<Caller> {
    const claims = await this.verifier.verify(token);
    const family = await this.deps.store.getFamily(claims.fam);
    if (!family || family.revokedAt !== undefined || family.clientId !== claims.client_id) {
      throw new TokenRejectedError(
        'revoked',
        'The sign-in this token belongs to has been revoked. Sign in again through your MCP client.',
      );
    }
    const killSwitch = await this.deps.killSwitch.check(claims.workflow);
    if (killSwitch.engaged) throw new KillSwitchEngagedError(killSwitch);
    // assertNotRevoked reads only iat, jti and sub, which OAuth tokens carry as mTLS tokens do.
    const asAirlockClaims = claims as unknown as AccessTokenClaims;
    await assertNotRevoked(asAirlockClaims, {
      isRevoked: (t) => this.deps.revocations.isRevoked(t),
      revokeIssuedBefore: killSwitch.revokeIssuedBefore,
    });
    return {
      principal: claims.sub,
      workflow: claims.workflow,
      scopes: scopesOf(claims.scope),
      tokenId: claims.jti,
      channel: 'oauth',
      clientId: claims.client_id,
      issuedAt: new Date(claims.iat * 1000),
    };
  }

  private async exchangeCode(
    client: RegisteredClient,
    params: OAuthParameters,
    requestId: string,
  ): Promise<TokenResponse> {
    const code = this.parameter(params, 'code');
    if (!code) throw new OAuthError('invalid_request', 'code is required.');
    const redemption = await this.deps.store.redeemCode(opaqueTokenHash(code));
    if (!redemption) throw new OAuthError('invalid_grant', 'The authorization code is not valid.');
    const record = redemption.record;
    if (!redemption.firstUse) {
      // RFC 6749 §4.1.2: a code used twice was stolen or replayed; what it issued must not stay valid.
      await this.revokeFamily(record.familyId, 'authorization_code_reused', requestId);
      throw new OAuthError(
        'invalid_grant',
        'The authorization code was already used; its tokens are revoked.',
      );
    }
    if (record.clientId !== client.clientId) {
      throw new OAuthError('invalid_grant', 'The authorization code was issued to another client.');
    }
    if (record.expiresAt < this.nowSeconds()) {
      throw new OAuthError('invalid_grant', 'The authorization code has expired; sign in again.');
    }
    if (params.redirect_uri !== record.redirectUri) {
      throw new OAuthError(
        'invalid_grant',
        'redirect_uri does not match the one of the authorization request.',
      );
    }
    if (!pkceVerifierMatches(params.code_verifier, record.codeChallenge)) {
      throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge (PKCE).');
    }
    if (params.resource !== undefined && this.resourceOf(params.resource) !== record.resource) {
      throw new OAuthError('invalid_target', 'resource differs from the one of the authorization request.');
    }
    await this.assertMayIssue(record.principal, record.scope);
    const now = this.deps.clock.now();
    const family: TokenFamily = {
      familyId: record.familyId,
      clientId: client.clientId,
      principal: record.principal,
      workflow: record.workflow,
      scope: record.scope,
      resource: record.resource,
      createdAt: now.toISOString(),
      expiresAt: this.nowSeconds() + this.deps.oauth.refreshTokenHours * 3600,
    };
    await this.deps.store.putFamily(family);
    return this.issueTokens(family, family.scope, requestId);
  }

  private async refresh(
    client: RegisteredClient,
    params: OAuthParameters,
    requestId: string,
  ): Promise<TokenResponse> {
    const presented = this.parameter(params, 'refresh_token');
    if (!presented) throw new OAuthError('invalid_request', 'refresh_token is required.');
    const hash = opaqueTokenHash(presented);
    const record = await this.deps.store.getRefreshToken(hash);
    if (!record || record.clientId !== client.clientId) {
      throw new OAuthError('invalid_grant', 'The refresh token is not valid.');
    }
    if (record.used) return this.replayed(record.familyId, requestId);
    const family = await this.deps.store.getFamily(record.familyId);
    if (!family || family.revokedAt !== undefined) {
      throw new OAuthError('invalid_grant', 'The refresh token has been revoked; sign in again.');
    }
    if (family.expiresAt < this.nowSeconds() || record.expiresAt < this.nowSeconds()) {
      throw new OAuthError('invalid_grant', 'The sign-in has expired; sign in again.');
    }
    if (params.resource !== undefined && this.resourceOf(params.resource) !== family.resource) {
      throw new OAuthError(
        'invalid_target',
        'resource differs from the one this refresh token was issued for.',
      );
    }
    const scope = this.scopeOf(params.scope, family.scope);
    const killSwitch = await this.deps.killSwitch.check(family.workflow);
    if (killSwitch.engaged) {
      // The token is not consumed: once the switch is released it still works, unless the release
      // set revokeIssuedBefore past this sign-in (checked below on the next attempt).
      throw new OAuthError(
        'temporarily_unavailable',
        `Airlock is sealed (kill switch): ${killSwitch.reason}`,
      );
    }
    const createdAt = new Date(family.createdAt);
    let revoked = killSwitch.revokeIssuedBefore !== null && createdAt < killSwitch.revokeIssuedBefore;
    if (!revoked) {
      revoked = await this.deps.revocations.isRevoked({
        jti: family.familyId,
        principal: family.principal,
        issuedAt: createdAt,
      });
    }
    if (revoked) {
      await this.revokeFamily(family.familyId, 'revoked_by_operator', requestId);
      throw new OAuthError('invalid_grant', 'This sign-in was revoked by IT/security; sign in again.');
    }
    const use = await this.deps.store.useRefreshToken(hash);
    if (!use) throw new OAuthError('invalid_grant', 'The refresh token is not valid.');
    // Two concurrent exchanges of one token: only the first wins; the other is a replay.
    if (!use.firstUse) return this.replayed(family.familyId, requestId);
    await this.assertMayIssue(family.principal, scope);
    return this.issueTokens(family, scope, requestId);
  }

  private async replayed(familyId: string, requestId: string): Promise<never> {
    await this.revokeFamily(familyId, 'refresh_token_replayed', requestId);
    throw new OAuthError(
      'invalid_grant',
      'The refresh token was already used; as a precaution every token of this sign-in is revoked. Sign in again.',
    );
  }

  private async issueTokens(
    family: TokenFamily,
    scope: readonly string[],
    requestId: string,
  ): Promise<TokenResponse> {
    const lifetimeSeconds = this.accessTokenSeconds();
    const now = this.deps.clock.now();
    const { token, claims } = await issueOAuthAccessToken(this.deps.signer, {
      issuer: this.endpoints.issuer,
      resource: family.resource,
      subject: family.principal,
      workflow: family.workflow,
      clientId: family.clientId,
      familyId: family.familyId,
      scope,
      lifetimeSeconds,
      now,
    });
    const refreshToken = `rt_${random()}`;
    await this.deps.store.putRefreshToken({
      tokenHash: opaqueTokenHash(refreshToken),
      familyId: family.familyId,
      clientId: family.clientId,
      expiresAt: family.expiresAt,
    });
    // The token leaves only after its record is committed, as at POST /v1/credentials.
    await this.record({
      type: 'credential_issued',
      principal: family.principal,
      workflow: family.workflow,
      decision: 'allow',
      reasons: [],
      requestId,
      docHashes: [],
      details: {
        channel: 'oauth',
        clientId: family.clientId,
        familyId: family.familyId,
        jti: claims.jti,
        scope: claims.scope,
        exp: claims.exp,
        resource: family.resource,
      },
    });
    return {
      access_token: token,
      token_type: 'Bearer',
      expires_in: lifetimeSeconds,
      refresh_token: refreshToken,
      scope: claims.scope,
    };
  }

  private async revokeFamily(familyId: string, reason: string, requestId: string): Promise<void> {
    await this.deps.store.revokeFamily(familyId, reason, this.deps.clock.now());
    const family = await this.deps.store.getFamily(familyId).catch(() => undefined);
    await this.record({
      type: 'revocation',
      principal: family?.principal ?? '(unknown)',
      workflow: family?.workflow ?? this.deps.oauth.workflow,
      decision: 'recorded',
      reasons: [reason],
      requestId,
      docHashes: [],
      details: { channel: 'oauth', familyId },
    }).catch(() => undefined);
  }

  /** Kill switch and Cedar `RequestCredential`, as the broker checks them for mTLS tokens. */
  private async assertMayIssue(principal: string, scope: readonly string[]): Promise<void> {
    const workflow = this.deps.oauth.workflow;
    const killSwitch = await this.deps.killSwitch.check(workflow);
    if (killSwitch.engaged) {
      throw new OAuthError(
        'temporarily_unavailable',
        `Airlock is sealed (kill switch): ${killSwitch.reason}`,
      );
    }
    const decision = this.deps.policy.decide({
      principal,
      action: 'RequestCredential',
      resource: { kind: 'workflow', id: workflow },
      workflow,
      context: {
        approval: 'none',
        durationMinutes: Math.ceil(this.accessTokenSeconds() / 60),
        scope: [...scope],
      },
    });
    if (decision.decision !== 'allow') {
      throw new OAuthError(
        'access_denied',
        `Policy does not allow ${principal} to use workflow "${workflow}" (${decision.reasons.join(', ')}).`,
      );
    }
  }

  private accessTokenSeconds(): number {
    const workflow = this.deps.config.workflows[this.deps.oauth.workflow];
    return Math.min(this.deps.oauth.accessTokenMinutes, workflow.maxTokenLifetimeMinutes) * 60;
  }

  private async authenticateClient(
    params: OAuthParameters,
    credentials: ClientCredentials,
  ): Promise<RegisteredClient> {
    const formId = this.parameter(params, 'client_id');
    const basic = credentials.basic;
    if (basic && formId !== undefined && formId !== basic.clientId) {
      throw new OAuthError(
        'invalid_request',
        'client_id in the body differs from the one in the Authorization header.',
      );
    }
    const clientId = basic?.clientId ?? formId;
    if (!clientId) throw new OAuthError('invalid_client', 'Client authentication is required (client_id).');
    const client = await this.findClient(clientId);
    if (!client) throw new OAuthError('invalid_client', 'Unknown client.');
    const secret = basic?.clientSecret ?? params.client_secret;
    if (client.tokenEndpointAuthMethod === 'none') {
      if (secret !== undefined) throw new OAuthError('invalid_client', 'This public client has no secret.');
      return client;
    }
    if (!clientSecretMatches(client, secret))
      throw new OAuthError('invalid_client', 'Client authentication failed.');
    return client;
  }

  /** A registered client, or (when enabled) the client a metadata-document URL describes. */
  private async findClient(clientId: string): Promise<RegisteredClient | undefined> {
    if (clientId.length > MAX_PARAMETER_LENGTH) return undefined;
    const stored = await this.deps.store.getClient(clientId);
    if (stored) return stored;
    if (!this.deps.oauth.clientIdMetadataDocuments || !isClientMetadataDocumentUrl(clientId))
      return undefined;
    let document: unknown;
    try {
      document = await this.deps.fetchClientMetadata(clientId);
    } catch (cause) {
      throw new OAuthError('invalid_client', 'The client metadata document could not be fetched.', { cause });
    }
    const client = clientFromMetadataDocument(
      clientId,
      document,
      this.redirectPolicy(),
      this.deps.clock.now(),
    );
    await this.deps.store.putClient(client, this.nowSeconds() + CLIENT_METADATA_CACHE_SECONDS);
    return client;
  }

  private redirectPolicy() {
    return { allowed: this.deps.oauth.allowedRedirectUris };
  }

  /** RFC 8707: the only resource this server issues tokens for is its MCP resource. */
  private resourceOf(value: string | undefined): string {
    if (value === undefined || value === '') return this.endpoints.resource;
    const normalised = value.endsWith('/') ? value.slice(0, -1) : value;
    if (normalised !== this.endpoints.resource) {
      throw new OAuthError('invalid_target', `resource must be ${this.endpoints.resource}.`);
    }
    return this.endpoints.resource;
  }

  /** Requested scopes must lie within `allowed`; none requested means all of `allowed`. */
  private scopeOf(value: string | undefined, allowed: readonly string[]): string[] {
    if (value === undefined || value.trim() === '') return [...allowed];
    const requested = [...new Set(value.trim().split(/ +/))].sort();
    const refused = requested.filter((s) => !allowed.includes(s));
    if (refused.length > 0) {
      throw new OAuthError(
        'invalid_scope',
        `Scope ${refused.map((s) => `"${s.slice(0, 40)}"`).join(', ')} is not available; available: ${allowed.join(' ')}.`,
      );
    }
    return requested;
  }

  private parameter(params: OAuthParameters, name: string): string | undefined {
    const value = params[name];
    if (value === undefined || value === '') return undefined;
    if (value.length > MAX_PARAMETER_LENGTH) {
      throw new OAuthError('invalid_request', `${name} is too long.`);
    }
    return value;
  }

  private nowSeconds(): number {
    return Math.floor(this.deps.clock.now().getTime() / 1000);
  }

  private async record(event: AuditEvent): Promise<void> {
    try {
      await this.deps.ledger.append(event);
    } catch (cause) {
      throw cause instanceof DependencyError
        ? cause
        : new DependencyError('audit', 'The audit ledger could not record the decision.', { cause });
    }
  }
}
