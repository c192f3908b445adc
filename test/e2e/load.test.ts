/**
 * Bounded loopback load against the local pilot over real mutual TLS: concurrent workers mixing token
 * requests and receipt reads for a few seconds (AIRLOCK_LOAD_CONCURRENCY, AIRLOCK_LOAD_SECONDS; small
 * defaults so `npm test` stays quick). The pilot must stay up, answer nothing with a 5xx, keep its heap
 * bounded, and hold an audit record for every call it answered, in a trail that verifies.
 * AIRLOCK_LOAD_REPORT=1 prints the throughput and latency figures.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderDigestStore } from '../../lambdas/adapters/local/folder-digest-store';
import { readLedger, verifyAuditTrail } from '../../lambdas/core/audit-verifier';
import { loadConfig } from '../../lib/config/load-config';
import type { AirlockConfig } from '../../lib/config/schema';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import type { LocalPilotPorts } from '../../local/local-ports';
import { SAMPLE_RECEIPT_WITH_PERSONAL_DATA } from '../../local/sample-receipts';
import { type E2eClient, e2eClientFor } from './e2e-client';

const CONCURRENCY = positiveInteger('AIRLOCK_LOAD_CONCURRENCY', 8);
const SECONDS = positiveInteger('AIRLOCK_LOAD_SECONDS', 5);
const WORKFLOW = 'expense-summary';
/** Every this many reads a worker asks for a new token, as an agent renewing its credentials would. */
const READS_PER_TOKEN = 20;
/** Heap growth allowed across the run: tight when the test can force a collection, generous when not. */
const HEAP_BOUND_BYTES = typeof global.gc === 'function' ? 64 * 1024 * 1024 : 256 * 1024 * 1024;

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

/** The example pilot with rate limits out of the way: this measures the pipeline, not the limiter. */
function loadTestConfig(): AirlockConfig {
  const config = loadConfig();
  const workflow = config.workflows[WORKFLOW];
  return {
    ...config,
    workflows: {
      ...config.workflows,
      [WORKFLOW]: {
        ...workflow,
        rateLimits: { perTokenPerMinute: 1_000_000, perWorkflowPerMinute: 1_000_000 },
      },
    },
  };
}

function heapUsed(): number {
  global.gc?.();
  return process.memoryUsage().heapUsed;
}

interface LoadResult {
  readonly statuses: Map<number, number>;
  /** Request ids of every call answered 200 or 201: each must have its audit record. */
  readonly answered: string[];
  readonly latenciesMs: number[];
  readonly failures: string[];
}

/** One agent: renews its token every few reads, until the deadline. */
async function worker(client: E2eClient, deadline: number, result: LoadResult): Promise<void> {
  let token: string | undefined;
  let reads = 0;
  while (Date.now() < deadline) {
    const started = performance.now();
    const renewing = token === undefined || reads % READS_PER_TOKEN === 0;
    try {
      const response = renewing
        ? await client.request('POST', '/v1/credentials', {
            body: { workflow: WORKFLOW, scopes: ['receipts:read'], durationMinutes: 15 },
          })
        : await client.request('POST', '/v1/connectors/receipts/read', {
            token,
            body: { key: SAMPLE_RECEIPT_WITH_PERSONAL_DATA, intent: 'load test' },
          });
      result.latenciesMs.push(performance.now() - started);
      result.statuses.set(response.status, (result.statuses.get(response.status) ?? 0) + 1);
      if (response.status === 201 || response.status === 200) {
        result.answered.push(response.json.requestId ?? response.headers['x-amzn-requestid']);
      }
      if (renewing && response.status === 201) token = response.json.accessToken;
      if (!renewing) reads++;
      else if (response.status === 201) reads = 1;
    } catch (error) {
      result.failures.push((error as Error).message);
      return;
    }
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

describe('Load: mixed token requests and receipt reads over mutual TLS', () => {
  let home: string;
  let pilot: LocalPilot;
  let ports: LocalPilotPorts;
  let clients: E2eClient[] = [];

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-e2e-load-'));
    pilot = await startLocalPilot({
      home,
      port: 0,
      config: loadTestConfig(),
      wrapPorts: (built) => {
        ports = built;
        return built;
      },
    });
    // One device per worker, each with its own kept-alive connection, as separate agents would be.
    clients = Array.from({ length: CONCURRENCY }, () => e2eClientFor(pilot, 'alice'));
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await pilot?.close();
    await rm(home, { recursive: true, force: true });
  });

  it(
    'stays up, answers nothing with a 5xx, keeps its heap bounded, and audits every answered call',
    async () => {
      // Prepare: warm every path once so the heap baseline includes what is built lazily.
      const warm = await clients[0].getToken(WORKFLOW, ['receipts:read'], 15);
      await clients[0].request('POST', '/v1/connectors/receipts/read', {
        token: warm,
        body: { key: SAMPLE_RECEIPT_WITH_PERSONAL_DATA },
      });
      const heapBefore = heapUsed();
      const result: LoadResult = { statuses: new Map(), answered: [], latenciesMs: [], failures: [] };
      const started = Date.now();

      // Act
      await Promise.all(clients.map((client) => worker(client, started + SECONDS * 1000, result)));
      const elapsedMs = Date.now() - started;
      const heapGrowth = heapUsed() - heapBefore;
      const health = await clients[0].request('GET', '/v1/health');
      await pilot.anchor();
      const verified = await verifyAuditTrail({
        store: ports.auditStore,
        digests: new FolderDigestStore(home),
        publicKey: await ports.signer.getPublicKey(),
      });
      const audited = new Set<string>();
      for (const chain of (await readLedger(ports.auditStore)).values()) {
        for await (const record of chain) audited.add(record.requestId);
      }

      // Assess
      expect(result.failures).toEqual([]);
      expect([...result.statuses.keys()].sort()).toEqual([200, 201]);
      expect(result.answered.length).toBeGreaterThan(CONCURRENCY * SECONDS);
      expect(health.status).toBe(200);
      expect(heapGrowth).toBeLessThan(HEAP_BOUND_BYTES);
      expect(verified).toMatchObject({ ok: true });
      expect(verified.records).toBeGreaterThanOrEqual(result.answered.length);
      expect(result.answered.filter((requestId) => !audited.has(requestId))).toEqual([]);

      if (process.env.AIRLOCK_LOAD_REPORT === '1') {
        const sorted = [...result.latenciesMs].sort((a, b) => a - b);
        process.stdout.write(
          `${JSON.stringify({
            concurrency: CONCURRENCY,
            seconds: SECONDS,
            calls: sorted.length,
            perSecond: Math.round((sorted.length / elapsedMs) * 1000),
            p50Ms: Number(percentile(sorted, 50).toFixed(2)),
            p99Ms: Number(percentile(sorted, 99).toFixed(2)),
            statuses: Object.fromEntries(result.statuses),
            heapGrowthMb: Number((heapGrowth / 1024 / 1024).toFixed(1)),
            gc: typeof global.gc === 'function',
            auditRecords: verified.records,
          })}\n`,
        );
      }
    },
    SECONDS * 1000 + 60_000,
  );
});
