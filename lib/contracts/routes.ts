/**
 * The HTTP routes of Airlock's two entry points, defined once. API Gateway's resources and methods
 * (lib/constructs), the handlers' dispatch (lambdas/*) and the local pilot's server (local/) are all
 * built from these tables, and test/contracts checks the three agree, paths included.
 */

/** The functions behind the routes. */
export type RouteFunction = 'broker' | 'connector' | 'approvals' | 'oauth';

/** What proves the caller before the handler acts. */
export type RouteAuthentication =
  /** The client certificate (mutual TLS) alone: identity is the certificate's subject. */
  | 'certificate'
  /** The client certificate and a bearer token bound to it (RFC 8705). */
  | 'certificate-bound-token'
  /** An OAuth access token of the certificate-less entry point. */
  | 'oauth-token'
  /** Nothing: discovery documents and the browser legs of an OAuth flow. */
  | 'none';

/** One method on one API Gateway resource. */
export interface RouteContract {
  /** Stable name of the route, used by handlers to dispatch. */
  readonly id: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** The API Gateway resource template: literal segments, `{name}` for one segment. */
  readonly resource: string;
  readonly function: RouteFunction;
  readonly authentication: RouteAuthentication;
}

/** The mutual-TLS API (`domain.name`): every route needs the device certificate. */
export const MTLS_ROUTES = [
  {
    id: 'issueCredential',
    method: 'POST',
    resource: '/v1/credentials',
    function: 'broker',
    authentication: 'certificate',
  },
  { id: 'health', method: 'GET', resource: '/v1/health', function: 'broker', authentication: 'certificate' },
  {
    id: 'callOperation',
    method: 'POST',
    resource: '/v1/connectors/{connector}/{operation}',
    function: 'connector',
    authentication: 'certificate-bound-token',
  },
  {
    id: 'mcp',
    method: 'POST',
    resource: '/v1/mcp',
    function: 'connector',
    authentication: 'certificate-bound-token',
  },
  // Stateless streamable HTTP: no SSE stream to GET, no session to DELETE. The function answers both
  // with 405 and `Allow: POST`, which MCP clients expect, instead of API Gateway's 403 for no route.
  {
    id: 'mcpStream',
    method: 'GET',
    resource: '/v1/mcp',
    function: 'connector',
    authentication: 'certificate-bound-token',
  },
  {
    id: 'mcpSession',
    method: 'DELETE',
    resource: '/v1/mcp',
    function: 'connector',
    authentication: 'certificate-bound-token',
  },
  {
    id: 'reportUsage',
    method: 'POST',
    resource: '/v1/usage',
    function: 'connector',
    authentication: 'certificate-bound-token',
  },
  {
    id: 'listApprovals',
    method: 'GET',
    resource: '/v1/approvals',
    function: 'approvals',
    authentication: 'certificate',
  },
  {
    id: 'showApproval',
    method: 'GET',
    resource: '/v1/approvals/{id}',
    function: 'approvals',
    authentication: 'certificate',
  },
  {
    id: 'decideApproval',
    method: 'POST',
    resource: '/v1/approvals/{id}/decision',
    function: 'approvals',
    authentication: 'certificate',
  },
] as const satisfies readonly RouteContract[];

/** Ids of the mutual-TLS routes. */
export type MtlsRouteId = (typeof MTLS_ROUTES)[number]['id'];

/** The routes one function serves. */
export function routesOf<R extends RouteContract, F extends RouteFunction>(
  routes: readonly R[],
  fn: F,
): Extract<R, { readonly function: F }>[] {
  return routes.filter((route): route is Extract<R, { readonly function: F }> => route.function === fn);
}

/** The path parameters of a resource template, e.g. `['connector', 'operation']`. */
export function pathParametersOf(resource: string): string[] {
  return [...resource.matchAll(/\{([A-Za-z0-9_]+)\+?\}/g)].map((match) => match[1]);
}

/**
 * The route an API Gateway proxy event was sent to (its `httpMethod` and `resource`, which API
 * Gateway and the local pilot both set to the matched template), or `undefined`.
 */
export function matchRoute<R extends RouteContract>(
  routes: readonly R[],
  event: { readonly httpMethod: string; readonly resource: string },
): R | undefined {
  return routes.find((route) => route.method === event.httpMethod && route.resource === event.resource);
}
