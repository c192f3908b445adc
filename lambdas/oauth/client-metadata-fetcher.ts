/**
 * Fetches Client ID Metadata Documents. The URL comes from an unauthenticated client, so the fetch
 * is as narrow as it can be: https only, no redirects, a short timeout, a small size limit, JSON only.
 * Deploy the function outside any VPC that reaches internal systems (see docs/oauth.md).
 */
import type { ClientMetadataFetcher } from '../core/oauth/authorization-server';

export interface ClientMetadataFetcherOptions {
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** @default 5_000 */
  readonly timeoutMs?: number;
  /** @default 5_120 */
  readonly maxBytes?: number;
}

/** Creates the fetcher the authorization server uses for URL client ids. */
export function createClientMetadataFetcher(
  options: ClientMetadataFetcherOptions = {},
): ClientMetadataFetcher {
  const doFetch = options.fetch ?? globalThis.fetch;
  const maxBytes = options.maxBytes ?? 5_120;
  return async (clientIdUrl) => {
    const url = new URL(clientIdUrl);
    if (url.protocol !== 'https:') throw new Error('A client metadata document must be served over https');
    const response = await doFetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
    });
    if (response.status !== 200)
      throw new Error(`The client metadata document answered HTTP ${response.status}`);
    const text = await response.text();
    if (Buffer.byteLength(text, 'utf8') > maxBytes)
      throw new Error('The client metadata document is too large');
    return JSON.parse(text) as unknown;
  };
}
