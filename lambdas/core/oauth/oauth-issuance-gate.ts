/**
 * The shared issuance gate (lambdas/core/issuance-gate.ts) as the OAuth endpoints ask it, before any
 * OAuth credential is issued (a code, an access token, a refresh): its refusals in OAuth's words.
 */
import { AirlockError } from '../errors';
import { KillSwitchEngagedError } from '../kill-switch';
import type { AuthorizationServerContext } from './authorization-server-context';
import { OAuthError } from './oauth-error';

export class OAuthIssuanceGate {
  constructor(private readonly context: AuthorizationServerContext) {}

  /**
   * Throws `temporarily_unavailable` while the kill switch is engaged and `access_denied` when the
   * lifetime cap or the policy refuses; the token endpoint answers both as `invalid_grant`
   * (RFC 6749 §5.2). The caller records the refusal (it knows the client and the sign-in).
   */
  async assertMayIssue(principal: string, scope: readonly string[], requestId: string): Promise<void> {
    const workflow = this.context.oauth.workflow;
    try {
      await this.context.gate.admit({
        principal,
        workflow,
        scope,
        lifetimeSeconds: this.context.accessTokenSeconds(),
        channel: 'oauth',
        requestId,
      });
    } catch (error) {
      if (error instanceof KillSwitchEngagedError) {
        throw new OAuthError('temporarily_unavailable', `Airlock is sealed (kill switch): ${error.message}`, {
          cause: error,
        });
      }
      if (error instanceof AirlockError) {
        // A suspension says so in its own words (the user must ask IT/security, not change a policy).
        const suspended = error.reasons?.includes('principal_suspended') === true;
        throw new OAuthError(
          'access_denied',
          suspended
            ? error.message
            : `Policy does not allow ${principal} to use workflow "${workflow}" (${(error.reasons ?? []).join(', ')}).`,
          { cause: error },
        );
      }
      throw error;
    }
  }
}
