/**
 * What must hold before any OAuth credential is issued (a code, an access token, a refresh): the kill
 * switch released for the workflow, and Cedar's `RequestCredential` allowing the principal, as the
 * broker checks them for certificate-bound tokens.
 */
import type { AuthorizationServerContext } from './authorization-server-context';
import { OAuthError } from './oauth-error';

export class OAuthIssuanceGate {
  constructor(private readonly context: AuthorizationServerContext) {}

  /**
   * Throws `temporarily_unavailable` while the kill switch is engaged and `access_denied` when the
   * policy refuses; the token endpoint answers both as `invalid_grant` (RFC 6749 §5.2).
   */
  async assertMayIssue(principal: string, scope: readonly string[]): Promise<void> {
    const { deps } = this.context;
    const workflow = deps.oauth.workflow;
    const killSwitch = await deps.killSwitch.check(workflow);
    if (killSwitch.engaged) {
      throw new OAuthError(
        'temporarily_unavailable',
        `Airlock is sealed (kill switch): ${killSwitch.reason}`,
      );
    }
    const decision = deps.policy.decide({
      principal,
      action: 'RequestCredential',
      resource: { kind: 'workflow', id: workflow },
      workflow,
      context: {
        approval: 'none',
        durationMinutes: Math.ceil(this.context.accessTokenSeconds() / 60),
        scope: [...scope],
      },
    });
    if (decision.decision !== 'allow') {
      throw new OAuthError(
        'access_denied',
        `Policy does not allow ${principal} to use workflow "${workflow}" (${decision.reasons.join(', ')}).`,
      );
    }
  }
}
