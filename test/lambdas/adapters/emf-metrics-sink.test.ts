import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { EmfMetricsSink } from '../../../lambdas/adapters/aws/emf-metrics-sink';
import type { UsagePoint } from '../../../lambdas/core/usage-meter';
import { usageMetricValues } from '../../../lambdas/core/usage-meter';
import {
  METRICS_NAMESPACE,
  READ_LOG_FAILURES_METRIC,
  SHADOW_REFUSALS_METRIC,
  TOOL_DEFINITION_CHANGES_METRIC,
} from '../../../lib/contracts/metrics';

/** The parts of an EMF document these tests read. */
interface EmfDocument {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { readonly Name: string; readonly Unit: string }[];
    }[];
  };
  readonly [field: string]: unknown;
}

const COST = {
  lambda: 0.0000004,
  apiGateway: 0.0000035,
  kms: 0,
  secretsManager: 0,
  dynamodb: 0.00000125,
  waf: 0,
  logs: 0,
  xray: 0,
  s3: 0,
  llm: 0,
  llmMeasured: 0,
  total: 0.00000515,
};

/** A connector call, timed now so Powertools has no old timestamp to warn about. */
function connectorCall(overrides: Partial<UsagePoint> = {}): UsagePoint {
  return {
    workflow: 'expense-summary',
    connector: 'receipts',
    operation: 'list',
    outcome: 'allowed',
    bytesOut: 2048,
    durationMs: 42,
    cost: COST,
    timestamp: new Date(),
    runId: 'jti-1',
    firstOfRun: true,
    ...overrides,
  };
}

/** A token request: it belongs to the workflow but to no operation. */
function tokenRequest(): UsagePoint {
  return {
    workflow: 'expense-summary',
    outcome: 'credential_issued',
    bytesOut: 0,
    durationMs: 12,
    cost: { ...COST, kms: 0.000003, total: 0.00000815 },
    timestamp: new Date(),
  };
}

let stderr: string[];

beforeEach(() => {
  stderr = [];
  jest.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    stderr.push(String(chunk));
    return true;
  }) as never);
});

afterEach(() => {
  jest.restoreAllMocks();
});

function recordAll(points: readonly UsagePoint[]): EmfDocument[] {
  const lines: string[] = [];
  const sink = new EmfMetricsSink({ emit: (line) => lines.push(line) });
  for (const point of points) sink.record(point);
  return lines.map((line) => JSON.parse(line) as EmfDocument);
}

/**
 * The document Powertools Metrics writes for a point, driven as the sink drove it before it wrote its
 * documents itself: the reference the sink's own layout must equal, key order included.
 */
function powertoolsDocument(point: UsagePoint): string {
  const m = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'airlock' });
  m.clearDefaultDimensions();
  m.setDefaultDimensions({ workflow: point.workflow });
  if (point.connector && point.operation) {
    m.addDimensions({});
    m.addDimensions({ connector: point.connector, operation: point.operation });
  }
  m.setTimestamp(point.timestamp);
  const units: Record<string, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
    BytesOut: MetricUnit.Bytes,
    Duration: MetricUnit.Milliseconds,
  };
  for (const [name, value] of Object.entries(usageMetricValues(point))) {
    const unit = units[name] ?? (name.endsWith('Usd') ? MetricUnit.NoUnit : MetricUnit.Count);
    m.addMetric(name, unit, value as number);
  }
  if (point.shadowRefusals) m.addMetric(SHADOW_REFUSALS_METRIC, MetricUnit.Count, point.shadowRefusals);
  if (point.toolDefinitionChanges) {
    m.addMetric(TOOL_DEFINITION_CHANGES_METRIC, MetricUnit.Count, point.toolDefinitionChanges);
  }
  if (point.readLogFailures) m.addMetric(READ_LOG_FAILURES_METRIC, MetricUnit.Count, point.readLogFailures);
  if (point.runId !== undefined) m.addMetadata('runId', point.runId);
  return JSON.stringify(m.serializeMetrics());
}

describe('Class: EmfMetricsSink', () => {
  describe('Method: record', () => {
    it('writes each point exactly as Powertools Metrics would, key order included', () => {
      // Prepare: calls and token requests, with and without run ids, LLM tokens, shadow refusals, tool
      // definition changes and read-log failures, in every outcome.
      const outcomes = ['allowed', 'denied', 'approval_requested', 'failed', 'credential_issued'] as const;
      const points: UsagePoint[] = outcomes.flatMap((outcome, i) => [
        connectorCall({ outcome, firstOfRun: i % 2 === 0 }),
        connectorCall({
          outcome,
          runId: undefined,
          shadowRefusals: 2,
          toolDefinitionChanges: 1,
          readLogFailures: 2,
        }),
        connectorCall({ outcome, llmInputTokens: 1200, llmOutputTokens: 340 }),
        { ...tokenRequest(), outcome },
      ]);

      // Act
      const lines: string[] = [];
      const sink = new EmfMetricsSink({ emit: (line) => lines.push(line) });
      for (const point of points) sink.record(point);

      // Assess
      expect(lines).toEqual(points.map(powertoolsDocument));
    });

    it('writes a connector call as one document under both the workflow and the operation dimension sets', () => {
      // Act
      const documents = recordAll([connectorCall()]);

      // Assess
      expect(documents).toHaveLength(1);
      const [document] = documents;
      expect(document._aws.CloudWatchMetrics).toHaveLength(1);
      expect(document._aws.CloudWatchMetrics[0].Namespace).toBe('Airlock');
      expect(document._aws.CloudWatchMetrics[0].Dimensions).toEqual([
        ['workflow'],
        ['workflow', 'connector', 'operation'],
      ]);
      expect(document).toMatchObject({
        workflow: 'expense-summary',
        connector: 'receipts',
        operation: 'list',
        runId: 'jti-1',
        Invocations: 1,
        Runs: 1,
        BytesOut: 2048,
        Duration: 42,
        EstimatedCostUsd: 0.00000515,
      });
      expect(document._aws.CloudWatchMetrics[0].Metrics).toContainEqual({ Name: 'BytesOut', Unit: 'Bytes' });
    });

    it('writes a request of no operation under the workflow dimension set alone', () => {
      // Act
      const [document] = recordAll([tokenRequest()]);

      // Assess
      expect(document._aws.CloudWatchMetrics[0].Dimensions).toEqual([['workflow']]);
      expect(document).not.toHaveProperty('connector');
      expect(document).not.toHaveProperty('operation');
      expect(document.CostKmsUsd).toBe(0.000003);
    });

    it('keeps nothing of one point in the next: dimensions, run id and metrics start afresh', () => {
      // Act
      const [, token, other] = recordAll([
        connectorCall(),
        tokenRequest(),
        connectorCall({ workflow: 'month-end', connector: 'erp', operation: 'lookupGlCode', runId: 'jti-2' }),
      ]);

      // Assess
      expect(token._aws.CloudWatchMetrics[0].Dimensions).toEqual([['workflow']]);
      expect(token).not.toHaveProperty('runId');
      expect(token.Invocations).toBe(0);
      expect(other._aws.CloudWatchMetrics[0].Dimensions).toEqual([
        ['workflow'],
        ['workflow', 'connector', 'operation'],
      ]);
      expect(other).toMatchObject({
        workflow: 'month-end',
        connector: 'erp',
        operation: 'lookupGlCode',
        runId: 'jti-2',
      });
    });

    it('writes no warning alongside the documents (each would be a log line CloudWatch bills)', () => {
      // Act
      recordAll([connectorCall(), tokenRequest()]);

      // Assess
      expect(stderr).toEqual([]);
    });

    it('prints one document per point to stdout when no emitter is given, as in Lambda', () => {
      // Prepare
      const stdout: string[] = [];
      jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
        stdout.push(String(chunk));
        return true;
      }) as never);

      // Act
      const sink = new EmfMetricsSink();
      sink.record(connectorCall());
      sink.record(tokenRequest());

      // Assess
      const documents = stdout
        .join('')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as EmfDocument);
      expect(documents.map((d) => d._aws.CloudWatchMetrics[0].Dimensions)).toEqual([
        [['workflow'], ['workflow', 'connector', 'operation']],
        [['workflow']],
      ]);
    });

    it('reports a failing emitter instead of throwing, and the next point is written whole', () => {
      // Prepare
      const lines: string[] = [];
      const errors: unknown[] = [];
      let fail = true;
      const sink = new EmfMetricsSink({
        emit: (line) => {
          if (fail) throw new Error('disk full');
          lines.push(line);
        },
        onError: (error) => errors.push(error),
      });

      // Act
      sink.record(connectorCall());
      fail = false;
      sink.record(tokenRequest());

      // Assess
      expect(errors).toEqual([new Error('disk full')]);
      expect(lines).toHaveLength(1);
      const document = JSON.parse(lines[0]) as EmfDocument;
      expect(document._aws.CloudWatchMetrics[0].Dimensions).toEqual([['workflow']]);
      expect(document).not.toHaveProperty('runId');
      expect(document.Invocations).toBe(0);
    });
  });
});

describe('Class: EmfMetricsSink (tool definition changes)', () => {
  it('writes ToolDefinitionChanges (Count) under the workflow and operation dimensions only for a point that has one', () => {
    // Act
    const [changed, plain] = recordAll([
      connectorCall({ outcome: 'denied', toolDefinitionChanges: 1 }),
      connectorCall({ outcome: 'denied' }),
    ]);

    // Assess
    const names = (doc: EmfDocument) => doc._aws.CloudWatchMetrics[0].Metrics.map((m) => m.Name);
    expect(changed._aws.CloudWatchMetrics[0].Metrics).toContainEqual({
      Name: TOOL_DEFINITION_CHANGES_METRIC,
      Unit: 'Count',
    });
    expect(changed[TOOL_DEFINITION_CHANGES_METRIC]).toBe(1);
    expect(changed._aws.CloudWatchMetrics[0].Dimensions).toEqual([
      ['workflow'],
      ['workflow', 'connector', 'operation'],
    ]);
    expect(names(plain)).not.toContain(TOOL_DEFINITION_CHANGES_METRIC);
  });
});

describe('Class: EmfMetricsSink (read-log failures)', () => {
  it('writes ReadLogFailures (Count) only for a point that has any', () => {
    // Act
    const [failed, plain] = recordAll([
      connectorCall({ outcome: 'approval_requested', readLogFailures: 1 }),
      connectorCall({ outcome: 'approval_requested' }),
    ]);

    // Assess
    const names = (doc: EmfDocument) => doc._aws.CloudWatchMetrics[0].Metrics.map((m) => m.Name);
    expect(failed._aws.CloudWatchMetrics[0].Metrics).toContainEqual({
      Name: READ_LOG_FAILURES_METRIC,
      Unit: 'Count',
    });
    expect(failed[READ_LOG_FAILURES_METRIC]).toBe(1);
    expect(names(plain)).not.toContain(READ_LOG_FAILURES_METRIC);
  });
});
