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
  | 'none'
  /**
   * An approver's session cookie from a sign-in at the corporate IdP (the approvals page): the
   * function checks it, and a request without one is sent to sign in.
   */
  | 'approver-session';

/** One method on one API Gateway resource. */
export interface RouteContract {
  /** Stable name of the route, used by handlers to dispatch. */
  readonly id: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** The API Gateway resource template: literal segments, `{name}` for one segment. */
  readonly resource: string;
  readonly function: RouteFunction;
  readonly authentication: RouteAuthentication;
  /**
   * What the gateway checks of the request body before the function sees it: a JSON object (the
   * request validator's model), or nothing (JSON-RPC, which the MCP server validates; forms; GETs).
   * @default 'none'
   */
  readonly body?: 'json-object' | 'none';
  /**
   * The route is called by the MCP client vendor's servers, so `oauth.allowedSourceCidrs` guards it
   * (OAuth entry point only; browsers open the others from anywhere). @default false
   */
  readonly serverToServer?: boolean;
}

/** The mutual-TLS API (`domain.name`): every route needs the device certificate. */
export const MTLS_ROUTES = [
  {
    id: 'issueCredential',
    method: 'POST',
    resource: '/v1/credentials',
    function: 'broker',
    authentication: 'certificate',
    body: 'json-object',
  },
  { id: 'health', method: 'GET', resource: '/v1/health', function: 'broker', authentication: 'certificate' },
  {
    id: 'callOperation',
    method: 'POST',
    resource: '/v1/connectors/{connector}/{operation}',
    function: 'connector',
    authentication: 'certificate-bound-token',
    body: 'json-object',
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
    body: 'json-object',
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
    body: 'json-object',
  },
] as const satisfies readonly RouteContract[];

/** The paths of the OAuth entry point (`oauth.publicUrl`), by what they serve. */
export const OAUTH_PATHS = {
  mcp: '/v1/mcp',
  resourceMetadata: '/.well-known/oauth-protected-resource/v1/mcp',
  resourceMetadataRoot: '/.well-known/oauth-protected-resource',
  authorizationServerMetadata: '/.well-known/oauth-authorization-server',
  authorization: '/oauth/authorize',
  token: '/oauth/token',
  registration: '/oauth/register',
  revocation: '/oauth/revoke',
  idpCallback: '/oauth/callback',
  consent: '/oauth/consent',
  jwks: '/oauth/jwks',
} as const;

/**
 * The approvals page on the certificate-less entry point: approvers sign in at the corporate IdP in a
 * browser, so no device certificate is needed to decide a held call. Served by the approvals function.
 */
export const APPROVALS_PAGE_PATHS = {
  list: '/approvals',
  approval: '/approvals/{id}',
  signIn: '/approvals/sign-in',
  callback: '/approvals/callback',
  signOut: '/approvals/sign-out',
} as const;

/**
 * The certificate-less entry point (`oauth.publicUrl`): the OAuth routes, the MCP endpoint and the
 * approvals page (browsers signed in at the IdP), and nothing else; every other route stays behind mutual TLS.
 */
export const OAUTH_ROUTES = [
  {
    id: 'resourceMetadataRoot',
    method: 'GET',
    resource: OAUTH_PATHS.resourceMetadataRoot,
    function: 'oauth',
    authentication: 'none',
  },
  {
    id: 'resourceMetadata',
    method: 'GET',
    resource: OAUTH_PATHS.resourceMetadata,
    function: 'oauth',
    authentication: 'none',
  },
  {
    id: 'authorizationServerMetadata',
    method: 'GET',
    resource: OAUTH_PATHS.authorizationServerMetadata,
    function: 'oauth',
    authentication: 'none',
  },
  {
    id: 'register',
    method: 'POST',
    resource: OAUTH_PATHS.registration,
    function: 'oauth',
    authentication: 'none',
    // Client metadata must be a JSON object; token and revocation are forms, checked by the function.
    body: 'json-object',
    serverToServer: true,
  },
  {
    id: 'authorize',
    method: 'GET',
    resource: OAUTH_PATHS.authorization,
    function: 'oauth',
    authentication: 'none',
  },
  {
    id: 'idpCallback',
    method: 'GET',
    resource: OAUTH_PATHS.idpCallback,
    function: 'oauth',
    authentication: 'none',
  },
  { id: 'consent', method: 'POST', resource: OAUTH_PATHS.consent, function: 'oauth', authentication: 'none' },
  { id: 'jwks', method: 'GET', resource: OAUTH_PATHS.jwks, function: 'oauth', authentication: 'none' },
  {
    id: 'token',
    method: 'POST',
    resource: OAUTH_PATHS.token,
    function: 'oauth',
    authentication: 'none',
    serverToServer: true,
  },
  {
    id: 'revoke',
    method: 'POST',
    resource: OAUTH_PATHS.revocation,
    function: 'oauth',
    authentication: 'none',
  },
  {
    id: 'mcp',
    method: 'POST',
    resource: OAUTH_PATHS.mcp,
    function: 'oauth',
    authentication: 'oauth-token',
    serverToServer: true,
  },
  {
    id: 'approvalsPage',
    method: 'GET',
    resource: APPROVALS_PAGE_PATHS.list,
    function: 'approvals',
    authentication: 'approver-session',
  },
  {
    id: 'approvalPage',
    method: 'GET',
    resource: APPROVALS_PAGE_PATHS.approval,
    function: 'approvals',
    authentication: 'approver-session',
  },
  // The decision form posts to the approval's own page (a form, checked by the function).
  {
    id: 'approvalDecisionForm',
    method: 'POST',
    resource: APPROVALS_PAGE_PATHS.approval,
    function: 'approvals',
    authentication: 'approver-session',
  },
  {
    id: 'approverSignIn',
    method: 'GET',
    resource: APPROVALS_PAGE_PATHS.signIn,
    function: 'approvals',
    authentication: 'none',
  },
  {
    id: 'approverCallback',
    method: 'GET',
    resource: APPROVALS_PAGE_PATHS.callback,
    function: 'approvals',
    authentication: 'none',
  },
  {
    id: 'approverSignOut',
    method: 'POST',
    resource: APPROVALS_PAGE_PATHS.signOut,
    function: 'approvals',
    authentication: 'approver-session',
  },
  // Stateless MCP: no SSE stream to open and no session to end; both answer 405 with `Allow: POST`.
  {
    id: 'mcpStream',
    method: 'GET',
    resource: OAUTH_PATHS.mcp,
    function: 'oauth',
    authentication: 'none',
    serverToServer: true,
  },
  {
    id: 'mcpEnd',
    method: 'DELETE',
    resource: OAUTH_PATHS.mcp,
    function: 'oauth',
    authentication: 'none',
    serverToServer: true,
  },
] as const satisfies readonly RouteContract[];

/** The approvals page's routes (approvals function, certificate-less entry point). */
export type ApprovalsPageRouteId = Extract<(typeof OAUTH_ROUTES)[number], { function: 'approvals' }>['id'];

/** Ids of the OAuth entry point's routes. */
export type OAuthRouteId = (typeof OAUTH_ROUTES)[number]['id'];

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
