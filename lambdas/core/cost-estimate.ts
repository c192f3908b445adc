/**
 * Estimated cost of one request in USD, from the price table in the config. It is an estimate
 * (AWS bills by the account, not by the request); what it attributes is the share of each workflow.
 */
import type { Prices } from '../../lib/config/schema';

/** What one request used, as counted by the handler that served it. */
export interface ResourceUsage {
  /** Lambda billed duration in ms and configured memory in MB. */
  readonly lambdaMs: number;
  readonly lambdaMemoryMb: number;
  /** API Gateway requests (1 for every API call). */
  readonly apiRequests: number;
  readonly kmsRequests: number;
  readonly secretsManagerCalls: number;
  readonly dynamodbWrites: number;
  /** LLM tokens reported by the agent (POST /v1/usage). */
  readonly llm?: { readonly model: string; readonly inputTokens: number; readonly outputTokens: number };
}

export interface CostBreakdown {
  readonly lambda: number;
  readonly apiGateway: number;
  readonly kms: number;
  readonly secretsManager: number;
  readonly dynamodb: number;
  readonly llm: number;
  readonly total: number;
}

/** Cost of one request by component. An LLM model missing from the price table is an error the caller reports. */
export function estimateCost(prices: Prices, usage: ResourceUsage): CostBreakdown {
  const lambda =
    (usage.lambdaMs / 1000) * (usage.lambdaMemoryMb / 1024) * prices.lambdaGbSecond +
    (usage.lambdaMs > 0 ? prices.lambdaRequest : 0);
  const apiGateway = usage.apiRequests * prices.apiGatewayRequest;
  const kms = usage.kmsRequests * prices.kmsRequest;
  const secretsManager = usage.secretsManagerCalls * prices.secretsManagerCall;
  const dynamodb = usage.dynamodbWrites * prices.dynamodbWrite;
  let llm = 0;
  if (usage.llm) {
    const price = Object.hasOwn(prices.models, usage.llm.model) ? prices.models[usage.llm.model] : undefined;
    if (!price) throw new RangeError(`no price for model "${usage.llm.model}"`);
    llm =
      (usage.llm.inputTokens / 1e6) * price.inputPerMillionTokens +
      (usage.llm.outputTokens / 1e6) * price.outputPerMillionTokens;
  }
  return {
    lambda,
    apiGateway,
    kms,
    secretsManager,
    dynamodb,
    llm,
    total: lambda + apiGateway + kms + secretsManager + dynamodb + llm,
  };
}
