/**
 * Proves a caller of the OAuth entry point's `/v1/mcp`: a valid OAuth access token, its sign-in
 * (family) not revoked, the kill switch released for its workflow, the token and principal not
 * revoked. Every refusal tells the user to sign in again through their MCP client: this entry point has
 * no other way to get a token.
 */
import {
  type AccessTokenVerifier,
  assertNotRevoked,
  type OAuthAccessTokenClaims,
  TokenRejectedError,
} from '../access-token';
import { type Caller, scopesOf } from '../caller';
import { KillSwitchEngagedError } from '../kill-switch';
import type { AuthorizationServerContext } from './authorization-server-context';

const SIGN_IN_AGAIN = 'Sign in again through your MCP client (reconnect the Airlock connector).';

export class OAuthResourceAuthenticator {
  constructor(
    private readonly context: AuthorizationServerContext,
    private readonly verifier: AccessTokenVerifier<OAuthAccessTokenClaims>,
  ) {}

  async authenticate(token: string): Promise<Caller> {
    const { deps, store } = this.context;
    const claims = await this.verifier.verify(token);
    const family = await store.getFamily(claims.fam);
    if (!family || family.revokedAt !== undefined || family.clientId !== claims.client_id) {
      throw new TokenRejectedError(
        'revoked',
        `The sign-in this token belongs to has been revoked. ${SIGN_IN_AGAIN}`,
      );
    }
    const killSwitch = await deps.killSwitch.check(claims.workflow);
    if (killSwitch.engaged) throw new KillSwitchEngagedError(killSwitch);
    try {
      await assertNotRevoked(claims, {
        isRevoked: (t) => deps.revocations.isRevoked(t),
        revokeIssuedBefore: killSwitch.revokeIssuedBefore,
      });
    } catch (error) {
      // Its wording sends device users to POST /v1/credentials, which this entry point does not serve.
      if (error instanceof TokenRejectedError) {
        throw new TokenRejectedError(error.reason, `The access token has been revoked. ${SIGN_IN_AGAIN}`, {
          cause: error,
        });
      }
      throw error;
    }
    return {
      principal: claims.sub,
      workflow: claims.workflow,
      scopes: scopesOf(claims.scope),
      tokenId: claims.jti,
      ...(claims.resource === undefined ? {} : { resource: claims.resource }),
      channel: 'oauth',
      issuedAt: new Date(claims.iat * 1000),
      clientId: claims.client_id,
    };
  }
}
