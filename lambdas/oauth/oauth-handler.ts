/**
 * The routes of the certificate-less OAuth entry point for remote MCP connectors: discovery
 * (RFC 9728, RFC 8414), registration (RFC 7591), authorization, the IdP callback, token, revocation
 * (RFC 7009), and `POST /v1/mcp` authenticated by an OAuth access token. Thin: read the event, call
 * {@link OAuthAuthorizationServer}, map typed errors to OAuth error responses. The same handler runs
 * in Lambda (behind the second custom domain) and in the local pilot's OAuth entry point.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { McpHandler } from '../connector/mcp-endpoint';
import { bearerTokenOf, headerOf, requestIdOf } from '../core/api-request';
import { errorResponse, jsonResponse, type UnexpectedErrorLogger } from '../core/api-response';
import type { Authenticator } from '../core/caller';
import { DependencyError } from '../core/errors';
import type {
  ClientCredentials,
  OAuthAuthorizationServer,
  OAuthParameters,
} from '../core/oauth/authorization-server';
import { OAuthError } from '../core/oauth/oauth-error';
import { bearerChallenge, OAUTH_PATHS } from '../core/oauth/oauth-metadata';

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

/**
 * The OAuth entry point's authenticator: identity comes only from the OAuth access token (there is
 * no client certificate on this entry point), checked by {@link OAuthAuthorizationServer.authenticate}.
 */
export function oauthAuthenticator(server: Pick<OAuthAuthorizationServer, 'authenticate'>): Authenticator {
  return { authenticate: (request) => server.authenticate(bearerTokenOf(request)) };
}

/** Creates the OAuth entry point's handler. */
export function createOAuthHandler(deps: OAuthHandlerDeps): OAuthHandler {
  const maxBodyBytes = deps.maxBodyBytes ?? 16_384;
  const { server } = deps;
  return async (event) => {
    const requestId = requestIdOf(event);
    const route = `${event.httpMethod} ${event.path}`;
    try {
      switch (route) {
        case `GET ${OAUTH_PATHS.resourceMetadata}`:
        case `GET ${OAUTH_PATHS.resourceMetadataRoot}`:
          return jsonResponse(200, server.resourceMetadata(), { 'cache-control': 'max-age=300' });
        case `GET ${OAUTH_PATHS.authorizationServerMetadata}`:
          return jsonResponse(200, server.serverMetadata(), { 'cache-control': 'max-age=300' });
        case `POST ${OAUTH_PATHS.registration}`:
          return jsonResponse(201, await server.register(jsonOf(event, maxBodyBytes)), NO_STORE);
        case `GET ${OAUTH_PATHS.authorization}`:
          return redirect(await server.authorize(queryOf(event)));
        case `GET ${OAUTH_PATHS.idpCallback}`:
          return redirect(await server.completeSignIn(queryOf(event), requestId));
        case `POST ${OAUTH_PATHS.token}`:
          return jsonResponse(
            200,
            await server.token(formOf(event, maxBodyBytes), credentialsOf(event), requestId),
            NO_STORE,
          );
        case `POST ${OAUTH_PATHS.revocation}`:
          await server.revoke(formOf(event, maxBodyBytes), credentialsOf(event), requestId);
          return jsonResponse(200, {}, NO_STORE);
        case `POST ${OAUTH_PATHS.mcp}`:
        case `GET ${OAUTH_PATHS.mcp}`:
        case `DELETE ${OAUTH_PATHS.mcp}`:
          return await mcp(deps, event);
        default:
          return jsonResponse(404, {
            error: {
              code: 'not_found',
              message: `There is no route ${route} on the OAuth entry point.`,
              requestId,
            },
          });
      }
    } catch (error) {
      return oauthErrorResponse(error, event, requestId, deps.logUnexpected);
    }
  };
}

async function mcp(deps: OAuthHandlerDeps, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const result = await deps.mcp(event);
  if (result.statusCode !== 401) return result;
  // RFC 9728 §5.1: the 401 tells the client where to learn how to get a token.
  const headers = Object.fromEntries(
    Object.entries(result.headers ?? {}).filter(([name]) => name.toLowerCase() !== 'www-authenticate'),
  );
  const error = headerOf(event, 'authorization') ? 'invalid_token' : undefined;
  return {
    ...result,
    headers: { ...headers, 'www-authenticate': bearerChallenge(deps.server.endpoints, error) },
  };
}

function redirect(location: string): APIGatewayProxyResult {
  return { statusCode: 302, headers: { location, ...NO_STORE }, body: '' };
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
    if (error.status === 401) headers['www-authenticate'] = 'Basic realm="airlock"';
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
  return jsonResponse(500, {
    error: 'server_error',
    error_description: `Airlock failed unexpectedly (request ${requestId}).`,
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
