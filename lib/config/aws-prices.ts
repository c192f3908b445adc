/**
 * AWS list prices, defined once: every per-request price the cost model uses, per region, with where
 * each came from and when it was read. The config's `prices` section names a region (and may override
 * any single price); everything else reads the prices from here, never from a literal of its own.
 *
 * These are on-demand list prices without the free tier (a pilot's usage would mostly fall in it,
 * but finance wants what the work costs, not what one account happened to pay). Fixed monthly
 * charges (a WAF web ACL and its rules, KMS keys, secrets, custom metrics, the dashboard, the
 * budgets) do not depend on calls and are not in a per-call cost; they are listed in
 * {@link FIXED_MONTHLY_CHARGES} for the reader.
 */

/** Every per-request price the cost model knows, in USD. */
export interface AwsUnitPrices {
  /** Lambda on arm64, per GB-second of billed duration. */
  readonly lambdaGbSecond: number;
  /** Lambda, per request. */
  readonly lambdaRequest: number;
  /** API Gateway REST API, per request (first 333 million a month). */
  readonly apiGatewayRequest: number;
  /** AWS WAF, per web request inspected. */
  readonly wafRequest: number;
  /** DynamoDB on-demand, per write request unit (an item up to 1 KB). */
  readonly dynamodbWrite: number;
  /** DynamoDB on-demand, per read request unit (a strongly consistent read up to 4 KB). */
  readonly dynamodbRead: number;
  /** KMS, per request (symmetric and ECC signing). */
  readonly kmsRequest: number;
  /** Secrets Manager, per API call. */
  readonly secretsManagerCall: number;
  /** CloudWatch Logs, per GB ingested (standard class): function logs, access logs and EMF metric lines. */
  readonly logsIngestionPerGb: number;
  /** X-Ray, per trace recorded. */
  readonly xrayTrace: number;
  /** S3 Standard, per PUT, COPY, POST or LIST request. */
  readonly s3Tier1Request: number;
  /** S3 Standard, per GET and every other request. */
  readonly s3Tier2Request: number;
}

/** A region's price table and where it came from. */
export interface RegionPriceTable {
  readonly prices: AwsUnitPrices;
  /** When the prices were read from the pages in {@link PRICE_SOURCES} (UTC month). */
  readonly asOf: string;
}

/** The public price pages each figure was read from. */
export const PRICE_SOURCES: Readonly<Record<keyof AwsUnitPrices, string>> = {
  lambdaGbSecond: 'https://aws.amazon.com/lambda/pricing/',
  lambdaRequest: 'https://aws.amazon.com/lambda/pricing/',
  apiGatewayRequest: 'https://aws.amazon.com/api-gateway/pricing/',
  wafRequest: 'https://aws.amazon.com/waf/pricing/',
  dynamodbWrite: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  dynamodbRead: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  kmsRequest: 'https://aws.amazon.com/kms/pricing/',
  secretsManagerCall: 'https://aws.amazon.com/secrets-manager/pricing/',
  logsIngestionPerGb: 'https://aws.amazon.com/cloudwatch/pricing/',
  xrayTrace: 'https://aws.amazon.com/xray/pricing/',
  s3Tier1Request: 'https://aws.amazon.com/s3/pricing/',
  s3Tier2Request: 'https://aws.amazon.com/s3/pricing/',
};

/** The regions with a price table here; any other region names its prices in the config. */
export const AWS_PRICES: Readonly<Record<string, RegionPriceTable>> = {
  'us-east-1': {
    asOf: '2026-11',
    prices: {
      lambdaGbSecond: 0.0000133334,
      lambdaRequest: 0.0000002,
      apiGatewayRequest: 0.0000035,
      wafRequest: 0.0000006,
      dynamodbWrite: 0.000000625,
      dynamodbRead: 0.000000125,
      kmsRequest: 0.000003,
      secretsManagerCall: 0.000005,
      logsIngestionPerGb: 0.5,
      xrayTrace: 0.000005,
      s3Tier1Request: 0.000005,
      s3Tier2Request: 0.0000004,
    },
  },
  'eu-west-1': {
    asOf: '2026-11',
    prices: {
      lambdaGbSecond: 0.0000133334,
      lambdaRequest: 0.0000002,
      apiGatewayRequest: 0.0000035,
      wafRequest: 0.0000006,
      dynamodbWrite: 0.0000007063,
      dynamodbRead: 0.0000001413,
      kmsRequest: 0.000003,
      secretsManagerCall: 0.000005,
      logsIngestionPerGb: 0.57,
      xrayTrace: 0.000005,
      s3Tier1Request: 0.000005,
      s3Tier2Request: 0.0000004,
    },
  },
};

/** The region the example config prices in. */
export const DEFAULT_PRICE_REGION = 'us-east-1';

/**
 * What one request of each kind writes to CloudWatch Logs, in bytes, when nothing measured it: the
 * API Gateway access log line, the function's START/END/REPORT lines and its one log line, and the
 * EMF metric line (test/lambdas/core/cost-estimate.test.ts checks the EMF line of a connector call
 * fits in it, so the estimate never undercounts).
 */
export const DEFAULT_LOG_BYTES_PER_REQUEST = 3_000;

/**
 * Share of requests X-Ray records. Its default sampling rule records the first request each second
 * and 5 % of the rest; a pilot rarely sends more than one request a second, so nearly every request
 * is recorded.
 */
export const DEFAULT_TRACED_SHARE = 1;

/** Charges that do not depend on calls, per month (us-east-1), for the reader of the cost model. */
export const FIXED_MONTHLY_CHARGES = [
  { item: 'WAF web ACL', usd: 5 },
  { item: 'WAF rule (each)', usd: 1 },
  { item: 'KMS customer managed key (each)', usd: 1 },
  { item: 'Secrets Manager secret (each)', usd: 0.4 },
  { item: 'CloudWatch custom metric (each, first 10,000)', usd: 0.3 },
  { item: 'CloudWatch dashboard (each, after the first 3)', usd: 3 },
] as const;

/** Amazon Bedrock AgentCore Gateway's published prices, for the comparison `npm run bench` prints. */
export const AGENTCORE_PRICES = {
  /** Per tool invocation through the gateway ($5 per million). */
  gatewayToolInvocation: 0.000005,
  /** Per Cedar authorization by AgentCore Policy ($25 per million). */
  policyAuthorization: 0.000025,
  source: 'https://aws.amazon.com/bedrock/agentcore/pricing/',
  asOf: '2026-11',
} as const;

/** The price table of a region, or undefined when none is defined here. */
export function regionPrices(region: string): RegionPriceTable | undefined {
  return Object.hasOwn(AWS_PRICES, region) ? AWS_PRICES[region] : undefined;
}
