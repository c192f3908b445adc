/**
 * Finds the client a `client_id` names: one registered at `/oauth/register`, or (when enabled) the
 * client a Client ID Metadata Document URL describes, fetched once and kept for an hour.
 */
import type { AuthorizationServerContext } from './authorization-server-context';
import {
  clientFromMetadataDocument,
  isClientMetadataDocumentUrl,
  type RedirectUriPolicy,
  type RegisteredClient,
} from './oauth-client';
import { OAuthError } from './oauth-error';

/** How long a fetched metadata document is trusted before it is fetched (and shown for consent) again. */
const CLIENT_METADATA_CACHE_SECONDS = 60 * 60;
const MAX_CLIENT_ID_LENGTH = 2048;

export class ClientDirectory {
  constructor(private readonly context: AuthorizationServerContext) {}

  /** The redirect URIs the organisation allows (config `oauth.allowedRedirectUris`). */
  redirectPolicy(): RedirectUriPolicy {
    return { allowed: this.context.oauth.allowedRedirectUris };
  }

  /**
   * The client, or `undefined` when nobody registered it and it is no metadata-document URL.
   * Throws `invalid_client` when its metadata document cannot be fetched or is not acceptable.
   */
  async find(clientId: string): Promise<RegisteredClient | undefined> {
    if (clientId.length > MAX_CLIENT_ID_LENGTH) return undefined;
    const { store, oauth } = this.context;
    const stored = await store.getClient(clientId);
    if (stored) return stored;
    if (!oauth.clientIdMetadataDocuments || !isClientMetadataDocumentUrl(clientId)) return undefined;
    let document: unknown;
    try {
      document = await this.context.deps.fetchClientMetadata(clientId);
    } catch (cause) {
      // One sentence whatever failed: the caller learns nothing about the URL it named.
      throw new OAuthError('invalid_client', 'The client metadata document could not be fetched.', {
        cause,
      });
    }
    const client = clientFromMetadataDocument(clientId, document, this.redirectPolicy(), this.context.now());
    await store.putClient(client, this.context.nowSeconds() + CLIENT_METADATA_CACHE_SECONDS);
    return client;
  }

  /** A registered client stays as long as it is used: until the later of its sign-in's end and the idle limit. */
  async keepInUse(client: RegisteredClient, until: number): Promise<void> {
    if (client.source !== 'registration') return;
    await this.context.store.touchClient(client.clientId, until);
  }
}
