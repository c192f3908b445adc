/**
 * The consent form's answer (`POST /oauth/consent`). It counts only when it comes from the browser that
 * signed in (the sign-in cookie), carries the form's CSRF token, comes from Airlock's own origin when
 * the browser says where it comes from, and arrives within ten minutes; each form is answered once.
 * "Allow" re-checks the kill switch and the policy, remembers the consent and issues the code; "Deny"
 * sends `access_denied` back to the client.
 */

import type { AuthorizationCodeIssuer, ClientRedirect } from './authorization-code-issuer';
import {
  type AuthorizationServerContext,
  hashOf,
  type OAuthParameters,
  type RequestCookies,
  signInCookieName,
} from './authorization-server-context';
import type { ClientDirectory } from './client-directory';
import { clientFingerprint } from './oauth-client';
import { OAuthError } from './oauth-error';
import type { OAuthIssuanceGate } from './oauth-issuance-gate';

/** What the browser said about the form submission. */
export interface ConsentSubmission {
  readonly form: OAuthParameters;
  readonly cookies: RequestCookies;
  /** The `Origin` header, when the browser sent one. */
  readonly origin?: string;
}

export class ConsentEndpoint {
  constructor(
    private readonly context: AuthorizationServerContext,
    private readonly directory: ClientDirectory,
    private readonly gate: OAuthIssuanceGate,
    private readonly codes: AuthorizationCodeIssuer,
  ) {}

  /** Throws {@link OAuthError} (shown to the user) when the answer cannot be trusted. */
  async answer(submission: ConsentSubmission, requestId: string): Promise<ClientRedirect> {
    const context = this.context;
    const { form, cookies, origin } = submission;
    const forged = () =>
      new OAuthError(
        'invalid_request',
        'This consent form is not valid here (expired, already answered, or sent from another page); start again from your MCP client.',
      );
    if (origin !== undefined && origin !== context.endpoints.issuer) throw forged();
    const ticketId = context.parameter(form, 'ticket');
    const csrf = context.parameter(form, 'csrf_token');
    const decision = form.decision;
    if (!ticketId || !csrf || (decision !== 'allow' && decision !== 'deny')) throw forged();
    const ticket = await context.store.takeConsentTicket(ticketId);
    if (!ticket || ticket.expiresAt < context.nowSeconds() || hashOf(csrf) !== ticket.csrfTokenHash) {
      throw forged();
    }
    const cookieName = signInCookieName(ticket.pendingId);
    const binding = cookies[cookieName];
    if (binding === undefined || hashOf(binding) !== ticket.browserBindingHash) throw forged();
    const clear = [{ name: cookieName, value: '', maxAgeSeconds: 0 }];
    const deny = async (reason: string, description: string): Promise<ClientRedirect> => {
      await context.gate.refused(
        { principal: ticket.principal, workflow: ticket.workflow, requestId, channel: 'oauth' },
        [reason],
        { clientId: ticket.clientId, consent: 'denied' },
      );
      return this.codes.redirect(ticket, { error: 'access_denied', error_description: description }, clear);
    };
    if (decision === 'deny') return deny('consent_denied', 'The user did not allow this application.');
    const client = await this.directory.find(ticket.clientId);
    if (!client || clientFingerprint(client) !== ticket.clientFingerprint) {
      return deny('client_changed', 'The application changed while the user was deciding; start again.');
    }
    try {
      await this.gate.assertMayIssue(ticket.principal, ticket.scope, requestId);
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      return deny(error.code, error.description);
    }
    await this.codes.rememberConsent(
      ticket.principal,
      ticket.clientId,
      ticket.clientFingerprint,
      ticket.scope,
    );
    await this.directory.keepInUse(
      client,
      context.nowSeconds() +
        Math.max(context.oauth.refreshTokenHours, context.oauth.unusedClientHours) * 3600,
    );
    return this.codes.issueCode(ticket, clear);
  }
}
