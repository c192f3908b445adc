/**
 * Proves a caller of the OAuth entry point's `/v1/mcp`: a valid OAuth access token, its sign-in
 * (family) not revoked, and the revocation guard's verdict (the token and its principal not revoked,
 * the principal not suspended, the kill switch released for its workflow). Every refusal is on the
 * audit record and tells the user to sign in again through their MCP client: this entry point has no
 * other way to get a token.
 */
import { type AccessTokenVerifier, type OAuthAccessTokenClaims, TokenRejectedError } from '../access-token';
import { bearerTokenOf, requestIdOf } from '../api-request';
import { recordAuthenticationRefusal } from '../authentication-refusal';
import { type AuthenticationRequest, type Caller, scopesOf } from '../caller';
import type { AuthorizationServerContext } from './authorization-server-context';

const SIGN_IN_AGAIN = 'Sign in again through your MCP client (reconnect the Airlock connector).';

export class OAuthResourceAuthenticator {
  constructor(
    private readonly context: AuthorizationServerContext,
    private readonly verifier: AccessTokenVerifier<OAuthAccessTokenClaims>,
  ) {}

  async authenticate(request: AuthenticationRequest): Promise<Caller> {
    const { deps, store } = this.context;
    // This entry point has no client certificate: nobody is proven until the token is verified.
    let claims: OAuthAccessTokenClaims | undefined;
    try {
      claims = await this.verifier.verify(bearerTokenOf(request));
      const family = await store.getFamily(claims.fam);
      if (!family || family.revokedAt !== undefined || family.clientId !== claims.client_id) {
        throw new TokenRejectedError(
          'revoked',
          `The sign-in this token belongs to has been revoked. ${SIGN_IN_AGAIN}`,
        );
      }
      const issuedAt = new Date(claims.iat * 1000);
      await deps.guard.admitToken({
        workflow: claims.workflow,
        principal: claims.sub,
        jti: claims.jti,
        issuedAt,
        channel: 'oauth',
      });
      return {
        principal: claims.sub,
        workflow: claims.workflow,
        scopes: scopesOf(claims.scope),
        tokenId: claims.jti,
        ...(claims.resource === undefined ? {} : { resource: claims.resource }),
        channel: 'oauth',
        issuedAt,
        clientId: claims.client_id,
      };
    } catch (error) {
      await recordAuthenticationRefusal(deps.ledger, error, {
        channel: 'oauth',
        principal: claims?.sub,
        workflow: claims?.workflow,
        requestId: requestIdOf(request),
        ...(claims === undefined ? {} : { clientId: claims.client_id }),
      });
      throw error;
    }
  }
}
