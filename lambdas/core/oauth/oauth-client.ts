/**
 * OAuth clients of the certificate-less entry point: clients registered dynamically (RFC 7591) and
 * clients identified by a Client ID Metadata Document (an https URL as `client_id`, which Airlock
 * fetches). Either way a client may only use redirect URIs the organisation allows.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { OAuthError } from './oauth-error';

export type TokenEndpointAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post';

const AUTH_METHODS: readonly TokenEndpointAuthMethod[] = [
  'none',
  'client_secret_basic',
  'client_secret_post',
];
/** A client may declare the JWT bearer grant (Enterprise-Managed Authorization); the server decides whether it is offered. */
const GRANT_TYPES = ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:jwt-bearer'];
const MAX_REDIRECT_URIS = 10;
const MAX_URI_LENGTH = 2000;

/** A client as the store keeps it. The secret is kept only as its SHA-256. */
export interface RegisteredClient {
  readonly clientId: string;
  readonly source: 'registration' | 'metadata_document';
  readonly clientName?: string;
  /** The client's home page as it declares it (shown on the consent page as text, never followed). */
  readonly clientUri?: string;
  readonly redirectUris: readonly string[];
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /** base64url SHA-256 of the client secret (confidential clients only). */
  readonly clientSecretHash?: string;
  readonly createdAt: string;
}

/** Which redirect URIs the organisation allows (config `oauth.allowedRedirectUris`). */
export interface RedirectUriPolicy {
  /** Exact URIs, or prefixes ending in `*`. */
  readonly allowed: readonly string[];
}

/** A registration's outcome: the stored client and the RFC 7591 §3.2.1 response body. */
export interface ClientRegistration {
  readonly client: RegisteredClient;
  readonly response: Record<string, unknown>;
}

function isLoopbackRedirect(url: URL): boolean {
  // RFC 8252 §7.3: native apps listen on a loopback port chosen at run time, over plain http.
  return url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
}

function parseRedirectUri(uri: unknown): URL {
  if (typeof uri !== 'string' || uri.length === 0 || uri.length > MAX_URI_LENGTH) {
    throw new OAuthError(
      'invalid_redirect_uri',
      'Each redirect URI must be a URL of at most 2000 characters.',
    );
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new OAuthError('invalid_redirect_uri', `The redirect URI "${uri.slice(0, 200)}" is not a URL.`);
  }
  if (url.hash !== '') {
    throw new OAuthError(
      'invalid_redirect_uri',
      'A redirect URI must not contain a fragment (RFC 6749 §3.1.2).',
    );
  }
  if (url.protocol !== 'https:' && !isLoopbackRedirect(url)) {
    throw new OAuthError(
      'invalid_redirect_uri',
      `The redirect URI "${uri.slice(0, 200)}" must use https (http only on 127.0.0.1 or localhost).`,
    );
  }
  return url;
}

/** True when the organisation allows `uri` as a redirect URI. */
export function redirectUriAllowed(uri: string, policy: RedirectUriPolicy): boolean {
  let url: URL;
  try {
    url = parseRedirectUri(uri);
  } catch {
    return false;
  }
  if (isLoopbackRedirect(url)) return true;
  return policy.allowed.some((entry) =>
    entry.endsWith('*') ? uri.startsWith(entry.slice(0, -1)) && entry.length > 9 : uri === entry,
  );
}

/**
 * True when `requested` is one of the client's redirect URIs: exact string match (OAuth 2.1 §4.1.1),
 * except that a loopback URI may differ in its port (RFC 8252 §7.3).
 */
export function redirectUriRegistered(
  client: Pick<RegisteredClient, 'redirectUris'>,
  requested: string,
): boolean {
  if (client.redirectUris.includes(requested)) return true;
  let url: URL;
  try {
    url = new URL(requested);
  } catch {
    return false;
  }
  if (!isLoopbackRedirect(url) || url.hash !== '') return false;
  return client.redirectUris.some((registered) => {
    const candidate = new URL(registered);
    return (
      isLoopbackRedirect(candidate) &&
      candidate.hostname === url.hostname &&
      candidate.pathname === url.pathname &&
      candidate.search === url.search
    );
  });
}

function redirectUrisOf(value: unknown, policy: RedirectUriPolicy, code: 'invalid_redirect_uri'): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_REDIRECT_URIS) {
    throw new OAuthError(code, `redirect_uris must list 1 to ${MAX_REDIRECT_URIS} redirect URIs.`);
  }
  for (const uri of value) {
    parseRedirectUri(uri);
    if (!redirectUriAllowed(uri as string, policy)) {
      throw new OAuthError(
        code,
        `The redirect URI "${String(uri).slice(0, 200)}" is not allowed by this organisation; ask your Airlock administrator to add it to oauth.allowedRedirectUris.`,
      );
    }
  }
  return [...new Set(value as string[])];
}

function clientNameOf(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) {
    throw new OAuthError(
      'invalid_client_metadata',
      'client_name must be a string of at most 200 characters.',
    );
  }
  return value;
}

function clientUriOf(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.length <= MAX_URI_LENGTH) {
    try {
      if (new URL(value).protocol === 'https:') return value;
    } catch {
      // falls through to the refusal
    }
  }
  throw new OAuthError(
    'invalid_client_metadata',
    'client_uri must be an https URL of at most 2000 characters.',
  );
}

/**
 * What the user consented to when they allowed a client: its identity as shown on the consent page.
 * A client whose name, home page, redirect URIs or authentication changed is a changed client, and the
 * user is asked again.
 */
export function clientFingerprint(client: RegisteredClient): string {
  const shown = {
    clientId: client.clientId,
    source: client.source,
    clientName: client.clientName ?? null,
    clientUri: client.clientUri ?? null,
    redirectUris: [...client.redirectUris].sort(),
    tokenEndpointAuthMethod: client.tokenEndpointAuthMethod,
  };
  return createHash('sha256').update(JSON.stringify(shown), 'utf8').digest('base64url');
}

function assertGrantAndResponseTypes(metadata: Record<string, unknown>): void {
  const grants = metadata.grant_types ?? ['authorization_code'];
  if (!Array.isArray(grants) || grants.some((g) => !GRANT_TYPES.includes(g as string))) {
    throw new OAuthError(
      'invalid_client_metadata',
      'grant_types may only contain authorization_code, refresh_token and urn:ietf:params:oauth:grant-type:jwt-bearer.',
    );
  }
  const responses = metadata.response_types ?? ['code'];
  if (!Array.isArray(responses) || responses.some((r) => r !== 'code')) {
    throw new OAuthError('invalid_client_metadata', 'response_types may only contain code.');
  }
}

/** base64url SHA-256 of a client secret. */
export function clientSecretHashOf(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** Compares a presented client secret with the stored hash in constant time. */
export function clientSecretMatches(client: RegisteredClient, secret: string | undefined): boolean {
  if (!client.clientSecretHash || secret === undefined) return false;
  const expected = Buffer.from(client.clientSecretHash, 'ascii');
  const actual = Buffer.from(clientSecretHashOf(secret), 'ascii');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * Validates an RFC 7591 registration request and creates the client. Public clients (`none`, the
 * MCP default) get no secret; confidential ones get a random secret returned once and stored hashed.
 * Throws `invalid_redirect_uri` / `invalid_client_metadata`.
 */
export function registerClient(metadata: unknown, policy: RedirectUriPolicy, now: Date): ClientRegistration {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new OAuthError('invalid_client_metadata', 'The registration request must be a JSON object.');
  }
  const body = metadata as Record<string, unknown>;
  const redirectUris = redirectUrisOf(body.redirect_uris, policy, 'invalid_redirect_uri');
  assertGrantAndResponseTypes(body);
  const method = (body.token_endpoint_auth_method ?? 'client_secret_basic') as TokenEndpointAuthMethod;
  if (!AUTH_METHODS.includes(method)) {
    throw new OAuthError(
      'invalid_client_metadata',
      `token_endpoint_auth_method must be one of ${AUTH_METHODS.join(', ')}.`,
    );
  }
  const clientName = clientNameOf(body.client_name);
  const clientUri = clientUriOf(body.client_uri);
  const clientId = `mcp_${randomBytes(16).toString('base64url')}`;
  const secret = method === 'none' ? undefined : randomBytes(32).toString('base64url');
  const issuedAt = Math.floor(now.getTime() / 1000);
  const client: RegisteredClient = {
    clientId,
    source: 'registration',
    redirectUris,
    tokenEndpointAuthMethod: method,
    createdAt: now.toISOString(),
    ...(clientName === undefined ? {} : { clientName }),
    ...(clientUri === undefined ? {} : { clientUri }),
    ...(secret === undefined ? {} : { clientSecretHash: clientSecretHashOf(secret) }),
  };
  return {
    client,
    response: {
      client_id: clientId,
      client_id_issued_at: issuedAt,
      ...(secret === undefined ? {} : { client_secret: secret, client_secret_expires_at: 0 }),
      redirect_uris: redirectUris,
      token_endpoint_auth_method: method,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      ...(clientName === undefined ? {} : { client_name: clientName }),
      ...(clientUri === undefined ? {} : { client_uri: clientUri }),
    },
  };
}

/** True when a `client_id` is a Client ID Metadata Document URL: https with a path. */
export function isClientMetadataDocumentUrl(clientId: string): boolean {
  try {
    const url = new URL(clientId);
    return url.protocol === 'https:' && url.pathname !== '/' && url.hash === '' && url.username === '';
  } catch {
    return false;
  }
}

/**
 * Validates a fetched Client ID Metadata Document: it must name itself (`client_id` equal to the URL
 * it was fetched from), be a public client (no shared secret can live in a public document), and
 * list allowed redirect URIs. Throws `invalid_client`.
 */
export function clientFromMetadataDocument(
  clientIdUrl: string,
  document: unknown,
  policy: RedirectUriPolicy,
  now: Date,
): RegisteredClient {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new OAuthError('invalid_client', 'The client metadata document is not a JSON object.');
  }
  const body = document as Record<string, unknown>;
  if (body.client_id !== clientIdUrl) {
    throw new OAuthError(
      'invalid_client',
      'The client metadata document does not name its own URL as client_id.',
    );
  }
  const method = body.token_endpoint_auth_method ?? 'none';
  if (method !== 'none' || body.client_secret !== undefined) {
    throw new OAuthError(
      'invalid_client',
      'A client metadata document describes a public client: token_endpoint_auth_method must be none, with no secret.',
    );
  }
  let redirectUris: string[];
  let clientName: string | undefined;
  let clientUri: string | undefined;
  try {
    redirectUris = redirectUrisOf(body.redirect_uris, policy, 'invalid_redirect_uri');
    assertGrantAndResponseTypes(body);
    clientName = clientNameOf(body.client_name);
    clientUri = clientUriOf(body.client_uri);
  } catch (error) {
    throw error instanceof OAuthError
      ? new OAuthError(
          'invalid_client',
          `The client metadata document is not acceptable: ${error.description}`,
        )
      : error;
  }
  return {
    clientId: clientIdUrl,
    source: 'metadata_document',
    redirectUris,
    tokenEndpointAuthMethod: 'none',
    createdAt: now.toISOString(),
    ...(clientName === undefined ? {} : { clientName }),
    ...(clientUri === undefined ? {} : { clientUri }),
  };
}
