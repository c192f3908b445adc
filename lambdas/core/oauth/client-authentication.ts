/**
 * Client authentication at the token and revocation endpoints (RFC 6749 §2.3, OAuth 2.1 §2.4): the
 * client must use the method it registered, and only that one. A public client sends no secret; a
 * `client_secret_basic` client sends it in the Authorization header and a `client_secret_post` client in
 * the body, never the other way round.
 */
import type { ClientCredentials, OAuthParameters } from './authorization-server-context';
import type { ClientDirectory } from './client-directory';
import { clientSecretMatches, type RegisteredClient } from './oauth-client';
import { OAuthError } from './oauth-error';

/** Finds and authenticates the calling client. Throws `invalid_client` (401) or `invalid_request`. */
export async function authenticateClient(
  directory: ClientDirectory,
  params: OAuthParameters,
  credentials: ClientCredentials,
): Promise<RegisteredClient> {
  const formId = params.client_id === '' ? undefined : params.client_id;
  const basic = credentials.basic;
  if (basic && formId !== undefined && formId !== basic.clientId) {
    throw new OAuthError(
      'invalid_request',
      'client_id in the body differs from the one in the Authorization header.',
    );
  }
  if (basic && params.client_secret !== undefined) {
    throw new OAuthError('invalid_request', 'Send the client secret in one place only (RFC 6749 §2.3).');
  }
  const clientId = basic?.clientId ?? formId;
  if (!clientId) throw new OAuthError('invalid_client', 'Client authentication is required (client_id).');
  const client = await directory.find(clientId);
  if (!client) throw new OAuthError('invalid_client', 'Unknown client.');
  switch (client.tokenEndpointAuthMethod) {
    case 'none':
      if (basic || params.client_secret !== undefined) {
        throw new OAuthError('invalid_client', 'This client is public and registered no secret.');
      }
      return client;
    case 'client_secret_basic':
      if (!basic) {
        throw new OAuthError(
          'invalid_client',
          'This client registered client_secret_basic: send its credentials with HTTP Basic.',
        );
      }
      if (!clientSecretMatches(client, basic.clientSecret)) {
        throw new OAuthError('invalid_client', 'Client authentication failed.');
      }
      return client;
    case 'client_secret_post':
      if (basic) {
        throw new OAuthError(
          'invalid_client',
          'This client registered client_secret_post: send client_id and client_secret in the body.',
        );
      }
      if (!clientSecretMatches(client, params.client_secret)) {
        throw new OAuthError('invalid_client', 'Client authentication failed.');
      }
      return client;
  }
}
