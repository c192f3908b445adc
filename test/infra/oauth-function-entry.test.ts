/**
 * The OAuth function's Lambda entry (lambdas/oauth/index.ts) wired as the stack deploys it: the
 * environment its bindings set and the config bundled next to it. Discovery and an unauthenticated
 * MCP call need no AWS call, so they run without a network; every AWS client is mocked to refuse,
 * so any call the entry makes that it should not shows up as a failure.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { oauthConfig, REPO_ROOT } from './airlock-test-app';

type Handler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

const ENVIRONMENT = {
  AWS_REGION: 'eu-west-1',
  AIRLOCK_STAGE: 'pilot',
  AIRLOCK_AUDIT_TABLE: 'audit',
  AIRLOCK_REVOCATIONS_TABLE: 'revocations',
  AIRLOCK_APPROVALS_TABLE: 'approvals',
  AIRLOCK_APPROVALS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111111111111:approvals',
  AIRLOCK_SIGNING_KEY_ID: 'arn:aws:kms:eu-west-1:111111111111:key/11111111-2222-3333-4444-555555555555',
  AIRLOCK_OAUTH_TABLE: 'oauth',
  AIRLOCK_COUNTERS_TABLE: 'counters',
  AIRLOCK_IDP_CLIENT_SECRET_ARN:
    'arn:aws:secretsmanager:eu-west-1:111111111111:secret:airlock/idp-client-AbCdEf',
  AIRLOCK_CONNECTORS: JSON.stringify({
    receipts: { bucket: 'receipts-bucket' },
    erp: {
      secretName: 'airlock/pilot/erp-client',
      secretArn: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:airlock/pilot/erp-client-AbCdEf',
    },
    // Only the OAuth workflow's connectors are bound (the stack binds no other workflow's).
  }),
};

function event(httpMethod: string, route: string, body: string | null = null): APIGatewayProxyEvent {
  return {
    resource: route,
    path: route,
    httpMethod,
    headers: body
      ? { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
      : {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1', identity: { sourceIp: '160.79.104.10' } },
  } as unknown as APIGatewayProxyEvent;
}

describe('Function: handler (lambdas/oauth/index.ts)', () => {
  let dir: string;
  const saved = { ...process.env };
  // Every client the entry creates, each refusing any call.
  const refusal = new Error('no AWS call is expected here');
  const clients = [
    mockClient(DynamoDBClient).onAnyCommand().rejects(refusal),
    mockClient(KMSClient).onAnyCommand().rejects(refusal),
    mockClient(S3Client).onAnyCommand().rejects(refusal),
    mockClient(SecretsManagerClient).onAnyCommand().rejects(refusal),
    mockClient(SNSClient).onAnyCommand().rejects(refusal),
    mockClient(SSMClient).onAnyCommand().rejects(refusal),
  ];

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'airlock-oauth-entry-'));
    const configFile = path.join(dir, 'airlock.config.json');
    writeFileSync(configFile, JSON.stringify(oauthConfig()));
    Object.assign(process.env, ENVIRONMENT, {
      AIRLOCK_CONFIG_FILE: configFile,
      AIRLOCK_POLICY_DIR: path.join(REPO_ROOT, 'policies'),
    });
  });

  afterAll(() => {
    process.env = saved;
    for (const mock of clients) mock.restore();
    rmSync(dir, { recursive: true, force: true });
  });

  const load = (): Handler => {
    let handler: Handler | undefined;
    jest.isolateModules(() => {
      handler = (require('../../lambdas/oauth/index') as { handler: Handler }).handler;
    });
    return handler as Handler;
  };

  it('publishes the authorization server metadata for the configured public URL', async () => {
    // Prepare
    const handler = load();

    // Act
    const response = await handler(event('GET', '/.well-known/oauth-authorization-server'));

    // Assess
    expect(response.statusCode).toBe(200);
    const metadata = JSON.parse(response.body);
    expect(metadata.issuer).toBe('https://mcp.airlock.example.com');
    expect(metadata.token_endpoint).toBe('https://mcp.airlock.example.com/oauth/token');
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
  });

  it('answers an MCP call without a token with 401 and the resource metadata URL', async () => {
    // Prepare
    const handler = load();
    const call = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });

    // Act
    const response = await handler(event('POST', '/v1/mcp', call));

    // Assess
    expect(response.statusCode).toBe(401);
    expect(response.headers?.['www-authenticate']).toContain(
      'resource_metadata="https://mcp.airlock.example.com/.well-known/oauth-protected-resource/v1/mcp"',
    );
  });

  it('refuses to start without the OAuth table its binding sets, naming the variable', () => {
    // Prepare
    delete process.env.AIRLOCK_OAUTH_TABLE;

    // Act
    const act = () => load();

    // Assess
    expect(act).toThrow(/environment variable AIRLOCK_OAUTH_TABLE is not set/);
    process.env.AIRLOCK_OAUTH_TABLE = ENVIRONMENT.AIRLOCK_OAUTH_TABLE;
  });
});
