/**
 * The ports of the OAuth entry point besides its store: the corporate IdP it signs users in with (its
 * client secret from Secrets Manager) and the fetcher of OAuth Client ID Metadata Documents.
 */
import { FUNCTION_ENV } from '../../../lib/contracts/environment';
import { createClientMetadataFetcher } from '../../oauth/client-metadata-fetcher';
import { createOidcIdentityProvider } from '../../oauth/oidc-identity-provider';
import type { AwsPortBuilder } from './aws-ports';
import { secretsManagerClientOnDemand } from './sdk-on-demand';
import { SecretsManagerSecretSource } from './secrets-manager-secret-source';

export const identityProvider: AwsPortBuilder<'identityProvider'> = (context) => {
  const oauth = context.config.oauth;
  if (!oauth)
    throw new Error('the config has no oauth section; there is no identity provider to sign in with');
  const name = oauth.identityProvider.clientSecretName;
  const secrets = new SecretsManagerSecretSource({
    client: context.client('secretsmanager', secretsManagerClientOnDemand),
    // The stack passes the full ARN, which the grant names exactly.
    secretIds: { [name]: context.required(FUNCTION_ENV.idpClientSecretArn) },
  });
  return createOidcIdentityProvider({
    config: oauth.identityProvider,
    secrets: context.expose('identityProvider', 'SecretsManagerSecretSource', secrets),
  });
};

export const fetchClientMetadata: AwsPortBuilder<'fetchClientMetadata'> = () => createClientMetadataFetcher();
