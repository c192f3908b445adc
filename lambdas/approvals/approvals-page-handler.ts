/**
 * The approvals page (docs/approvals-page.md): approvers sign in at the corporate IdP (OIDC code flow
 * with PKCE and a nonce, the same IdP config as the OAuth entry point), see what waits for them in
 * words, and approve or reject with a reason, in a browser and without a device certificate.
 *
 * Identity is the IdP's stable user id mapped to a principal (never a name or an e-mail the user can
 * edit); deciding needs the approver group both in the config and among the IdP's groups. The session
 * is a cookie sealed with a MAC key (KMS HMAC in AWS), `__Host-`, Secure, HttpOnly, SameSite=Lax. A
 * decision counts only with the form's CSRF token (bound to the session and the approval), an `Origin`
 * of the page itself, and the sha256 of the call the approver was shown. Every decision and every
 * refusal (forged post, expired session, self-approval, sign-in refused) is on the audit record,
 * through the same path as the CLI's decisions.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { OAuthConfig } from '../../lib/config/oauth-schema';
import type { AirlockConfig } from '../../lib/config/schema';
import { APPROVER_SESSION_SECONDS, APPROVER_SIGN_IN_SECONDS } from '../../lib/contracts/limits';
import {
  APPROVALS_PAGE_PATHS,
  type ApprovalsPageRouteId,
  OAUTH_ROUTES,
  routesOf,
} from '../../lib/contracts/routes';
import { headerOf, requestIdOf } from '../core/api-request';
import type { UnexpectedErrorLogger } from '../core/api-response';
import type { ApprovalDesk, ApprovalNotifier, ApprovalRecord } from '../core/approval-desk';
import { approvalPreviewText } from '../core/approval-preview';
import {
  ApproverCookieSeal,
  type ApproverSession,
  decisionCsrfToken,
  sameSecret,
  signOutCsrfToken,
} from '../core/approver-session';
import type { AuditAppender } from '../core/audit-ledger';
import { boundedAuditEvent } from '../core/audit-record';
import { AirlockError, DependencyError } from '../core/errors';
import type { KillSwitch } from '../core/kill-switch';
import type { CorporateIdentityProvider } from '../core/oauth/authorization-server';
import { hashOf, randomToken } from '../core/oauth/authorization-server-context';
import { resolveEnrolledUser, UnknownIdentityError } from '../core/oauth/corporate-identity';
import { s256ChallengeOf } from '../core/oauth/pkce';
import type { Clock, MacKey } from '../core/ports';
import { decideApproval, recordRefusal } from './approvals-handler';
import { approvalPage, listPage, type PageUser, problemPage } from './approvals-pages';

export interface ApprovalsPageDeps {
  readonly desk: ApprovalDesk;
  readonly ledger: AuditAppender;
  readonly killSwitch: Pick<KillSwitch, 'check'>;
  readonly config: AirlockConfig;
  /** The entry point's public origin and its IdP (config `oauth`). */
  readonly oauth: Pick<OAuthConfig, 'publicUrl' | 'identityProvider'>;
  readonly identityProvider: CorporateIdentityProvider;
  /** Seals the session and sign-in cookies. */
  readonly macKey: MacKey;
  readonly clock: Clock;
  readonly maxBodyBytes: number;
  readonly logUnexpected?: UnexpectedErrorLogger;
  /** Tells the requester what was decided. @default - nobody is told */
  readonly notifier?: Pick<ApprovalNotifier, 'notifyDecision'>;
  readonly onNotifyError?: (error: unknown) => void;
}

/** The routes of the approvals page (lib/contracts/routes.ts). */
export const APPROVALS_PAGE_ROUTES = routesOf(OAUTH_ROUTES, 'approvals');

/** Browsers accept a `__Host-` cookie only when Secure, host-only and for path `/`. */
const SESSION_COOKIE = '__Host-airlock-approver';
const SIGN_IN_COOKIE = '__Host-airlock-approver-sign-in';
const BACK_PATH = /^\/approvals(\/apr_[0-9a-f]{32})?$/;

export type ApprovalsPageHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** Creates the approvals page's handler. */
export function createApprovalsPageHandler(deps: ApprovalsPageDeps): ApprovalsPageHandler {
  const seal = new ApproverCookieSeal(deps.macKey);
  const origin = new URL(deps.oauth.publicUrl).origin;
  const callbackUri = `${origin}${APPROVALS_PAGE_PATHS.callback}`;
  const nowSeconds = () => Math.floor(deps.clock.now().getTime() / 1000);
  const listHref = `${origin}${APPROVALS_PAGE_PATHS.list}`;
  const approvalHref = (id: string) => `${listHref}/${id}`;

  const pageUser = (session: ApproverSession): PageUser => ({
    principal: session.principal,
    signOutAction: `${origin}${APPROVALS_PAGE_PATHS.signOut}`,
    signOutCsrf: signOutCsrfToken(session),
  });

  async function startSignIn(back: string): Promise<APIGatewayProxyResult> {
    const state = randomToken();
    const nonce = randomToken();
    const codeVerifier = randomToken();
    const location = await deps.identityProvider.authorizationUrl({
      state,
      nonce,
      codeChallenge: s256ChallengeOf(codeVerifier),
      redirectUri: callbackUri,
    });
    const cookie = await seal.seal({
      kind: 'sign-in',
      state,
      nonce,
      codeVerifier,
      back: BACK_PATH.test(back) ? back : APPROVALS_PAGE_PATHS.list,
      exp: nowSeconds() + APPROVER_SIGN_IN_SECONDS,
    });
    return redirect(302, location, [setCookie(SIGN_IN_COOKIE, cookie, APPROVER_SIGN_IN_SECONDS)]);
  }

  async function completeSignIn(
    event: APIGatewayProxyEvent,
    requestId: string,
  ): Promise<APIGatewayProxyResult> {
    const query = event.queryStringParameters ?? {};
    const pending = await seal.open(cookiesOf(event)[SIGN_IN_COOKIE], 'sign-in', nowSeconds());
    const clear = setCookie(SIGN_IN_COOKIE, '', 0);
    const refuse = async (message: string, reason: string, subject?: string) => {
      await deps.ledger
        .append(
          boundedAuditEvent({
            type: 'approval_refused',
            principal: '(unknown)',
            workflow: '(approvals)',
            decision: 'deny',
            reasons: ['sign-in-refused', reason],
            requestId,
            docHashes: [],
            details: { channel: 'approvals-page', ...(subject ? { idpSubject: subject.slice(0, 255) } : {}) },
          }),
        )
        .catch(() => undefined);
      return withCookies(
        problemPage(403, 'Sign-in refused', message, requestId, undefined, {
          href: APPROVALS_PAGE_PATHS.signIn,
          label: 'Sign in again',
        }),
        [clear],
      );
    };
    if (!pending || !sameSecret(query.state, pending.state)) {
      return refuse(
        'This sign-in was not started in this browser, or it took longer than ten minutes. Sign in again.',
        'sign-in-state',
      );
    }
    if (query.error !== undefined || !query.code) {
      return refuse('Your identity provider did not complete the sign-in.', 'idp-error');
    }
    let claims: Record<string, unknown>;
    try {
      claims = await deps.identityProvider.signIn({
        code: query.code,
        codeVerifier: pending.codeVerifier,
        nonce: pending.nonce,
        redirectUri: callbackUri,
      });
    } catch (error) {
      deps.logUnexpected?.('the IdP did not confirm an approver sign-in', error);
      return refuse('Your identity provider did not confirm the sign-in. Try again shortly.', 'idp-error');
    }
    let identity: ReturnType<typeof resolveEnrolledUser>;
    try {
      identity = resolveEnrolledUser(deps.config, deps.oauth, claims);
    } catch (error) {
      if (error instanceof UnknownIdentityError) {
        return refuse(error.description, 'unknown-identity', error.subject);
      }
      throw error;
    }
    const now = nowSeconds();
    const session: ApproverSession = {
      kind: 'session',
      principal: identity.principal,
      groups: identity.groups,
      subject: identity.subject,
      sid: randomToken(),
      iat: now,
      exp: now + APPROVER_SESSION_SECONDS,
    };
    await deps.ledger.append(
      boundedAuditEvent({
        type: 'approval_sign_in',
        principal: identity.principal,
        workflow: '(approvals)',
        decision: 'allow',
        reasons: [`matched-by-${identity.matchedBy}`],
        requestId,
        docHashes: [],
        details: {
          channel: 'approvals-page',
          idpSubject: identity.subject.slice(0, 255),
          groups: [...identity.groups],
          session: hashOf(session.sid).slice(0, 16),
        },
      }),
    );
    return redirect(303, `${origin}${pending.back}`, [
      clear,
      setCookie(SESSION_COOKIE, await seal.seal(session), APPROVER_SESSION_SECONDS),
    ]);
  }

  /** The IdP's groups must agree with the config that the approver may decide this approval. */
  const idpAgrees = (session: ApproverSession) => (record: ApprovalRecord) => {
    if (record.principal !== session.principal && !session.groups.includes(record.approverGroup)) {
      throw new AirlockError(
        'forbidden',
        `Your identity provider does not list you in a group mapped to "${record.approverGroup}"; ask IT to add you there.`,
        { reasons: ['not-an-approver-at-idp'] },
      );
    }
  };

  async function decide(
    event: APIGatewayProxyEvent,
    session: ApproverSession | undefined,
    id: string,
    requestId: string,
  ): Promise<APIGatewayProxyResult> {
    const refuse = async (error: AirlockError, approver: string) => {
      await recordRefusal(deps, error, { approver, id, requestId, channel: 'approvals-page' });
      throw error;
    };
    if (!session) {
      return refuse(
        new AirlockError('unauthenticated', 'Your sign-in has expired or is not valid; sign in again.', {
          reasons: ['no-valid-session'],
        }),
        '(unknown)',
      );
    }
    if (headerOf(event, 'origin') !== origin) {
      return refuse(
        new AirlockError(
          'forbidden',
          'This form was not sent from the approvals page; open the approval again.',
          {
            reasons: ['cross-origin-post'],
          },
        ),
        session.principal,
      );
    }
    const form = formOf(event, deps.maxBodyBytes);
    if (!sameSecret(form.csrf_token, decisionCsrfToken(session, id))) {
      return refuse(
        new AirlockError(
          'forbidden',
          'This form is not the one Airlock showed you; open the approval again.',
          {
            reasons: ['csrf-token'],
          },
        ),
        session.principal,
      );
    }
    const decision = form.decision;
    const reason = (form.reason ?? '').trim();
    if ((decision !== 'approve' && decision !== 'reject') || reason.length === 0 || reason.length > 1000) {
      return refuse(
        new AirlockError(
          'invalid_request',
          'Choose Approve or Reject and say why, in at most 1,000 characters.',
        ),
        session.principal,
      );
    }
    await decideApproval(deps, {
      id,
      approver: session.principal,
      decision,
      reason,
      requestId,
      channel: 'approvals-page',
      check: (record) => {
        idpAgrees(session)(record);
        if (form.sha256 !== record.preview.sha256) {
          throw new AirlockError(
            'conflict',
            'The call is not the one you were shown; open the approval again.',
            {
              reasons: ['changed-call'],
            },
          );
        }
      },
    });
    return redirect(303, approvalHref(id));
  }

  return async (event) => {
    const requestId = requestIdOf(event);
    let session: ApproverSession | undefined;
    try {
      const route = APPROVALS_PAGE_ROUTES.find(
        (r) => r.method === event.httpMethod && r.resource === (event.resource ?? event.path),
      );
      const id: ApprovalsPageRouteId | undefined = route?.id;
      session = await seal.open(cookiesOf(event)[SESSION_COOKIE], 'session', nowSeconds());
      const approvalId = event.pathParameters?.id ?? '';
      switch (id) {
        case 'approverSignIn':
          return await startSignIn(event.queryStringParameters?.back ?? APPROVALS_PAGE_PATHS.list);
        case 'approverCallback':
          return await completeSignIn(event, requestId);
        case 'approvalsPage': {
          if (!session) return await startSignIn(APPROVALS_PAGE_PATHS.list);
          const page = await deps.desk.listFor(session.principal, 'pending');
          return listPage(
            pageUser(session),
            page.approvals.map((record) => ({
              record,
              href: approvalHref(record.id),
              summary: approvalPreviewText(record, deps.config, listHref).headline,
            })),
          );
        }
        case 'approvalPage': {
          if (!session) return await startSignIn(`${APPROVALS_PAGE_PATHS.list}/${approvalId}`);
          const record = await deps.desk.show(session.principal, approvalId);
          const groups = deps.config.principals[session.principal]?.groups ?? [];
          const mayDecide =
            record.status === 'pending' &&
            record.principal !== session.principal &&
            groups.includes(record.approverGroup) &&
            session.groups.includes(record.approverGroup);
          return approvalPage(
            pageUser(session),
            record,
            approvalPreviewText(record, deps.config, listHref),
            mayDecide
              ? { action: approvalHref(record.id), csrfToken: decisionCsrfToken(session, record.id) }
              : undefined,
            record.status === 'pending' && record.principal === session.principal
              ? 'This is your own request: a member of the approver group decides it, not you.'
              : undefined,
          );
        }
        case 'approvalDecisionForm':
          return await decide(event, session, approvalId, requestId);
        case 'approverSignOut': {
          const form = formOf(event, deps.maxBodyBytes);
          if (
            session &&
            headerOf(event, 'origin') === origin &&
            sameSecret(form.csrf_token, signOutCsrfToken(session))
          ) {
            return withCookies(
              problemPage(
                200,
                'Signed out',
                'You are signed out of the approvals page.',
                requestId,
                undefined,
                {
                  href: APPROVALS_PAGE_PATHS.list,
                  label: 'Sign in again',
                },
              ),
              [setCookie(SESSION_COOKIE, '', 0)],
            );
          }
          throw new AirlockError('forbidden', 'This sign-out was not sent from the approvals page.');
        }
        default:
          throw new AirlockError('not_found', `There is no page ${event.httpMethod} ${event.path}.`);
      }
    } catch (error) {
      const user = session ? pageUser(session) : undefined;
      const back = { href: APPROVALS_PAGE_PATHS.list, label: 'Back to the list' };
      if (error instanceof AirlockError) {
        const heading =
          error.status === 401 ? 'Sign in again' : error.status === 404 ? 'Not found' : 'Nothing was decided';
        return problemPage(error.status, heading, error.message, requestId, user, back);
      }
      if (error instanceof DependencyError) {
        return problemPage(
          503,
          'Try again shortly',
          `Airlock could not reach its ${error.dependency}.`,
          requestId,
          user,
          back,
        );
      }
      deps.logUnexpected?.('unexpected error on the approvals page', error);
      return problemPage(
        503,
        'Try again shortly',
        'Airlock could not complete this step.',
        requestId,
        user,
        back,
      );
    }
  };
}

/** `__Host-` cookies: Secure, this host only, path `/`, HttpOnly, SameSite=Lax (never sent on a cross-site POST). */
function setCookie(name: string, value: string, maxAgeSeconds: number): string {
  return `${name}=${value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}`;
}

function redirect(
  status: 302 | 303,
  location: string,
  cookies: readonly string[] = [],
): APIGatewayProxyResult {
  return withCookies(
    {
      statusCode: status,
      headers: { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
      body: '',
    },
    cookies,
  );
}

function withCookies(response: APIGatewayProxyResult, cookies: readonly string[]): APIGatewayProxyResult {
  return cookies.length > 0 ? { ...response, multiValueHeaders: { 'set-cookie': [...cookies] } } : response;
}

/** The request's cookies by name; the first of a name wins. */
function cookiesOf(event: APIGatewayProxyEvent): Record<string, string> {
  const cookies: Record<string, string> = {};
  const headers = Object.entries(event.multiValueHeaders ?? {})
    .filter(([name]) => name.toLowerCase() === 'cookie')
    .flatMap(([, values]) => values ?? []);
  const single = headerOf(event, 'cookie');
  if (headers.length === 0 && single) headers.push(single);
  for (const header of headers) {
    for (const pair of header.split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      if (!Object.hasOwn(cookies, name)) cookies[name] = pair.slice(eq + 1).trim();
    }
  }
  return cookies;
}

/** A form post's fields; a field sent twice is refused, not guessed at. */
function formOf(event: APIGatewayProxyEvent, maxBytes: number): Record<string, string | undefined> {
  const contentType = headerOf(event, 'content-type') ?? '';
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(contentType.trim())) {
    throw new AirlockError('invalid_request', 'Send the form as the approvals page does (a form post).');
  }
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw new AirlockError('payload_too_large', `The form is larger than ${maxBytes} bytes.`);
  }
  const fields: Record<string, string> = Object.create(null);
  for (const [name, value] of new URLSearchParams(text)) {
    if (Object.hasOwn(fields, name))
      throw new AirlockError('invalid_request', `${name.slice(0, 40)} is sent twice.`);
    fields[name] = value;
  }
  return fields;
}
