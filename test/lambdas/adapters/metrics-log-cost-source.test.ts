import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmfMetricsSink } from '../../../lambdas/adapters/aws/emf-metrics-sink';
import {
  MetricsLogCostSource,
  parseMetricsLogLine,
} from '../../../lambdas/adapters/local/metrics-log-cost-source';
import { dailyTotalsOf, type MetricRecord, metricRecordsOf } from '../../../lambdas/core/cost-report';
import { DependencyError } from '../../../lambdas/core/errors';
import { UsageMeter, type UsagePoint } from '../../../lambdas/core/usage-meter';
import { loadConfig } from '../../../lib/config/load-config';

const config = loadConfig(join(__dirname, '../../../config/airlock.config.yaml'));
const RANGE = { from: '2026-10-01', to: '2026-10-31' };

let dir: string;

/**
 * Powertools warns on stderr that CloudWatch would drop timestamps older than 14 days; these lines
 * are read from a file, not ingested, so the fixed October dates are fine.
 */
function quietPowertoolsTimestampWarnings(): void {
  const write = process.stderr.write.bind(process.stderr);
  jest
    .spyOn(process.stderr, 'write')
    .mockImplementation(((chunk: string | Uint8Array, ...rest: never[]) =>
      String(chunk).includes('will be skipped by Amazon CloudWatch')
        ? true
        : write(chunk, ...rest)) as never);
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-metrics-log-'));
  quietPowertoolsTimestampWarnings();
});

afterEach(async () => {
  jest.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

/**
 * One connector call (receipts/list, run `jti-0`, 2026-10-01 08:00Z) as metrics.log files written
 * before the sink put both dimension sets in one line hold it: verbatim, a line per set.
 */
const OLD_FORMAT_LINES = [
  '{"_aws":{"Timestamp":1790841600000,"CloudWatchMetrics":[{"Namespace":"Airlock","Dimensions":[["workflow"]],"Metrics":[{"Name":"Invocations","Unit":"Count"},{"Name":"Runs","Unit":"Count"},{"Name":"Denials","Unit":"Count"},{"Name":"ApprovalsRequested","Unit":"Count"},{"Name":"Failures","Unit":"Count"},{"Name":"BytesOut","Unit":"Bytes"},{"Name":"Duration","Unit":"Milliseconds"},{"Name":"EstimatedCostUsd","Unit":"None"},{"Name":"CostLambdaUsd","Unit":"None"},{"Name":"CostApiGatewayUsd","Unit":"None"},{"Name":"CostKmsUsd","Unit":"None"},{"Name":"CostSecretsManagerUsd","Unit":"None"},{"Name":"CostDynamoDbUsd","Unit":"None"},{"Name":"CostLlmUsd","Unit":"None"}]}]},"runId":"jti-0","workflow":"expense-summary","Invocations":1,"Runs":1,"Denials":0,"ApprovalsRequested":0,"Failures":0,"BytesOut":100,"Duration":50,"EstimatedCostUsd":0.00000515,"CostLambdaUsd":4e-7,"CostApiGatewayUsd":0.0000035,"CostKmsUsd":0,"CostSecretsManagerUsd":0,"CostDynamoDbUsd":0.00000125,"CostLlmUsd":0}',
  '{"_aws":{"Timestamp":1790841600000,"CloudWatchMetrics":[{"Namespace":"Airlock","Dimensions":[["workflow","connector","operation"]],"Metrics":[{"Name":"Invocations","Unit":"Count"},{"Name":"Runs","Unit":"Count"},{"Name":"Denials","Unit":"Count"},{"Name":"ApprovalsRequested","Unit":"Count"},{"Name":"Failures","Unit":"Count"},{"Name":"BytesOut","Unit":"Bytes"},{"Name":"Duration","Unit":"Milliseconds"},{"Name":"EstimatedCostUsd","Unit":"None"},{"Name":"CostLambdaUsd","Unit":"None"},{"Name":"CostApiGatewayUsd","Unit":"None"},{"Name":"CostKmsUsd","Unit":"None"},{"Name":"CostSecretsManagerUsd","Unit":"None"},{"Name":"CostDynamoDbUsd","Unit":"None"},{"Name":"CostLlmUsd","Unit":"None"}]}]},"runId":"jti-0","workflow":"expense-summary","connector":"receipts","operation":"list","Invocations":1,"Runs":1,"Denials":0,"ApprovalsRequested":0,"Failures":0,"BytesOut":100,"Duration":50,"EstimatedCostUsd":0.00000515,"CostLambdaUsd":4e-7,"CostApiGatewayUsd":0.0000035,"CostKmsUsd":0,"CostSecretsManagerUsd":0,"CostDynamoDbUsd":0.00000125,"CostLlmUsd":0}',
] as const;
const OLD_FORMAT_COST_USD = 0.00000515;

/** EMF lines exactly as the local pilot writes them, with the usage points they were written for. */
function emfLinesWithPoints(): { lines: string[]; points: UsagePoint[] } {
  const lines: string[] = [];
  const points: UsagePoint[] = [];
  const sink = new EmfMetricsSink({ emit: (line) => lines.push(line) });
  const meter = new UsageMeter(
    config.prices,
    {
      record: (point) => {
        points.push(point);
        sink.record(point);
      },
    },
    512,
  );
  const call = (at: string, runId: string, operation: string) =>
    meter.record({
      workflow: 'expense-summary',
      connector: 'receipts',
      operation,
      outcome: 'allowed',
      bytesOut: 100,
      durationMs: 50,
      usage: { apiRequests: 1, kmsRequests: 0, secretsManagerCalls: 0, dynamodbWrites: 1 },
      timestamp: new Date(at),
      runId,
    });
  call('2026-10-01T09:00:00Z', 'jti-1', 'list');
  call('2026-10-01T09:00:01Z', 'jti-1', 'read');
  call('2026-10-01T10:00:00Z', 'jti-2', 'list');
  meter.record({
    workflow: 'expense-summary',
    outcome: 'usage_reported',
    bytesOut: 0,
    durationMs: 5,
    usage: {
      apiRequests: 1,
      kmsRequests: 0,
      secretsManagerCalls: 0,
      dynamodbWrites: 1,
      llm: { model: 'claude-sonnet-4-5', inputTokens: 1_000, outputTokens: 100 },
    },
    timestamp: new Date('2026-10-01T10:00:05Z'),
    runId: 'jti-2',
  });
  return { lines, points };
}

function emfLines(): string[] {
  return emfLinesWithPoints().lines;
}

function recordsOf(line: string): readonly MetricRecord[] {
  const parsed = parseMetricsLogLine(line);
  if (parsed.kind !== 'records') throw new Error(`expected records, got ${JSON.stringify(parsed)}`);
  return parsed.records;
}

/** An Airlock EMF line under the given dimension sets, with every dimension value valid. */
function lineWithDimensions(dimensions: unknown): string {
  return JSON.stringify({
    _aws: {
      Timestamp: 1,
      CloudWatchMetrics: [
        { Namespace: 'Airlock', Dimensions: dimensions, Metrics: [{ Name: 'Invocations', Unit: 'Count' }] },
      ],
    },
    workflow: 'w',
    connector: 'c',
    operation: 'o',
    service: 's',
    Invocations: 1,
  });
}

describe('Function: parseMetricsLogLine', () => {
  it('reads a connector call’s line as one record per dimension set, each with the run id and values', () => {
    // Act
    const records = recordsOf(emfLines()[0]);

    // Assess
    expect(records).toHaveLength(2);
    const [workflowRecord, operationRecord] = records;
    expect(workflowRecord).toMatchObject({
      timestamp: new Date('2026-10-01T09:00:00Z'),
      workflow: 'expense-summary',
      runId: 'jti-1',
      values: { Invocations: 1, Runs: 1, BytesOut: 100 },
    });
    expect(workflowRecord).not.toHaveProperty('connector');
    expect(workflowRecord).not.toHaveProperty('operation');
    expect(operationRecord).toEqual({ ...workflowRecord, connector: 'receipts', operation: 'list' });
  });

  it('reads a request of no operation as one workflow record', () => {
    // Act
    const records = recordsOf(emfLines()[3]);

    // Assess
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      workflow: 'expense-summary',
      runId: 'jti-2',
      values: { Invocations: 0 },
    });
    expect(records[0].values.CostLlmUsd).toBeGreaterThan(0);
    expect(records[0]).not.toHaveProperty('operation');
  });

  it('still reads the line-per-dimension-set format of older logs, one record per line', () => {
    // Act
    const [workflowRecords, operationRecords] = OLD_FORMAT_LINES.map(recordsOf);

    // Assess
    expect(workflowRecords).toEqual([
      {
        timestamp: new Date('2026-10-01T08:00:00Z'),
        workflow: 'expense-summary',
        runId: 'jti-0',
        values: expect.objectContaining({
          Invocations: 1,
          BytesOut: 100,
          EstimatedCostUsd: OLD_FORMAT_COST_USD,
        }),
      },
    ]);
    expect(operationRecords).toEqual([{ ...workflowRecords[0], connector: 'receipts', operation: 'list' }]);
  });

  it.each([
    ['the operation set first', [['workflow', 'connector', 'operation'], ['workflow']], ['o', undefined]],
    ['the operation set alone', [['workflow', 'connector', 'operation']], ['o']],
  ])('reads a line with %s', (_what, dimensions, operations) => {
    // Act
    const records = recordsOf(lineWithDimensions(dimensions));

    // Assess
    expect(records.map((r) => r.operation)).toEqual(operations);
  });

  it.each([
    ['not JSON', '{"_aws":', /not JSON/],
    ['no metadata', '{"workflow":"w"}', /no _aws metadata/],
    [
      'a negative cost',
      '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"Airlock","Dimensions":[["workflow"]],"Metrics":[{"Name":"EstimatedCostUsd"}]}]},"workflow":"w","EstimatedCostUsd":-1}',
      /EstimatedCostUsd is not a number of 0 or more/,
    ],
    [
      'another dimension set',
      '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"Airlock","Dimensions":[["service"]],"Metrics":[]}]},"service":"x"}',
      /unexpected dimension set \[service\]/,
    ],
    [
      'another dimension set beside the sink’s',
      lineWithDimensions([['workflow'], ['workflow', 'service']]),
      /unexpected dimension set \[workflow,service\]/,
    ],
    [
      'a dimension set twice',
      lineWithDimensions([['workflow'], ['workflow']]),
      /duplicate dimension set \[workflow\]/,
    ],
    [
      'the operation set twice',
      lineWithDimensions([
        ['workflow'],
        ['workflow', 'connector', 'operation'],
        ['workflow', 'connector', 'operation'],
      ]),
      /duplicate dimension set \[workflow,connector,operation\]/,
    ],
    ['no dimension set', lineWithDimensions([]), /expected a list of dimension sets/],
    [
      'a dimension set that is not a list',
      lineWithDimensions(['workflow']),
      /a dimension set is not a list of names/,
    ],
    [
      'an operation set without its operation',
      '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"Airlock","Dimensions":[["workflow"],["workflow","connector","operation"]],"Metrics":[]}]},"workflow":"w","connector":"c"}',
      /dimension operation is not a valid operation name/,
    ],
    [
      'a missing dimension value',
      '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"Airlock","Dimensions":[["workflow"]],"Metrics":[]}]}}',
      /dimension workflow is not a valid workflow name/,
    ],
    [
      'a workflow name the config could not hold',
      '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"Airlock","Dimensions":[["workflow"]],"Metrics":[]}]},"workflow":"\\u001b[31m=cmd()"}',
      /dimension workflow is not a valid workflow name/,
    ],
  ])('calls a line with %s malformed', (_what, line, reason) => {
    // Act
    const parsed = parseMetricsLogLine(line);

    // Assess
    expect(parsed.kind).toBe('malformed');
    expect(parsed.kind === 'malformed' && parsed.reason).toMatch(reason);
  });

  it('leaves lines of another namespace alone without calling them malformed', () => {
    // Act
    const parsed = parseMetricsLogLine(
      '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"Other","Dimensions":[["x"]],"Metrics":[]}]},"x":"y"}',
    );

    // Assess
    expect(parsed).toEqual({ kind: 'other' });
  });
});

describe('Class: MetricsLogCostSource', () => {
  describe('Method: dailyTotals', () => {
    it('sums the log per day, counts runs by distinct run id, and counts malformed lines', async () => {
      // Prepare
      const file = join(dir, 'metrics.log');
      await writeFile(file, `${emfLines().join('\n')}\n\nnot json\n{"_aws":{}}\n`);

      // Act
      const result = await new MetricsLogCostSource(file).dailyTotals(RANGE);

      // Assess
      expect(result.skippedRecords).toBe(2);
      const workflowDays = result.totals.filter((t) => t.operation === undefined);
      expect(workflowDays).toHaveLength(1);
      expect(workflowDays[0]).toMatchObject({
        day: '2026-10-01',
        values: { Runs: 2, Invocations: 3, BytesOut: 300, LlmInputTokens: 1_000 },
      });
      const list = result.totals.find((t) => t.operation === 'list');
      expect(list?.values.Invocations).toBe(2);
      expect(result.totals.find((t) => t.operation === 'read')?.values.Invocations).toBe(1);
    });

    it('counts each request once per dimension set in a log of old and new lines alike', async () => {
      // Prepare
      const { lines, points } = emfLinesWithPoints();
      const file = join(dir, 'metrics.log');
      await writeFile(file, `${[...OLD_FORMAT_LINES, ...lines].join('\n')}\n`);
      const callsCostUsd = points
        .filter((p) => p.operation !== undefined)
        .reduce((sum, p) => sum + p.cost.total, 0);
      const usageReportCostUsd = points[3].cost.total;

      // Act
      const { totals, skippedRecords } = await new MetricsLogCostSource(file).dailyTotals(RANGE);

      // Assess
      expect(skippedRecords).toBe(0);
      const workflowDay = totals.filter((t) => t.operation === undefined);
      expect(workflowDay).toHaveLength(1);
      expect(workflowDay[0].values).toMatchObject({ Invocations: 4, Runs: 3, BytesOut: 400 });
      expect(workflowDay[0].values.EstimatedCostUsd).toBeCloseTo(
        OLD_FORMAT_COST_USD + callsCostUsd + usageReportCostUsd,
        15,
      );
      const list = totals.find((t) => t.operation === 'list');
      const read = totals.find((t) => t.operation === 'read');
      expect(list?.values).toMatchObject({ Invocations: 3, BytesOut: 300 });
      expect(read?.values).toMatchObject({ Invocations: 1, BytesOut: 100 });
      // The operations' costs are the calls' costs: the usage report belongs to the workflow only.
      expect((list?.values.EstimatedCostUsd ?? 0) + (read?.values.EstimatedCostUsd ?? 0)).toBeCloseTo(
        OLD_FORMAT_COST_USD + callsCostUsd,
        15,
      );
      // The same figures as the records the meter meant to publish (the core's model of the sink).
      const published = points.flatMap(metricRecordsOf);
      expect(new Set(totals.map((t) => JSON.stringify(t)))).toEqual(
        new Set(
          dailyTotalsOf([...OLD_FORMAT_LINES.flatMap(recordsOf), ...published], RANGE).map((t) =>
            JSON.stringify(t),
          ),
        ),
      );
    });

    it('says where the log should be and how to create it when it does not exist', async () => {
      // Act
      const failure = new MetricsLogCostSource(join(dir, 'metrics.log')).dailyTotals(RANGE);

      // Assess
      await expect(failure).rejects.toThrow(DependencyError);
      await expect(failure).rejects.toThrow(
        /No metrics log at .*metrics\.log: start the local pilot \(npm start\)/,
      );
    });
  });
});
