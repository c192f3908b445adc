/**
 * The approvals page's browser cookies, sealed with a MAC key that never leaves its keeper (KMS HMAC
 * in AWS, a key file locally): the approver's session after a sign-in at the corporate IdP, and the
 * short-lived state of a sign-in in progress (OIDC state, nonce and PKCE verifier, bound to the browser
 * that started it). A cookie is `<payload>.<mac>` (base64url); nothing in it is trusted unless its MAC
 * verifies, its kind is the one expected and it has not expired. The payload carries no secret of
 * Airlock's: the PKCE verifier is the browser's own sign-in, and the IdP's client secret never leaves
 * the server.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MacKey } from './ports';

/** Who is signed in to the approvals page. */
export interface ApproverSession {
  readonly kind: 'session';
  /** The principal the IdP's stable user id maps to. */
  readonly principal: string;
  /** Airlock groups the IdP's groups map to (the IdP's word; the config must agree). */
  readonly groups: readonly string[];
  /** The IdP's user id (issuer-scoped subject), for the audit record. */
  readonly subject: string;
  /** Random id of this sign-in; CSRF tokens are derived from it. */
  readonly sid: string;
  /** Seconds since the epoch. */
  readonly iat: number;
  readonly exp: number;
}

/** A sign-in at the IdP in progress, kept by the browser that started it. */
export interface ApproverSignInState {
  readonly kind: 'sign-in';
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  /** Where to return after the sign-in: a path of the approvals page. */
  readonly back: string;
  readonly exp: number;
}

type Sealed = ApproverSession | ApproverSignInState;

const MAX_COOKIE_LENGTH = 4096;

/** Seals and opens the page's cookies with the MAC key. */
export class ApproverCookieSeal {
  constructor(private readonly key: MacKey) {}

  async seal(value: Sealed): Promise<string> {
    const payload = Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
    const mac = await this.key.generateMac(Buffer.from(payload, 'utf8'));
    return `${payload}.${Buffer.from(mac).toString('base64url')}`;
  }

  /** The cookie's value when it is ours, of the expected kind, and unexpired; otherwise undefined. */
  async open<K extends Sealed['kind']>(
    cookie: string | undefined,
    kind: K,
    nowSeconds: number,
  ): Promise<Extract<Sealed, { kind: K }> | undefined> {
    if (cookie === undefined || cookie.length > MAX_COOKIE_LENGTH) return undefined;
    const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/.exec(cookie);
    if (!match) return undefined;
    const mac = Buffer.from(match[2], 'base64url');
    if (!(await this.key.verifyMac(Buffer.from(match[1], 'utf8'), mac))) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(match[1], 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (typeof value !== 'object' || value === null) return undefined;
    const sealed = value as Partial<Sealed>;
    if (sealed.kind !== kind || typeof sealed.exp !== 'number' || sealed.exp <= nowSeconds) return undefined;
    return sealed as Extract<Sealed, { kind: K }>;
  }
}

/**
 * The CSRF token of one approval's decision form in one session: bound to the session's random id
 * (inside the HttpOnly cookie, which another site can neither read nor send on a cross-site POST)
 * and to the approval, so a token lifted from one form decides nothing else.
 */
export function decisionCsrfToken(session: Pick<ApproverSession, 'sid'>, approvalId: string): string {
  return createHash('sha256')
    .update(`airlock-approvals-csrf\n${session.sid}\n${approvalId}`, 'utf8')
    .digest('base64url');
}

/** The CSRF token of the sign-out form. */
export function signOutCsrfToken(session: Pick<ApproverSession, 'sid'>): string {
  return decisionCsrfToken(session, 'sign-out');
}

/** Compares two strings without leaking where they differ. */
export function sameSecret(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const left = createHash('sha256').update(a, 'utf8').digest();
  const right = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(left, right) && a.length === b.length;
}
