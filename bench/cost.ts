/**
 * Cost per million tool calls, from the same cost model the functions meter with
 * (lambdas/core/cost-estimate.ts over the example config's prices), beside Amazon Bedrock AgentCore
 * Gateway's published price for the same work: each tool call through the gateway ($5 per million
 * tool invocations) with a Cedar authorization by AgentCore Policy ($25 per million).
 *
 * The work: the example workflow's MCP `receipts/read` call (a tools/call over POST /v1/mcp), with
 * the token request that starts each run spread over its calls. Assumptions are printed beside the rows.
 */
import { estimateCost, type ResourceUsage } from '../lambdas/core/cost-estimate';
import { AGENTCORE_PRICES } from '../lib/config/aws-prices';
import { loadConfig } from '../lib/config/load-config';
import type { BenchRow } from './bench-row';

/** Warm duration of one call, in ms (bench `routes` measures it; `AIRLOCK_BENCH_WARM_MS` overrides). */
const WARM_MS = Number(process.env.AIRLOCK_BENCH_WARM_MS ?? 25);
/** The functions' memory (the house function's default). */
const MEMORY_MB = 512;
/** Calls a run makes with one token. */
const CALLS_PER_TOKEN = 20;
const MILLION = 1e6;

/** One tool call: the audit record and the spend counter written, the revocation read, one S3 GET. */
const TOOL_CALL: ResourceUsage = {
  lambdaMs: WARM_MS,
  lambdaMemoryMb: MEMORY_MB,
  apiRequests: 1,
  kmsRequests: 0,
  secretsManagerCalls: 0,
  dynamodbWrites: 2,
  dynamodbReads: 1,
  s3Tier2Requests: 1,
};

/** One token request: the KMS signature, its audit record, the revocation read. */
const TOKEN_REQUEST: ResourceUsage = {
  lambdaMs: WARM_MS,
  lambdaMemoryMb: MEMORY_MB,
  apiRequests: 1,
  kmsRequests: 1,
  secretsManagerCalls: 0,
  dynamodbWrites: 1,
  dynamodbReads: 1,
};

export async function run(): Promise<BenchRow[]> {
  const { prices } = loadConfig();
  const call = estimateCost(prices, TOOL_CALL);
  const token = estimateCost(prices, TOKEN_REQUEST);
  const airlock = (call.total + token.total / CALLS_PER_TOKEN) * MILLION;
  const agentCore = (AGENTCORE_PRICES.gatewayToolInvocation + AGENTCORE_PRICES.policyAuthorization) * MILLION;
  const parts = (['apiGateway', 'waf', 'lambda', 'dynamodb', 'kms', 'logs', 'xray', 's3'] as const)
    .map((k) => `${k} $${((call[k] + token[k] / CALLS_PER_TOKEN) * MILLION).toFixed(2)}`)
    .join(', ');
  return [
    {
      name: 'cost per 1M tool calls, Airlock (receipts/read via MCP)',
      value: airlock,
      unit: 'USD',
      note: `${prices.region} list prices of ${prices.asOf}; ${WARM_MS} ms warm at ${MEMORY_MB} MB, 1 token per ${CALLS_PER_TOKEN} calls, every request traced; ${parts}. Excludes the upstream, the LLM and fixed monthly charges`,
    },
    {
      name: 'cost per 1M tool calls, AgentCore Gateway + Policy',
      value: agentCore,
      unit: 'USD',
      note: `$${AGENTCORE_PRICES.gatewayToolInvocation * MILLION} per 1M tool invocations + $${AGENTCORE_PRICES.policyAuthorization * MILLION} per 1M Cedar authorizations (${AGENTCORE_PRICES.source}, ${AGENTCORE_PRICES.asOf}); excludes its Lambda targets, logs and the LLM`,
    },
    {
      name: 'Airlock ÷ AgentCore, per tool call',
      value: airlock / agentCore,
      unit: '×',
      note: 'below 1: Airlock costs less per call for the same work (mTLS, Cedar, audit, DLP included)',
    },
  ];
}
