/**
 * The OAuth function: the certificate-less entry point for remote MCP connectors (docs/oauth.md).
 * Its authorization server signs users in at the corporate IdP and issues OAuth-profile tokens; its
 * `POST /v1/mcp` serves the same connector pipeline as the connector function, to callers proven by
 * those tokens.
 */
import { createMcpHandlerOnDemand } from '../connector/mcp-endpoint-on-demand';
import { OAuthAuthorizationServer } from '../core/oauth/authorization-server';
import { remoteKeySet } from '../core/tokens/jwt-signature';
import { createOAuthHandler, type OAuthHandler, oauthAuthenticator } from '../oauth/oauth-handler';
import { composeConnectorPipeline } from './compose-connector';
import { sharedPolicyEngine } from './shared-policy-engine';
import type { SharedServices } from './shared-services';

export interface OAuthComposition {
  readonly server: OAuthAuthorizationServer;
  readonly handler: OAuthHandler;
}

export function composeOAuth(services: SharedServices): OAuthComposition {
  const { config, ports, settings } = services;
  const oauth = config.oauth;
  if (!oauth) {
    // The stack deploys this function only with the oauth section; without it there is nothing to serve.
    throw new Error('the config has no oauth section; the OAuth entry point is served only with one');
  }
  // OAuth tokens name the configured workflow only: its connectors are all this entry point holds.
  const pipeline = composeConnectorPipeline(services, [oauth.workflow]);
  const server = new OAuthAuthorizationServer({
    config,
    oauth,
    store: ports.oauthStore,
    identityProvider: ports.identityProvider,
    fetchClientMetadata: ports.fetchClientMetadata,
    signer: services.bounded('signer', () => ports.tokenSigner),
    policy: sharedPolicyEngine(services),
    guard: services.revocationGuard,
    ledger: services.ledger,
    clock: services.clock,
    clockSkewSeconds: config.tokens.clockSkewSeconds,
    meter: services.meter,
    // Enterprise-Managed Authorization: the IdP's published keys, fetched and cached by jose.
    ...(oauth.enterpriseManagedAuthorization
      ? {
          enterpriseAssertionKeys: remoteKeySet(new URL(oauth.enterpriseManagedAuthorization.jwksUri), {
            timeoutMs: 5_000,
          }),
        }
      : {}),
  });
  const handler = createOAuthHandler({
    server,
    mcp: createMcpHandlerOnDemand({
      authenticator: oauthAuthenticator(server),
      proxy: pipeline.proxy,
      config,
      maxBodyBytes: config.api.maxBodyBytes,
      allowedHosts: settings.publicHosts ?? [new URL(oauth.publicUrl).hostname],
      logUnexpected: settings.log.unexpected,
    }),
    maxBodyBytes: config.api.maxBodyBytes,
    logUnexpected: settings.log.unexpected,
  });
  return { server, handler };
}
