/**
 * The `refresh_token` grant (OAuth 2.1 §4.3): refresh tokens rotate on every use, within the sign-in's
 * absolute lifetime. A used token presented again is theft and ends the whole family, except once,
 * within `oauth.refreshGraceSeconds` of its first use, by the same client, while its successor is still
 * unused: two requests of one MCP host refreshing at the same time do not sign the user out.
 *
 * Everything that can refuse without the token being at fault (the kill switch, revocation, the policy)
 * is checked before the token is used up, so a refusal never costs the user their sign-in.
 */
import { TokenRejectedError } from '../access-token';
import { KillSwitchEngagedError } from '../kill-switch';
import type { AuthorizationServerContext, OAuthParameters } from './authorization-server-context';
import type { RegisteredClient } from './oauth-client';
import { OAuthError } from './oauth-error';
import type { OAuthIssuanceGate } from './oauth-issuance-gate';
import { opaqueTokenHash, type RefreshTokenRecord, type TokenFamily } from './oauth-store';
import type { TokenIssuer, TokenResponse } from './token-issuer';

export class RefreshTokenGrant {
  constructor(
    private readonly context: AuthorizationServerContext,
    private readonly gate: OAuthIssuanceGate,
    private readonly tokens: TokenIssuer,
  ) {}

  async exchange(
    client: RegisteredClient,
    params: OAuthParameters,
    requestId: string,
  ): Promise<TokenResponse> {
    const context = this.context;
    const { store } = context;
    const presented = context.parameter(params, 'refresh_token');
    if (!presented) throw new OAuthError('invalid_request', 'refresh_token is required.');
    const hash = opaqueTokenHash(presented);
    const record = await store.getRefreshToken(hash);
    if (!record || record.clientId !== client.clientId) {
      throw new OAuthError('invalid_grant', 'The refresh token is not valid.');
    }
    if (record.used && !(await this.withinGrace(record))) return this.replayed(record.familyId, requestId);
    const family = await store.getFamily(record.familyId);
    if (!family || family.revokedAt !== undefined) {
      throw new OAuthError('invalid_grant', 'The refresh token has been revoked; sign in again.');
    }
    if (family.expiresAt < context.nowSeconds() || record.expiresAt < context.nowSeconds()) {
      throw new OAuthError('invalid_grant', 'The sign-in has expired; sign in again.');
    }
    if (params.resource !== undefined && context.resourceOf(params.resource) !== family.resource) {
      throw new OAuthError(
        'invalid_target',
        'resource differs from the one this refresh token was issued for.',
      );
    }
    const scope = context.scopeOf(params.scope, family.scope);
    await this.assertNotRevoked(family, requestId);
    // The kill switch and the policy, before the token is used: a refusal leaves it usable.
    await this.gate.assertMayIssue(family.principal, scope, requestId);
    if (record.used) {
      // The grace: claimed once, atomically; a third request for the same token is a replay.
      if (!(await store.takeRefreshGrace(hash))) return this.replayed(family.familyId, requestId);
      return this.tokens.issue(family, scope, requestId);
    }
    const use = await store.useRefreshToken(hash, context.now());
    if (!use) throw new OAuthError('invalid_grant', 'The refresh token is not valid.');
    if (!use.firstUse) {
      // Another request used it between our read and our write: the grace decides, as above.
      if (!(await this.withinGrace({ ...use.record, used: true })) || !(await store.takeRefreshGrace(hash))) {
        return this.replayed(family.familyId, requestId);
      }
      return this.tokens.issue(family, scope, requestId);
    }
    return this.tokens.issue(family, scope, requestId, hash);
  }

  /**
   * A used token still counts once when it was first used within the grace period and the token its
   * use issued has not been used yet (it is the immediately previous token of the family).
   */
  private async withinGrace(record: RefreshTokenRecord): Promise<boolean> {
    const graceSeconds = this.context.oauth.refreshGraceSeconds;
    if (graceSeconds === 0 || record.usedAt === undefined) return false;
    const usedAt = Date.parse(record.usedAt);
    if (!(this.context.now().getTime() - usedAt <= graceSeconds * 1000)) return false;
    if (record.successorHash === undefined) return true;
    const successor = await this.context.store.getRefreshToken(record.successorHash);
    return successor !== undefined && !successor.used;
  }

  /**
   * IT/security's revocations: the kill switch's cut-off, `airlock revoke --jti <family id>` and
   * `--principal` (with `--suspend`), judged as for the sign-in's first token. A revoked sign-in ends.
   */
  private async assertNotRevoked(family: TokenFamily, requestId: string): Promise<void> {
    try {
      await this.context.deps.guard.admitToken({
        workflow: family.workflow,
        principal: family.principal,
        jti: family.familyId,
        issuedAt: new Date(family.createdAt),
        channel: 'oauth',
      });
    } catch (error) {
      // The gate that follows refuses an engaged kill switch in OAuth's words, and keeps the sign-in.
      if (error instanceof KillSwitchEngagedError) return;
      if (!(error instanceof TokenRejectedError)) throw error;
      await this.tokens.revokeFamily(family.familyId, 'revoked_by_operator', requestId);
      throw new OAuthError('invalid_grant', 'This sign-in was revoked by IT/security; sign in again.');
    }
  }

  private async replayed(familyId: string, requestId: string): Promise<never> {
    await this.tokens.revokeFamily(familyId, 'refresh_token_replayed', requestId);
    throw new OAuthError(
      'invalid_grant',
      'The refresh token was already used; as a precaution every token of this sign-in is revoked. Sign in again.',
    );
  }
}
