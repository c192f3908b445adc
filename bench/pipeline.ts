/**
 * The connector pipeline's own cost, end-to-end throughput against a bare mTLS server, and the kill
 * switch's propagation time, all measured in this run on this machine.
 *
 * - Own overhead: ConnectorProxy.authenticate + call in-process (token verify, kill switch, revocation
 *   check, scope, parameters, rate limits, Cedar, DLP, audit append with hash chaining, metrics), with
 *   an in-memory upstream and an in-memory conditional audit store: the upstream and the database are
 *   excluded, so the figure is Airlock's own work per request.
 * - End to end: the local pilot (every audit record committed to dynalite before the answer) against a
 *   bare Node https mTLS server answering the same body, same client, same run; the ratio is the figure.
 * - Kill switch: engage → first refused call, over several flips, with the default 5 s cache.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmfMetricsSink } from '../lambdas/adapters/aws/emf-metrics-sink';
import { FileKillSwitchParameters } from '../lambdas/adapters/local/file-kill-switch-parameters';
import { LocalTokenSigner } from '../lambdas/adapters/local/local-token-signer';
import { readPolicyFiles } from '../lambdas/adapters/policy-files';
import type { Connector } from '../lambdas/connectors/connector';
import { createAccessTokenVerifier, issueAccessToken } from '../lambdas/core/access-token';
import { ApprovalDesk } from '../lambdas/core/approval-desk';
import { AuditConflictError, AuditLedger, type AuditStore } from '../lambdas/core/audit-ledger';
import type { AuditRecord } from '../lambdas/core/audit-record';
import { certificateThumbprint } from '../lambdas/core/certificate-thumbprint';
import { ConnectorProxy } from '../lambdas/core/connector-proxy';
import {
  KillSwitch,
  killSwitchParameterName,
  killSwitchPrefix,
  releasedKillSwitchValue,
} from '../lambdas/core/kill-switch';
import { engageKillSwitch, releaseKillSwitch } from '../lambdas/core/kill-switch-operator';
import { PolicyEngine } from '../lambdas/core/policy-engine';
import { buildEntities } from '../lambdas/core/policy-entities';
import { systemClock } from '../lambdas/core/ports';
import { RateLimiter } from '../lambdas/core/rate-limiter';
import { UsageMeter } from '../lambdas/core/usage-meter';
import { loadConfig } from '../lib/config/load-config';
import type { AirlockConfig } from '../lib/config/schema';
import { LocalCertificateAuthority } from '../local/local-certificate-authority';
import { startLocalPilot } from '../local/local-pilot';
import { SAMPLE_RECEIPT_WITH_PERSONAL_DATA } from '../local/sample-receipts';
import type { BenchRow } from './bench-row';
import { measureThroughput, startBareMtlsServer } from './mtls-baseline';

const OVERHEAD_ITERATIONS = 3000;
const E2E_DURATION_MS = 3000;
const E2E_CONCURRENCY = 16;
const KILL_SWITCH_FLIPS = 3;

/** The example config with rate limits out of the way (the bench measures cost, not the limiter's refusals). */
function benchConfig(): AirlockConfig {
  const config = loadConfig();
  for (const workflow of Object.values(config.workflows)) {
    workflow.rateLimits = { perTokenPerMinute: 10_000_000, perWorkflowPerMinute: 10_000_000 };
    workflow.dailySpendCapUsd = 1e9;
  }
  return config;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** A conditional in-memory store: the audit ledger's own work without a database round trip. */
function memoryAuditStore(): AuditStore {
  const records = new Map<string, AuditRecord>();
  return {
    async append(record) {
      const key = `${record.chainId}#${record.seq}`;
      if (records.has(key)) throw new AuditConflictError(record.chainId, record.seq);
      records.set(key, record);
    },
    async readRecord(chainId, seq) {
      return records.get(`${chainId}#${seq}`);
    },
    async listChainHeads() {
      return [];
    },
    async *readChain() {},
  };
}

async function ownOverhead(): Promise<BenchRow[]> {
  const config = benchConfig();
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = LocalTokenSigner.fromPrivateKey(privateKey);
  const ca = await LocalCertificateAuthority.createInMemory();
  const device = await ca.createClientCertificate('alice');
  const prefix = killSwitchPrefix(config.stage);
  const released = releasedKillSwitchValue('bench', new Date());
  const killSwitchValues: Record<string, string> = { [prefix]: released };
  for (const workflow of Object.keys(config.workflows)) {
    killSwitchValues[killSwitchParameterName(prefix, workflow)] = released;
  }
  const receipt = `HOTEL\nGuest: Alice Martin\nE-mail: alice.martin@example.com\nPhone: +44 20 7946 0958\n${'Room 412 GBP 165.00\n'.repeat(30)}`;
  const upstream: Connector = {
    name: 'receipts',
    kind: 'file-store',
    operations: ['list', 'read'],
    inputSchema: () => ({ type: 'object', properties: {}, required: [], additionalProperties: false }),
    parseParameters: (_operation, params) => params as Record<string, string>,
    describe: (_operation, params) => ({ method: 'READ', path: String((params as { key: string }).key) }),
    invoke: async (_operation, params) => ({
      result: { key: (params as { key: string }).key, contentType: 'text/plain', content: receipt },
      documents: [{ id: (params as { key: string }).key, bytes: receipt }],
      bytesOut: receipt.length,
    }),
  };
  const policy = PolicyEngine.create({ ...readPolicyFiles(), entities: buildEntities(config) });
  const proxy = new ConnectorProxy({
    config,
    verifier: createAccessTokenVerifier({
      issuer: 'https://bench',
      audience: 'https://bench/v1',
      keys: async (kid) => (kid === signer.keyId ? signer.getPublicKey() : undefined),
    }),
    killSwitch: new KillSwitch({ source: { read: async () => killSwitchValues }, prefix }),
    revocations: {
      isRevoked: async () => false,
      revokeToken: async () => undefined,
      revokePrincipal: async () => undefined,
    },
    connectors: new Map([['receipts', upstream]]),
    policy,
    ledger: new AuditLedger({ store: memoryAuditStore(), chainId: 'bench-1', clock: systemClock }),
    approvals: new ApprovalDesk({
      store: {
        create: async () => undefined,
        get: async () => undefined,
        listByStatus: async () => [],
        transition: async () => false,
      },
      notifier: { notify: async () => undefined },
      config,
      clock: systemClock,
    }),
    rateLimiter: new RateLimiter(systemClock),
    meter: new UsageMeter(config.prices, new EmfMetricsSink({ emit: () => undefined }), 1024),
    clock: systemClock,
  });
  const { token } = await issueAccessToken(signer, {
    issuer: 'https://bench',
    audience: 'https://bench/v1',
    subject: 'alice',
    workflow: 'expense-summary',
    scope: ['receipts:read'],
    lifetimeSeconds: 3600,
    certificateThumbprint: certificateThumbprint(device.cert),
    now: new Date(),
  });
  const once = async (i: number) => {
    const caller = await proxy.authenticate(device.cert, token);
    await proxy.call(caller, {
      connector: 'receipts',
      operation: 'read',
      params: { key: SAMPLE_RECEIPT_WITH_PERSONAL_DATA },
      requestId: `bench-${i}`,
    });
  };
  for (let i = 0; i < 300; i++) await once(i);
  const samples: number[] = [];
  for (let i = 0; i < OVERHEAD_ITERATIONS; i++) {
    const start = performance.now();
    await once(i);
    samples.push((performance.now() - start) * 1000);
  }
  samples.sort((a, b) => a - b);
  const note =
    'in-process: verify+kill switch+revocation+scope+params+Cedar+DLP+audit chain+metrics; upstream and DB excluded';
  return [
    { name: 'connector pipeline own overhead p50', value: percentile(samples, 50), unit: 'µs', note },
    {
      name: 'connector pipeline own overhead p99',
      value: percentile(samples, 99),
      unit: 'µs',
      note: 'target ≤ 1000 µs',
    },
  ];
}

async function endToEnd(): Promise<BenchRow[]> {
  const home = await mkdtemp(join(tmpdir(), 'airlock-bench-'));
  const pilot = await startLocalPilot({ home, port: 0, config: benchConfig() });
  try {
    const files = pilot.certificates.client('alice');
    const [ca, cert, key] = await Promise.all([
      readFile(pilot.certificates.ca, 'utf8'),
      readFile(files.cert, 'utf8'),
      readFile(files.key, 'utf8'),
    ]);
    const agent = new Agent({ keepAlive: true, maxSockets: E2E_CONCURRENCY, ca, cert, key });
    const tokenResponse = await fetchJson(agent, `${pilot.url}/v1/credentials`, {
      workflow: 'expense-summary',
      scopes: ['receipts:read'],
      durationMinutes: 60,
    });
    const token = tokenResponse.accessToken as string;
    const request = {
      method: 'POST',
      path: '/v1/connectors/receipts/read',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key: SAMPLE_RECEIPT_WITH_PERSONAL_DATA }),
    };
    const sample = await fetchJson(agent, `${pilot.url}${request.path}`, JSON.parse(request.body), token);
    const answer = JSON.stringify(sample);
    const bare = await startBareMtlsServer({
      tls: pilot.ca.serverTls(),
      port: 0,
      respond: () => ({ status: 200, body: answer }),
    });
    try {
      const airlock = await measureThroughput({
        url: pilot.url,
        agent,
        concurrency: E2E_CONCURRENCY,
        durationMs: E2E_DURATION_MS,
        makeRequest: () => request,
      });
      const bareAgent = new Agent({ keepAlive: true, maxSockets: E2E_CONCURRENCY, ca, cert, key });
      const baseline = await measureThroughput({
        url: bare.url,
        agent: bareAgent,
        concurrency: E2E_CONCURRENCY,
        durationMs: E2E_DURATION_MS,
        makeRequest: () => request,
      });
      bareAgent.destroy();
      agent.destroy();
      return [
        {
          name: 'end-to-end receipts/read',
          value: airlock.perSecond,
          unit: 'req/s',
          note: `local pilot, ${E2E_CONCURRENCY} concurrent, keep-alive, audit committed to dynalite; p50 ${airlock.p50Ms.toFixed(1)} ms, p99 ${airlock.p99Ms.toFixed(1)} ms, errors ${airlock.errors}`,
        },
        {
          name: 'bare Node mTLS server, same answer',
          value: baseline.perSecond,
          unit: 'req/s',
          note: `same client and run; p50 ${baseline.p50Ms.toFixed(1)} ms`,
        },
        {
          name: 'end-to-end / bare mTLS ratio',
          value: airlock.perSecond / baseline.perSecond,
          unit: '×',
          note: 'target ≥ 0.3×',
        },
      ];
    } finally {
      await bare.close();
    }
  } finally {
    await pilot.close();
    await rm(home, { recursive: true, force: true });
  }
}

async function killSwitchPropagation(): Promise<BenchRow[]> {
  const home = await mkdtemp(join(tmpdir(), 'airlock-bench-ks-'));
  const config = benchConfig();
  const pilot = await startLocalPilot({ home, port: 0, config });
  const parameters = new FileKillSwitchParameters(home);
  const prefix = killSwitchPrefix(config.stage);
  try {
    const files = pilot.certificates.client('alice');
    const agent = new Agent({
      keepAlive: true,
      ca: await readFile(pilot.certificates.ca, 'utf8'),
      cert: await readFile(files.cert, 'utf8'),
      key: await readFile(files.key, 'utf8'),
    });
    const credentials = { workflow: 'expense-summary', scopes: ['receipts:read'], durationMinutes: 60 };
    const samples: number[] = [];
    for (let flip = 0; flip < KILL_SWITCH_FLIPS; flip++) {
      const token = (await fetchJson(agent, `${pilot.url}/v1/credentials`, credentials))
        .accessToken as string;
      const engagedAt = performance.now();
      await engageKillSwitch({
        source: parameters,
        writer: parameters,
        prefix,
        reason: 'bench: propagation',
        changedBy: 'bench',
        cacheSeconds: config.killSwitch.cacheSeconds,
      });
      for (;;) {
        const status = await postStatus(agent, `${pilot.url}/v1/connectors/receipts/list`, {}, token);
        if (status === 503) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      samples.push(performance.now() - engagedAt);
      await releaseKillSwitch({
        source: parameters,
        writer: parameters,
        prefix,
        reason: 'bench: release',
        changedBy: 'bench',
        cacheSeconds: config.killSwitch.cacheSeconds,
      });
      // Service is back when the broker issues tokens again.
      for (;;) {
        if ((await postStatus(agent, `${pilot.url}/v1/credentials`, credentials)) === 201) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    agent.destroy();
    samples.sort((a, b) => a - b);
    return [
      {
        name: 'kill switch propagation p50',
        value: percentile(samples, 50) / 1000,
        unit: 's',
        note: `${KILL_SWITCH_FLIPS} flips, engage → first refused call, cache ${config.killSwitch.cacheSeconds} s`,
      },
      {
        name: 'kill switch propagation max',
        value: samples[samples.length - 1] / 1000,
        unit: 's',
        note: 'target ≤ 5 s',
      },
    ];
  } finally {
    await pilot.close();
    await rm(home, { recursive: true, force: true });
  }
}

function postStatus(agent: Agent, url: string, body: unknown, token?: string): Promise<number> {
  return send(agent, url, body, token).then((r) => r.status);
}

async function fetchJson(
  agent: Agent,
  url: string,
  body: unknown,
  token?: string,
): Promise<Record<string, unknown>> {
  const response = await send(agent, url, body, token);
  if (response.status >= 300) throw new Error(`${url} answered ${response.status}: ${response.text}`);
  return JSON.parse(response.text);
}

function send(
  agent: Agent,
  url: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; text: string }> {
  const { request } = require('node:https') as typeof import('node:https');
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export async function run(): Promise<BenchRow[]> {
  return [...(await ownOverhead()), ...(await endToEnd()), ...(await killSwitchPropagation())];
}
