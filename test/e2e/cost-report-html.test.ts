/**
 * The HTML cost report as finance sees it: opened from disk in headless Chromium, offline.
 * Needs Chromium at /usr/bin/chromium (Debian's `chromium` package, which CI installs).
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { runCli } from '../../cli/program';
import { EmfMetricsSink } from '../../lambdas/adapters/aws/emf-metrics-sink';
import { localInferenceProfileArn } from '../../lambdas/adapters/local/provider-metrics-usage-source';
import { UsageMeter } from '../../lambdas/core/usage-meter';
import { loadConfig } from '../../lib/config/load-config';
import { LocalBedrockStandIn } from '../../local/bedrock-stand-in';

const CHROMIUM = '/usr/bin/chromium';
const EXAMPLE_CONFIG = resolve(__dirname, '../../config/airlock.config.yaml');
const config = loadConfig(EXAMPLE_CONFIG);
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

jest.setTimeout(90_000);

let dir: string;
let context: BrowserContext | undefined;

/** A week of the example pilot's usage, written as the local pilot writes it. */
async function writeMetricsLog(home: string): Promise<void> {
  const lines: string[] = [];
  const meter = new UsageMeter(config.prices, new EmfMetricsSink({ emit: (l) => lines.push(l) }), 512);
  const operations = [
    ['receipts', 'list'],
    ['receipts', 'read'],
    ['erp', 'lookupGlCode'],
    ['erp', 'createJournalEntry'],
  ] as const;
  for (let day = 1; day <= 7; day += 1) {
    for (let run = 0; run < (day % 3) + 1; run += 1) {
      const runId = `jti-${day}-${run}`;
      operations.forEach(([connector, operation], i) => {
        meter.record({
          workflow: 'expense-summary',
          connector,
          operation,
          outcome: i === 1 && run === 0 ? 'denied' : 'allowed',
          bytesOut: 4096 * (i + 1),
          durationMs: 40 + 60 * i,
          usage: {
            apiRequests: 1,
            kmsRequests: 0,
            secretsManagerCalls: connector === 'erp' ? 1 : 0,
            dynamodbWrites: 1,
          },
          timestamp: new Date(Date.UTC(2026, 9, day, 9, run, i)),
          runId,
        });
      });
      meter.record({
        workflow: 'expense-summary',
        outcome: 'usage_reported',
        bytesOut: 0,
        durationMs: 0,
        usage: {
          apiRequests: 1,
          kmsRequests: 0,
          secretsManagerCalls: 0,
          dynamodbWrites: 1,
          llm: { model: 'claude-haiku-4-5', inputTokens: 6000 * day, outputTokens: 800 },
        },
        timestamp: new Date(Date.UTC(2026, 9, day, 10, run)),
        runId,
      });
    }
  }
  await writeFile(join(home, 'metrics.log'), `${lines.join('\n')}\n`);
}

/** Runs the CLI quietly; stderr is returned for the failure message. */
async function airlock(home: string, ...args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const sink = { isTTY: false, write: () => true } as unknown as NodeJS.WritableStream;
  const err = {
    isTTY: false,
    write: (chunk: string) => {
      stderr += chunk;
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  const code = await runCli(['node', 'airlock', ...args], {
    stdout: sink,
    stderr: err,
    env: { AIRLOCK_HOME: home, AIRLOCK_CONFIG: EXAMPLE_CONFIG },
    cwd: process.cwd(),
  });
  return { code, stderr };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-cost-html-'));
  // Powertools warns that CloudWatch would drop these October timestamps; they only go to a file here.
  const write = process.stderr.write.bind(process.stderr);
  jest
    .spyOn(process.stderr, 'write')
    .mockImplementation(((chunk: string | Uint8Array, ...rest: never[]) =>
      String(chunk).includes('will be skipped by Amazon CloudWatch')
        ? true
        : write(chunk, ...rest)) as never);
});

afterEach(async () => {
  await context?.close();
  context = undefined;
  jest.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

describe('HTML cost report in headless Chromium', () => {
  it('renders offline, without console errors, with cost bars, the ROI chart and the top operations', async () => {
    // Prepare
    await writeMetricsLog(dir);
    const out = join(dir, 'cost-report.html');
    const written = await airlock(
      dir,
      'cost',
      'report',
      '--local',
      '--from',
      '2026-10-01',
      '--to',
      '2026-10-07',
      '--format',
      'html',
      '--out',
      out,
    );
    expect(written).toEqual({ code: 0, stderr: '' });
    await expect(stat(CHROMIUM)).resolves.toBeTruthy();
    context = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning')
        problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    const fetched: string[] = [];
    const reportUrl = pathToFileURL(out).href;
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url === reportUrl) return route.continue();
      fetched.push(url);
      return route.abort();
    });

    // Act
    await page.goto(reportUrl, { waitUntil: 'load' });
    const screenshot = join(dir, 'cost-report.png');
    await page.screenshot({ path: screenshot, fullPage: true });

    // Assess
    const png = await readFile(screenshot);
    expect(png.length).toBeGreaterThan(10_000);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(problems).toEqual([]);
    expect(fetched).toEqual([]);
    expect(await page.title()).toBe('Airlock cost report 2026-10-01 to 2026-10-07');
    expect(await page.locator('svg#cost-per-day rect.bar').count()).toBeGreaterThan(0);
    expect(await page.locator('svg#cost-per-day g.bar-stack').count()).toBe(7); // one bar per day
    const tallest = await page
      .locator('svg#cost-per-day rect.bar')
      .evaluateAll((rects) => Math.max(...rects.map((r) => r.getBoundingClientRect().height)));
    expect(tallest).toBeGreaterThan(50);
    await expect(page.locator('svg#roi').isVisible()).resolves.toBe(true);
    // One row per workflow of the example config (three), those without usage in the range included.
    expect(await page.locator('svg#roi rect.bar.cost').count()).toBe(3);
    expect(await page.locator('svg#roi rect.bar.value').count()).toBe(3);
    expect(await page.locator('table#top-operations tbody tr').count()).toBe(4);
    expect(await page.locator('#kpi-runs .kpi-value').textContent()).toBe('14');
    // What the agents reported is labelled as their own claim, in the legend, the tables and the notes.
    expect(await page.locator('svg#cost-per-day .legend-item text').allTextContents()).toContain(
      'LLM (self-reported)',
    );
    expect(await page.locator('th', { hasText: 'LLM (self-reported)' }).count()).toBeGreaterThan(0);
    expect(
      await page.locator('p.explain', { hasText: 'LLM (self-reported) is what the agents reported' }).count(),
    ).toBe(1);
    // Readable: the charts fit the page width, nothing scrolls sideways.
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
  });

  it('shows each workflow’s budget used this month and the forecast, with the measured LLM cost labelled', async () => {
    // Prepare: this month's calls, and a model call through the local Bedrock stand-in today.
    const lines: string[] = [];
    const meter = new UsageMeter(config.prices, new EmfMetricsSink({ emit: (l) => lines.push(l) }), 512);
    const now = new Date();
    meter.record({
      workflow: 'expense-summary',
      connector: 'receipts',
      operation: 'list',
      outcome: 'allowed',
      bytesOut: 1000,
      durationMs: 50,
      usage: { apiRequests: 1, kmsRequests: 0, secretsManagerCalls: 0, dynamodbWrites: 1 },
      timestamp: now,
      runId: 'jti-now',
    });
    await writeFile(join(dir, 'metrics.log'), `${lines.join('\n')}\n`);
    const bedrock = new LocalBedrockStandIn(
      dir,
      new Set([localInferenceProfileArn(config.stage, 'expense-summary')]),
    );
    const reply = await bedrock.converse(localInferenceProfileArn(config.stage, 'expense-summary'), [
      { role: 'user', content: [{ text: 'x'.repeat(4_000_000) }] }, // 1,000,000 tokens: $3 at $3 per million
    ]);
    expect(reply.usage.inputTokens).toBe(1_000_000);
    const out = join(dir, 'budget.html');
    expect(await airlock(dir, 'cost', 'report', '--local', '--format', 'html', '--out', out)).toEqual({
      code: 0,
      stderr: '',
    });
    context = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    });
    const page = await context.newPage();
    await page.route('**/*', (route) =>
      route.request().url().startsWith('file:') ? route.continue() : route.abort(),
    );

    // Act
    await page.goto(pathToFileURL(out).href, { waitUntil: 'load' });
    const row = (
      await page
        .locator('table#budgets tbody tr', { hasText: 'expense-summary' })
        .locator('td')
        .allTextContents()
    ).map((c) => c.trim());

    // Assess: [workflow, cost centre, month, budget, month to date, used, forecast, forecast share]
    // One budget row per workflow of the config.
    expect(await page.locator('table#budgets tbody tr').count()).toBe(Object.keys(config.workflows).length);
    expect(row.slice(0, 4)).toEqual(['expense-summary', 'FIN-042', now.toISOString().slice(0, 7), '$200.00']);
    const monthToDate = Number(row[4].replace(/[$,]/g, ''));
    expect(monthToDate).toBeGreaterThanOrEqual(3); // the measured $3 of LLM, plus the call
    expect(monthToDate).toBeLessThan(3.01);
    expect(row[5]).toBe(
      `${((monthToDate / 200) * 100).toLocaleString('en-US', { maximumFractionDigits: 1 })}%`,
    );
    const days = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0)).getUTCDate();
    const forecast = Number(row[6].replace(/[$,]/g, ''));
    expect(forecast).toBeGreaterThan(monthToDate); // the month's run rate carried to its end
    expect(forecast).toBeLessThanOrEqual(monthToDate * days * 24 + 0.01);
    expect(await page.locator('header .meta').textContent()).toContain(
      'LLM usage measured by: local Bedrock stand-in',
    );
    expect(await page.locator('table#components th', { hasText: 'LLM (measured)' }).count()).toBe(1);
    expect(await page.locator('table#workflows tr.summary td').first().textContent()).toBe('all workflows');
  });
});
