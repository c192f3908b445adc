/**
 * What IT/security has revoked, checked with one consistent read per request: the token (`revoke
 * --jti`), every token of its principal (`--principal`), the device certificate (`--certificate`), a
 * suspended principal (`--principal --suspend`) and the kill switch's DynamoDB copies, combined with
 * the kill switch's SSM parameters (read in the background, see {@link KillSwitch}).
 *
 * Both entry points ask the guard the same two questions, so the device and OAuth channels cannot
 * drift apart: may a credential be issued (the issuance gate), and does a presented token still count
 * (the authenticators). A change an operator makes with the CLI is seen by the next request's read;
 * a read that fails refuses the request.
 */
import { TokenRejectedError } from './access-token';
import type { CallerChannel } from './caller';
import { AirlockError, DependencyError } from './errors';
import {
  type KillSwitch,
  KillSwitchEngagedError,
  type KillSwitchReader,
  type KillSwitchState,
  killSwitchParameterName,
} from './kill-switch';
import type { CertificateIdentity, RevocationEntries, RevocationMark, RevocationStore } from './ports';

export interface RevocationGuardDeps {
  readonly revocations: Pick<RevocationStore, 'readEntries'>;
  /** The kill switch's SSM side (the backstop the copies are combined with). */
  readonly killSwitch: Pick<KillSwitch, 'check'>;
  /** The global parameter's name, e.g. `/airlock/pilot/kill-switch`. */
  readonly prefix: string;
}

/** Who asks for a credential. */
export interface IssuanceSubject {
  readonly workflow: string;
  readonly principal: string;
  /** The device certificate that asks (device channel only). */
  readonly certificate?: CertificateIdentity;
}

/** A verified token about to be served. */
export interface PresentedToken extends IssuanceSubject {
  readonly jti: string;
  readonly issuedAt: Date;
  readonly channel: CallerChannel;
}

const CONTACT = 'Contact IT/security.';
const DEVICE_AGAIN = 'Request a new token from POST /v1/credentials.';
const OAUTH_AGAIN = 'Sign in again through your MCP client (reconnect the Airlock connector).';

/** What a new token must respect to count once issued. */
export interface IssuanceAdmission {
  /**
   * The latest cut-off (epoch ms) that applies to the request: a token whose `iat` (whole seconds) is
   * before it is refused from its first use, so the issuer must not sign before it. Null: none.
   */
  readonly issueNotBeforeMs: number | null;
}

export class RevocationGuard implements KillSwitchReader {
  constructor(private readonly deps: RevocationGuardDeps) {}

  /**
   * The kill switch for `workflow` (or the global switch alone): its copies read now, combined with
   * the parameters. Never throws: an unreadable revocation list counts as engaged.
   */
  async check(workflow?: string): Promise<KillSwitchState> {
    let names: string[];
    try {
      names = this.parameterNames(workflow);
    } catch (error) {
      return { engaged: true, scope: 'workflow', reason: (error as Error).message, revokeIssuedBefore: null };
    }
    let entries: RevocationEntries;
    try {
      entries = await this.read({ killSwitch: names });
    } catch (error) {
      return {
        engaged: true,
        scope: 'global',
        reason: 'kill switch state unreadable',
        revokeIssuedBefore: null,
        readError: error instanceof Error ? error.message : String(error),
      };
    }
    return this.deps.killSwitch.check(workflow, entries.killSwitch);
  }

  /**
   * Before any credential is issued: the kill switch released for the workflow, the device certificate
   * not blocked, the principal not suspended.
   * @throws KillSwitchEngagedError (503); AirlockError `forbidden` with reason `certificate_blocked` or
   *   `principal_suspended`; DependencyError when the revocation list cannot be read
   */
  async admitIssuance(subject: IssuanceSubject): Promise<IssuanceAdmission> {
    const entries = await this.read({
      principal: subject.principal,
      certificate: subject.certificate,
      killSwitch: this.parameterNames(subject.workflow),
    });
    const killSwitch = await this.deps.killSwitch.check(subject.workflow, entries.killSwitch);
    if (killSwitch.engaged) throw new KillSwitchEngagedError(killSwitch);
    if (isBlocked(entries.certificate) || isBlocked(entries.certificateSerial)) {
      throw new AirlockError(
        'forbidden',
        `This device's certificate has been blocked by IT/security: no credentials are issued for it. ${CONTACT}`,
        { reasons: ['certificate_blocked'] },
      );
    }
    if (isBlocked(entries.suspension)) {
      throw new AirlockError(
        'forbidden',
        `The access of ${subject.principal} to Airlock is suspended by IT/security: no credentials are issued until it is lifted. ${CONTACT}`,
        { reasons: ['principal_suspended'] },
      );
    }
    const cutOffs = [
      killSwitch.revokeIssuedBefore?.getTime(),
      entries.principal?.issuedBeforeMs,
      entries.certificate?.issuedBeforeMs,
      entries.certificateSerial?.issuedBeforeMs,
      entries.suspension?.issuedBeforeMs,
    ].filter((ms): ms is number => typeof ms === 'number');
    return { issueNotBeforeMs: cutOffs.length === 0 ? null : Math.max(...cutOffs) };
  }

  /**
   * Before a verified token is served: not revoked (itself, or every token of its principal), its
   * certificate not blocked, its principal not suspended (tokens issued before a lifted block stay
   * dead), the kill switch released and its cut-off after the token.
   * @throws TokenRejectedError (401), KillSwitchEngagedError (503), DependencyError when the
   *   revocation list cannot be read
   */
  async admitToken(token: PresentedToken): Promise<void> {
    const entries = await this.read({
      jti: token.jti,
      principal: token.principal,
      certificate: token.certificate,
      killSwitch: this.parameterNames(token.workflow),
    });
    const issuedAt = token.issuedAt.getTime();
    const again = token.channel === 'oauth' ? OAUTH_AGAIN : DEVICE_AGAIN;
    if (refuses(entries.token, issuedAt) || refuses(entries.principal, issuedAt)) {
      throw new TokenRejectedError(
        'revoked',
        token.channel === 'oauth'
          ? `The access token has been revoked. ${OAUTH_AGAIN}`
          : 'The access token has been revoked. Ask IT/security why before requesting a new one.',
      );
    }
    if (isBlocked(entries.certificate) || isBlocked(entries.certificateSerial)) {
      throw new TokenRejectedError(
        'certificate_blocked',
        `This device's certificate has been blocked by IT/security; tokens bound to it are refused. ${CONTACT}`,
      );
    }
    if (isBlocked(entries.suspension)) {
      throw new TokenRejectedError(
        'principal_suspended',
        `The access of ${token.principal} to Airlock is suspended by IT/security. ${CONTACT}`,
      );
    }
    if (
      refuses(entries.certificate, issuedAt) ||
      refuses(entries.certificateSerial, issuedAt) ||
      refuses(entries.suspension, issuedAt)
    ) {
      throw new TokenRejectedError(
        'revoked',
        `The access token was issued before IT/security lifted a block and no longer counts. ${again}`,
      );
    }
    const killSwitch = await this.deps.killSwitch.check(token.workflow, entries.killSwitch);
    if (killSwitch.engaged) throw new KillSwitchEngagedError(killSwitch);
    // Strictly by the millisecond: a JWT `iat` has whole seconds, so a token issued in the same second
    // as the cut-off counts as before it. Refusing one second too many fails closed.
    if (killSwitch.revokeIssuedBefore !== null && issuedAt < killSwitch.revokeIssuedBefore.getTime()) {
      throw new TokenRejectedError(
        'issued_before_revocation',
        token.channel === 'oauth'
          ? `The access token has been revoked. ${OAUTH_AGAIN}`
          : `The access token was issued before an incident cut-off and no longer counts. ${again}`,
      );
    }
  }

  private parameterNames(workflow: string | undefined): string[] {
    return workflow === undefined
      ? [this.deps.prefix]
      : [this.deps.prefix, killSwitchParameterName(this.deps.prefix, workflow)];
  }

  private async read(query: Parameters<RevocationStore['readEntries']>[0]): Promise<RevocationEntries> {
    let entries: RevocationEntries;
    try {
      entries = await this.deps.revocations.readEntries(query);
    } catch (cause) {
      throw cause instanceof DependencyError
        ? cause
        : new DependencyError('revocations', 'The revocation list could not be read.', { cause });
    }
    // An answer of the wrong shape cannot be judged: refused like one that never came.
    if (!isEntries(entries)) {
      throw new DependencyError('revocations', 'The revocation list answered something that is not one.');
    }
    return entries;
  }
}

function isMark(value: unknown): boolean {
  if (value === undefined) return true;
  if (value === null || typeof value !== 'object') return false;
  const { blocked, issuedBeforeMs } = value as Record<string, unknown>;
  return typeof blocked === 'boolean' && (issuedBeforeMs === null || typeof issuedBeforeMs === 'number');
}

function isEntries(value: unknown): value is RevocationEntries {
  if (value === null || typeof value !== 'object') return false;
  const entries = value as Record<string, unknown>;
  const copies = entries.killSwitch;
  return (
    copies !== null &&
    typeof copies === 'object' &&
    Object.values(copies).every((copy) => copy === undefined || typeof copy === 'string') &&
    ['token', 'principal', 'suspension', 'certificate', 'certificateSerial'].every((field) =>
      isMark(entries[field]),
    )
  );
}

/** A block or suspension in force (an entry that cannot be read counts as one). */
function isBlocked(mark: RevocationMark | undefined): boolean {
  return mark?.blocked === true;
}

/** The entry refuses a token issued at `issuedAt` (epoch ms). */
function refuses(mark: RevocationMark | undefined, issuedAt: number): boolean {
  if (mark === undefined) return false;
  return mark.blocked || mark.issuedBeforeMs === null || issuedAt < mark.issuedBeforeMs;
}
