import { join } from 'node:path';
import { EmfMetricsSink } from '../../../lambdas/adapters/aws/emf-metrics-sink';
import { estimateCost } from '../../../lambdas/core/cost-estimate';
import { UsageMeter } from '../../../lambdas/core/usage-meter';
import { AWS_PRICES, DEFAULT_LOG_BYTES_PER_REQUEST, PRICE_SOURCES } from '../../../lib/config/aws-prices';
import { loadConfig } from '../../../lib/config/load-config';
import { pricesSchema } from '../../../lib/config/schema';

const config = loadConfig(join(__dirname, '../../../config/airlock.config.yaml'));

describe('Function: estimateCost', () => {
  it('prices one receipts/read call by hand, component by component, from the us-east-1 list prices', () => {
    // Prepare: a read of one receipt, 120 ms billed at 512 MB, one upstream secret read, two counter
    // writes (rate and spend), one GetObject; the example config prices in us-east-1.
    expect(config.prices.region).toBe('us-east-1');
    const usage = {
      lambdaMs: 120,
      lambdaMemoryMb: 512,
      apiRequests: 1,
      kmsRequests: 0,
      secretsManagerCalls: 1,
      dynamodbWrites: 2,
      dynamodbReads: 1,
      s3Tier2Requests: 1,
    };

    // Act
    const cost = estimateCost(config.prices, usage);

    // Assess: the list prices written out (USD per unit), multiplied by hand.
    const apiGateway = 3.5 / 1e6; // REST API, $3.50 per million
    const waf = 0.6 / 1e6; // $0.60 per million requests
    const lambda = 0.12 * 0.5 * 0.0000133334 + 0.2 / 1e6; // 0.06 GB-s on arm64, plus the request
    const dynamodb = 2 * (0.625 / 1e6) + 1 * (0.125 / 1e6); // on-demand write and read units
    const secretsManager = 0.05 / 1e4; // $0.05 per 10,000 calls
    const logs = (3000 / 1024 ** 3) * 0.5; // 3,000 bytes at $0.50 per GB ingested
    const xray = 5 / 1e6; // every request traced, $5 per million traces
    const s3 = 0.4 / 1e6; // GET, $0.0004 per 1,000
    expect(cost.apiGateway).toBeCloseTo(apiGateway, 15);
    expect(cost.waf).toBeCloseTo(waf, 15);
    expect(cost.lambda).toBeCloseTo(lambda, 15);
    expect(cost.dynamodb).toBeCloseTo(dynamodb, 15);
    expect(cost.kms).toBe(0);
    expect(cost.secretsManager).toBeCloseTo(secretsManager, 15);
    expect(cost.logs).toBeCloseTo(logs, 15);
    expect(cost.xray).toBeCloseTo(xray, 15);
    expect(cost.s3).toBeCloseTo(s3, 15);
    expect(cost.llm).toBe(0);
    expect(cost.total).toBeCloseTo(
      apiGateway + waf + lambda + dynamodb + secretsManager + logs + xray + s3,
      15,
    );
    // About $18 per million such calls: X-Ray, Secrets Manager and API Gateway are most of it.
    expect(cost.total * 1e6).toBeCloseTo(18.27, 2);
  });

  it('prices reported LLM tokens per model and refuses a model without a price', () => {
    // Act
    const cost = estimateCost(config.prices, {
      lambdaMs: 0,
      lambdaMemoryMb: 0,
      apiRequests: 0,
      kmsRequests: 0,
      secretsManagerCalls: 0,
      dynamodbWrites: 0,
      llm: { model: 'claude-sonnet-4-5', inputTokens: 200_000, outputTokens: 10_000 },
    });

    // Assess: $3 and $15 per million
    expect(cost.llm).toBeCloseTo(0.6 + 0.15, 12);
    expect(cost.total).toBeCloseTo(0.75, 12);
    expect(() =>
      estimateCost(config.prices, {
        lambdaMs: 0,
        lambdaMemoryMb: 0,
        apiRequests: 0,
        kmsRequests: 0,
        secretsManagerCalls: 0,
        dynamodbWrites: 0,
        llm: { model: 'unknown-model', inputTokens: 1, outputTokens: 1 },
      }),
    ).toThrow(/no price for model "unknown-model"/);
  });

  it('never undercounts log ingestion: the EMF line of a connector call fits in the bytes priced per request', () => {
    // Prepare
    const lines: string[] = [];
    const meter = new UsageMeter(
      config.prices,
      new EmfMetricsSink({ emit: (line) => lines.push(line) }),
      512,
    );

    // Act
    meter.record({
      workflow: 'expense-summary',
      connector: 'receipts',
      operation: 'read',
      outcome: 'allowed',
      bytesOut: 123_456,
      durationMs: 1234.5,
      usage: { apiRequests: 1, kmsRequests: 0, secretsManagerCalls: 1, dynamodbWrites: 2 },
      timestamp: new Date(),
      runId: 'f3a1c2d4-0000-4000-8000-000000000000',
    });

    // Assess: the EMF line is one part of the request's logs; the default leaves room for the rest.
    expect(lines).toHaveLength(1);
    const emfBytes = Buffer.byteLength(lines[0]);
    expect(emfBytes).toBeGreaterThan(500);
    expect(emfBytes).toBeLessThan(DEFAULT_LOG_BYTES_PER_REQUEST / 2);
  });
});

describe('Schema: prices', () => {
  it('takes every AWS price from the region table, with its date, unless the config gives one', () => {
    // Act
    const prices = pricesSchema.parse({
      region: 'eu-west-1',
      wafRequest: 0.000001,
      hourlyRateUsd: 50,
      models: {},
    });

    // Assess
    expect(prices.dynamodbWrite).toBe(AWS_PRICES['eu-west-1'].prices.dynamodbWrite);
    expect(prices.wafRequest).toBe(0.000001);
    expect(prices.asOf).toBe(AWS_PRICES['eu-west-1'].asOf);
  });

  it('names the missing price of a region without a table', () => {
    // Act
    const result = pricesSchema.safeParse({ region: 'ap-southeast-9', hourlyRateUsd: 50, models: {} });

    // Assess
    expect(result.success).toBe(false);
    expect(result.error?.issues[0].path).toEqual(['lambdaGbSecond']);
    expect(result.error?.issues[0].message).toMatch(
      /no price for lambdaGbSecond in region ap-southeast-9.*give prices.lambdaGbSecond/,
    );
  });

  it('names a source page for every price of the table', () => {
    for (const table of Object.values(AWS_PRICES)) {
      for (const key of Object.keys(table.prices)) {
        expect(PRICE_SOURCES[key as keyof typeof PRICE_SOURCES]).toMatch(/^https:\/\/aws\.amazon\.com\//);
      }
    }
  });
});
