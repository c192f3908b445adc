/**
 * The last step of an authorization: whether the user must be asked (consent remembered per user and
 * client), and the one-minute, single-use code sent back to the client's redirect URI with `iss`
 * (RFC 9207).
 */
import { randomUUID } from 'node:crypto';
import {
  type AuthorizationServerContext,
  type BrowserCookie,
  randomToken,
  withQuery,
} from './authorization-server-context';
import { clientFingerprint, type RegisteredClient } from './oauth-client';
import { opaqueTokenHash } from './oauth-store';

const CODE_SECONDS = 60;

/** What a code is issued for: the parked authorization request and who signed in. */
export interface AuthorizationGrant {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly resource: string;
  readonly scope: readonly string[];
  readonly clientState?: string;
  readonly principal: string;
  readonly workflow: string;
}

/** The browser goes back to the client; `cookies` clear the finished sign-in's binding. */
export interface ClientRedirect {
  readonly kind: 'redirect';
  readonly location: string;
  readonly cookies: readonly BrowserCookie[];
}

export class AuthorizationCodeIssuer {
  constructor(private readonly context: AuthorizationServerContext) {}

  /**
   * True when the user allowed this client, as it is now, for at least these scopes within
   * `oauth.consentDays`, and the request did not ask to be asked (`prompt=consent`).
   */
  async consentRemembered(
    principal: string,
    client: RegisteredClient,
    scope: readonly string[],
    prompt: readonly string[],
  ): Promise<boolean> {
    if (prompt.includes('consent') || this.context.oauth.consentDays === 0) return false;
    const consent = await this.context.store.getConsent(principal, client.clientId);
    return (
      consent !== undefined &&
      consent.expiresAt > this.context.nowSeconds() &&
      consent.clientFingerprint === clientFingerprint(client) &&
      scope.every((s) => consent.scope.includes(s))
    );
  }

  /** Remembers that the user allowed the client (as fingerprinted) these scopes. */
  async rememberConsent(
    principal: string,
    clientId: string,
    fingerprint: string,
    scope: readonly string[],
  ): Promise<void> {
    const days = this.context.oauth.consentDays;
    if (days === 0) return;
    await this.context.store.putConsent({
      principal,
      clientId,
      clientFingerprint: fingerprint,
      scope: [...scope],
      grantedAt: this.context.now().toISOString(),
      expiresAt: this.context.nowSeconds() + days * 24 * 3600,
    });
  }

  /** Stores a code for the grant and returns the redirect that carries it to the client. */
  async issueCode(grant: AuthorizationGrant, cookies: readonly BrowserCookie[]): Promise<ClientRedirect> {
    const code = randomToken();
    await this.context.store.putCode({
      codeHash: opaqueTokenHash(code),
      clientId: grant.clientId,
      redirectUri: grant.redirectUri,
      codeChallenge: grant.codeChallenge,
      resource: grant.resource,
      scope: grant.scope,
      principal: grant.principal,
      workflow: grant.workflow,
      familyId: `fam_${randomUUID()}`,
      expiresAt: this.context.nowSeconds() + CODE_SECONDS,
    });
    return this.redirect(grant, { code }, cookies);
  }

  /** The redirect back to the client with `params`, its `state` and our `iss`. */
  redirect(
    grant: Pick<AuthorizationGrant, 'redirectUri' | 'clientState'>,
    params: Record<string, string | undefined>,
    cookies: readonly BrowserCookie[],
  ): ClientRedirect {
    return {
      kind: 'redirect',
      location: withQuery(grant.redirectUri, {
        ...params,
        state: grant.clientState,
        iss: this.context.endpoints.issuer,
      }),
      cookies,
    };
  }
}
