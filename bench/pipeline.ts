/**
 * The connector pipeline's own cost, end-to-end throughput against a bare mTLS server, and the kill
 * switch's propagation time, all measured in this run on this machine.
 *
 * - Own overhead: the device authenticator + ConnectorProxy.call in-process, composed as the functions are (token verify, kill switch, revocation
 *   check, scope, parameters, rate limits, Cedar, DLP, audit append with hash chaining, metrics), with
 *   an in-memory upstream and an in-memory conditional audit store: the upstream and the database are
 *   excluded, so the figure is Airlock's own work per request.
 * - End to end: the local pilot (every audit record committed to dynalite before the answer) against a
 *   bare Node https mTLS server answering the same body, same client, same run; the ratio is the figure.
 * - Kill switch: engage → first refused call, over several flips, with the default 5 s cache.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, PerformanceObserver, type PerformanceObserverEntryList } from 'node:perf_hooks';
import { killSwitchCopiesOf } from '../cli/kill-switch-copies';
import { DynamoDbRevocationStore } from '../lambdas/adapters/aws/dynamodb-revocation-store';
import { FileKillSwitchParameters } from '../lambdas/adapters/local/file-kill-switch-parameters';
import { LocalTokenSigner } from '../lambdas/adapters/local/local-token-signer';
import { readPolicyFiles } from '../lambdas/adapters/policy-files';
import { composeConnector } from '../lambdas/composition/compose-connector';
import { SharedServices } from '../lambdas/composition/shared-services';
import { issueAccessToken } from '../lambdas/core/access-token';
import type { AuditStore } from '../lambdas/core/audit-ledger';
import type { AuthenticationRequest } from '../lambdas/core/caller';
import { certificateThumbprint } from '../lambdas/core/certificate-thumbprint';
import {
  killSwitchParameterName,
  killSwitchPrefix,
  releasedKillSwitchValue,
} from '../lambdas/core/kill-switch';
import { engageKillSwitch, releaseKillSwitch } from '../lambdas/core/kill-switch-operator';
import { PolicyEngine } from '../lambdas/core/policy-engine';
import { buildEntities } from '../lambdas/core/policy-entities';
import { LocalCertificateAuthority } from '../local/local-certificate-authority';
import { startLocalPilot } from '../local/local-pilot';
import { LOCAL_TABLES, openLocalDynamo } from '../local/local-state';
import { SAMPLE_RECEIPT_WITH_PERSONAL_DATA } from '../local/sample-receipts';
import { benchConfig, benchPorts } from './bench-ports';
import type { BenchRow } from './bench-row';
import { profileIfAsked } from './cpu-profile';
import {
  measureThroughput,
  startBareMtlsServer,
  type Throughput,
  type ThroughputRequest,
} from './mtls-baseline';

const OVERHEAD_ITERATIONS = 3000;
const OVERHEAD_WARM_UP = 1000;
/** Calls between the early window and the settled one (see bench/policy.ts SETTLE). */
const OVERHEAD_SETTLE = 15_000;
/** Measured time per server, in alternating rounds (see {@link compareThroughput}). */
const E2E_DURATION_MS = 3000;
const E2E_ROUNDS = 6;
const E2E_WARM_UP_MS = 500;
const E2E_CONCURRENCY = 16;
const KILL_SWITCH_FLIPS = 3;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * The pipeline's own cost per call. `remember`: the policy engine as the functions build it, which
 * remembers Cedar's answers, and a run that reads a different receipt on every call: no shipped policy
 * names a document, so the engine's memory answers every read of the connector's classification after
 * the first. Without it, Cedar is asked on every call (one receipt, read again and again).
 */
export async function ownOverhead(remember = false): Promise<BenchRow[]> {
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
  // The connector pipeline exactly as the functions compose it, over in-memory ports: an in-memory
  // receipts folder, a conditional in-memory audit store, no revocations, a released kill switch.
  const services = new SharedServices(
    {
      config,
      policies: readPolicyFiles(),
      tokens: { issuer: 'https://bench', audience: 'https://bench/v1' },
      auditChainIds: ['bench-1'],
      functionMemoryMb: 1024,
      killSwitchPrefix: prefix,
      log: { warn: () => undefined, unexpected: () => undefined },
    },
    benchPorts({
      signer,
      killSwitchValues,
      fileStore: {
        list: async () => [],
        read: async (key) => ({ key, contentType: 'text/plain', content: Buffer.from(receipt) }),
      },
    }),
  );
  if (!remember) {
    services.once('policy', () =>
      PolicyEngine.create({ ...readPolicyFiles(), entities: buildEntities(config), decisionsRemembered: 0 }),
    );
  }
  const { authenticator, proxy } = composeConnector(services);
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
  const request = {
    headers: { authorization: `Bearer ${token}` },
    requestContext: { identity: { clientCert: { clientCertPem: device.cert } } },
  } as unknown as AuthenticationRequest;
  const once = async (i: number) => {
    const caller = await authenticator.authenticate(request);
    await proxy.call(caller, {
      connector: 'receipts',
      operation: 'read',
      params: { key: remember ? `2026-q3/bench-receipt-${i}.txt` : SAMPLE_RECEIPT_WITH_PERSONAL_DATA },
      requestId: `bench-${i}`,
    });
  };
  // Past first-call effects: JIT of the pipeline, caches filled.
  for (let i = 0; i < OVERHEAD_WARM_UP; i++) await once(i);
  // Early: the calls right after start, while V8 still recompiles Cedar's hot wasm in the background.
  const early = await sample(once);
  // Settled: the same calls once that is done, what a warm execution environment sees after.
  for (let i = 0; i < OVERHEAD_SETTLE; i++) await once(i);
  const settled = await sample(once);
  await profileIfAsked('pipeline-own-overhead', async () => {
    for (let i = 0; i < OVERHEAD_ITERATIONS; i++) await once(i);
  });
  const note =
    'in-process: verify+kill switch+revocation+scope+params+Cedar+DLP+audit chain+metrics; upstream and DB excluded';
  const gcNote = (pauses: GarbageCollectionPauses) =>
    `GC ${pauses.count} pauses (${pauses.major} major), longest ${pauses.longestMs.toFixed(1)} ms`;
  return [
    {
      name: 'connector pipeline own overhead p50, early',
      value: percentile(early.wall, 50),
      unit: 'µs',
      note: `${note}; ${OVERHEAD_ITERATIONS} calls after ${OVERHEAD_WARM_UP} warm-up`,
    },
    {
      name: 'connector pipeline own overhead p99, early',
      value: percentile(early.wall, 99),
      unit: 'µs',
      note: `V8 still compiling Cedar's hot wasm; ${gcNote(early.pauses)}`,
    },
    {
      name: 'connector pipeline own overhead p50, settled',
      value: percentile(settled.wall, 50),
      unit: 'µs',
      note: `${OVERHEAD_ITERATIONS} calls after ${OVERHEAD_SETTLE.toLocaleString('en-US')} more`,
    },
    {
      name: 'connector pipeline own overhead p99, settled',
      value: percentile(settled.wall, 99),
      unit: 'µs',
      note: `target ≤ 500 µs; wall clock, so it includes time the OS gave other processes (see load); ${gcNote(settled.pauses)}`,
    },
    {
      name: 'connector pipeline own CPU time p50, settled',
      value: percentile(settled.cpu, 50),
      unit: 'µs',
      note: 'the same calls in process CPU time (user+system, µs resolution): what the code costs, without preemption',
    },
    {
      name: 'connector pipeline own CPU time p99, settled',
      value: percentile(settled.cpu, 99),
      unit: 'µs',
      note: `includes GC and V8 background threads (early: ${percentile(early.cpu, 99).toLocaleString('en-US')} µs)`,
    },
  ];
}

/** Times OVERHEAD_ITERATIONS calls, in wall-clock and process CPU time (µs, sorted), counting GC pauses. */
async function sample(
  once: (i: number) => Promise<void>,
): Promise<{ wall: number[]; cpu: number[]; pauses: GarbageCollectionPauses }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  const gc = observeGarbageCollection();
  for (let i = 0; i < OVERHEAD_ITERATIONS; i++) {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    await once(i);
    wall.push((performance.now() - start) * 1000);
    const used = process.cpuUsage(cpuStart);
    cpu.push(used.user + used.system);
    // Between requests, as a server does, the event loop turns (outside the timed part): GC
    // notifications, which Node delivers on a later turn, then arrive and are counted.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const pauses = gc.stop();
  wall.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return { wall, cpu, pauses };
}

interface GarbageCollectionPauses {
  readonly count: number;
  readonly major: number;
  readonly longestMs: number;
}

/** Counts garbage-collection pauses while the measurement runs, to tell a GC tail from preemption. */
function observeGarbageCollection(): { stop(): GarbageCollectionPauses } {
  let count = 0;
  let major = 0;
  let longestMs = 0;
  const recordEntries = (entries: ReturnType<PerformanceObserverEntryList['getEntries']>) => {
    for (const entry of entries) {
      count++;
      const { detail } = entry as { detail?: { kind?: number } };
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++;
      longestMs = Math.max(longestMs, entry.duration);
    }
  };
  const observer = new PerformanceObserver((list) => recordEntries(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop: () => {
      // Entries are delivered on a later turn, which a loop of awaited calls may never reach: take the
      // buffered ones before disconnecting.
      recordEntries(observer.takeRecords());
      observer.disconnect();
      return { count, major, longestMs };
    },
  };
}

export async function endToEnd(): Promise<BenchRow[]> {
  const home = await mkdtemp(join(tmpdir(), 'airlock-bench-'));
  // Times each audit write as the pilot makes it: the ledger writes one record at a time, so this
  // latency bounds the pilot's requests per second at about 1 / latency.
  const appendMs: number[] = [];
  const pilot = await startLocalPilot({
    home,
    port: 0,
    config: benchConfig(),
    wrapPorts: (ports) => ({ ...ports, auditStore: timedAuditStore(ports.auditStore, appendMs) }),
  });
  try {
    const files = pilot.certificates.client('alice');
    const [ca, cert, key] = await Promise.all([
      readFile(pilot.certificates.ca, 'utf8'),
      readFile(files.cert, 'utf8'),
      readFile(files.key, 'utf8'),
    ]);
    const agent = new Agent({ keepAlive: true, maxSockets: E2E_CONCURRENCY, ca, cert, key });
    const bareAgent = new Agent({ keepAlive: true, maxSockets: E2E_CONCURRENCY, ca, cert, key });
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
      const targets = {
        airlock: { url: pilot.url, agent, otherCpuMicros: () => processCpuMicros(pilot.dynamodb.pid) },
        bare: { url: bare.url, agent: bareAgent },
      };
      const measured = await compareThroughput(targets, request, () => {
        appendMs.length = 0;
      });
      const airlock = measured.airlock;
      const baseline = measured.bare;
      bareAgent.destroy();
      agent.destroy();
      appendMs.sort((a, b) => a - b);
      return [
        {
          name: 'end-to-end receipts/read',
          value: airlock.perSecond,
          unit: 'req/s',
          note: `local pilot, ${E2E_CONCURRENCY} concurrent, keep-alive, audit committed to dynalite; p50 ${airlock.p50Ms.toFixed(1)} ms, p99 ${airlock.p99Ms.toFixed(1)} ms, errors ${airlock.errors}; audit write p50 ${percentile(appendMs, 50).toFixed(2)} ms, p99 ${percentile(appendMs, 99).toFixed(2)} ms (8 chains)`,
        },
        {
          name: 'bare Node mTLS server, same answer',
          value: baseline.perSecond,
          unit: 'req/s',
          note: `same client and run; p50 ${baseline.p50Ms.toFixed(1)} ms`,
        },
        {
          name: 'end-to-end CPU per request, this process',
          value: airlock.cpuMicrosPerRequest,
          unit: 'µs',
          note: `bench client + local pilot (TLS, handler, pipeline, SDK calls); the bare server's run: ${Math.round(baseline.cpuMicrosPerRequest)} µs (client + server)`,
        },
        {
          name: 'end-to-end CPU per request, dynalite process',
          value: airlock.otherCpuMicrosPerRequest,
          unit: 'µs',
          note: 'the local DynamoDB: the revocation read (shared by the calls of one turn) and the conditional audit PutItem',
        },
        {
          name: 'end-to-end / bare mTLS ratio',
          value: airlock.perSecond / baseline.perSecond,
          unit: '×',
          note: `target ≥ 0.3×; ${E2E_ROUNDS} alternating rounds each, so a change of the machine's load hits both`,
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

/** A server to load, and how to read the CPU time of processes it uses besides this one. */
interface ThroughputTarget {
  readonly url: string;
  readonly agent: Agent;
  /** Cumulative CPU time (µs) of the target's other processes (e.g. dynalite's). */
  readonly otherCpuMicros?: () => number;
}

/** The figures of several load rounds against one server, added up. */
interface RoundTotals {
  /** This process's CPU time per answered request (µs): the client's share and an in-process server's. */
  readonly cpuMicrosPerRequest: number;
  /** The target's other processes' CPU time per answered request (µs). */
  readonly otherCpuMicrosPerRequest: number;
  readonly perSecond: number;
  /** Median of the rounds' medians. */
  readonly p50Ms: number;
  /** Worst of the rounds' 99th percentiles. */
  readonly p99Ms: number;
  readonly errors: number;
}

/**
 * Measures the servers in alternating rounds (A B B A A B ...), after a warm-up of each, so that a
 * change of this shared machine's load during the run affects every server alike and the ratio stays
 * meaningful. `beforeMeasuring` runs after the warm-up.
 */
async function compareThroughput<K extends string>(
  targets: Record<K, ThroughputTarget>,
  request: ThroughputRequest,
  beforeMeasuring: () => void,
): Promise<Record<K, RoundTotals>> {
  const names = Object.keys(targets) as K[];
  const roundMs = E2E_DURATION_MS / E2E_ROUNDS;
  const once = (name: K, durationMs: number) =>
    measureThroughput({
      url: targets[name].url,
      agent: targets[name].agent,
      concurrency: E2E_CONCURRENCY,
      durationMs,
      makeRequest: () => request,
    });
  for (const name of names) await once(name, E2E_WARM_UP_MS);
  beforeMeasuring();
  const rounds = new Map<
    K,
    Array<{ throughput: Throughput; seconds: number; cpuMicros: number; otherCpuMicros: number }>
  >(names.map((n) => [n, []]));
  for (let round = 0; round < E2E_ROUNDS; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const otherCpu = targets[name].otherCpuMicros ?? (() => 0);
      const started = performance.now();
      const cpuStarted = process.cpuUsage();
      const otherStarted = otherCpu();
      const throughput = await once(name, roundMs);
      const cpu = process.cpuUsage(cpuStarted);
      rounds.get(name)?.push({
        throughput,
        seconds: (performance.now() - started) / 1000,
        cpuMicros: cpu.user + cpu.system,
        otherCpuMicros: otherCpu() - otherStarted,
      });
    }
  }
  const totals = {} as Record<K, RoundTotals>;
  for (const name of names) {
    const measured = rounds.get(name) ?? [];
    const successes = measured.reduce((sum, r) => sum + r.throughput.requests - r.throughput.errors, 0);
    const seconds = measured.reduce((sum, r) => sum + r.seconds, 0);
    const medians = measured.map((r) => r.throughput.p50Ms).sort((a, b) => a - b);
    const answered = Math.max(1, successes);
    totals[name] = {
      cpuMicrosPerRequest: measured.reduce((sum, r) => sum + r.cpuMicros, 0) / answered,
      otherCpuMicrosPerRequest: measured.reduce((sum, r) => sum + r.otherCpuMicros, 0) / answered,
      perSecond: successes / seconds,
      p50Ms: percentile(medians, 50),
      p99Ms: Math.max(...measured.map((r) => r.throughput.p99Ms)),
      errors: measured.reduce((sum, r) => sum + r.throughput.errors, 0),
    };
  }
  return totals;
}

/** User + system CPU time (µs) of another process so far, from /proc (Linux); 0 where /proc is missing. */
function processCpuMicros(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, so split after its closing parenthesis).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks / CLOCK_TICKS_PER_SECOND) * 1e6;
  } catch {
    return 0;
  }
}

/** The kernel's USER_HZ: /proc reports CPU time in these ticks (100 on Linux everywhere in practice). */
const CLOCK_TICKS_PER_SECOND = 100;

/** The store, with the duration of every append pushed to `durations` (ms). Behaviour unchanged. */
function timedAuditStore(store: AuditStore, durations: number[]): AuditStore {
  return {
    append: async (record) => {
      const started = performance.now();
      try {
        await store.append(record);
      } finally {
        durations.push(performance.now() - started);
      }
    },
    ...(store.readRecord ? { readRecord: store.readRecord.bind(store) } : {}),
    listChainHeads: () => store.listChainHeads(),
    readChain: (chainId, options) => store.readChain(chainId, options),
  };
}

export async function killSwitchPropagation(): Promise<BenchRow[]> {
  const home = await mkdtemp(join(tmpdir(), 'airlock-bench-ks-'));
  // A short backstop only so each release is seen quickly: an engage rides on the per-request read.
  const config = { ...benchConfig(), killSwitch: { backstopSeconds: 2, stalenessSeconds: 10 } };
  const pilot = await startLocalPilot({ home, port: 0, config });
  const parameters = new FileKillSwitchParameters(home);
  const dynamo = await openLocalDynamo(home);
  const copies = killSwitchCopiesOf(
    new DynamoDbRevocationStore({ client: dynamo.doc, tableName: LOCAL_TABLES.revocations }),
  );
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
        copies,
        prefix,
        reason: 'bench: propagation',
        changedBy: 'bench',
        backstopSeconds: config.killSwitch.backstopSeconds,
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
        copies,
        prefix,
        reason: 'bench: release',
        changedBy: 'bench',
        backstopSeconds: config.killSwitch.backstopSeconds,
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
        note: `${KILL_SWITCH_FLIPS} flips, engage (CLI: copy + parameter) → first refused call`,
      },
      {
        name: 'kill switch propagation max',
        value: samples[samples.length - 1] / 1000,
        unit: 's',
        note: 'the next request after the write (the copy is read per request)',
      },
    ];
  } finally {
    await dynamo.close();
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
  // The engine as the functions build it, and a run reading a different receipt on every call: Cedar is
  // asked for the first, and the others are answered from the engine's memory of its answers.
  const remembered = (await ownOverhead(true))
    .filter((row) => /^connector pipeline own overhead p(50|99), settled$/.test(row.name))
    .map((row) => ({
      ...row,
      name: `${row.name}, a run reading different receipts`,
      note: `every call another receipt; no policy names a document, so Cedar's answer for the first is remembered for the rest; ${row.note ?? ''}`,
    }));
  return [...(await ownOverhead()), ...remembered, ...(await endToEnd()), ...(await killSwitchPropagation())];
}
