/**
 * The authorization endpoint (`GET /oauth/authorize`). A request from a client Airlock cannot trust
 * (unknown `client_id`, unregistered `redirect_uri`) is answered to the user, never redirected (RFC 6749
 * §4.1.2.1); any other error goes back to the client. A valid request is parked, bound to the browser by
 * a cookie, and the user is sent to the corporate IdP.
 */
import {
  type AuthorizationServerContext,
  type BrowserCookie,
  hashOf,
  type OAuthParameters,
  randomToken,
  signInCookieName,
  withQuery,
} from './authorization-server-context';
import type { ClientDirectory } from './client-directory';
import { redirectUriRegistered } from './oauth-client';
import { OAuthError } from './oauth-error';
import { assertS256Challenge, s256ChallengeOf } from './pkce';

const PENDING_SIGN_IN_SECONDS = 10 * 60;
const MAX_STATE_LENGTH = 512;
/** `prompt` values (OIDC Core §3.1.2.1) Airlock acts on; others are ignored, as OIDC allows. */
const HONOURED_PROMPTS = new Set(['consent', 'login']);

/** Where the browser goes next, and the cookies it must keep. */
export interface BrowserRedirect {
  readonly location: string;
  readonly cookies: readonly BrowserCookie[];
}

export class AuthorizationEndpoint {
  constructor(
    private readonly context: AuthorizationServerContext,
    private readonly directory: ClientDirectory,
  ) {}

  /** Throws {@link OAuthError} when the error must be shown to the user rather than redirected. */
  async authorize(params: OAuthParameters): Promise<BrowserRedirect> {
    const context = this.context;
    const clientId = context.parameter(params, 'client_id');
    if (!clientId) throw new OAuthError('invalid_request', 'client_id is required.');
    const client = await this.directory.find(clientId);
    if (!client) {
      throw new OAuthError('invalid_client', 'This application is not registered with Airlock.');
    }
    const redirectUri = context.parameter(params, 'redirect_uri');
    if (!redirectUri) throw new OAuthError('invalid_request', 'redirect_uri is required.');
    if (!redirectUriRegistered(client, redirectUri)) {
      throw new OAuthError('invalid_request', 'redirect_uri is not registered for this application.');
    }
    const clientState = context.parameter(params, 'state');
    if (clientState !== undefined && clientState.length > MAX_STATE_LENGTH) {
      throw new OAuthError('invalid_request', `state must be at most ${MAX_STATE_LENGTH} characters.`);
    }
    const back = (error: OAuthError): BrowserRedirect => ({
      location: withQuery(redirectUri, {
        error: error.code,
        error_description: error.description,
        state: clientState,
        iss: context.endpoints.issuer,
      }),
      cookies: [],
    });
    try {
      if (params.response_type !== 'code') {
        throw new OAuthError('unsupported_response_type', 'response_type must be code.');
      }
      const codeChallenge = assertS256Challenge(params.code_challenge, params.code_challenge_method);
      const resource = context.resourceOf(params.resource);
      const scope = context.scopeOf(params.scope, context.scopes);
      const prompt = (params.prompt ?? '').split(' ').filter((p) => p !== '');
      if (prompt.includes('none')) {
        // Signing in always passes the IdP, and consent may be due: neither can be done silently.
        throw new OAuthError('access_denied', 'prompt=none is not supported: the user must sign in.');
      }
      const binding = randomToken();
      const idpCodeVerifier = randomToken();
      const nonce = randomToken();
      const pending = {
        id: randomToken(),
        clientId: client.clientId,
        redirectUri,
        codeChallenge,
        resource,
        scope,
        ...(clientState === undefined ? {} : { clientState }),
        prompt: prompt.filter((p) => HONOURED_PROMPTS.has(p)),
        browserBindingHash: hashOf(binding),
        idpNonce: nonce,
        idpCodeVerifier,
        expiresAt: context.nowSeconds() + PENDING_SIGN_IN_SECONDS,
      };
      await context.store.putPendingAuthorization(pending);
      const location = await context.deps.identityProvider.authorizationUrl({
        state: pending.id,
        nonce,
        codeChallenge: s256ChallengeOf(idpCodeVerifier),
        redirectUri: context.endpoints.idpCallback,
        ...(pending.prompt.includes('login') ? { prompt: 'login' as const } : {}),
      });
      return {
        location,
        cookies: [
          { name: signInCookieName(pending.id), value: binding, maxAgeSeconds: PENDING_SIGN_IN_SECONDS },
        ],
      };
    } catch (error) {
      if (error instanceof OAuthError) return back(error);
      return back(
        new OAuthError('temporarily_unavailable', 'The sign-in could not be started; try again shortly.'),
      );
    }
  }
}
