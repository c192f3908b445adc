/**
 * Estimated cost of one request in USD, from the price table in the config (lib/config/aws-prices.ts
 * by region, overridable in `prices`). It is an estimate (AWS bills by the account, not by the
 * request); what it attributes is each workflow's share of shared infrastructure, by use.
 *
 * Every billed component of a request through Airlock: API Gateway (REST request), WAF (request
 * inspected), Lambda (request and GB-seconds), DynamoDB (read and write units), KMS, Secrets Manager,
 * CloudWatch Logs ingestion (access log, function log and the EMF metric line), X-Ray (trace
 * recorded), S3 (the file-store connector's requests), and LLM tokens the agent reported. LLM usage
 * measured by the provider (Bedrock) is not per request: the cost report adds it per day.
 */
import type { Prices } from '../../lib/config/schema';

/** What one request used, as counted by the handler that served it. */
export interface ResourceUsage {
  /** Lambda billed duration in ms and configured memory in MB. */
  readonly lambdaMs: number;
  readonly lambdaMemoryMb: number;
  /**
   * API Gateway requests (1 for every API call). Each is also inspected by WAF, logged (access log,
   * function log, EMF line: `prices.logBytesPerRequest`) and traced (`prices.tracedShare`).
   */
  readonly apiRequests: number;
  readonly kmsRequests: number;
  readonly secretsManagerCalls: number;
  readonly dynamodbWrites: number;
  /** DynamoDB read units. @default 0 */
  readonly dynamodbReads?: number;
  /** S3 PUT/LIST requests. @default 0 */
  readonly s3Tier1Requests?: number;
  /** S3 GET requests. @default 0 */
  readonly s3Tier2Requests?: number;
  /** LLM tokens reported by the agent (POST /v1/usage). */
  readonly llm?: { readonly model: string; readonly inputTokens: number; readonly outputTokens: number };
}

/** Cost by component, in USD. */
export interface CostBreakdown {
  readonly apiGateway: number;
  readonly waf: number;
  readonly lambda: number;
  readonly dynamodb: number;
  readonly kms: number;
  readonly secretsManager: number;
  /** CloudWatch Logs ingestion, EMF metric lines included. */
  readonly logs: number;
  readonly xray: number;
  readonly s3: number;
  /** LLM tokens the agents reported themselves. */
  readonly llm: number;
  /** LLM tokens the provider measured (Bedrock, per application inference profile); 0 per request. */
  readonly llmMeasured: number;
  readonly total: number;
}

const BYTES_PER_GB = 1024 ** 3;

/** The price of `tokens` of a model. @throws RangeError for a model missing from the price table */
export function llmCost(
  prices: Pick<Prices, 'models'>,
  llm: { readonly model: string; readonly inputTokens: number; readonly outputTokens: number },
): number {
  const price = Object.hasOwn(prices.models, llm.model) ? prices.models[llm.model] : undefined;
  if (!price) throw new RangeError(`no price for model "${llm.model}"`);
  return (
    (llm.inputTokens / 1e6) * price.inputPerMillionTokens +
    (llm.outputTokens / 1e6) * price.outputPerMillionTokens
  );
}

/** Cost of one request by component. An LLM model missing from the price table is an error the caller reports. */
export function estimateCost(prices: Prices, usage: ResourceUsage): CostBreakdown {
  const lambda =
    (usage.lambdaMs / 1000) * (usage.lambdaMemoryMb / 1024) * prices.lambdaGbSecond +
    (usage.lambdaMs > 0 ? prices.lambdaRequest : 0);
  const apiGateway = usage.apiRequests * prices.apiGatewayRequest;
  const waf = usage.apiRequests * prices.wafRequest;
  const kms = usage.kmsRequests * prices.kmsRequest;
  const secretsManager = usage.secretsManagerCalls * prices.secretsManagerCall;
  const dynamodb =
    usage.dynamodbWrites * prices.dynamodbWrite + (usage.dynamodbReads ?? 0) * prices.dynamodbRead;
  const logs = ((usage.apiRequests * prices.logBytesPerRequest) / BYTES_PER_GB) * prices.logsIngestionPerGb;
  const xray = usage.apiRequests * prices.tracedShare * prices.xrayTrace;
  const s3 =
    (usage.s3Tier1Requests ?? 0) * prices.s3Tier1Request +
    (usage.s3Tier2Requests ?? 0) * prices.s3Tier2Request;
  const llm = usage.llm ? llmCost(prices, usage.llm) : 0;
  return {
    apiGateway,
    waf,
    lambda,
    dynamodb,
    kms,
    secretsManager,
    logs,
    xray,
    s3,
    llm,
    llmMeasured: 0,
    total: apiGateway + waf + lambda + dynamodb + kms + secretsManager + logs + xray + s3 + llm,
  };
}
