/**
 * The local pilot's certificate-less entry point for remote MCP connectors, as the second custom
 * domain is in AWS: a listener of the local API server that asks for no client certificate and serves
 * only the OAuth routes and `/v1/mcp` of the route contract, and a local OIDC provider (oidc-provider,
 * local-identity-provider.ts) standing in for the corporate IdP, with the config's principals as users.
 * The handler behind the routes is the OAuth function's composition (lambdas/composition/compose-oauth.ts).
 */
import type { CorporateIdentityProvider } from '../lambdas/core/oauth/authorization-server';
import { createOidcIdentityProvider } from '../lambdas/oauth/oidc-identity-provider';
import type { OAuthConfig } from '../lib/config/oauth-schema';
import type { AirlockConfig } from '../lib/config/schema';
import { APPROVALS_PAGE_PATHS, OAUTH_PATHS, OAUTH_ROUTES } from '../lib/contracts/routes';
import { type LocalApiHandler, startLocalApiServer } from './local-api-server';
import { type LocalIdentityProvider, startLocalIdentityProvider } from './local-identity-provider';

/**
 * The MCP client of Enterprise-Managed Authorization in the local pilot: registered at the local IdP
 * (which stamps this id into its ID-JAGs) and at Airlock under the same id, as IT registers a vendor's
 * client on both sides.
 */
export const LOCAL_MCP_CLIENT_ID = 'local-mcp-client';
/** Where the local IdP sends that client's users back after sign-in (a loopback URI, RFC 8252). */
export const LOCAL_MCP_CLIENT_REDIRECT = 'http://127.0.0.1:33419/callback';

export interface OAuthListenerOptions {
  /** The pilot's server TLS material (the local CA's server certificate). */
  readonly tls: { readonly ca: string; readonly cert: string; readonly key: string };
  /** 0 picks a free port. */
  readonly port: number;
  /** Port of the local IdP; 0 picks a free one. */
  readonly identityProviderPort: number;
  /** The corporate IdP. @default the local OIDC provider */
  readonly identityProvider?: CorporateIdentityProvider;
  readonly maxBodyBytes: number;
  readonly log: (line: string) => void;
  /**
   * Serve the entry point's routes by function (bound once the pilot is composed): the OAuth function's,
   * and the approvals page's.
   */
  readonly handlers: Readonly<Record<'oauth' | 'approvals', LocalApiHandler>>;
}

export interface OAuthListener {
  /** e.g. https://127.0.0.1:8444 (the authorization server's issuer). */
  readonly url: string;
  /** The `oauth` section as the pilot runs it: its public URL, and the local IdP as its issuer. */
  readonly oauth: OAuthConfig;
  /** The IdP the authorization server signs users in with. */
  readonly identityProvider: CorporateIdentityProvider;
  /** The local IdP, unless one was given. */
  readonly localIdentityProvider?: LocalIdentityProvider;
  close(): Promise<void>;
}

/** Starts the listener (and the local IdP). Resolves once both accept connections. */
export async function startOAuthListener(
  config: AirlockConfig,
  options: OAuthListenerOptions,
): Promise<OAuthListener> {
  const section = config.oauth;
  if (!section) throw new Error('startOAuthListener: the config has no oauth section');
  const server = await startLocalApiServer({
    tls: options.tls,
    port: options.port,
    clientCertificates: 'none',
    routes: OAUTH_ROUTES.map((route) => ({ ...route, handler: options.handlers[route.function] })),
    maxBodyBytes: options.maxBodyBytes,
    log: (line) => options.log(`oauth ${line}`),
  });
  let oauth: OAuthConfig = { ...section, publicUrl: server.url };
  let identityProvider = options.identityProvider;
  let localIdentityProvider: LocalIdentityProvider | undefined;
  if (!identityProvider) {
    // As the sample ERP stands in for the ERP, a local OIDC provider stands in for the corporate IdP.
    try {
      localIdentityProvider = await startLocalIdentityProvider({
        config,
        identityProvider: section.identityProvider,
        redirectUris: [
          `${server.url}${OAUTH_PATHS.idpCallback}`,
          `${server.url}${APPROVALS_PAGE_PATHS.callback}`,
        ],
        port: options.identityProviderPort,
        // Enterprise-Managed Authorization: an MCP client that gets ID-JAGs for this entry point.
        ...(section.enterpriseManagedAuthorization
          ? {
              mcpClient: {
                clientId: LOCAL_MCP_CLIENT_ID,
                redirectUris: [LOCAL_MCP_CLIENT_REDIRECT],
                audience: server.url,
                resource: `${server.url}${OAUTH_PATHS.mcp}`,
              },
            }
          : {}),
      });
    } catch (error) {
      await server.close();
      throw error;
    }
    const local = localIdentityProvider;
    oauth = {
      ...oauth,
      identityProvider: { ...oauth.identityProvider, issuer: local.issuer },
      // The ID-JAGs come from the same local IdP, signed with its published keys.
      ...(oauth.enterpriseManagedAuthorization
        ? {
            enterpriseManagedAuthorization: {
              ...oauth.enterpriseManagedAuthorization,
              issuer: local.issuer,
              jwksUri: `${local.issuer}/jwks`,
            },
          }
        : {}),
    };
    identityProvider = createOidcIdentityProvider({
      config: oauth.identityProvider,
      secrets: { getJson: async () => ({ clientSecret: local.clientSecret }) },
    });
    options.log(
      `Local identity provider (oidc-provider) on ${local.issuer}, standing in for ${section.identityProvider.issuer}; users: ${Object.keys(local.users).join(', ')}`,
    );
    if (local.mcpClient) {
      options.log(
        `Enterprise-Managed Authorization: the local IdP issues ID-JAGs for Airlock to the MCP client "${local.mcpClient.clientId}" (token exchange at ${local.issuer}/token)`,
      );
    }
  }
  options.log(
    `OAuth entry point for remote MCP connectors on ${server.url} (MCP resource ${server.url}${OAUTH_PATHS.mcp})`,
  );
  options.log(
    `Approvals page for approvers (sign in at the identity provider): ${server.url}${APPROVALS_PAGE_PATHS.list}`,
  );
  return {
    url: server.url,
    oauth,
    identityProvider,
    localIdentityProvider,
    close: async () => {
      await server.close();
      await localIdentityProvider?.close();
    },
  };
}
