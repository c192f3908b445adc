/**
 * The corporate IdP's redirect back to Airlock (`GET /oauth/callback`): the same browser that started
 * the sign-in must come back (its cookie), the IdP's ID token must verify, the user must map to an
 * enrolled principal (by IdP subject), and the kill switch and Cedar must allow them. Then either the
 * code goes back to the client (consent remembered) or the user is asked (consent page).
 */

import type { AuthorizationCodeIssuer, ClientRedirect } from './authorization-code-issuer';
import {
  type AuthorizationServerContext,
  type BrowserCookie,
  hashOf,
  type OAuthParameters,
  type RequestCookies,
  randomToken,
  signInCookieName,
} from './authorization-server-context';
import type { ClientDirectory } from './client-directory';
import { type ConsentPrompt, consentPromptOf } from './consent-prompt';
import { resolveCorporateIdentity, UnknownIdentityError } from './corporate-identity';
import { clientFingerprint } from './oauth-client';
import { OAuthError } from './oauth-error';
import type { OAuthIssuanceGate } from './oauth-issuance-gate';

const CONSENT_SECONDS = 10 * 60;

/** The user must answer the consent page before a code is issued. */
export interface ConsentRequired {
  readonly kind: 'consent';
  readonly prompt: ConsentPrompt;
}

export class SignInCallback {
  constructor(
    private readonly context: AuthorizationServerContext,
    private readonly directory: ClientDirectory,
    private readonly gate: OAuthIssuanceGate,
    private readonly codes: AuthorizationCodeIssuer,
  ) {}

  /** Throws {@link OAuthError} (shown to the user) when the sign-in it completes is unknown, expired or another browser's. */
  async complete(
    params: OAuthParameters,
    cookies: RequestCookies,
    requestId: string,
  ): Promise<ClientRedirect | ConsentRequired> {
    const context = this.context;
    const state = context.parameter(params, 'state');
    const pending = state ? await context.store.takePendingAuthorization(state) : undefined;
    if (!pending || pending.expiresAt < context.nowSeconds()) {
      throw new OAuthError(
        'invalid_request',
        'This sign-in is unknown or has expired; start again from your MCP client.',
      );
    }
    const cookieName = signInCookieName(pending.id);
    const binding = cookies[cookieName];
    if (binding === undefined || hashOf(binding) !== pending.browserBindingHash) {
      // Someone else's sign-in (or a link an attacker crafted) must not complete in this browser.
      throw new OAuthError(
        'invalid_request',
        'This sign-in was started in another browser; start again from your MCP client.',
      );
    }
    const clear: BrowserCookie[] = [{ name: cookieName, value: '', maxAgeSeconds: 0 }];
    const workflow = context.oauth.workflow;
    let principal = '(unknown)';
    let subject: string | undefined;
    try {
      if (params.error !== undefined || !params.code) {
        throw new OAuthError('access_denied', 'The sign-in at your identity provider did not complete.');
      }
      let claims: Record<string, unknown>;
      try {
        claims = await context.deps.identityProvider.signIn({
          code: params.code,
          codeVerifier: pending.idpCodeVerifier,
          nonce: pending.idpNonce,
          redirectUri: context.endpoints.idpCallback,
        });
      } catch (cause) {
        throw new OAuthError('access_denied', 'The identity provider did not confirm the sign-in.', {
          cause,
        });
      }
      const identity = resolveCorporateIdentity(context.deps.config, context.oauth, claims);
      principal = identity.principal;
      subject = identity.subject;
      await this.gate.assertMayIssue(principal, pending.scope, requestId);
      const client = await this.directory.find(pending.clientId);
      if (!client) throw new OAuthError('access_denied', 'The application is no longer registered.');
      const grant = { ...pending, principal, workflow };
      if (await this.codes.consentRemembered(principal, client, pending.scope, pending.prompt)) {
        await this.directory.keepInUse(client, this.keepClientUntil());
        return await this.codes.issueCode(grant, clear);
      }
      const csrfToken = randomToken();
      const ticket = {
        id: randomToken(),
        csrfTokenHash: hashOf(csrfToken),
        pendingId: pending.id,
        browserBindingHash: pending.browserBindingHash,
        clientId: client.clientId,
        clientFingerprint: clientFingerprint(client),
        redirectUri: pending.redirectUri,
        codeChallenge: pending.codeChallenge,
        resource: pending.resource,
        scope: pending.scope,
        ...(pending.clientState === undefined ? {} : { clientState: pending.clientState }),
        principal,
        workflow,
        expiresAt: context.nowSeconds() + CONSENT_SECONDS,
      };
      await context.store.putConsentTicket(ticket);
      const remembered = await context.store.getConsent(principal, client.clientId);
      return {
        kind: 'consent',
        prompt: consentPromptOf(context, {
          ticketId: ticket.id,
          csrfToken,
          client,
          redirectUri: pending.redirectUri,
          principal,
          scope: pending.scope,
          changed: remembered !== undefined && remembered.clientFingerprint !== ticket.clientFingerprint,
        }),
      };
    } catch (error) {
      const refusal =
        error instanceof OAuthError
          ? error
          : new OAuthError(
              'temporarily_unavailable',
              'The sign-in could not be completed; try again shortly.',
            );
      await context.gate.refused({ principal, workflow, requestId, channel: 'oauth' }, [refusal.code], {
        clientId: pending.clientId,
        // IT enrols a user by this id; it goes to the record, never back to the client.
        ...(error instanceof UnknownIdentityError && error.subject !== undefined
          ? { idpSubject: error.subject.slice(0, 255) }
          : subject !== undefined
            ? { idpSubject: subject.slice(0, 255) }
            : {}),
        description: refusal.description.slice(0, 300),
      });
      return this.codes.redirect(
        pending,
        { error: refusal.code, error_description: refusal.description },
        clear,
      );
    }
  }

  /** A client that just completed a sign-in is kept at least as long as that sign-in can last. */
  keepClientUntil(): number {
    const { oauth } = this.context;
    return this.context.nowSeconds() + Math.max(oauth.refreshTokenHours, oauth.unusedClientHours) * 3600;
  }
}
