/**
 * The routes of the certificate-less OAuth entry point for remote MCP connectors: discovery
 * (RFC 9728, RFC 8414), registration (RFC 7591), authorization, the IdP callback, token, revocation
 * (RFC 7009), the consent page and its answer, the JWK set, and `POST /v1/mcp` authenticated by an
 * OAuth access token. Thin: read the event, call
 * {@link OAuthAuthorizationServer}, map typed errors to OAuth error responses. The same handler runs
 * in Lambda (behind the second custom domain) and in the local pilot's OAuth entry point.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { matchRoute, OAUTH_PATHS, OAUTH_ROUTES } from '../../lib/contracts/routes';
import type { McpHandler } from '../connector/mcp-endpoint';
import { headerOf, requestIdOf } from '../core/api-request';
import { errorResponse, jsonResponse, type UnexpectedErrorLogger } from '../core/api-response';
import type { Authenticator } from '../core/caller';
import { DependencyError } from '../core/errors';
import type {
  BrowserCookie,
  ClientCredentials,
  OAuthAuthorizationServer,
  OAuthParameters,
  RequestCookies,
} from '../core/oauth/authorization-server';
import { OAuthError } from '../core/oauth/oauth-error';
import { bearerChallenge } from '../core/oauth/oauth-metadata';
import { RegistrationRefusedError } from '../core/oauth/registration-endpoint';
import { consentPageResponse, errorPageResponse } from './consent-page';

export interface OAuthHandlerDeps {
  readonly server: OAuthAuthorizationServer;
  /**
   * The MCP endpoint built with {@link oauthAuthenticator}, so it authenticates callers by OAuth
   * access token instead of by client certificate.
   */
  readonly mcp: McpHandler;
  /** @default 16_384 */
  readonly maxBodyBytes?: number;
  readonly logUnexpected?: UnexpectedErrorLogger;
}

export type OAuthHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

/** Browsers accept a `__Host-` cookie only when Secure, host-only and for path `/`. */
const COOKIE_PREFIX = '__Host-';

/**
 * The OAuth entry point's authenticator: identity comes only from the OAuth access token (there is
 * no client certificate on this entry point), checked by {@link OAuthAuthorizationServer.authenticate}.
 */
export function oauthAuthenticator(server: Pick<OAuthAuthorizationServer, 'authenticate'>): Authenticator {
  return { authenticate: (request) => server.authenticate(request) };
}

/** The browser-facing routes: their refusals are pages for a person, not JSON for a client. */
const BROWSER_ROUTES = new Set<string>([
  OAUTH_PATHS.authorization,
  OAUTH_PATHS.idpCallback,
  OAUTH_PATHS.consent,
]);

/** Creates the OAuth entry point's handler. */
export function createOAuthHandler(deps: OAuthHandlerDeps): OAuthHandler {
  const maxBodyBytes = deps.maxBodyBytes ?? 16_384;
  const { server } = deps;
  return async (event) => {
    const requestId = requestIdOf(event);
    try {
      // API Gateway and the local pilot set `resource` to the matched contract path.
      switch (
        matchRoute(OAUTH_ROUTES, { httpMethod: event.httpMethod, resource: event.resource ?? event.path })?.id
      ) {
        case 'resourceMetadata':
          return jsonResponse(200, server.resourceMetadata('mcp'), { 'cache-control': 'max-age=300' });
        case 'resourceMetadataRoot':
          return jsonResponse(200, server.resourceMetadata('root'), { 'cache-control': 'max-age=300' });
        case 'authorizationServerMetadata':
          return jsonResponse(200, server.serverMetadata(), { 'cache-control': 'max-age=300' });
        case 'jwks':
          return jsonResponse(200, await server.jwks(), { 'cache-control': 'max-age=300' });
        case 'register':
          return jsonResponse(
            201,
            await server.register(jsonOf(event, maxBodyBytes), sourceIpOf(event), requestId),
            NO_STORE,
          );
        case 'authorize': {
          const next = await server.authorize(queryOf(event));
          return redirect(302, next.location, next.cookies);
        }
        case 'idpCallback': {
          const outcome = await server.completeSignIn(queryOf(event), cookiesOf(event), requestId);
          if (outcome.kind === 'consent') return consentPageResponse(outcome.prompt);
          return redirect(302, outcome.location, outcome.cookies);
        }
        case 'consent': {
          const outcome = await server.consent(
            {
              form: formOf(event, maxBodyBytes),
              cookies: cookiesOf(event),
              origin: headerOf(event, 'origin'),
            },
            requestId,
          );
          return redirect(303, outcome.location, outcome.cookies);
        }
        case 'token':
          return jsonResponse(
            200,
            await server.token(formOf(event, maxBodyBytes), credentialsOf(event), requestId),
            NO_STORE,
          );
        case 'revoke':
          await server.revoke(formOf(event, maxBodyBytes), credentialsOf(event), requestId);
          return jsonResponse(200, {}, NO_STORE);
        case 'mcp':
        case 'mcpStream':
        case 'mcpEnd':
          return await mcp(deps, event, requestId);
        default:
          return jsonResponse(404, {
            error: {
              code: 'not_found',
              message: `There is no route ${event.httpMethod} ${event.path} on the OAuth entry point.`,
              requestId,
            },
          });
      }
    } catch (error) {
      if (BROWSER_ROUTES.has(event.path)) return browserErrorResponse(error, requestId, deps.logUnexpected);
      return oauthErrorResponse(error, event, requestId, deps.logUnexpected);
    }
  };
}

async function mcp(
  deps: OAuthHandlerDeps,
  event: APIGatewayProxyEvent,
  requestId: string,
): Promise<APIGatewayProxyResult> {
  const challenge = (error?: { description: string }) =>
    bearerChallenge(deps.server.endpoints, error ? 'invalid_token' : undefined, error?.description);
  const authorization = headerOf(event, 'authorization');
  if (event.httpMethod === 'POST' && !/^Bearer +\S+$/i.test(authorization?.trim() ?? '')) {
    // RFC 6750 §3.1: no token, no error code; a malformed header is an invalid token. Either way the
    // only way to a token here is the OAuth flow the challenge points at.
    const description = authorization
      ? 'The Authorization header must be "Bearer <access token>".'
      : 'This MCP server needs an OAuth access token; your MCP client gets one when you sign in.';
    return {
      ...jsonResponse(401, { error: { code: 'unauthenticated', message: description, requestId } }),
      headers: {
        'content-type': 'application/json',
        ...NO_STORE,
        'www-authenticate': challenge(authorization ? { description } : undefined),
      },
    };
  }
  const result = await deps.mcp(event);
  if (result.statusCode !== 401) return result;
  // RFC 9728 §5.1 and RFC 6750 §3.1: the 401 says the token is invalid and where to get another.
  const headers = Object.fromEntries(
    Object.entries(result.headers ?? {}).filter(([name]) => name.toLowerCase() !== 'www-authenticate'),
  );
  let description = 'The access token is not valid.';
  try {
    description = (JSON.parse(result.body) as { error?: { message?: string } }).error?.message ?? description;
  } catch {
    // keeps the generic description
  }
  return { ...result, headers: { ...headers, 'www-authenticate': challenge({ description }) } };
}

function redirect(
  status: 302 | 303,
  location: string,
  cookies: readonly BrowserCookie[] = [],
): APIGatewayProxyResult {
  return {
    statusCode: status,
    headers: { location, ...NO_STORE, 'referrer-policy': 'no-referrer' },
    ...(cookies.length > 0 ? { multiValueHeaders: { 'set-cookie': cookies.map(setCookieOf) } } : {}),
    body: '',
  };
}

/**
 * `__Host-` cookies: Secure, for this host only, path `/`. HttpOnly (no script reads them) and
 * SameSite=Lax: sent on the IdP's top-level redirect back, never on a cross-site POST.
 */
function setCookieOf(cookie: BrowserCookie): string {
  return `${COOKIE_PREFIX}${cookie.name}=${cookie.value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=${cookie.maxAgeSeconds}`;
}

/** The request's `__Host-` cookies by name (prefix removed); other cookies are not ours and are ignored. */
function cookiesOf(event: APIGatewayProxyEvent): RequestCookies {
  const cookies: Record<string, string> = {};
  const headers = [
    ...Object.entries(event.multiValueHeaders ?? {})
      .filter(([name]) => name.toLowerCase() === 'cookie')
      .flatMap(([, values]) => values ?? []),
  ];
  const single = headerOf(event, 'cookie');
  if (headers.length === 0 && single) headers.push(single);
  for (const header of headers) {
    for (const pair of header.split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      if (name.startsWith(COOKIE_PREFIX) && !Object.hasOwn(cookies, name.slice(COOKIE_PREFIX.length))) {
        cookies[name.slice(COOKIE_PREFIX.length)] = pair.slice(eq + 1).trim();
      }
    }
  }
  return cookies;
}

function sourceIpOf(event: APIGatewayProxyEvent): string {
  return event.requestContext?.identity?.sourceIp || 'unknown';
}

function browserErrorResponse(
  error: unknown,
  requestId: string,
  logUnexpected?: UnexpectedErrorLogger,
): APIGatewayProxyResult {
  if (error instanceof OAuthError) return errorPageResponse(400, error.description, requestId);
  if (error instanceof DependencyError) {
    return errorPageResponse(
      503,
      `Airlock could not reach its ${error.dependency}; try again shortly.`,
      requestId,
    );
  }
  logUnexpected?.('unexpected error in the OAuth entry point', error);
  return errorPageResponse(503, 'Airlock could not complete this step; try again shortly.', requestId);
}

function oauthErrorResponse(
  error: unknown,
  event: APIGatewayProxyEvent,
  requestId: string,
  logUnexpected?: UnexpectedErrorLogger,
): APIGatewayProxyResult {
  if (error instanceof OAuthError) {
    const headers: Record<string, string> = { ...NO_STORE };
    // RFC 6749 §5.2: a client that tried HTTP Basic is told so again with the 401.
    if (error.status === 401 && headerOf(event, 'authorization')) {
      headers['www-authenticate'] = 'Basic realm="airlock"';
    }
    if (error instanceof RegistrationRefusedError) headers['retry-after'] = String(error.retryAfterSeconds);
    return jsonResponse(error.status, error.toJSON(), headers);
  }
  if (error instanceof DependencyError) {
    return jsonResponse(
      503,
      {
        error: 'temporarily_unavailable',
        error_description: `Airlock could not reach its ${error.dependency}; try again shortly (request ${requestId}).`,
      },
      { 'retry-after': '5', ...NO_STORE },
    );
  }
  if (event.path === OAUTH_PATHS.mcp) return errorResponse(error, requestId, logUnexpected);
  logUnexpected?.('unexpected error in the OAuth entry point', error);
  return jsonResponse(503, {
    error: 'temporarily_unavailable',
    error_description: `Airlock could not complete the request; try again shortly (request ${requestId}).`,
  });
}

function bodyTextOf(event: APIGatewayProxyEvent, maxBytes: number): string {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw new OAuthError('invalid_request', `The request body is larger than ${maxBytes} bytes.`);
  }
  return text;
}

function jsonOf(event: APIGatewayProxyEvent, maxBytes: number): unknown {
  const contentType = headerOf(event, 'content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(contentType.trim())) {
    throw new OAuthError('invalid_client_metadata', 'Send the client metadata as application/json.');
  }
  try {
    return JSON.parse(bodyTextOf(event, maxBytes));
  } catch (cause) {
    if (cause instanceof OAuthError) throw cause;
    throw new OAuthError('invalid_client_metadata', 'The request body is not valid JSON.', { cause });
  }
}

/** RFC 6749 §3.1: a parameter sent twice is refused, not guessed at. */
function parametersOf(params: URLSearchParams): OAuthParameters {
  const result: Record<string, string> = {};
  for (const [name, value] of params) {
    if (Object.hasOwn(result, name))
      throw new OAuthError('invalid_request', `${name.slice(0, 40)} is sent more than once.`);
    result[name] = value;
  }
  return result;
}

function queryOf(event: APIGatewayProxyEvent): OAuthParameters {
  const params = new URLSearchParams();
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    for (const value of values ?? []) params.append(name, value);
  }
  if (!event.multiValueQueryStringParameters) {
    for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
      if (value !== undefined) params.append(name, value);
    }
  }
  return parametersOf(params);
}

function formOf(event: APIGatewayProxyEvent, maxBytes: number): OAuthParameters {
  const contentType = headerOf(event, 'content-type') ?? '';
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(contentType.trim())) {
    throw new OAuthError(
      'invalid_request',
      'Send the request as application/x-www-form-urlencoded (RFC 6749 §4.1.3).',
    );
  }
  return parametersOf(new URLSearchParams(bodyTextOf(event, maxBytes)));
}

function credentialsOf(event: APIGatewayProxyEvent): ClientCredentials {
  const header = headerOf(event, 'authorization');
  if (!header) return {};
  const match = /^Basic +([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (!match) throw new OAuthError('invalid_client', 'The Authorization header must use HTTP Basic.');
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) throw new OAuthError('invalid_client', 'The HTTP Basic credentials are malformed.');
  // RFC 6749 §2.3.1: client id and secret are form-encoded before Basic encoding.
  const decode = (value: string) => {
    try {
      return decodeURIComponent(value.replace(/\+/g, ' '));
    } catch {
      throw new OAuthError('invalid_client', 'The HTTP Basic credentials are malformed.');
    }
  };
  return {
    basic: { clientId: decode(decoded.slice(0, colon)), clientSecret: decode(decoded.slice(colon + 1)) },
  };
}
