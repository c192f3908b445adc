/**
 * The routes are defined once (lib/contracts/routes.ts), and three places must serve exactly those:
 * API Gateway's resources and methods in the synthesized template, each function's handler, and the
 * local pilot's server. A route added, renamed or moved in one place only fails here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createApprovalsHandler } from '../../lambdas/approvals/approvals-handler';
import { createApprovalsPageHandler } from '../../lambdas/approvals/approvals-page-handler';
import { type ApiHandler, createBrokerHandler } from '../../lambdas/broker/broker-handler';
import { createConnectorHandler } from '../../lambdas/connector/connector-handler';
import { createOAuthHandler } from '../../lambdas/oauth/oauth-handler';
import {
  MTLS_ROUTES,
  OAUTH_ROUTES,
  type RouteContract,
  type RouteFunction,
  routesOf,
} from '../../lib/contracts/routes';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import { e2eClientFor } from '../e2e/e2e-client';
import { oauthConfig, synthesizeAirlock } from '../infra/airlock-test-app';

type CfnResource = { Type: string; Properties: Record<string, unknown> };

/** `METHOD /path -> function` for every method of one REST API (by logical id) in a template. */
function apiGatewayRoutes(resources: Record<string, CfnResource>, restApi?: string): string[] {
  const paths = new Map<string, string>();
  const pathOf = (id: string): string => {
    const known = paths.get(id);
    if (known !== undefined) return known;
    const props = resources[id].Properties;
    const parent = props.ParentId as { Ref?: string };
    const parentPath = parent.Ref ? pathOf(parent.Ref) : '';
    const path = `${parentPath}/${props.PathPart as string}`;
    paths.set(id, path);
    return path;
  };
  const routes: string[] = [];
  for (const method of Object.values(resources)) {
    if (method.Type !== 'AWS::ApiGateway::Method') continue;
    const props = method.Properties;
    if (restApi && (props.RestApiId as { Ref?: string }).Ref !== restApi) continue;
    if (props.HttpMethod === 'OPTIONS') continue;
    const resourceId = props.ResourceId as { Ref?: string };
    const path = resourceId.Ref ? pathOf(resourceId.Ref) : '/';
    const uri = JSON.stringify((props.Integration as { Uri?: unknown })?.Uri ?? '');
    const fn = /"(Broker|Connector|Approvals|OAuth)[A-Za-z0-9]*"/.exec(uri)?.[1]?.toLowerCase() ?? 'none';
    routes.push(`${props.HttpMethod as string} ${path} -> ${fn}`);
  }
  return routes.sort();
}

const contract = (routes: readonly RouteContract[]) =>
  routes.map((route) => `${route.method} ${route.resource} -> ${route.function}`).sort();

function eventFor(route: Pick<RouteContract, 'method' | 'resource'>): APIGatewayProxyEvent {
  return {
    resource: route.resource,
    path: route.resource.replace(/\{[^}]+\}/g, 'x'),
    httpMethod: route.method,
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: 'route-contract', identity: {} },
  } as unknown as APIGatewayProxyEvent;
}

describe('Contract: the routes', () => {
  it('API Gateway serves exactly the contract routes, each by its function', () => {
    // Act
    const { apiTemplate } = synthesizeAirlock();
    const resources = apiTemplate.toJSON().Resources as Record<string, CfnResource>;
    const restApis = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::ApiGateway::RestApi');

    // Assess
    expect(restApis).toHaveLength(1);
    expect(apiGatewayRoutes(resources)).toEqual(contract(MTLS_ROUTES));
  });

  it('the OAuth entry point serves exactly its contract routes, on its own API', () => {
    // Act
    const { apiTemplate } = synthesizeAirlock(oauthConfig());
    const resources = apiTemplate.toJSON().Resources as Record<string, CfnResource>;
    const restApis = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::ApiGateway::RestApi')
      .map(([id]) => id);
    const oauthApi = restApis.find((id) => id.startsWith('OAuthApi'));

    // Assess
    expect(restApis).toHaveLength(2);
    expect(apiGatewayRoutes(resources, oauthApi)).toEqual(contract(OAUTH_ROUTES));
    const mtlsApi = restApis.find((id) => id !== oauthApi);
    expect(apiGatewayRoutes(resources, mtlsApi)).toEqual(contract(MTLS_ROUTES));
  });

  it('the OAuth handler answers every route of its contract, and no other', async () => {
    // Prepare: a server whose every method fails, so a routed request is refused by the endpoint, never 404
    const never = new Proxy(
      {
        endpoints: {
          resource: 'https://mcp.example.com/v1/mcp',
          resourceMetadata: 'https://mcp.example.com/x',
        },
      },
      {
        get: (target, name) =>
          name in target
            ? (target as Record<string | symbol, unknown>)[name]
            : () => {
                throw new Error('not reached');
              },
      },
    ) as never;
    const handler = createOAuthHandler({ server: never, mcp: async () => ({ statusCode: 405, body: '{}' }) });

    // Act / Assess
    for (const route of routesOf(OAUTH_ROUTES, 'oauth')) {
      const response = await handler(eventFor(route));
      expect([route.id, response.statusCode]).not.toEqual([route.id, 404]);
    }
    for (const route of routesOf(OAUTH_ROUTES, 'approvals')) {
      const response = await handler(eventFor(route));
      expect([route.id, response.statusCode]).toEqual([route.id, 404]);
    }
    for (const route of MTLS_ROUTES) {
      const response = await handler(eventFor(route));
      if (!OAUTH_ROUTES.some((o) => o.method === route.method && o.resource === route.resource)) {
        expect([route.id, response.statusCode]).toEqual([route.id, 404]);
      }
    }
  });

  it('the approvals page answers every approvals route of the OAuth entry point, and no other', async () => {
    // Prepare: a page whose dependencies are never reached beyond the cookie check (no session: sign in)
    const never = new Proxy({}, { get: () => () => Promise.reject(new Error('not reached')) }) as never;
    const page = createApprovalsPageHandler({
      desk: never,
      ledger: { append: async () => undefined } as never,
      killSwitch: never,
      config: never,
      oauth: { publicUrl: 'https://mcp.example.com', identityProvider: never },
      identityProvider: { authorizationUrl: async () => 'https://idp.example.com/auth', signIn: never },
      macKey: { generateMac: async () => new Uint8Array(32), verifyMac: async () => false },
      clock: { now: () => new Date() },
      maxBodyBytes: 1024,
    });

    // Act / Assess: every approvals route is answered by the page (a sign-in, a refusal), never "no page"
    for (const route of OAUTH_ROUTES) {
      const response = await page(eventFor(route));
      if (route.function === 'approvals')
        expect([route.id, response.body]).not.toEqual([route.id, expect.stringMatching(/There is no page/)]);
      else expect([route.id, response.body]).toEqual([route.id, expect.stringMatching(/There is no page/)]);
    }
  });

  it('each function answers every route the contract gives it, and no other', async () => {
    // Prepare: handlers whose dependencies are never reached (no certificate: refused at the door)
    const never = new Proxy({}, { get: () => () => Promise.reject(new Error('not reached')) }) as never;
    const handlers: Record<Exclude<RouteFunction, 'oauth'>, ApiHandler> = {
      broker: createBrokerHandler({ broker: never, killSwitch: never, workflows: {}, maxBodyBytes: 1024 }),
      connector: createConnectorHandler({
        authenticator: never,
        proxy: never,
        usage: never,
        maxBodyBytes: 1024,
        mcp: async () => ({ statusCode: 401, body: '{}' }),
      }),
      approvals: createApprovalsHandler({
        desk: never,
        ledger: never,
        killSwitch: never,
        config: never,
        maxBodyBytes: 1024,
      }),
    };

    // Act / Assess
    for (const [fn, handler] of Object.entries(handlers)) {
      for (const route of MTLS_ROUTES) {
        const response = await handler(eventFor(route));
        const body = JSON.parse(response.body) as { error?: { code?: string } };
        if (route.function === fn) expect([route.id, body.error?.code]).not.toEqual([route.id, 'not_found']);
        else expect([route.id, body.error?.code]).toEqual([route.id, 'not_found']);
      }
    }
  });

  describe('the local pilot', () => {
    let home: string;
    let pilot: LocalPilot;

    beforeAll(async () => {
      home = await mkdtemp(join(tmpdir(), 'airlock-routes-'));
      pilot = await startLocalPilot({ home, port: 0 });
    });

    afterAll(async () => {
      await pilot?.close();
      await rm(home, { recursive: true, force: true });
    });

    it('serves every contract route (a request without a token is refused by the handler, not the router)', async () => {
      // Prepare
      const alice = e2eClientFor(pilot, 'alice');

      try {
        for (const route of MTLS_ROUTES) {
          // Act
          const path = route.resource
            .replace('{connector}', 'receipts')
            .replace('{operation}', 'list')
            .replace('{id}', 'apr_0');
          const response = await alice.request(route.method, path, {
            body: route.method === 'POST' ? {} : undefined,
          });

          // Assess: the router found it (no "No route" 404), the handler answered in the contract
          // (for GET and DELETE /v1/mcp that is the MCP endpoint's own 405 with Allow: POST)
          expect([route.id, response.json?.error?.message ?? '']).not.toEqual([
            route.id,
            expect.stringMatching(/^No route|There is no route/),
          ]);
          if (route.id === 'mcpStream' || route.id === 'mcpSession') {
            expect([route.id, response.status, response.headers.allow]).toEqual([route.id, 405, 'POST']);
          } else {
            expect(response.status).not.toBe(405);
          }
        }
        const unknown = await alice.request('GET', '/v1/nothing-here');
        expect(unknown.status).toBe(404);
      } finally {
        alice.close();
      }
    });
  });
});
