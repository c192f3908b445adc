/**
 * The token endpoint (`POST /oauth/token`): authenticates the client by the method it registered and
 * runs its grant. It answers with RFC 6749 §5.2 error codes only (and RFC 8707's `invalid_target`):
 * a sealed kill switch or a policy refusal is `invalid_grant` (the grant cannot be used now), never a
 * code a strict client does not know. A dependency outage stays a 503 (DependencyError), because no
 * §5.2 code means "try again" and `invalid_grant` would make clients throw away a good refresh token.
 */
import type { AuthorizationCodeGrant } from './authorization-code-grant';
import type { ClientCredentials, OAuthParameters } from './authorization-server-context';
import { authenticateClient } from './client-authentication';
import type { ClientDirectory } from './client-directory';
import { type IdentityAssertionGrant, JWT_BEARER_GRANT_TYPE } from './identity-assertion-grant';
import { OAuthError, type OAuthErrorCode } from './oauth-error';
import type { RefreshTokenGrant } from './refresh-token-grant';
import type { TokenResponse } from './token-issuer';

/** RFC 6749 §5.2, plus RFC 8707 §2's invalid_target. */
const TOKEN_ENDPOINT_CODES = new Set<OAuthErrorCode>([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
]);

export class TokenEndpoint {
  constructor(
    private readonly directory: ClientDirectory,
    private readonly codeGrant: AuthorizationCodeGrant,
    private readonly refreshGrant: RefreshTokenGrant,
    /** Enterprise-Managed Authorization, when the config enables it. */
    private readonly assertionGrant?: IdentityAssertionGrant,
  ) {}

  async token(
    params: OAuthParameters,
    credentials: ClientCredentials,
    requestId: string,
  ): Promise<TokenResponse> {
    try {
      const grantType = params.grant_type;
      if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required.');
      const assertionGrant = grantType === JWT_BEARER_GRANT_TYPE ? this.assertionGrant : undefined;
      if (grantType !== 'authorization_code' && grantType !== 'refresh_token' && !assertionGrant) {
        throw new OAuthError(
          'unsupported_grant_type',
          this.assertionGrant
            ? `grant_type must be authorization_code, refresh_token or ${JWT_BEARER_GRANT_TYPE}.`
            : 'grant_type must be authorization_code or refresh_token.',
        );
      }
      if (assertionGrant) {
        const client = await authenticateClient(this.directory, params, credentials).catch(
          async (error: unknown) => {
            // A refused ID-JAG request is on the record even when its client is not who it says.
            await assertionGrant.recordUnauthenticated(params, error, requestId);
            throw error;
          },
        );
        return await assertionGrant.exchange(client, params, requestId);
      }
      const client = await authenticateClient(this.directory, params, credentials);
      return grantType === 'authorization_code'
        ? await this.codeGrant.exchange(client, params, requestId)
        : await this.refreshGrant.exchange(client, params, requestId);
    } catch (error) {
      if (error instanceof OAuthError && !TOKEN_ENDPOINT_CODES.has(error.code)) {
        throw new OAuthError('invalid_grant', error.description, { cause: error });
      }
      throw error;
    }
  }
}
