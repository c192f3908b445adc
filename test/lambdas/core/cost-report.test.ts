import { join } from 'node:path';
import {
  buildCostReport,
  dailyTotalsOf,
  daysOf,
  formatRoi,
  formatUsd,
  type MetricRecord,
  metricRecordsOf,
  reportRange,
} from '../../../lambdas/core/cost-report';
import { AirlockError } from '../../../lambdas/core/errors';
import { UsageMeter, type UsagePoint } from '../../../lambdas/core/usage-meter';
import { loadConfig } from '../../../lib/config/load-config';

const config = loadConfig(join(__dirname, '../../../config/airlock.config.yaml'));
const prices = config.prices;
const MEMORY_MB = 512;
const WORKFLOW = 'expense-summary';

/** A request as the broker or connector function saw it: what the test records and prices independently. */
interface RecordedRequest {
  readonly at: string;
  /** The token's run; a token request has none (the broker meters it before any run exists). */
  readonly runId?: string;
  readonly connector?: string;
  readonly operation?: string;
  readonly outcome:
    | 'allowed'
    | 'denied'
    | 'approval_requested'
    | 'failed'
    | 'refused'
    | 'usage_reported'
    | 'credential_issued'
    | 'credential_denied';
  readonly durationMs: number;
  readonly bytesOut: number;
  /** KMS Sign calls: one per token the broker issued. @default 0 */
  readonly kmsRequests?: number;
  readonly secretsManagerCalls: number;
  readonly dynamodbWrites: number;
  readonly llm?: { model: string; inputTokens: number; outputTokens: number };
}

/** What finance is told is not a call: token requests and LLM usage reports are priced, but are not calls. */
const NOT_CALLS: ReadonlySet<RecordedRequest['outcome']> = new Set([
  'usage_reported',
  'credential_issued',
  'credential_denied',
]);
/** Refused connector calls and refused token requests. */
const DENIALS: ReadonlySet<RecordedRequest['outcome']> = new Set(['denied', 'credential_denied']);

const REQUESTS: readonly RecordedRequest[] = [
  // Day 1, run A: its token, a list, two reads (one denied), a GL lookup, a journal entry held for
  // approval, LLM usage.
  {
    at: '2026-10-01T07:59:58Z',
    outcome: 'credential_issued',
    durationMs: 14.3,
    bytesOut: 0,
    kmsRequests: 1,
    secretsManagerCalls: 0,
    dynamodbWrites: 1,
  },
  {
    at: '2026-10-01T08:00:00Z',
    runId: 'run-a',
    connector: 'receipts',
    operation: 'list',
    outcome: 'allowed',
    durationMs: 41.2,
    bytesOut: 812,
    secretsManagerCalls: 0,
    dynamodbWrites: 1,
  },
  {
    at: '2026-10-01T08:00:05Z',
    runId: 'run-a',
    connector: 'receipts',
    operation: 'read',
    outcome: 'allowed',
    durationMs: 88.9,
    bytesOut: 20_480,
    secretsManagerCalls: 0,
    dynamodbWrites: 1,
  },
  {
    at: '2026-10-01T08:00:09Z',
    runId: 'run-a',
    connector: 'receipts',
    operation: 'read',
    outcome: 'denied',
    durationMs: 12.01,
    bytesOut: 0,
    secretsManagerCalls: 0,
    dynamodbWrites: 1,
  },
  {
    at: '2026-10-01T08:01:00Z',
    runId: 'run-a',
    connector: 'erp',
    operation: 'lookupGlCode',
    outcome: 'allowed',
    durationMs: 230,
    bytesOut: 1_024,
    secretsManagerCalls: 1,
    dynamodbWrites: 1,
  },
  {
    at: '2026-10-01T08:02:00Z',
    runId: 'run-a',
    connector: 'erp',
    operation: 'createJournalEntry',
    outcome: 'approval_requested',
    durationMs: 55.5,
    bytesOut: 0,
    secretsManagerCalls: 0,
    // The approval item and the connector_pending record.
    dynamodbWrites: 2,
  },
  {
    at: '2026-10-01T08:03:00Z',
    runId: 'run-a',
    outcome: 'usage_reported',
    durationMs: 0,
    bytesOut: 0,
    secretsManagerCalls: 0,
    dynamodbWrites: 1,
    llm: { model: 'claude-sonnet-4-5', inputTokens: 48_000, outputTokens: 3_200 },
  },
  // Day 1: a principal outside the workflow's groups is refused a token (nothing signed, one audit write).
  {
    at: '2026-10-01T12:00:00Z',
    outcome: 'credential_denied',
    durationMs: 6.2,
    bytesOut: 0,
    secretsManagerCalls: 0,
    dynamodbWrites: 1,
  },
  // Day 1, run B (late in the UTC day): its token, an approved journal entry and a failed lookup.
  {
    at: '2026-10-01T23:59:58Z',
    outcome: 'credential_issued',
    durationMs: 9.8,
    bytesOut: 0,
    kmsRequests: 1,
    secretsManagerCalls: 0,
    dynamodbWrites: 1,
  },
  {
    at: '2026-10-01T23:59:59.999Z',
    runId: 'run-b',
    connector: 'erp',
    operation: 'createJournalEntry',
    outcome: 'allowed',
    durationMs: 310.4,
    bytesOut: 64,
    secretsManagerCalls: 1,
    // The approval's transition, the record before the ERP call and the one after it.
    dynamodbWrites: 3,
  },
  {
    at: '2026-10-01T23:59:59.000Z',
    runId: 'run-b',
    connector: 'erp',
    operation: 'lookupGlCode',
    outcome: 'failed',
    durationMs: 5_000,
    bytesOut: 0,
    secretsManagerCalls: 0,
    dynamodbWrites: 1,
  },
  // Day 2: run B continues past midnight (it is a run on both days), run C uses the cheaper model
  // and names an operation no connector has (refused, audited and metered without operation dimensions).
  {
    at: '2026-10-02T00:00:00.000Z',
    runId: 'run-b',
    connector: 'receipts',
    operation: 'list',
    outcome: 'allowed',
    durationMs: 39,
    bytesOut: 700,
    secretsManagerCalls: 0,
    dynamodbWrites: 1,
  },
  {
    at: '2026-10-02T14:29:59Z',
    outcome: 'credential_issued',
    durationMs: 11,
    bytesOut: 0,
    kmsRequests: 1,
    secretsManagerCalls: 0,
    dynamodbWrites: 1,
  },
  {
    at: '2026-10-02T14:30:00Z',
    runId: 'run-c',
    connector: 'receipts',
    operation: 'read',
    outcome: 'refused',
    durationMs: 3,
    bytesOut: 0,
    secretsManagerCalls: 0,
    dynamodbWrites: 1,
  },
  {
    at: '2026-10-02T14:30:30Z',
    runId: 'run-c',
    outcome: 'refused',
    durationMs: 2.5,
    bytesOut: 0,
    secretsManagerCalls: 0,
    dynamodbWrites: 1,
  },
  {
    at: '2026-10-02T14:31:00Z',
    runId: 'run-c',
    outcome: 'usage_reported',
    durationMs: 0,
    bytesOut: 0,
    secretsManagerCalls: 0,
    dynamodbWrites: 1,
    llm: { model: 'claude-haiku-4-5', inputTokens: 120_000, outputTokens: 9_000 },
  },
  // Outside the range asked for below: must not count.
  {
    at: '2026-09-30T23:59:59.999Z',
    runId: 'run-z',
    connector: 'receipts',
    operation: 'list',
    outcome: 'allowed',
    durationMs: 40,
    bytesOut: 500,
    secretsManagerCalls: 0,
    dynamodbWrites: 1,
  },
  {
    at: '2026-10-03T00:00:00.000Z',
    runId: 'run-z',
    connector: 'receipts',
    operation: 'list',
    outcome: 'allowed',
    durationMs: 40,
    bytesOut: 500,
    secretsManagerCalls: 0,
    dynamodbWrites: 1,
  },
];

const RANGE = { from: '2026-10-01', to: '2026-10-02' };

/** The price table applied by hand, component by component (not through estimateCost). */
function priced(request: RecordedRequest) {
  const billedMs = Math.max(1, Math.ceil(request.durationMs));
  const lambda = (billedMs / 1000) * (MEMORY_MB / 1024) * prices.lambdaGbSecond + prices.lambdaRequest;
  const apiGateway = prices.apiGatewayRequest;
  const kms = (request.kmsRequests ?? 0) * prices.kmsRequest;
  const secretsManager = request.secretsManagerCalls * prices.secretsManagerCall;
  const dynamodb = request.dynamodbWrites * prices.dynamodbWrite;
  // Every API request is inspected by WAF, logged and traced.
  const waf = prices.wafRequest;
  const logs = (prices.logBytesPerRequest / 1024 ** 3) * prices.logsIngestionPerGb;
  const xray = prices.tracedShare * prices.xrayTrace;
  const model = request.llm ? prices.models[request.llm.model] : undefined;
  const llm =
    request.llm && model
      ? (request.llm.inputTokens * model.inputPerMillionTokens +
          request.llm.outputTokens * model.outputPerMillionTokens) /
        1_000_000
      : 0;
  return {
    lambda,
    apiGateway,
    kms,
    secretsManager,
    dynamodb,
    waf,
    logs,
    xray,
    llm,
    total: lambda + apiGateway + kms + secretsManager + dynamodb + waf + logs + xray + llm,
  };
}

function meterAll(requests: readonly RecordedRequest[]): UsagePoint[] {
  const points: UsagePoint[] = [];
  const meter = new UsageMeter(prices, { record: (p) => points.push(p) }, MEMORY_MB);
  for (const r of requests) {
    meter.record({
      workflow: WORKFLOW,
      connector: r.connector,
      operation: r.operation,
      outcome: r.outcome,
      bytesOut: r.bytesOut,
      durationMs: r.durationMs,
      usage: {
        apiRequests: 1,
        kmsRequests: r.kmsRequests ?? 0,
        secretsManagerCalls: r.secretsManagerCalls,
        dynamodbWrites: r.dynamodbWrites,
        ...(r.llm ? { llm: r.llm } : {}),
      },
      timestamp: new Date(r.at),
      ...(r.runId !== undefined ? { runId: r.runId } : {}),
    });
  }
  return points;
}

function reportOf(requests: readonly RecordedRequest[]) {
  const records = meterAll(requests).flatMap(metricRecordsOf);
  return buildCostReport(config, dailyTotalsOf(records, RANGE), RANGE);
}

describe('Function: buildCostReport', () => {
  it('gives per day exactly what the price table gives for the recorded requests', () => {
    // Prepare
    const expected = new Map<
      string,
      ReturnType<typeof priced> & { runs: Set<string>; calls: number; denials: number; bytes: number }
    >();
    for (const r of REQUESTS) {
      const day = r.at.slice(0, 10);
      if (day < RANGE.from || day > RANGE.to) continue;
      const e = expected.get(day) ?? {
        lambda: 0,
        apiGateway: 0,
        kms: 0,
        secretsManager: 0,
        dynamodb: 0,
        waf: 0,
        logs: 0,
        xray: 0,
        llm: 0,
        total: 0,
        runs: new Set(),
        calls: 0,
        denials: 0,
        bytes: 0,
      };
      const p = priced(r);
      e.lambda += p.lambda;
      e.apiGateway += p.apiGateway;
      e.kms += p.kms;
      e.secretsManager += p.secretsManager;
      e.dynamodb += p.dynamodb;
      e.waf += p.waf;
      e.logs += p.logs;
      e.xray += p.xray;
      e.llm += p.llm;
      e.total += p.total;
      if (r.runId !== undefined) e.runs.add(r.runId);
      e.calls += NOT_CALLS.has(r.outcome) ? 0 : 1;
      e.denials += DENIALS.has(r.outcome) ? 1 : 0;
      e.bytes += r.bytesOut;
      expected.set(day, e);
    }

    // Act
    const report = reportOf(REQUESTS);

    // Assess
    expect(report.days.map((d) => d.day)).toEqual(['2026-10-01', '2026-10-02']);
    for (const row of report.days) {
      const e = expected.get(row.day)!;
      expect(row.workflow).toBe(WORKFLOW);
      expect(row.cost.lambda).toBeCloseTo(e.lambda, 12);
      expect(row.cost.apiGateway).toBeCloseTo(e.apiGateway, 12);
      // The broker's signatures: every day here issued a token.
      expect(row.cost.kms).toBeGreaterThan(0);
      expect(row.cost.kms).toBeCloseTo(e.kms, 12);
      expect(row.cost.secretsManager).toBeCloseTo(e.secretsManager, 12);
      expect(row.cost.dynamodb).toBeCloseTo(e.dynamodb, 12);
      expect(row.cost.waf).toBeCloseTo(e.waf, 12);
      expect(row.cost.logs).toBeCloseTo(e.logs, 12);
      expect(row.cost.xray).toBeCloseTo(e.xray, 12);
      expect(row.cost.llm).toBeCloseTo(e.llm, 12);
      expect(row.cost.total).toBeCloseTo(e.total, 12);
      expect(row.runs).toBe(e.runs.size);
      expect(row.invocations).toBe(e.calls);
      expect(row.denials).toBe(e.denials);
      expect(row.bytesOut).toBe(e.bytes);
      expect(row.costPerRunUsd).toBeCloseTo(e.total / e.runs.size, 12);
      const value =
        ((e.runs.size * config.workflows[WORKFLOW].minutesSavedPerRun) / 60) * prices.hourlyRateUsd;
      expect(row.valueUsd).toBeCloseTo(value, 9);
      expect(row.roi).toBeCloseTo((value - e.total) / e.total, 6);
    }
  });

  it('counts outcomes and a run that crosses midnight on both days, and sums the range per workflow', () => {
    // Act
    const report = reportOf(REQUESTS);

    // Assess: day 1 has 7 connector calls (token requests and the usage report are not calls) and
    // 2 denials (a read and a token request); day 2 has 3 calls (the unknown operation's among them).
    const [day1, day2] = report.days;
    expect(day1).toMatchObject({ runs: 2, invocations: 7, denials: 2, approvalsRequested: 1, failures: 1 });
    expect(day1.llmInputTokens).toBe(48_000);
    expect(day2).toMatchObject({ runs: 2, invocations: 3, denials: 0, llmInputTokens: 120_000 });
    const summary = report.workflows.find((w) => w.workflow === WORKFLOW)!;
    expect(summary).toMatchObject({
      runs: 4,
      invocations: 10,
      denials: 2,
      inConfig: true,
      costCentre: 'FIN-042',
    });
    expect(summary.minutesSaved).toBe(4 * 45);
    expect(summary.valueUsd).toBeCloseTo(180, 9);
    expect(summary.cost.total).toBeCloseTo(day1.cost.total + day2.cost.total, 12);
    expect(report.totalCostUsd).toBeCloseTo(summary.cost.total, 12);
    expect(report.notes).toEqual([]);
  });

  it('ranks operations by cost, counting each request once per operation', () => {
    // Prepare
    const inRange = REQUESTS.filter((r) => r.at >= '2026-10-01' && r.at < '2026-10-03' && r.connector);
    const costOf = (connector: string, operation: string) =>
      inRange
        .filter((r) => r.connector === connector && r.operation === operation)
        .reduce((sum, r) => sum + priced(r).total, 0);

    // Act
    const report = reportOf(REQUESTS);

    // Assess
    const names = report.topOperations.map((o) => `${o.connector}/${o.operation}`);
    const expected = ['erp/lookupGlCode', 'erp/createJournalEntry', 'receipts/read', 'receipts/list'].sort(
      (a, b) => costOf(...(b.split('/') as [string, string])) - costOf(...(a.split('/') as [string, string])),
    );
    expect(names).toEqual(expected);
    for (const o of report.topOperations) {
      expect(o.costUsd).toBeCloseTo(costOf(o.connector, o.operation), 12);
    }
    const costs = report.topOperations.map((o) => o.costUsd);
    expect(costs).toEqual([...costs].sort((a, b) => b - a));
    const read = report.topOperations.find((o) => o.operation === 'read')!;
    expect(read).toMatchObject({ invocations: 3, denials: 1, bytesOut: 20_480 });
    expect(read.shareOfWorkflowCost).toBeCloseTo(read.costUsd / report.totalCostUsd, 12);
  });

  it('charges token requests, usage reports and unknown operations to the workflow, and to no operation', () => {
    // Prepare: what no operation is charged for, priced by hand.
    const inRange = REQUESTS.filter((r) => r.at >= '2026-10-01' && r.at < '2026-10-03');
    const outsideOperations = inRange
      .filter((r) => r.connector === undefined)
      .reduce((sum, r) => sum + priced(r).total, 0);

    // Act
    const report = reportOf(REQUESTS);

    // Assess
    const summary = report.workflows.find((w) => w.workflow === WORKFLOW)!;
    const operationsTotal = report.topOperations.reduce((sum, o) => sum + o.costUsd, 0);
    expect(outsideOperations).toBeGreaterThan(0);
    expect(summary.cost.total - operationsTotal).toBeCloseTo(outsideOperations, 12);
    expect(report.topOperations.reduce((n, o) => n + o.denials, 0)).toBe(1); // the read, not the token
  });

  it('lists a workflow found only in the metrics with its cost but no value, and says so', () => {
    // Prepare
    const records: MetricRecord[] = [
      {
        timestamp: new Date('2026-10-01T10:00:00Z'),
        workflow: 'retired-flow',
        runId: 'r1',
        values: { Invocations: 1, EstimatedCostUsd: 0.5, CostLlmUsd: 0.5 },
      },
    ];

    // Act
    const report = buildCostReport(config, dailyTotalsOf(records, RANGE), RANGE);

    // Assess
    const retired = report.workflows.find((w) => w.workflow === 'retired-flow')!;
    expect(retired).toMatchObject({ inConfig: false, runs: 1, valueUsd: 0, roi: -1 });
    expect(retired.cost.total).toBe(0.5);
    expect(report.workflows.find((w) => w.workflow === WORKFLOW)).toMatchObject({
      runs: 0,
      roi: null,
      costPerRunUsd: null,
    });
    expect(report.notes).toEqual([
      'Workflow "retired-flow" is in the metrics but not in the config: its cost is shown, its value is not counted.',
    ]);
  });

  it('keeps only as many top operations as asked', () => {
    // Act
    const records = meterAll(REQUESTS).flatMap(metricRecordsOf);
    const report = buildCostReport(config, dailyTotalsOf(records, RANGE), RANGE, { topOperations: 2 });

    // Assess
    expect(report.topOperations).toHaveLength(2);
  });
});

describe('Function: dailyTotalsOf', () => {
  it('counts distinct run ids per workflow and day, not the Runs metric, when records carry them', () => {
    // Prepare: one run seen by two processes (both flagged it as first), plus a second run.
    const records: MetricRecord[] = [
      {
        timestamp: new Date('2026-10-01T10:00:00Z'),
        workflow: WORKFLOW,
        runId: 'a',
        values: { Runs: 1, Invocations: 1 },
      },
      {
        timestamp: new Date('2026-10-01T10:00:01Z'),
        workflow: WORKFLOW,
        runId: 'a',
        values: { Runs: 1, Invocations: 1 },
      },
      {
        timestamp: new Date('2026-10-01T11:00:00Z'),
        workflow: WORKFLOW,
        runId: 'b',
        values: { Runs: 1, Invocations: 1 },
      },
    ];

    // Act
    const [totals] = dailyTotalsOf(records, RANGE);

    // Assess
    expect(totals.values.Runs).toBe(2);
    expect(totals.values.Invocations).toBe(3);
  });

  it('falls back to the Runs metric for records without run ids (CloudWatch sums, older logs)', () => {
    // Prepare
    const records: MetricRecord[] = [
      {
        timestamp: new Date('2026-10-02T10:00:00Z'),
        workflow: WORKFLOW,
        values: { Runs: 3, Invocations: 9 },
      },
    ];

    // Act
    const [totals] = dailyTotalsOf(records, RANGE);

    // Assess
    expect(totals).toMatchObject({ day: '2026-10-02', workflow: WORKFLOW });
    expect(totals.values.Runs).toBe(3);
  });
});

describe('Function: metricRecordsOf', () => {
  it('publishes a connector call under the workflow and the operation, and LLM usage under the workflow only', () => {
    // Act
    const [call, usage] = meterAll([
      REQUESTS.find((r) => r.operation === 'list')!,
      REQUESTS.find((r) => r.outcome === 'usage_reported')!,
    ]);

    // Assess
    expect(metricRecordsOf(call).map((r) => [r.workflow, r.connector, r.operation])).toEqual([
      [WORKFLOW, undefined, undefined],
      [WORKFLOW, 'receipts', 'list'],
    ]);
    expect(metricRecordsOf(usage)).toHaveLength(1);
    expect(metricRecordsOf(usage)[0].values).toMatchObject({
      Invocations: 0,
      LlmInputTokens: 48_000,
      LlmOutputTokens: 3_200,
    });
  });

  it('publishes a token request under the workflow only: priced with its signature, not a call, in no run', () => {
    // Prepare
    const [issuedRequest, deniedRequest] = REQUESTS.filter((r) => r.outcome.startsWith('credential_'));

    // Act
    const [issued, denied] = meterAll([issuedRequest, deniedRequest]);

    // Assess
    expect(metricRecordsOf(issued)).toHaveLength(1);
    expect(metricRecordsOf(issued)[0].runId).toBeUndefined();
    expect(metricRecordsOf(issued)[0].values).toMatchObject({
      Invocations: 0,
      Runs: 0,
      Denials: 0,
      CostKmsUsd: prices.kmsRequest,
    });
    expect(metricRecordsOf(denied)).toHaveLength(1);
    expect(metricRecordsOf(denied)[0].values).toMatchObject({ Invocations: 0, Denials: 1, CostKmsUsd: 0 });
  });

  it('publishes a refused unknown operation under the workflow only, as a call', () => {
    // Prepare
    const unknown = REQUESTS.find((r) => r.outcome === 'refused' && r.connector === undefined)!;

    // Act
    const [point] = meterAll([unknown]);

    // Assess
    expect(metricRecordsOf(point).map((r) => [r.workflow, r.connector, r.operation])).toEqual([
      [WORKFLOW, undefined, undefined],
    ]);
    expect(metricRecordsOf(point)[0].values).toMatchObject({ Invocations: 1, Denials: 0 });
  });

  it('flags only the first request of a run as a new run', () => {
    // Act
    const points = meterAll(REQUESTS.filter((r) => r.runId === 'run-a').slice(0, 3));

    // Assess
    expect(points.map((p) => p.firstOfRun)).toEqual([true, false, false]);
    expect(points.every((p) => p.runId === 'run-a')).toBe(true);
  });
});

describe('Function: reportRange', () => {
  const now = new Date('2026-11-05T16:00:00Z');

  it('defaults to the 30 UTC days ending today', () => {
    // Act
    const range = reportRange({}, now);

    // Assess
    expect(range).toEqual({ from: '2026-10-07', to: '2026-11-05' });
    expect(daysOf(range)).toHaveLength(30);
  });

  it.each([
    [{ from: '2026-10-32' }, /--from: expected a UTC day as YYYY-MM-DD, got "2026-10-32"/],
    [{ to: '2026-02-30' }, /--to: expected a UTC day as YYYY-MM-DD, got "2026-02-30"/],
    [{ from: '1 Oct 2026' }, /--from: expected a UTC day/],
    [{ from: '2026-10-05', to: '2026-10-01' }, /--from 2026-10-05 is after --to 2026-10-01; swap them/],
    [{ from: '2024-01-01', to: '2026-01-01' }, /covers 732 days; a report covers at most 366/],
  ])('refuses %j with a message naming what to fix', (input, message) => {
    // Act & Assess
    expect(() => reportRange(input, now)).toThrow(message);
    expect(() => reportRange(input, now)).toThrow(AirlockError);
  });
});

describe('Function: formatUsd', () => {
  it.each([
    [0, '$0.00'],
    [1234.5, '$1,234.50'],
    [0.01, '$0.01'],
    [0.0036123, '$0.0036'],
    [0.0000024, '$0.0000024'],
  ])('formats %p as %p', (usd, text) => {
    expect(formatUsd(usd)).toBe(text);
  });

  it('formats ROI as a signed percentage, or n/a without spend', () => {
    expect(formatRoi(12.5)).toBe('+1,250%');
    expect(formatRoi(-0.25)).toBe('-25%');
    expect(formatRoi(null)).toBe('n/a');
  });
});
