/**
 * Who signed in at the corporate IdP, in Airlock's terms: the principal named by the ID token, and
 * the Airlock groups its IdP groups map to (config `oauth.identityProvider.groupMapping`).
 */

import type { OAuthConfig } from '../../../lib/config/oauth-schema';
import type { AirlockConfig } from '../../../lib/config/schema';
import { OAuthError } from './oauth-error';

export interface CorporateIdentity {
  readonly principal: string;
  /** Airlock groups from the IdP's groups claim, through the mapping. */
  readonly groups: readonly string[];
}

/**
 * Maps verified ID-token claims to a principal of the config. Refuses (`access_denied`) a user the
 * config does not know, and one none of whose mapped IdP groups may run the entry point's workflow:
 * the IdP decides group membership, the config decides what a group may do, and both must agree.
 */
export function resolveCorporateIdentity(
  config: Pick<AirlockConfig, 'principals' | 'workflows'>,
  oauth: Pick<OAuthConfig, 'identityProvider' | 'workflow'>,
  claims: Readonly<Record<string, unknown>>,
): CorporateIdentity {
  const idp = oauth.identityProvider;
  const value = claims[idp.principalClaim];
  if (typeof value !== 'string' || value === '') {
    throw new OAuthError(
      'access_denied',
      `The identity provider did not say who you are (no "${idp.principalClaim}" claim); ask IT to release it to Airlock.`,
    );
  }
  const lower = value.toLowerCase();
  const principal =
    (Object.hasOwn(config.principals, value) ? value : undefined) ??
    Object.entries(config.principals).find(([, p]) => p.email?.toLowerCase() === lower)?.[0];
  if (!principal) {
    throw new OAuthError(
      'access_denied',
      'You are not enrolled in this Airlock pilot; ask IT/security to enrol you.',
    );
  }
  const raw = claims[idp.groupsClaim];
  const idpGroups = Array.isArray(raw) ? raw.filter((g): g is string => typeof g === 'string') : [];
  const groups = [
    ...new Set(idpGroups.filter((g) => Object.hasOwn(idp.groupMapping, g)).map((g) => idp.groupMapping[g])),
  ].sort();
  const workflow = config.workflows[oauth.workflow];
  if (!workflow || !groups.some((g) => workflow.groups.includes(g))) {
    throw new OAuthError(
      'access_denied',
      `Your identity provider groups do not include one that may run workflow "${oauth.workflow}".`,
    );
  }
  return { principal, groups };
}
