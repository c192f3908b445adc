/**
 * Discovery documents of the certificate-less entry point: OAuth 2.0 Protected Resource Metadata
 * (RFC 9728) for the MCP resource and Authorization Server Metadata (RFC 8414) for the broker, as the
 * MCP authorization spec asks.
 */
import { OAUTH_PATHS } from '../../../lib/contracts/routes';
import { ID_JAG_GRANT_PROFILE, JWT_BEARER_GRANT_TYPE } from './identity-assertion-grant';

/** Every URL of the entry point, derived from its public origin. */
export interface OAuthEndpoints {
  /** The authorization server's issuer: the public origin, without a trailing slash. */
  readonly issuer: string;
  /** The MCP resource (RFC 8707 resource indicator; the `aud` of its access tokens). */
  readonly resource: string;
  readonly resourceMetadata: string;
  readonly authorizationServerMetadata: string;
  readonly authorization: string;
  readonly token: string;
  readonly registration: string;
  readonly revocation: string;
  /** Where the corporate IdP sends the user back. */
  readonly idpCallback: string;
  /** Where the consent form is answered. */
  readonly consent: string;
  /** The public keys that verify the access tokens (RFC 8414 `jwks_uri`). */
  readonly jwks: string;
}

/** The endpoints of an entry point published at `publicUrl` (an origin such as `https://mcp.example.com`). */
export function oauthEndpoints(publicUrl: string): OAuthEndpoints {
  const origin = new URL(publicUrl).origin;
  return {
    issuer: origin,
    resource: `${origin}${OAUTH_PATHS.mcp}`,
    resourceMetadata: `${origin}${OAUTH_PATHS.resourceMetadata}`,
    authorizationServerMetadata: `${origin}${OAUTH_PATHS.authorizationServerMetadata}`,
    authorization: `${origin}${OAUTH_PATHS.authorization}`,
    token: `${origin}${OAUTH_PATHS.token}`,
    registration: `${origin}${OAUTH_PATHS.registration}`,
    revocation: `${origin}${OAUTH_PATHS.revocation}`,
    idpCallback: `${origin}${OAUTH_PATHS.idpCallback}`,
    consent: `${origin}${OAUTH_PATHS.consent}`,
    jwks: `${origin}${OAUTH_PATHS.jwks}`,
  };
}

/**
 * RFC 9728 §2: what a client fetches after a 401 to learn who protects the MCP resource. `resource` is
 * the resource the document is served for (§3.3): the MCP resource at its path-suffixed well-known URL,
 * the origin at the root one (which the authorization server accepts as naming the same resource).
 */
export function protectedResourceMetadata(
  endpoints: OAuthEndpoints,
  scopes: readonly string[],
  servedFor: 'mcp' | 'root' = 'mcp',
): Record<string, unknown> {
  return {
    resource: servedFor === 'mcp' ? endpoints.resource : endpoints.issuer,
    authorization_servers: [endpoints.issuer],
    scopes_supported: [...scopes],
    bearer_methods_supported: ['header'],
    resource_name: 'Airlock',
  };
}

/** RFC 8414 §2, with the MCP spec's PKCE and Client ID Metadata Document flags. */
export function authorizationServerMetadata(
  endpoints: OAuthEndpoints,
  options: {
    scopes: readonly string[];
    dynamicRegistration: boolean;
    clientIdMetadataDocuments: boolean;
    /** The JWT bearer grant with ID-JAGs (Enterprise-Managed Authorization). @default false */
    enterpriseManagedAuthorization?: boolean;
  },
): Record<string, unknown> {
  const ema = options.enterpriseManagedAuthorization === true;
  return {
    issuer: endpoints.issuer,
    authorization_endpoint: endpoints.authorization,
    token_endpoint: endpoints.token,
    ...(options.dynamicRegistration ? { registration_endpoint: endpoints.registration } : {}),
    revocation_endpoint: endpoints.revocation,
    jwks_uri: endpoints.jwks,
    scopes_supported: [...options.scopes],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', ...(ema ? [JWT_BEARER_GRANT_TYPE] : [])],
    // draft-ietf-oauth-identity-assertion-authz-grant §7.2, as the MCP extension's discovery (§6) reads it.
    ...(ema ? { authorization_grant_profiles_supported: [ID_JAG_GRANT_PROFILE] } : {}),
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
    prompt_values_supported: ['consent', 'login'],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: options.clientIdMetadataDocuments,
  };
}

/**
 * The `WWW-Authenticate` value of a 401 from the MCP resource (RFC 6750 §3, RFC 9728 §5.1): it points
 * the client at the resource metadata, which is how an MCP client starts the whole flow.
 */
export function bearerChallenge(
  endpoints: OAuthEndpoints,
  error?: 'invalid_token',
  description?: string,
): string {
  // RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E, so no quote or backslash.
  const text = description?.replace(/[^\x20-\x7e]|["\\]/g, '').slice(0, 200);
  const parts = [
    ...(error ? [`error="${error}"`] : []),
    ...(error && text ? [`error_description="${text}"`] : []),
    `resource_metadata="${endpoints.resourceMetadata}"`,
  ];
  return `Bearer ${parts.join(', ')}`;
}
