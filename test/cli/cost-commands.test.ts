import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { COST_CSV_COLUMNS, formatCostCsv } from '../../cli/cost-commands';
import { runCli } from '../../cli/program';
import { EmfMetricsSink } from '../../lambdas/adapters/aws/emf-metrics-sink';
import { buildCostReport, COST_DEFINITIONS, dailyTotalsOf, formatUsd } from '../../lambdas/core/cost-report';
import { UsageMeter, type UsagePoint } from '../../lambdas/core/usage-meter';
import { loadConfig } from '../../lib/config/load-config';
import { FakeCloudWatchMetrics } from '../lambdas/adapters/fake-cloudwatch-metrics';

const EXAMPLE_CONFIG = resolve(__dirname, '../../config/airlock.config.yaml');
const config = loadConfig(EXAMPLE_CONFIG);
const WORKFLOW = 'expense-summary';
const RANGE_ARGS = ['--from', '2026-10-01', '--to', '2026-10-02'];
/** A workflow name a hostile log line might carry: a comma, quotes and a spreadsheet formula. */
const HOSTILE_WORKFLOW = '=HYPERLINK("x"),y';
/** A workflow removed from the config after it ran. */
const RETIRED_WORKFLOW = 'retired-flow';

interface FakeCli {
  run(...args: string[]): Promise<number>;
  readonly stdout: () => string;
  readonly stderr: () => string;
}

/** The CLI as a script sees it: argv in; stdout, stderr and the exit code out. */
function fakeCli(env: Record<string, string>): FakeCli {
  let out = '';
  let err = '';
  const stream = (append: (text: string) => void) =>
    ({
      isTTY: false,
      write: (chunk: string | Uint8Array) => {
        append(String(chunk));
        return true;
      },
    }) as unknown as NodeJS.WritableStream;
  const io = {
    stdout: stream((text) => {
      out += text;
    }),
    stderr: stream((text) => {
      err += text;
    }),
    env,
    cwd: process.cwd(),
  };
  return {
    run: (...args) => {
      out = '';
      err = '';
      return runCli(['node', 'airlock', ...args], io);
    },
    stdout: () => out,
    stderr: () => err,
  };
}

/** Powertools warns on stderr about timestamps CloudWatch would not ingest; these are read from a file. */
function quietPowertoolsTimestampWarnings(): void {
  const write = process.stderr.write.bind(process.stderr);
  jest
    .spyOn(process.stderr, 'write')
    .mockImplementation(((chunk: string | Uint8Array, ...rest: never[]) =>
      String(chunk).includes('will be skipped by Amazon CloudWatch')
        ? true
        : write(chunk, ...rest)) as never);
}

let home: string;
let cli: FakeCli;
/** What the meter recorded, for the figures the report must show. */
let points: UsagePoint[];

/** Writes the local pilot's metrics log the way the pilot does: the meter and the EMF sink. */
async function recordPilotUsage(): Promise<void> {
  const lines: string[] = [];
  const sink = new EmfMetricsSink({ emit: (line) => lines.push(line) });
  const meter = new UsageMeter(
    config.prices,
    {
      record: (p) => {
        points.push(p);
        sink.record(p);
      },
    },
    512,
  );
  const call = (
    at: string,
    runId: string,
    connector: string,
    operation: string,
    outcome: 'allowed' | 'denied',
    ms: number,
  ) =>
    meter.record({
      workflow: WORKFLOW,
      connector,
      operation,
      outcome,
      bytesOut: outcome === 'allowed' ? 2048 : 0,
      durationMs: ms,
      usage: {
        apiRequests: 1,
        kmsRequests: 0,
        secretsManagerCalls: connector === 'erp' ? 1 : 0,
        dynamodbWrites: 1,
      },
      timestamp: new Date(at),
      runId,
    });
  // A token request as the broker meters it: no run yet, one KMS signature when a token is issued.
  const tokenRequest = (at: string, outcome: 'credential_issued' | 'credential_denied', ms: number) =>
    meter.record({
      workflow: WORKFLOW,
      outcome,
      bytesOut: 0,
      durationMs: ms,
      usage: {
        apiRequests: 1,
        kmsRequests: outcome === 'credential_issued' ? 1 : 0,
        secretsManagerCalls: 0,
        dynamodbWrites: 1,
      },
      timestamp: new Date(at),
    });
  call('2026-10-01T09:00:00Z', 'jti-1', 'receipts', 'list', 'allowed', 40);
  // jti-1's token request, logged after its first call so that line stays the template below.
  tokenRequest('2026-10-01T08:59:59Z', 'credential_issued', 12);
  tokenRequest('2026-10-01T10:00:00Z', 'credential_denied', 5);
  call('2026-10-01T09:00:02Z', 'jti-1', 'receipts', 'read', 'allowed', 95);
  call('2026-10-01T09:00:03Z', 'jti-1', 'receipts', 'read', 'denied', 11);
  call('2026-10-01T09:01:00Z', 'jti-1', 'erp', 'lookupGlCode', 'allowed', 260);
  meter.record({
    workflow: WORKFLOW,
    outcome: 'usage_reported',
    bytesOut: 0,
    durationMs: 0,
    usage: {
      apiRequests: 1,
      kmsRequests: 0,
      secretsManagerCalls: 0,
      dynamodbWrites: 1,
      llm: { model: 'claude-sonnet-4-5', inputTokens: 40_000, outputTokens: 2_500 },
    },
    timestamp: new Date('2026-10-01T09:05:00Z'),
    runId: 'jti-1',
  });
  tokenRequest('2026-10-02T14:59:58Z', 'credential_issued', 10);
  call('2026-10-02T15:00:00Z', 'jti-2', 'receipts', 'list', 'allowed', 38);
  tokenRequest('2026-10-02T14:59:59Z', 'credential_issued', 11);
  call('2026-10-02T15:00:01Z', 'jti-3', 'erp', 'lookupGlCode', 'allowed', 240);
  tokenRequest('2026-10-03T00:00:00Z', 'credential_issued', 10); // after --to
  call('2026-10-03T00:00:00Z', 'jti-4', 'receipts', 'list', 'allowed', 38); // after --to
  // A workflow since removed from the config, and a line no Airlock sink writes (a name a spreadsheet would run).
  const retired = JSON.parse(lines[0]) as Record<string, unknown>;
  lines.push(JSON.stringify({ ...retired, workflow: RETIRED_WORKFLOW, runId: 'jti-r' }));
  lines.push(JSON.stringify({ ...retired, workflow: HOSTILE_WORKFLOW, runId: 'jti-x' }));
  await writeFile(join(home, 'metrics.log'), `${lines.join('\n')}\n`);
}

function costOfDay(day: string, workflow = WORKFLOW): number {
  return points
    .filter((p) => p.workflow === workflow && p.timestamp.toISOString().startsWith(day))
    .reduce((sum, p) => sum + p.cost.total, 0);
}

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF records). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 1;
    } else field += c;
  }
  return rows;
}

beforeEach(async () => {
  quietPowertoolsTimestampWarnings();
  home = await mkdtemp(join(tmpdir(), 'airlock-cost-cli-'));
  cli = fakeCli({ AIRLOCK_HOME: home, AIRLOCK_CONFIG: EXAMPLE_CONFIG });
  points = [];
  await recordPilotUsage();
});

afterEach(async () => {
  jest.restoreAllMocks();
  await rm(home, { recursive: true, force: true });
});

describe('Command: cost report --local', () => {
  it('prints aligned tables with the recorded cost, runs, value and the top operations', async () => {
    // Act
    const code = await cli.run('cost', 'report', '--local', ...RANGE_ARGS);

    // Assess
    expect(code).toBe(0);
    const out = cli.stdout();
    const lines = out.split('\n');
    const start = lines.indexOf('Per workflow per day') + 1;
    const dayTable = lines.slice(start, lines.indexOf('', start));
    expect(dayTable).toHaveLength(2 + 3); // header, rule, 2 days of expense-summary, 1 of the retired workflow
    expect(new Set(dayTable.map((l) => l.length)).size).toBe(1);
    const head = dayTable[0].split(/\s{2,}/);
    const cellsOf = (day: string) =>
      dayTable
        .find((l) => l.startsWith(`${day}  ${WORKFLOW}`))!
        .trim()
        .split(/\s{2,}/);
    const cell = (cells: string[], name: string) => cells[head.indexOf(name)];
    const day1 = cellsOf('2026-10-01');
    expect(cell(day1, 'Cost')).toBe(formatUsd(costOfDay('2026-10-01')));
    // 1 run, 4 calls (the token requests are not calls), 2 denied (a read and a token request), 0 approvals.
    expect(['Runs', 'Calls', 'Denied', 'Approvals'].map((name) => cell(day1, name))).toEqual([
      '1',
      '4',
      '2',
      '0',
    ]);
    // KMS: one signature per issued token, by the price table: 1 on day 1, 2 on day 2.
    expect(cell(day1, 'KMS')).toBe(formatUsd(config.prices.kmsRequest));
    expect(cell(cellsOf('2026-10-02'), 'KMS')).toBe(formatUsd(2 * config.prices.kmsRequest));
    expect(out).toMatch(new RegExp(`${WORKFLOW}\\s+FIN-042\\s+bob\\s+3\\s+6\\s+`)); // 3 runs, 6 calls over the range
    expect(out).toContain('$135.00'); // 3 runs × 45 min ÷ 60 × $60
    expect(out).toMatch(/Top operations by cost\n.*\n.*\nexpense-summary\s+erp\/lookupGlCode/);
    // The reader is told what Calls and Denied cover, and why operations do not add up to the cost.
    expect(out).toContain(COST_DEFINITIONS);
    expect(cli.stderr()).toContain(`Workflow "${RETIRED_WORKFLOW}" is in the metrics but not in the config`);
    expect(cli.stderr()).toMatch(/skipped 1 malformed line\(s\)/);
    expect(out).not.toContain(HOSTILE_WORKFLOW);
  });

  it('writes RFC 4180 CSV with a header and one row per workflow per day, numbers as recorded', async () => {
    // Act
    const code = await cli.run('cost', 'report', '--local', ...RANGE_ARGS, '--format', 'csv');

    // Assess
    expect(code).toBe(0);
    const text = cli.stdout();
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\n]/);
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual([...COST_CSV_COLUMNS]);
    const column = (row: string[], name: (typeof COST_CSV_COLUMNS)[number]) => row[header.indexOf(name)];
    // Three day rows, a row per workflow of the config or the metrics, and the total.
    // (the config's workflows, and the retired one only the metrics know)
    const workflowRows = Object.keys(config.workflows).length + 1;
    expect(rows.map((r) => column(r, 'row'))).toEqual([
      'day',
      'day',
      'day',
      ...Array<string>(workflowRows).fill('workflow'),
      'total',
    ]);
    const day1 = rows.find((r) => column(r, 'day') === '2026-10-01' && column(r, 'workflow') === WORKFLOW)!;
    expect(column(day1, 'cost_centre')).toBe(config.workflows[WORKFLOW].costCentre);
    expect(column(day1, 'owner')).toBe(config.workflows[WORKFLOW].owner);
    expect(Number(column(day1, 'cost_total_usd'))).toBeCloseTo(costOfDay('2026-10-01'), 11);
    expect(column(day1, 'runs')).toBe('1');
    expect(column(day1, 'invocations')).toBe('4');
    expect(column(day1, 'denials')).toBe('2');
    expect(Number(column(day1, 'cost_kms_usd'))).toBeCloseTo(config.prices.kmsRequest, 12);
    expect(column(day1, 'llm_self_reported_input_tokens')).toBe('40000');
    expect(Number(column(day1, 'value_usd_assumed'))).toBeCloseTo(45, 9);
    const total = rows.find((r) => column(r, 'row') === 'total')!;
    expect(Number(column(total, 'cost_total_usd'))).toBeCloseTo(
      rows
        .filter((r) => column(r, 'row') === 'day')
        .reduce((n, r) => n + Number(column(r, 'cost_total_usd')), 0),
      11,
    );
    for (const row of rows) {
      expect(row).toHaveLength(COST_CSV_COLUMNS.length);
      expect(column(row, 'cost_lambda_usd')).toMatch(/^\d+(\.\d+)?$/); // never 1e-7
    }
    expect(
      rows
        .filter((r) => column(r, 'row') === 'day')
        .map((r) => column(r, 'workflow'))
        .sort(),
    ).toEqual([WORKFLOW, WORKFLOW, RETIRED_WORKFLOW].sort());
  });

  it('prints the whole report as JSON with --json', async () => {
    // Act
    const code = await cli.run('--json', 'cost', 'report', '--local', ...RANGE_ARGS);

    // Assess
    expect(code).toBe(0);
    const report = JSON.parse(cli.stdout());
    expect(report.range).toEqual({ from: '2026-10-01', to: '2026-10-02' });
    expect(report.skippedRecords).toBe(1);
    const summary = report.workflows.find((w: { workflow: string }) => w.workflow === WORKFLOW);
    expect(summary).toMatchObject({ runs: 3, invocations: 6, denials: 2 });
    expect(summary.cost.kms).toBeCloseTo(3 * config.prices.kmsRequest, 12);
    expect(summary.cost.total).toBeCloseTo(costOfDay('2026-10-01') + costOfDay('2026-10-02'), 11);
    expect(report.topOperations[0]).toMatchObject({
      connector: 'erp',
      operation: 'lookupGlCode',
      invocations: 2,
    });
  });

  it('writes one self-contained HTML file with --out and says where', async () => {
    // Prepare
    const out = join(home, 'report.html');

    // Act
    const code = await cli.run('cost', 'report', '--local', ...RANGE_ARGS, '--format', 'html', '--out', out);

    // Assess
    expect(code).toBe(0);
    expect(cli.stdout()).toBe(`Wrote the html cost report for 2026-10-01..2026-10-02 to ${out}.\n`);
    const html = await readFile(out, 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('<svg id="cost-per-day"');
    expect(html).toContain('<svg id="roi"');
    expect(html).toContain('<table id="top-operations">');
    expect(html).not.toMatch(/<script|<link|\ssrc=|\shref=|@import|url\(/i);
    expect(html).toContain(formatUsd(costOfDay('2026-10-01') + costOfDay('2026-10-02')));
    expect(html).toContain('1 malformed metric record(s) were skipped and are not counted.');
    expect(html).toContain(COST_DEFINITIONS);
    expect(html).toContain(
      `Workflow &quot;${RETIRED_WORKFLOW}&quot; is in the metrics but not in the config`,
    );
  });

  it('skips malformed lines, counts them on stderr, and leaves them out of the figures', async () => {
    // Prepare
    await appendFile(join(home, 'metrics.log'), '{"_aws": truncated\nnot json at all\n');

    // Act
    const code = await cli.run('--json', 'cost', 'report', '--local', ...RANGE_ARGS);

    // Assess
    expect(code).toBe(0);
    expect(cli.stderr()).toMatch(
      /skipped 3 malformed line\(s\) in local pilot metrics log .*metrics\.log; they are not counted/,
    );
    const report = JSON.parse(cli.stdout());
    expect(report.skippedRecords).toBe(3);
    expect(report.workflows.find((w: { workflow: string }) => w.workflow === WORKFLOW).runs).toBe(3);
  });

  it.each([
    [['--from', '2026-13-01'], /--from: expected a UTC day as YYYY-MM-DD, got "2026-13-01"/],
    [['--from', '2026-10-05', '--to', '2026-10-01'], /swap them/],
    [['--format', 'pdf'], /argument 'pdf' is invalid/],
    [['--top', '0'], /--top: expected a whole number from 1 to 1000/],
  ])('refuses %j as a usage error (exit 2)', async (args, message) => {
    // Act
    const code = await cli.run('cost', 'report', '--local', ...args);

    // Assess
    expect(code).toBe(2);
    expect(cli.stderr()).toMatch(message);
    expect(cli.stderr()).not.toMatch(/\n\s+at /);
  });

  it('fails (exit 1) with what to do when the pilot never wrote a metrics log', async () => {
    // Prepare
    await rm(join(home, 'metrics.log'));

    // Act
    const code = await cli.run('cost', 'report', '--local');

    // Assess
    expect(code).toBe(1);
    expect(cli.stderr()).toMatch(/airlock: No metrics log at .*: start the local pilot \(npm start\)/);
  });
});

describe('Function: formatCostCsv', () => {
  it('quotes fields per RFC 4180 and defuses a name a spreadsheet would run as a formula', () => {
    // Prepare
    const range = { from: '2026-10-01', to: '2026-10-01' };
    const totals = dailyTotalsOf(
      [
        {
          timestamp: new Date('2026-10-01T12:00:00Z'),
          workflow: HOSTILE_WORKFLOW,
          values: { Invocations: 1, EstimatedCostUsd: 0.0000001 },
        },
      ],
      range,
    );

    // Act
    const text = formatCostCsv(buildCostReport(config, totals, range));

    // Assess
    expect(text).toContain(`"'=HYPERLINK(""x""),y"`);
    const [, row] = parseCsv(text);
    expect(row[COST_CSV_COLUMNS.indexOf('workflow')]).toBe(`'${HOSTILE_WORKFLOW}`);
    expect(row[COST_CSV_COLUMNS.indexOf('cost_total_usd')]).toBe('0.0000001');
    // No runs, so no value: a loss of all of it, in percent as everywhere else.
    expect(row[COST_CSV_COLUMNS.indexOf('roi_percent')]).toBe('-100');
    expect(row[COST_CSV_COLUMNS.indexOf('cost_per_run_usd')]).toBe('');
  });
});

describe('Command: cost report (CloudWatch)', () => {
  let cloudwatch: FakeCloudWatchMetrics;

  afterEach(() => cloudwatch.restore());

  it('reports the daily sums CloudWatch holds for the config’s workflows', async () => {
    // Prepare: what CloudWatch aggregated from the EMF lines of the recorded points.
    cloudwatch = new FakeCloudWatchMetrics({ pageSize: 7 });
    for (const p of points.filter((q) => q.workflow === WORKFLOW)) {
      const day = p.timestamp.toISOString().slice(0, 10);
      const put = (metric: string, dims: Record<string, string>, value: number) =>
        cloudwatch.put('Airlock', metric, dims, day, value);
      put('EstimatedCostUsd', { workflow: WORKFLOW }, p.cost.total);
      put('CostLlmUsd', { workflow: WORKFLOW }, p.cost.llm);
      put('CostKmsUsd', { workflow: WORKFLOW }, p.cost.kms);
      put('Runs', { workflow: WORKFLOW }, p.firstOfRun ? 1 : 0);
      // Connector calls only: token requests and usage reports are not calls.
      put('Invocations', { workflow: WORKFLOW }, p.connector ? 1 : 0);
      if (p.connector && p.operation) {
        put(
          'EstimatedCostUsd',
          { workflow: WORKFLOW, connector: p.connector, operation: p.operation },
          p.cost.total,
        );
      }
    }

    // Act
    const code = await cli.run('--json', 'cost', 'report', ...RANGE_ARGS, '--region', 'eu-west-1');

    // Assess
    expect(code).toBe(0);
    const report = JSON.parse(cli.stdout());
    expect(report.source).toBe('CloudWatch (eu-west-1)');
    expect(report.days.map((d: { day: string; runs: number }) => [d.day, d.runs])).toEqual([
      ['2026-10-01', 1],
      ['2026-10-02', 2],
    ]);
    expect(report.days[0].cost.total).toBeCloseTo(costOfDay('2026-10-01'), 11);
    expect(report.days[0].cost.llm).toBeGreaterThan(0);
    expect(report.days.map((d: { cost: { kms: number } }) => d.cost.kms)).toEqual([
      expect.closeTo(config.prices.kmsRequest, 12),
      expect.closeTo(2 * config.prices.kmsRequest, 12),
    ]);
    expect(report.days.map((d: { invocations: number }) => d.invocations)).toEqual([4, 2]);
    expect(report.topOperations[0]).toMatchObject({ connector: 'erp', operation: 'lookupGlCode' });
    expect(cloudwatch.calls.length).toBeGreaterThan(1); // paged
  });

  it('fails (exit 1) naming the missing permission when CloudWatch refuses', async () => {
    // Prepare
    cloudwatch = new FakeCloudWatchMetrics();
    cloudwatch.mock.rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));

    // Act
    const code = await cli.run('cost', 'report', ...RANGE_ARGS, '--region', 'eu-west-1');

    // Assess
    expect(code).toBe(1);
    expect(cli.stderr()).toMatch(/airlock: not allowed to cloudwatch:GetMetricData/);
  });
});
