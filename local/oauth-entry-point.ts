/**
 * The local pilot's second entry point: HTTPS on loopback WITHOUT client certificates, serving only
 * the OAuth routes and `POST /v1/mcp` authenticated by OAuth access tokens (as the second custom
 * domain does in AWS). Remote MCP connectors (Claude Cowork, Claude Desktop, claude.ai) cannot present
 * a device certificate; here they sign in at the corporate IdP instead.
 *
 * Everything behind the routes is the pilot's own: the same signer, policy, revocation guard,
 * ledger and connector pipeline, plus the OAuth table in the same dynalite.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { DynamoDbOAuthStore, OAUTH_TABLE } from '../lambdas/adapters/aws/dynamodb-oauth-store';
import { createMcpHandler, type McpConnectorProxy } from '../lambdas/connector/mcp-endpoint';
import type { AuditEvent } from '../lambdas/core/audit-record';
import {
  type ClientMetadataFetcher,
  type CorporateIdentityProvider,
  OAuthAuthorizationServer,
} from '../lambdas/core/oauth/authorization-server';
import { OAUTH_PATHS } from '../lambdas/core/oauth/oauth-metadata';
import type { PolicyEngine } from '../lambdas/core/policy-engine';
import type { Clock, SecretSource, TokenSigner } from '../lambdas/core/ports';
import type { RevocationGuard } from '../lambdas/core/revocation-guard';
import { createClientMetadataFetcher } from '../lambdas/oauth/client-metadata-fetcher';
import { createOAuthHandler, oauthAuthenticator } from '../lambdas/oauth/oauth-handler';
import { createOidcIdentityProvider } from '../lambdas/oauth/oidc-identity-provider';
import type { OAuthConfig } from '../lib/config/oauth-schema';
import type { AirlockConfig } from '../lib/config/schema';
import { type LocalIdentityProvider, startLocalIdentityProvider } from './local-identity-provider';

/** The local pilot's OAuth table (the lead's LOCAL_TABLES may adopt the name). */
export const LOCAL_OAUTH_TABLE = 'airlock-oauth';

export interface OAuthEntryPointOptions {
  /** The pilot's server TLS material (the local CA's server certificate). */
  readonly tls: { readonly cert: string; readonly key: string };
  /** @default 8444; 0 picks a free port */
  readonly port?: number;
  readonly config: AirlockConfig;
  /** The `oauth` section; its `publicUrl` is replaced by this server's own URL. */
  readonly oauth: OAuthConfig;
  readonly signer: TokenSigner;
  readonly policy: Pick<PolicyEngine, 'decide'>;
  /** The pilot's revocation guard: the kill switch, revocations and suspensions. */
  readonly guard: Pick<RevocationGuard, 'check' | 'admitIssuance' | 'admitToken'>;
  readonly ledger: { append(event: AuditEvent): Promise<unknown> };
  /** The connector pipeline (the pilot's ConnectorProxy). */
  readonly proxy: Pick<McpConnectorProxy, 'availableOperations' | 'call'>;
  /** The pilot's dynalite client; the OAuth table is created in it when missing. */
  readonly dynamo: DynamoDBClient;
  /** Where the IdP client secret is read (`oauth.identityProvider.clientSecretName`). */
  readonly secrets: SecretSource;
  readonly clock: Clock;
  /**
   * The corporate IdP. @default a local OIDC provider (local-identity-provider.ts) on loopback whose
   * users are the config's principals, standing in for `oauth.identityProvider.issuer`
   */
  readonly identityProvider?: CorporateIdentityProvider;
  /** Port of the local IdP. @default 8445, or a free port when `port` is 0 */
  readonly identityProviderPort?: number;
  /** @default https fetch of the document */
  readonly fetchClientMetadata?: ClientMetadataFetcher;
  /** @default 16_384 */
  readonly maxBodyBytes?: number;
  readonly log?: (line: string) => void;
}

export interface OAuthEntryPoint {
  /** e.g. https://127.0.0.1:8444 (the authorization server's issuer). */
  readonly url: string;
  /** The MCP resource: `<url>/v1/mcp`. */
  readonly mcpUrl: string;
  readonly port: number;
  readonly server: OAuthAuthorizationServer;
  /** The local IdP, unless the caller gave an identity provider. */
  readonly localIdentityProvider?: LocalIdentityProvider;
  close(): Promise<void>;
}

const ROUTES = new Set<string>([
  `GET ${OAUTH_PATHS.resourceMetadata}`,
  `GET ${OAUTH_PATHS.resourceMetadataRoot}`,
  `GET ${OAUTH_PATHS.authorizationServerMetadata}`,
  `POST ${OAUTH_PATHS.registration}`,
  `GET ${OAUTH_PATHS.authorization}`,
  `GET ${OAUTH_PATHS.idpCallback}`,
  `POST ${OAUTH_PATHS.consent}`,
  `GET ${OAUTH_PATHS.jwks}`,
  `POST ${OAUTH_PATHS.token}`,
  `POST ${OAUTH_PATHS.revocation}`,
  `POST ${OAUTH_PATHS.mcp}`,
  `GET ${OAUTH_PATHS.mcp}`,
  `DELETE ${OAUTH_PATHS.mcp}`,
]);

/** Starts the certificate-less entry point on 127.0.0.1. Resolves once it accepts connections. */
export async function startOAuthEntryPoint(options: OAuthEntryPointOptions): Promise<OAuthEntryPoint> {
  const log = options.log ?? (() => undefined);
  const maxBodyBytes = options.maxBodyBytes ?? 16_384;
  await ensureOAuthTable(options.dynamo);
  const doc = DynamoDBDocumentClient.from(options.dynamo, {
    marshallOptions: { removeUndefinedValues: true },
  });

  let handle: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> = async () => ({
    statusCode: 503,
    body: '{"error":"temporarily_unavailable"}',
  });
  const https: Server = createServer(
    { cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' },
    (req, res) => {
      serve(req, res, handle, maxBodyBytes, log).catch(() => res.destroy());
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    https.once('error', reject);
    https.listen(options.port ?? 8444, '127.0.0.1', () => {
      const address = https.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
  const url = `https://127.0.0.1:${port}`;
  let oauth: OAuthConfig = { ...options.oauth, publicUrl: url };
  let identityProvider = options.identityProvider;
  let localIdentityProvider: LocalIdentityProvider | undefined;
  if (!identityProvider) {
    // As the sample ERP stands in for the ERP, a local OIDC provider stands in for the corporate IdP.
    try {
      localIdentityProvider = await startLocalIdentityProvider({
        config: options.config,
        identityProvider: options.oauth.identityProvider,
        redirectUri: `${url}${OAUTH_PATHS.idpCallback}`,
        port: options.identityProviderPort ?? (options.port === 0 ? 0 : 8445),
      });
    } catch (error) {
      https.closeAllConnections();
      https.close();
      doc.destroy();
      throw error;
    }
    const local = localIdentityProvider;
    oauth = { ...oauth, identityProvider: { ...oauth.identityProvider, issuer: local.issuer } };
    identityProvider = createOidcIdentityProvider({
      config: oauth.identityProvider,
      secrets: { getJson: async () => ({ clientSecret: local.clientSecret }) },
    });
    log(
      `Local identity provider (oidc-provider) on ${local.issuer}, standing in for ${options.oauth.identityProvider.issuer}; users: ${Object.keys(local.users).join(', ')}`,
    );
  }
  const server = new OAuthAuthorizationServer({
    config: options.config,
    oauth,
    store: new DynamoDbOAuthStore({ client: doc, tableName: LOCAL_OAUTH_TABLE, clock: options.clock }),
    identityProvider,
    fetchClientMetadata: options.fetchClientMetadata ?? createClientMetadataFetcher(),
    signer: options.signer,
    policy: options.policy,
    guard: options.guard,
    ledger: options.ledger,
    clock: options.clock,
    clockSkewSeconds: options.config.tokens.clockSkewSeconds,
  });
  const logUnexpected = (message: string, error: unknown) =>
    log(`${message}: ${(error as Error)?.name ?? 'Error'}: ${(error as Error)?.message ?? String(error)}`);
  handle = createOAuthHandler({
    server,
    mcp: createMcpHandler({
      authenticator: oauthAuthenticator(server),
      proxy: options.proxy,
      config: options.config,
      logUnexpected,
    }),
    maxBodyBytes,
    logUnexpected,
  });
  log(`OAuth entry point for remote MCP connectors on ${url} (MCP resource ${url}${OAUTH_PATHS.mcp})`);
  return {
    url,
    mcpUrl: `${url}${OAUTH_PATHS.mcp}`,
    port,
    server,
    localIdentityProvider,
    close: async () => {
      await new Promise<void>((resolve) => {
        https.closeAllConnections();
        https.close(() => {
          doc.destroy();
          resolve();
        });
      });
      await localIdentityProvider?.close();
    },
  };
}

/** Creates the OAuth table in dynalite (the CDK construct creates it in AWS). */
export async function ensureOAuthTable(dynamo: DynamoDBClient): Promise<void> {
  try {
    await dynamo.send(
      new CreateTableCommand({
        TableName: LOCAL_OAUTH_TABLE,
        AttributeDefinitions: [{ AttributeName: OAUTH_TABLE.partitionKey, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: OAUTH_TABLE.partitionKey, KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceInUseException') throw error;
  }
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  handle: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>,
  maxBodyBytes: number,
  log: (line: string) => void,
): Promise<void> {
  const requestId = randomUUID();
  const started = performance.now();
  const url = new URL(req.url ?? '/', 'https://localhost');
  const method = req.method ?? 'GET';
  if (!ROUTES.has(`${method} ${url.pathname}`)) {
    // Only the OAuth routes and /v1/mcp exist here; everything else stays behind mutual TLS.
    send(
      res,
      {
        statusCode: 404,
        body: JSON.stringify({
          error: {
            code: 'not_found',
            message: `There is no route ${method} ${url.pathname} on the OAuth entry point.`,
            requestId,
          },
        }),
      },
      requestId,
    );
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes * 4) {
      send(
        res,
        {
          statusCode: 413,
          body: JSON.stringify({
            error: 'invalid_request',
            error_description: 'The request body is too large.',
          }),
        },
        requestId,
      );
      return;
    }
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks).toString('utf8');
  const result = await handle(toEvent(req, url, body, requestId)).catch(() => ({
    statusCode: 500,
    body: JSON.stringify({
      error: 'server_error',
      error_description: `Airlock failed unexpectedly (request ${requestId}).`,
    }),
  }));
  send(res, result, requestId);
  log(
    `oauth ${method} ${url.pathname} ${result.statusCode} ${(performance.now() - started).toFixed(1)}ms ${requestId}`,
  );
}

function toEvent(req: IncomingMessage, url: URL, body: string, requestId: string): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    headers[name] = req.rawHeaders[i + 1];
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), req.rawHeaders[i + 1]];
  }
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    single[name] = value;
    multi[name] = [...(multi[name] ?? []), value];
  }
  const hasQuery = Object.keys(single).length > 0;
  return {
    resource: url.pathname,
    path: url.pathname,
    httpMethod: req.method ?? 'GET',
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? single : null,
    multiValueQueryStringParameters: hasQuery ? multi : null,
    pathParameters: null,
    stageVariables: null,
    body: body === '' ? null : body,
    isBase64Encoded: false,
    requestContext: {
      requestId,
      domainName: (req.headers.host ?? '127.0.0.1').replace(/:\d+$/, ''),
      path: url.pathname,
      httpMethod: req.method ?? 'GET',
      stage: 'local',
      identity: { sourceIp: req.socket.remoteAddress ?? '', clientCert: null },
    },
  } as unknown as APIGatewayProxyEvent;
}

function send(res: ServerResponse, result: APIGatewayProxyResult, requestId: string): void {
  const body = Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    if (!['content-length', 'transfer-encoding'].includes(name.toLowerCase())) headers[name] = String(value);
  }
  if (!Object.keys(headers).some((n) => n.toLowerCase() === 'content-type') && body.length > 0) {
    headers['content-type'] = 'application/json';
  }
  const multi: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    multi[name] = (values ?? []).map(String);
  }
  res.writeHead(result.statusCode, {
    ...headers,
    ...multi,
    'content-length': String(body.length),
    'x-amzn-requestid': requestId,
  });
  res.end(body);
}
