/**
 * The corporate IdP through OpenID Connect: Airlock is a confidential relying party using the
 * authorization code flow with PKCE and a nonce, and trusts only an ID token whose signature
 * (from the IdP's JWKS), issuer, audience, expiry and nonce all verify.
 */

import type { IdentityProviderConfig } from '../../lib/config/oauth-schema';
import type { CorporateIdentityProvider } from '../core/oauth/authorization-server';
import type { SecretSource } from '../core/ports';
import { type JwtKeys, remoteKeySet, verifySignedJwt } from '../core/tokens/jwt-signature';

export interface OidcIdentityProviderOptions {
  readonly config: IdentityProviderConfig;
  /** Where `config.clientSecretName` is read (Secrets Manager in AWS, a file locally). */
  readonly secrets: SecretSource;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** @default 10_000 */
  readonly timeoutMs?: number;
}

interface Discovery {
  readonly issuer: string;
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
  readonly jwks_uri: string;
}

const ID_TOKEN_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];

/** Creates the OIDC relying party. Discovery is read on first use and kept. */
export function createOidcIdentityProvider(options: OidcIdentityProviderOptions): CorporateIdentityProvider {
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const issuer = options.config.issuer.replace(/\/$/, '');
  let discovery: Promise<{ metadata: Discovery; keys: JwtKeys }> | undefined;

  const discover = () => {
    discovery ??= (async () => {
      const response = await doFetch(`${issuer}/.well-known/openid-configuration`, {
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
      if (!response.ok) throw new Error(`OIDC discovery answered HTTP ${response.status}`);
      const metadata = (await response.json()) as Discovery;
      // OIDC Discovery §4.3: the document must name the issuer we asked, or it is someone else's.
      if (metadata.issuer?.replace(/\/$/, '') !== issuer)
        throw new Error('OIDC discovery names another issuer');
      for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
        if (typeof metadata[field] !== 'string') throw new Error(`OIDC discovery lacks ${field}`);
      }
      return { metadata, keys: remoteKeySet(new URL(metadata.jwks_uri), { timeoutMs }) };
    })();
    discovery.catch(() => {
      discovery = undefined;
    });
    return discovery;
  };

  return {
    async authorizationUrl({ state, nonce, codeChallenge, redirectUri }) {
      const { metadata } = await discover();
      const url = new URL(metadata.authorization_endpoint);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: options.config.clientId,
        redirect_uri: redirectUri,
        scope: options.config.scopes.join(' '),
        state,
        nonce,
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
      }).toString();
      return url.toString();
    },

    async signIn({ code, codeVerifier, nonce, redirectUri }) {
      const { metadata, keys } = await discover();
      const { clientSecret } = await options.secrets.getJson(options.config.clientSecretName);
      if (!clientSecret) throw new Error(`The secret ${options.config.clientSecretName} has no clientSecret`);
      const basic = Buffer.from(
        `${encodeURIComponent(options.config.clientId)}:${encodeURIComponent(clientSecret)}`,
      ).toString('base64');
      const response = await doFetch(metadata.token_endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: redirectUri,
          code_verifier: codeVerifier,
        }).toString(),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
      if (!response.ok) throw new Error(`The IdP token endpoint answered HTTP ${response.status}`);
      const body = (await response.json()) as { id_token?: unknown };
      if (typeof body.id_token !== 'string') throw new Error('The IdP returned no ID token');
      // The one module that verifies JWS signatures; its failure names why (for the operator's log).
      const payload = await verifySignedJwt(body.id_token, keys, {
        issuer: metadata.issuer,
        audience: options.config.clientId,
        algorithms: ID_TOKEN_ALGORITHMS,
        requiredClaims: ['sub', 'exp', 'iat', 'nonce'],
        clockToleranceSeconds: 0,
        now: new Date(),
      });
      if (payload.nonce !== nonce) throw new Error('The ID token nonce does not match this sign-in');
      return payload as Record<string, unknown>;
    },
  };
}
