/**
 * RFC 7009 token revocation (`POST /oauth/revoke`): a client revokes a refresh or access token it was
 * issued, and the whole sign-in (family) ends. Another client's token is refused (RFC 7009 §2.1), and
 * the refusal is on the audit record; an unknown or invalid token is answered with 200 (§2.2).
 */
import { type AccessTokenVerifier, type OAuthAccessTokenClaims, TokenRejectedError } from '../access-token';
import type {
  AuthorizationServerContext,
  ClientCredentials,
  OAuthParameters,
} from './authorization-server-context';
import { authenticateClient } from './client-authentication';
import type { ClientDirectory } from './client-directory';
import { OAuthError } from './oauth-error';
import { opaqueTokenHash } from './oauth-store';
import type { TokenIssuer } from './token-issuer';

export class RevocationEndpoint {
  constructor(
    private readonly context: AuthorizationServerContext,
    private readonly directory: ClientDirectory,
    private readonly verifier: AccessTokenVerifier<OAuthAccessTokenClaims>,
    private readonly tokens: TokenIssuer,
  ) {}

  async revoke(params: OAuthParameters, credentials: ClientCredentials, requestId: string): Promise<void> {
    const client = await authenticateClient(this.directory, params, credentials);
    const token = this.context.parameter(params, 'token');
    if (!token) throw new OAuthError('invalid_request', 'token is required.');
    let owner: { clientId: string; familyId: string; principal?: string } | undefined;
    const refresh = await this.context.store.getRefreshToken(opaqueTokenHash(token));
    if (refresh) owner = { clientId: refresh.clientId, familyId: refresh.familyId };
    if (!owner) {
      try {
        const claims = await this.verifier.verify(token);
        owner = { clientId: claims.client_id, familyId: claims.fam, principal: claims.sub };
      } catch (error) {
        if (!(error instanceof TokenRejectedError)) throw error;
        // RFC 7009 §2.2: an invalid or unknown token is answered with 200 all the same.
        return;
      }
    }
    if (owner.clientId !== client.clientId) {
      await this.context.record({
        type: 'credential_denied',
        principal: owner.principal ?? '(unknown)',
        workflow: this.context.oauth.workflow,
        decision: 'deny',
        reasons: ['revocation_by_other_client'],
        requestId,
        docHashes: [],
        details: { channel: 'oauth', clientId: client.clientId, familyId: owner.familyId },
      });
      throw new OAuthError('invalid_request', 'This client is not authorized to revoke the presented token.');
    }
    await this.tokens.revokeFamily(owner.familyId, 'revoked_by_client', requestId);
  }
}
