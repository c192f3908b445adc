/**
 * What Lambda bills for a warm call: each route's handler as its function composes it, fed the API
 * Gateway event a client's request becomes, timed in process from event to response. AWS is replaced
 * by the in-memory ports of bench-ports.ts, so the figure is Airlock's own work: in AWS each awaited
 * call (DynamoDB, KMS, S3, SSM when its cache is stale) adds its round trip to the billed duration.
 *
 * The modelled cost: Lambda bills memory × duration, rounded up to the next millisecond, so a route
 * costs at least (memory in GB) × 1 ms per call: GB-s per 1,000 calls = GB × billed ms.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { LocalTokenSigner } from '../lambdas/adapters/local/local-token-signer';
import { readPolicyFiles } from '../lambdas/adapters/policy-files';
import { composeApprovals } from '../lambdas/composition/compose-approvals';
import { composeBroker } from '../lambdas/composition/compose-broker';
import { composeConnector } from '../lambdas/composition/compose-connector';
import { SharedServices } from '../lambdas/composition/shared-services';
import {
  killSwitchParameterName,
  killSwitchPrefix,
  releasedKillSwitchValue,
} from '../lambdas/core/kill-switch';
import { DEFAULT_FUNCTION_MEMORY_MB } from '../lib/constructs/airlock-function';
import { LocalCertificateAuthority } from '../local/local-certificate-authority';
import { SAMPLE_RECEIPT_WITH_PERSONAL_DATA } from '../local/sample-receipts';
import { benchConfig, benchPorts } from './bench-ports';
import type { BenchRow } from './bench-row';

const WARM_UP = 300;
const SAMPLES = 2000;
/** Lambda's price per GB-s on arm64 (us-east-1 list price, first tier), for the note only. */
const USD_PER_GB_SECOND_ARM = 0.0000133334;

type Handler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

interface Route {
  readonly fn: 'broker' | 'connector' | 'approvals';
  readonly name: string;
  readonly handler: Handler;
  readonly event: () => APIGatewayProxyEvent;
  readonly status: number;
}

function apiEvent(
  method: string,
  resource: string,
  path: string,
  options: {
    certificatePem: string;
    token?: string;
    body?: unknown;
    pathParameters?: Record<string, string>;
    headers?: Record<string, string>;
  },
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {
    // API Gateway always sends Host; the MCP endpoint answers only to its own name.
    host: 'airlock.example.com',
    ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...options.headers,
  };
  return {
    httpMethod: method,
    resource,
    path,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: options.pathParameters ?? null,
    stageVariables: null,
    body: options.body === undefined ? null : JSON.stringify(options.body),
    isBase64Encoded: false,
    requestContext: {
      requestId: 'bench',
      domainName: 'airlock.example.com',
      identity: { clientCert: { clientCertPem: options.certificatePem } },
    } as unknown as APIGatewayProxyEvent['requestContext'],
  } as APIGatewayProxyEvent;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(route: Route): Promise<{ p50: number; p99: number }> {
  const call = async () => {
    const response = await route.handler(route.event());
    if (response.statusCode !== route.status) {
      throw new Error(
        `${route.name}: expected ${route.status}, got ${response.statusCode}: ${response.body}`,
      );
    }
  };
  for (let i = 0; i < WARM_UP; i++) await call();
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const start = performance.now();
    await call();
    samples.push(performance.now() - start);
    // As between two invocations, the event loop turns outside the timed part.
    await new Promise((resolve) => setImmediate(resolve));
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

export async function run(): Promise<BenchRow[]> {
  const config = benchConfig();
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = LocalTokenSigner.fromPrivateKey(privateKey);
  const ca = await LocalCertificateAuthority.createInMemory();
  const alice = (await ca.createClientCertificate('alice')).cert;
  const bob = (await ca.createClientCertificate('bob')).cert;
  const prefix = killSwitchPrefix(config.stage);
  const released = releasedKillSwitchValue('bench', new Date());
  const killSwitchValues: Record<string, string> = { [prefix]: released };
  for (const workflow of Object.keys(config.workflows)) {
    killSwitchValues[killSwitchParameterName(prefix, workflow)] = released;
  }
  const receipt = `HOTEL\nGuest: Alice Martin\nE-mail: alice.martin@example.com\nPhone: +44 20 7946 0958\n${'Room 412 GBP 165.00\n'.repeat(30)}`;
  // One set of services per function, as each function is its own process in Lambda.
  const servicesOf = (fn: string) =>
    new SharedServices(
      {
        config,
        policies: readPolicyFiles(),
        tokens: { issuer: 'https://bench', audience: 'https://bench/v1' },
        auditChainIds: [`bench-${fn}`],
        functionMemoryMb: DEFAULT_FUNCTION_MEMORY_MB,
        killSwitchPrefix: prefix,
        log: { warn: () => undefined, unexpected: () => undefined },
      },
      benchPorts({
        signer,
        killSwitchValues,
        fileStore: {
          list: async () => [{ key: SAMPLE_RECEIPT_WITH_PERSONAL_DATA, size: receipt.length }] as never,
          read: async (key) => ({ key, contentType: 'text/plain', content: Buffer.from(receipt) }),
        },
      }),
    );
  const broker = composeBroker(servicesOf('broker')).handler;
  const connector = composeConnector(servicesOf('connector')).handler;
  const approvals = composeApprovals(servicesOf('approvals')).handler;

  const issued = await broker(
    apiEvent('POST', '/v1/credentials', '/v1/credentials', {
      certificatePem: alice,
      body: { workflow: 'expense-summary', scopes: ['receipts:read'], durationMinutes: 60 },
    }),
  );
  const token = (JSON.parse(issued.body) as { accessToken: string }).accessToken;
  const operation = (name: string, params: unknown) =>
    apiEvent('POST', '/v1/connectors/{connector}/{operation}', `/v1/connectors/receipts/${name}`, {
      certificatePem: alice,
      token,
      body: params,
      pathParameters: { connector: 'receipts', operation: name },
    });
  const mcp = (method: string, params: unknown) =>
    apiEvent('POST', '/v1/mcp', '/v1/mcp', {
      certificatePem: alice,
      token,
      body: { jsonrpc: '2.0', id: 1, method, params },
      headers: { accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
    });
  const tools = await connector(mcp('tools/list', {}));
  const readTool = (JSON.parse(tools.body) as { result: { tools: { name: string }[] } }).result.tools
    .map((t) => t.name)
    .find((name) => name.includes('receipts') && name.includes('read'));
  if (!readTool) throw new Error(`no MCP tool reads receipts: ${tools.body.slice(0, 300)}`);

  const routes: Route[] = [
    {
      fn: 'broker',
      name: 'GET /v1/health',
      handler: broker,
      event: () => apiEvent('GET', '/v1/health', '/v1/health', { certificatePem: alice }),
      status: 200,
    },
    {
      fn: 'broker',
      name: 'POST /v1/credentials',
      handler: broker,
      event: () =>
        apiEvent('POST', '/v1/credentials', '/v1/credentials', {
          certificatePem: alice,
          body: { workflow: 'expense-summary', scopes: ['receipts:read'], durationMinutes: 60 },
        }),
      status: 201,
    },
    {
      fn: 'connector',
      name: 'POST /v1/connectors/receipts/read',
      handler: connector,
      event: () => operation('read', { key: SAMPLE_RECEIPT_WITH_PERSONAL_DATA }),
      status: 200,
    },
    {
      fn: 'connector',
      name: 'POST /v1/connectors/receipts/list',
      handler: connector,
      event: () => operation('list', {}),
      status: 200,
    },
    {
      fn: 'connector',
      name: 'POST /v1/mcp tools/call (receipts read)',
      handler: connector,
      event: () =>
        mcp('tools/call', { name: readTool, arguments: { key: SAMPLE_RECEIPT_WITH_PERSONAL_DATA } }),
      status: 200,
    },
    {
      fn: 'approvals',
      name: 'GET /v1/approvals',
      handler: approvals,
      event: () => apiEvent('GET', '/v1/approvals', '/v1/approvals', { certificatePem: bob }),
      status: 200,
    },
  ];

  const rows: BenchRow[] = [];
  const gb = DEFAULT_FUNCTION_MEMORY_MB / 1024;
  for (const route of routes) {
    const { p50, p99 } = await measure(route);
    const billedMs = Math.ceil(p50);
    rows.push({
      name: `${route.fn} ${route.name} warm`,
      value: p50 * 1000,
      unit: 'µs',
      note: `p50, in process, AWS calls excluded; p99 ${Math.round(p99 * 1000)} µs; ${SAMPLES} calls after ${WARM_UP}`,
    });
    rows.push({
      name: `${route.fn} ${route.name} GB-s per 1,000 calls`,
      value: gb * billedMs,
      unit: 'GB-s',
      note: `${DEFAULT_FUNCTION_MEMORY_MB} MB × ${billedMs} ms billed (p50 rounded up) × 1,000; ≈ $${((gb * billedMs * USD_PER_GB_SECOND_ARM * 1e6) / 1000).toPrecision(2)} per million calls on arm64 before AWS round trips and the request fee`,
    });
  }
  return rows;
}
