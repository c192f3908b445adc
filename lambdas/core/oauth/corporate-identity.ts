/**
 * Who signed in at the corporate IdP, in Airlock's terms: the principal the IdP's stable user id maps
 * to (config `oauth.identityProvider.subjects`), and the Airlock groups its IdP groups map to
 * (`groupMapping`).
 *
 * Identity is the pair (issuer, subject claim): values the IdP assigns and the user cannot edit.
 * A claim is never compared with a principal's name, and an e-mail address counts only when the
 * config asks for it and the IdP vouches for it (`email_verified: true`).
 */

import type { OAuthConfig } from '../../../lib/config/oauth-schema';
import type { AirlockConfig } from '../../../lib/config/schema';
import { OAuthError } from './oauth-error';

export interface CorporateIdentity {
  readonly principal: string;
  /** Airlock groups from the IdP's groups claim, through the mapping. */
  readonly groups: readonly string[];
  /** How the principal was found: by the subject claim, or by a verified e-mail address. */
  readonly matchedBy: 'subject' | 'verified_email';
  /** The IdP's user id (the subject claim's value), for the audit record. */
  readonly subject: string;
}

/** A sign-in the config does not accept; `subject` (when known) goes to the audit record, not to the client. */
export class UnknownIdentityError extends OAuthError {
  constructor(
    description: string,
    public readonly subject?: string,
  ) {
    super('access_denied', description);
  }
}

function sameIssuer(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

/**
 * Maps verified ID-token claims to a principal of the config. Refuses (`access_denied`) a token of
 * another issuer, a user the config does not list, and a user none of whose mapped IdP groups may run
 * the entry point's workflow: the IdP decides group membership, the config decides what a group may do,
 * and both must agree.
 */
export function resolveCorporateIdentity(
  config: Pick<AirlockConfig, 'principals' | 'workflows'>,
  oauth: Pick<OAuthConfig, 'identityProvider' | 'workflow'>,
  claims: Readonly<Record<string, unknown>>,
): CorporateIdentity {
  const identity = resolveEnrolledUser(config, oauth, claims);
  const workflow = config.workflows[oauth.workflow];
  if (!workflow || !identity.groups.some((g) => workflow.groups.includes(g))) {
    throw new UnknownIdentityError(
      `Your identity provider groups do not include one that may run workflow "${oauth.workflow}".`,
      identity.subject,
    );
  }
  return identity;
}

/**
 * Maps verified ID-token claims to an enrolled principal and the Airlock groups its IdP groups map to,
 * whatever they may do (the approvals page checks the approver group itself). Refuses
 * (`access_denied`) a token of another issuer and a user the config does not list.
 */
export function resolveEnrolledUser(
  config: Pick<AirlockConfig, 'principals'>,
  oauth: Pick<OAuthConfig, 'identityProvider'>,
  claims: Readonly<Record<string, unknown>>,
): CorporateIdentity {
  const idp = oauth.identityProvider;
  if (typeof claims.iss !== 'string' || !sameIssuer(claims.iss, idp.issuer)) {
    throw new UnknownIdentityError('The sign-in was not made at the identity provider Airlock trusts.');
  }
  const subject = claims[idp.subjectClaim];
  if (typeof subject !== 'string' || subject === '') {
    throw new UnknownIdentityError(
      `The identity provider did not say who you are (no "${idp.subjectClaim}" claim); ask IT to release it to Airlock.`,
    );
  }
  let matchedBy: CorporateIdentity['matchedBy'] = 'subject';
  let principal = Object.entries(idp.subjects).find(([, s]) => s === subject)?.[0];
  if (principal === undefined && idp.matchVerifiedEmail) {
    principal = principalByVerifiedEmail(config, oauth, claims);
    matchedBy = 'verified_email';
  }
  if (principal === undefined || !Object.hasOwn(config.principals, principal)) {
    throw new UnknownIdentityError(
      'Your identity provider account is not enrolled in this Airlock pilot; ask IT/security to enrol you (they will find your user id in the audit record).',
      subject,
    );
  }
  const raw = claims[idp.groupsClaim];
  const idpGroups = Array.isArray(raw) ? raw.filter((g): g is string => typeof g === 'string') : [];
  const groups = [
    ...new Set(idpGroups.filter((g) => Object.hasOwn(idp.groupMapping, g)).map((g) => idp.groupMapping[g])),
  ].sort();
  return { principal, groups, matchedBy, subject };
}

/**
 * The principal whose config `email` equals the token's `email`, when the IdP says it verified it
 * (`email_verified` exactly `true`). Principals pinned to a subject are never matched by e-mail.
 */
function principalByVerifiedEmail(
  config: Pick<AirlockConfig, 'principals'>,
  oauth: Pick<OAuthConfig, 'identityProvider'>,
  claims: Readonly<Record<string, unknown>>,
): string | undefined {
  if (claims.email_verified !== true || typeof claims.email !== 'string' || claims.email === '') {
    return undefined;
  }
  const email = claims.email.toLowerCase();
  const matches = Object.entries(config.principals).filter(
    ([name, p]) =>
      p.email !== undefined &&
      p.email.toLowerCase() === email &&
      !Object.hasOwn(oauth.identityProvider.subjects, name),
  );
  // The config check forbids two principals with one e-mail; should it happen anyway, nobody matches.
  return matches.length === 1 ? matches[0][0] : undefined;
}
