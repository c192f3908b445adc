/**
 * The broker as an OAuth 2.1 authorization server for the MCP resource (MCP authorization spec): client
 * registration (RFC 7591) or Client ID Metadata Documents, the authorization code flow with PKCE S256,
 * sign-in at the corporate IdP (OIDC), the user's consent per client, resource indicators (RFC 8707)
 * bound into `aud`, rotating refresh tokens whose replay revokes the whole family, token revocation
 * (RFC 7009), and the kill switch over all of it.
 *
 * This class only wires the endpoints, one per file; each is pure, with every dependency a port. The
 * handler in `lambdas/oauth` turns HTTP into these calls.
 */
import type { KeyObject } from 'node:crypto';
import { exportJWK } from 'jose';
import { createAccessTokenVerifier, OAUTH_TOKEN_PROFILE } from '../access-token';
import type { AuthenticationRequest, Caller } from '../caller';
import { AuthorizationCodeGrant } from './authorization-code-grant';
import { AuthorizationCodeIssuer, type ClientRedirect } from './authorization-code-issuer';
import { AuthorizationEndpoint, type BrowserRedirect } from './authorization-endpoint';
import {
  AuthorizationServerContext,
  type ClientCredentials,
  type OAuthAuthorizationServerDeps,
  type OAuthParameters,
  type RequestCookies,
} from './authorization-server-context';
import { ClientDirectory } from './client-directory';
import { ConsentEndpoint, type ConsentSubmission } from './consent-endpoint';
import { IdentityAssertionGrant } from './identity-assertion-grant';
import { OAuthIssuanceGate } from './oauth-issuance-gate';
import {
  authorizationServerMetadata,
  type OAuthEndpoints,
  protectedResourceMetadata,
} from './oauth-metadata';
import { RefreshTokenGrant } from './refresh-token-grant';
import { RegistrationEndpoint } from './registration-endpoint';
import { OAuthResourceAuthenticator } from './resource-authenticator';
import { RevocationEndpoint } from './revocation-endpoint';
import { type ConsentRequired, SignInCallback } from './sign-in-callback';
import { TokenEndpoint } from './token-endpoint';
import { TokenIssuer, type TokenResponse } from './token-issuer';

export type { ClientRedirect } from './authorization-code-issuer';
export type { BrowserRedirect } from './authorization-endpoint';
export type {
  BrowserCookie,
  ClientCredentials,
  ClientMetadataFetcher,
  CorporateIdentityProvider,
  OAuthAuthorizationServerDeps,
  OAuthParameters,
  RequestCookies,
} from './authorization-server-context';
export type { ConsentSubmission } from './consent-endpoint';
export type { ConsentPrompt } from './consent-prompt';
export type { ConsentRequired } from './sign-in-callback';
export type { AccessTokenResponse, TokenResponse } from './token-issuer';

export class OAuthAuthorizationServer {
  readonly endpoints: OAuthEndpoints;
  private readonly context: AuthorizationServerContext;
  private readonly registration: RegistrationEndpoint;
  private readonly authorization: AuthorizationEndpoint;
  private readonly callback: SignInCallback;
  private readonly consentEndpoint: ConsentEndpoint;
  private readonly tokenEndpoint: TokenEndpoint;
  private readonly revocation: RevocationEndpoint;
  private readonly resource: OAuthResourceAuthenticator;

  constructor(deps: OAuthAuthorizationServerDeps) {
    const context = new AuthorizationServerContext(deps);
    this.context = context;
    this.endpoints = context.endpoints;
    // The one access-token codec, in its OAuth profile: `aud` is the MCP resource (RFC 8707).
    const verifier = createAccessTokenVerifier({
      profile: OAUTH_TOKEN_PROFILE,
      issuer: context.endpoints.issuer,
      audience: context.endpoints.resource,
      keys: async (kid) => (kid === deps.signer.keyId ? deps.signer.getPublicKey() : undefined),
      clockSkewSeconds: deps.clockSkewSeconds ?? 30,
      clock: deps.clock,
    });
    const directory = new ClientDirectory(context);
    const gate = new OAuthIssuanceGate(context);
    const tokens = new TokenIssuer(context);
    const codes = new AuthorizationCodeIssuer(context);
    this.registration = new RegistrationEndpoint(context, directory);
    this.authorization = new AuthorizationEndpoint(context, directory);
    this.callback = new SignInCallback(context, directory, gate, codes);
    this.consentEndpoint = new ConsentEndpoint(context, directory, gate, codes);
    const ema = deps.oauth.enterpriseManagedAuthorization;
    if (ema && !deps.enterpriseAssertionKeys) {
      throw new TypeError(
        'oauth.enterpriseManagedAuthorization is set but no key set of its identity provider was given',
      );
    }
    this.tokenEndpoint = new TokenEndpoint(
      directory,
      new AuthorizationCodeGrant(context, directory, gate, tokens),
      new RefreshTokenGrant(context, gate, tokens),
      ema && deps.enterpriseAssertionKeys
        ? new IdentityAssertionGrant(context, gate, tokens, ema, deps.enterpriseAssertionKeys)
        : undefined,
    );
    this.revocation = new RevocationEndpoint(context, directory, verifier, tokens);
    this.resource = new OAuthResourceAuthenticator(context, verifier);
  }

  /** RFC 9728 protected resource metadata, for the MCP resource or (at the root) the origin. */
  resourceMetadata(servedFor: 'mcp' | 'root' = 'mcp'): Record<string, unknown> {
    return protectedResourceMetadata(this.endpoints, this.context.scopes, servedFor);
  }

  /** RFC 8414 authorization server metadata. */
  serverMetadata(): Record<string, unknown> {
    return authorizationServerMetadata(this.endpoints, {
      scopes: this.context.scopes,
      dynamicRegistration: this.context.oauth.dynamicRegistration,
      clientIdMetadataDocuments: this.context.oauth.clientIdMetadataDocuments,
      enterpriseManagedAuthorization: this.context.oauth.enterpriseManagedAuthorization !== undefined,
    });
  }

  /** The JWK Set that verifies the access tokens (`jwks_uri`). */
  async jwks(): Promise<{ keys: Record<string, unknown>[] }> {
    const { signer } = this.context.deps;
    const key: KeyObject = await signer.getPublicKey();
    return { keys: [{ ...(await exportJWK(key)), kid: signer.keyId, alg: 'ES256', use: 'sig' }] };
  }

  /** RFC 7591 dynamic client registration; returns the 201 body. */
  register(body: unknown, sourceIp: string, requestId: string): Promise<Record<string, unknown>> {
    return this.registration.register(body, sourceIp, requestId);
  }

  /** The authorization endpoint: where to send the browser, and the sign-in's cookie. */
  authorize(params: OAuthParameters): Promise<BrowserRedirect> {
    return this.authorization.authorize(params);
  }

  /** The IdP's redirect back: a redirect to the client, or the consent page to show. */
  completeSignIn(
    params: OAuthParameters,
    cookies: RequestCookies,
    requestId: string,
  ): Promise<ClientRedirect | ConsentRequired> {
    return this.callback.complete(params, cookies, requestId);
  }

  /** The consent form's answer: a redirect to the client with a code or `access_denied`. */
  consent(submission: ConsentSubmission, requestId: string): Promise<ClientRedirect> {
    return this.consentEndpoint.answer(submission, requestId);
  }

  /** The token endpoint (authorization_code, refresh_token and, when enabled, the JWT bearer grant). */
  token(params: OAuthParameters, credentials: ClientCredentials, requestId: string): Promise<TokenResponse> {
    return this.tokenEndpoint.token(params, credentials, requestId);
  }

  /** RFC 7009 revocation. */
  revoke(params: OAuthParameters, credentials: ClientCredentials, requestId: string): Promise<void> {
    return this.revocation.revoke(params, credentials, requestId);
  }

  /** Proves a caller of the OAuth entry point's `/v1/mcp` by its bearer token; throws 401 / 503 otherwise. */
  authenticate(request: AuthenticationRequest): Promise<Caller> {
    return this.resource.authenticate(request);
  }
}
