/**
 * Issues the tokens of a sign-in (a refresh-token family) and ends families: an access token bound to
 * the MCP resource and a rotating refresh token stored only as its hash, each issuance and revocation
 * on the audit record before anything leaves.
 */

import { randomUUID } from 'node:crypto';
import { accessTokenClaimsOf, issueAccessToken, type OAuthAccessTokenRequest } from '../access-token';
import type { AuditDetails } from '../audit-record';
import { AirlockError } from '../errors';
import { type AuthorizationServerContext, randomToken } from './authorization-server-context';
import { OAuthError } from './oauth-error';
import { opaqueTokenHash, type TokenFamily } from './oauth-store';

/** The token response of a grant that issues no refresh token (RFC 6749 §5.1). */
export interface AccessTokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly scope: string;
}

/** A token response; `refresh_token` is absent for a grant that issues none (the JWT bearer grant). */
export interface TokenResponse extends AccessTokenResponse {
  readonly refresh_token?: string;
}

/** The response of a grant that starts or continues a sign-in: with its rotating refresh token. */
export interface SignInTokenResponse extends AccessTokenResponse {
  readonly refresh_token: string;
}

export class TokenIssuer {
  constructor(private readonly context: AuthorizationServerContext) {}

  /**
   * Signs an access token and a new refresh token of `family`. `previous` is the refresh token whose
   * exchange this is: it learns its successor, which the concurrent-refresh grace checks.
   */
  async issue(
    family: TokenFamily,
    scope: readonly string[],
    requestId: string,
    previous?: string,
  ): Promise<SignInTokenResponse> {
    const refreshToken = `rt_${randomToken()}`;
    const refreshHash = opaqueTokenHash(refreshToken);
    const access = await this.sign(family, scope, requestId, {}, async () => {
      await this.context.deps.store.putRefreshToken({
        tokenHash: refreshHash,
        familyId: family.familyId,
        clientId: family.clientId,
        expiresAt: family.expiresAt,
      });
      if (previous !== undefined) await this.context.deps.store.setRefreshSuccessor(previous, refreshHash);
    });
    return { ...access, refresh_token: refreshToken };
  }

  /**
   * Signs an access token of `family` and no refresh token: a grant the client repeats to get the next
   * one (the JWT bearer grant: a new ID-JAG from the IdP). `details` go to the credential's record.
   */
  issueWithoutRefresh(
    family: TokenFamily,
    scope: readonly string[],
    requestId: string,
    details: AuditDetails,
  ): Promise<AccessTokenResponse> {
    return this.sign(family, scope, requestId, details, async () => {});
  }

  private async sign(
    family: TokenFamily,
    scope: readonly string[],
    requestId: string,
    extraDetails: AuditDetails,
    beforeRecord: () => Promise<void>,
  ): Promise<AccessTokenResponse> {
    const { deps, endpoints } = this.context;
    const lifetimeSeconds = this.context.accessTokenSeconds();
    const tokenRequest: OAuthAccessTokenRequest = {
      issuer: endpoints.issuer,
      audience: family.resource,
      subject: family.principal,
      workflow: family.workflow,
      clientId: family.clientId,
      familyId: family.familyId,
      scope,
      lifetimeSeconds,
      now: this.context.now(),
      jti: randomUUID(),
    };
    const details = {
      clientId: family.clientId,
      familyId: family.familyId,
      resource: family.resource,
      ...extraDetails,
    };
    try {
      // The record the token will have, checked before the signature: nothing signed goes unrecorded.
      this.context.gate.assertRecordable(
        { channel: 'oauth', requestId },
        accessTokenClaimsOf(tokenRequest),
        [],
        details,
      );
    } catch (error) {
      if (!(error instanceof AirlockError)) throw error;
      await this.context.gate.refused(
        { principal: family.principal, workflow: family.workflow, requestId, channel: 'oauth' },
        [error.code, ...(error.reasons ?? [])],
      );
      throw new OAuthError('invalid_request', error.message, { cause: error });
    }
    const { token, claims } = await issueAccessToken(deps.signer, tokenRequest);
    await beforeRecord();
    // The token leaves only after its record is committed, by the gate the broker uses too.
    await this.context.gate.issued({ channel: 'oauth', requestId }, claims, [], details);
    return {
      access_token: token,
      token_type: 'Bearer',
      expires_in: lifetimeSeconds,
      scope: claims.scope,
    };
  }

  /** Ends a sign-in: every refresh and access token of the family stops working at once. */
  async revokeFamily(familyId: string, reason: string, requestId: string): Promise<void> {
    const { store } = this.context;
    await store.revokeFamily(familyId, reason, this.context.now());
    const family = await store.getFamily(familyId).catch(() => undefined);
    await this.context
      .record({
        type: 'revocation',
        principal: family?.principal ?? '(unknown)',
        workflow: family?.workflow ?? this.context.oauth.workflow,
        decision: 'recorded',
        reasons: [reason],
        requestId,
        docHashes: [],
        details: { channel: 'oauth', familyId },
      })
      .catch(() => undefined);
  }
}
