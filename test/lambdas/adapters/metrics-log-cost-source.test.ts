import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmfMetricsSink } from '../../../lambdas/adapters/aws/emf-metrics-sink';
import {
  MetricsLogCostSource,
  parseMetricsLogLine,
} from '../../../lambdas/adapters/local/metrics-log-cost-source';
import { DependencyError } from '../../../lambdas/core/errors';
import { UsageMeter } from '../../../lambdas/core/usage-meter';
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

/** EMF lines exactly as the local pilot writes them. */
function emfLines(): string[] {
  const lines: string[] = [];
  const meter = new UsageMeter(config.prices, new EmfMetricsSink({ emit: (line) => lines.push(line) }), 512);
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
  return lines;
}

describe('Function: parseMetricsLogLine', () => {
  it('reads the sink’s lines with their dimensions, run id and metric values', () => {
    // Act
    const [workflowLine, operationLine] = emfLines().map(parseMetricsLogLine);

    // Assess
    expect(workflowLine).toMatchObject({
      kind: 'record',
      record: {
        workflow: 'expense-summary',
        runId: 'jti-1',
        values: { Invocations: 1, Runs: 1, BytesOut: 100 },
      },
    });
    expect(workflowLine.kind === 'record' && workflowLine.record.connector).toBeFalsy();
    expect(operationLine).toMatchObject({
      kind: 'record',
      record: { connector: 'receipts', operation: 'list' },
    });
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
      const workflowDay = result.totals.find((t) => t.operation === undefined);
      expect(workflowDay).toMatchObject({
        day: '2026-10-01',
        values: { Runs: 2, Invocations: 3, BytesOut: 300 },
      });
      const list = result.totals.find((t) => t.operation === 'list');
      expect(list?.values.Invocations).toBe(2);
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
