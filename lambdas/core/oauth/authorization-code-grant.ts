/**
 * The `authorization_code` grant (OAuth 2.1 §4.1.3): a one-minute code, single use (a second use revokes
 * what the first issued), for the client it was issued to, with the same redirect URI, the PKCE verifier
 * of its challenge, and the same resource. It starts a sign-in (a refresh-token family).
 */
import type { AuthorizationServerContext, OAuthParameters } from './authorization-server-context';
import type { ClientDirectory } from './client-directory';
import type { RegisteredClient } from './oauth-client';
import { OAuthError } from './oauth-error';
import type { OAuthIssuanceGate } from './oauth-issuance-gate';
import { opaqueTokenHash, type TokenFamily } from './oauth-store';
import { pkceVerifierMatches } from './pkce';
import type { TokenIssuer, TokenResponse } from './token-issuer';

export class AuthorizationCodeGrant {
  constructor(
    private readonly context: AuthorizationServerContext,
    private readonly directory: ClientDirectory,
    private readonly gate: OAuthIssuanceGate,
    private readonly tokens: TokenIssuer,
  ) {}

  async exchange(
    client: RegisteredClient,
    params: OAuthParameters,
    requestId: string,
  ): Promise<TokenResponse> {
    const context = this.context;
    const code = context.parameter(params, 'code');
    if (!code) throw new OAuthError('invalid_request', 'code is required.');
    const redemption = await context.store.redeemCode(opaqueTokenHash(code));
    if (!redemption) throw new OAuthError('invalid_grant', 'The authorization code is not valid.');
    const record = redemption.record;
    if (!redemption.firstUse) {
      // RFC 6749 §4.1.2: a code used twice was stolen or replayed; what it issued must not stay valid.
      await this.tokens.revokeFamily(record.familyId, 'authorization_code_reused', requestId);
      throw new OAuthError(
        'invalid_grant',
        'The authorization code was already used; its tokens are revoked.',
      );
    }
    if (record.clientId !== client.clientId) {
      throw new OAuthError('invalid_grant', 'The authorization code was issued to another client.');
    }
    if (record.expiresAt < context.nowSeconds()) {
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
    if (params.resource !== undefined && context.resourceOf(params.resource) !== record.resource) {
      throw new OAuthError('invalid_target', 'resource differs from the one of the authorization request.');
    }
    await this.gate.assertMayIssue(record.principal, record.scope, requestId);
    const family: TokenFamily = {
      familyId: record.familyId,
      clientId: client.clientId,
      principal: record.principal,
      workflow: record.workflow,
      scope: record.scope,
      resource: record.resource,
      createdAt: context.now().toISOString(),
      expiresAt: context.nowSeconds() + context.oauth.refreshTokenHours * 3600,
    };
    await context.store.putFamily(family);
    await this.directory.keepInUse(client, family.expiresAt);
    return this.tokens.issue(family, family.scope, requestId);
  }
}
