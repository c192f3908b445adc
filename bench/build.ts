/**
 * What a platform team waits for and what AWS runs: `cdk synth` wall time (offline, bundling and
 * cdk-nag included), each function's bundle (JavaScript, source map, Cedar wasm), and each function's
 * cold init, measured the way Lambda pays it: a fresh Node process imports the bundle and serves one
 * request, with the environment the template gives the function (its `NODE_OPTIONS` included) and AWS
 * endpoints pointed at a closed local port so nothing leaves the machine.
 *
 * The deployment synthesized is the example pilot with the OAuth entry point
 * (config/airlock.oauth.yaml), so every function is measured. `BENCH_ASSETS=<cdk.out folder>` measures
 * an existing synthesis instead (to compare two builds with the same harness in one sitting).
 *
 * Cold init is reported three ways, each the median of several fresh processes run in turn: wall time
 * (what the bench has always shown; on a busy machine it includes time the OS gave other processes),
 * the main thread's CPU time (what the wall time is on an idle machine with a core to spare, read from
 * /proc on Linux) and the whole process's CPU time (V8's background compilers included: in Lambda,
 * where a 512 MB function gets about 0.3 of a vCPU, they compete with the main thread).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { COST_REPORT_TASKS } from '../lambdas/cost-report/cost-report-handler';
import { loadConfig } from '../lib/config/load-config';
import { filesLoadedAtStart } from '../lib/constructs/split-bundle';
import type { BenchRow } from './bench-row';

const exec = promisify(execFile);

/** Fresh processes per function; the median is reported. */
const COLD_STARTS = 7;

interface FunctionAsset {
  readonly name: string;
  readonly directory: string;
  /** The function's environment as the template sets it (placeholders where it names resources). */
  readonly environment: Record<string, string>;
  readonly memoryMb: number;
}

/**
 * Stand-ins for the variables whose template value is a reference to a resource (a table name, an ARN):
 * plausible values of the right shape, naming nothing that exists.
 */
const RESOURCE_PLACEHOLDERS: Record<string, string> = {
  AIRLOCK_AUDIT_TABLE: 'audit',
  AIRLOCK_APPROVALS_TABLE: 'approvals',
  AIRLOCK_REVOCATIONS_TABLE: 'revocations',
  AIRLOCK_OAUTH_TABLE: 'oauth',
  AIRLOCK_COUNTERS_TABLE: 'counters',
  AIRLOCK_SIGNING_KEY_ID: 'arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000000',
  AIRLOCK_APPROVALS_TOPIC_ARN: 'arn:aws:sns:us-east-1:111111111111:approvals',
  AIRLOCK_COST_REPORTS_TOPIC_ARN: 'arn:aws:sns:us-east-1:111111111111:cost-reports',
  AIRLOCK_DIGEST_BUCKET: 'digests',
  AIRLOCK_SESSION_MAC_KEY_ID: 'arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000001',
  AIRLOCK_INFERENCE_PROFILE_ARNS: JSON.stringify({
    'expense-summary': 'arn:aws:bedrock:us-east-1:111111111111:application-inference-profile/expensesummary0',
  }),
  AIRLOCK_IDP_CLIENT_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:airlock/idp-AbCdEf',
  AIRLOCK_CONNECTORS: JSON.stringify(connectorPlaceholders()),
};

/**
 * What the stack binds for each connector of the measured config: a file store's bucket, the secret of
 * an upstream's credentials; nothing for the kinds whose resources the config names itself.
 */
function connectorPlaceholders(): Record<string, Record<string, string>> {
  const config = loadConfig(join(__dirname, '..', 'config', 'airlock.oauth.yaml'));
  const bound: Record<string, Record<string, string>> = {};
  for (const [name, connector] of Object.entries(config.connectors)) {
    const auth = (connector as { auth?: { secretName?: string } }).auth;
    if (connector.kind === 'file-store') bound[name] = { bucket: `${name}-bucket` };
    else if (auth?.secretName !== undefined)
      bound[name] = {
        secretName: auth.secretName,
        secretArn: `arn:aws:secretsmanager:us-east-1:111111111111:secret:${auth.secretName}-AbCdEf`,
      };
    else bound[name] = {};
  }
  return bound;
}

/** The Airlock functions of a synthesized deployment, from the templates' asset metadata. */
function functionAssets(outdir: string): FunctionAsset[] {
  const assets: FunctionAsset[] = [];
  for (const file of readdirSync(outdir).filter((f) => f.endsWith('.template.json'))) {
    const template = JSON.parse(readFileSync(join(outdir, file), 'utf8')) as {
      Resources: Record<
        string,
        {
          Type: string;
          Metadata?: Record<string, string>;
          Properties?: {
            Description?: string;
            MemorySize?: number;
            Environment?: { Variables?: Record<string, unknown> };
          };
        }
      >;
    };
    for (const resource of Object.values(template.Resources)) {
      const path = resource.Metadata?.['aws:asset:path'];
      const match = /^Airlock ([\w-]+)$/.exec(resource.Properties?.Description ?? '');
      if (resource.Type !== 'AWS::Lambda::Function' || !path || !match) continue;
      const environment: Record<string, string> = {};
      for (const [name, value] of Object.entries(resource.Properties?.Environment?.Variables ?? {})) {
        const literal = typeof value === 'string' ? value : RESOURCE_PLACEHOLDERS[name];
        if (literal !== undefined) environment[name] = literal;
      }
      assets.push({
        name: match[1],
        directory: join(outdir, path),
        environment,
        memoryMb: resource.Properties?.MemorySize ?? 128,
      });
    }
  }
  const order = ['broker', 'connector', 'approvals', 'anchor', 'oauth', 'cost-report'];
  return assets.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
}

function sizeOf(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((total, entry) => total + sizeOf(join(path, entry)), 0);
}

/**
 * The JavaScript of a split bundle: what Node reads at start (index.mjs and the chunks it imports
 * statically, transitively) and what only an `import()` reaches (read on first use), plus source maps.
 */
function bundleFiles(directory: string): {
  atStart: number;
  atStartCount: number;
  onDemand: number;
  maps: number;
} {
  const names = readdirSync(directory);
  const atStart = filesLoadedAtStart(directory);
  let start = 0;
  let onDemand = 0;
  let maps = 0;
  for (const name of names) {
    const size = sizeOf(join(directory, name));
    if (name.endsWith('.map')) maps += size;
    else if (atStart.has(name)) start += size;
    else if (name.endsWith('.mjs')) onDemand += size;
  }
  return { atStart: start, atStartCount: atStart.size, onDemand, maps };
}

/** The first request each function serves in the measurement (no AWS call answers it: the endpoint is closed). */
const FIRST_EVENTS: Record<string, unknown> = {
  broker: {
    httpMethod: 'GET',
    resource: '/v1/health',
    path: '/v1/health',
    headers: {},
    requestContext: { requestId: 'bench' },
  },
  connector: {
    httpMethod: 'POST',
    resource: '/v1/connectors/{connector}/{operation}',
    path: '/v1/connectors/receipts/list',
    headers: {},
    body: '{}',
    pathParameters: { connector: 'receipts', operation: 'list' },
    requestContext: { requestId: 'bench' },
  },
  approvals: {
    httpMethod: 'GET',
    resource: '/v1/approvals',
    path: '/v1/approvals',
    headers: {},
    requestContext: { requestId: 'bench' },
  },
  anchor: { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} },
  // The schedule's 6-hourly month to date (its CloudWatch read fails fast: the endpoint is closed).
  'cost-report': { task: COST_REPORT_TASKS.monthToDate },
  oauth: {
    httpMethod: 'GET',
    resource: '/.well-known/oauth-authorization-server',
    path: '/.well-known/oauth-authorization-server',
    headers: {},
    requestContext: { requestId: 'bench' },
  },
};

interface ColdStart {
  readonly importMs: number;
  readonly firstMs: number;
  /** CPU time of the main thread (undefined where /proc has no per-thread figures). */
  readonly mainCpuMs?: number;
  /** CPU time of the whole process, V8's background threads included. */
  readonly processCpuMs: number;
}

/** Import + first request of a bundle in a fresh process. */
async function coldStart(asset: FunctionAsset): Promise<ColdStart> {
  // BENCH_CPU_PROF=<folder>: a V8 CPU profile of each cold start, in <folder>/<function>/ (docs/performance.md).
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${join(process.env.BENCH_CPU_PROF, asset.name)}`]
    : [];
  const script = `
    const { readFileSync } = require('node:fs');
    const { pathToFileURL } = require('node:url');
    const mainThreadMs = () => {
      try {
        return Number(readFileSync('/proc/self/task/' + process.pid + '/schedstat', 'utf8').split(' ')[0]) / 1e6;
      } catch { return undefined; }
    };
    (async () => {
      const main0 = mainThreadMs();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const mod = await import(pathToFileURL(${JSON.stringify(join(asset.directory, 'index.mjs'))}).href);
      const t1 = performance.now();
      try { await mod.handler(${JSON.stringify(FIRST_EVENTS[asset.name])}); } catch {}
      const t2 = performance.now();
      const cpu = process.cpuUsage(cpu0);
      const main1 = mainThreadMs();
      process.stdout.write(JSON.stringify({
        importMs: t1 - t0,
        firstMs: t2 - t1,
        mainCpuMs: main0 === undefined || main1 === undefined ? undefined : main1 - main0,
        processCpuMs: (cpu.user + cpu.system) / 1000,
      }));
    })();`;
  const closed = 'http://127.0.0.1:9';
  const { stdout } = await exec(process.execPath, [...profile, '-e', script], {
    timeout: 60_000,
    cwd: tmpdir(),
    env: {
      PATH: process.env.PATH,
      ...asset.environment,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_ENDPOINT_URL: closed,
      AWS_MAX_ATTEMPTS: '1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_LAMBDA_FUNCTION_NAME: `airlock-${asset.name}`,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(asset.memoryMb),
      POWERTOOLS_LOG_LEVEL: 'CRITICAL',
    },
  });
  return JSON.parse(stdout) as ColdStart;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function synthesize(outdir: string): Promise<BenchRow> {
  const started = performance.now();
  await exec(
    'npx',
    ['cdk', 'synth', '--quiet', '--output', outdir, '-c', 'config=config/airlock.oauth.yaml'],
    {
      timeout: 300_000,
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true' },
    },
  );
  return {
    name: 'cdk synth (offline, bundling + cdk-nag)',
    value: (performance.now() - started) / 1000,
    unit: 's',
    note: 'wall time of npx cdk synth --quiet, example pilot with the OAuth entry point',
  };
}

export async function run(): Promise<BenchRow[]> {
  const given = process.env.BENCH_ASSETS;
  const outdir = given ?? (await mkdtemp(join(tmpdir(), 'airlock-bench-synth-')));
  try {
    const rows: BenchRow[] = given ? [] : [await synthesize(outdir)];
    const assets = functionAssets(outdir);
    // In turns (one cold start of each function per round), so a change of the machine's load hits all.
    const starts = new Map<string, ColdStart[]>(assets.map((asset) => [asset.name, []]));
    for (let round = 0; round < COLD_STARTS; round++) {
      for (const asset of assets) starts.get(asset.name)?.push(await coldStart(asset));
    }
    for (const asset of assets) {
      const files = bundleFiles(asset.directory);
      const wasm = sizeOf(join(asset.directory, 'cedar_wasm_bg.wasm'));
      const lazyPackages = sizeOf(join(asset.directory, 'node_modules'));
      const total = sizeOf(asset.directory);
      const kb = (bytes: number) => `${Math.round(bytes / 1024).toLocaleString('en-US')} KB`;
      rows.push({
        name: `${asset.name} bundle`,
        value: total / 1024,
        unit: 'KB',
        note: `JS loaded at start ${kb(files.atStart)} (${files.atStartCount} files) · JS loaded on first use ${kb(files.onDemand + lazyPackages)} · source maps ${files.maps ? kb(files.maps) : 'none'} · Cedar wasm ${wasm ? kb(wasm) : 'none'} · config + policies ${kb(total - files.atStart - files.onDemand - files.maps - wasm - lazyPackages)}`,
      });
      const measured = starts.get(asset.name) ?? [];
      const importMs = median(measured.map((s) => s.importMs));
      const firstMs = median(measured.map((s) => s.firstMs));
      const wall = median(measured.map((s) => s.importMs + s.firstMs));
      const mainCpu = measured.every((s) => s.mainCpuMs !== undefined)
        ? median(measured.map((s) => s.mainCpuMs as number))
        : undefined;
      const processCpu = median(measured.map((s) => s.processCpuMs));
      rows.push({
        name: `${asset.name} cold init`,
        value: wall,
        unit: 'ms',
        note: `target ≤ 250 ms; import ${importMs.toFixed(0)} ms + first request ${firstMs.toFixed(0)} ms, wall, median of ${COLD_STARTS} fresh processes (NODE_OPTIONS ${asset.environment.NODE_OPTIONS ?? 'none'})`,
      });
      if (mainCpu !== undefined) {
        rows.push({
          name: `${asset.name} cold init, main thread CPU`,
          value: mainCpu,
          unit: 'ms',
          note: 'the wall time on an idle machine with a core to spare; preemption excluded',
        });
      }
      rows.push({
        name: `${asset.name} cold init, process CPU`,
        value: processCpu,
        unit: 'ms',
        note: `V8's background compilers included; at ${asset.memoryMb} MB Lambda gives ~${(asset.memoryMb / 1769).toFixed(2)} vCPU`,
      });
    }
    rows.push({
      name: 'load average during the cold starts',
      value: Math.round(loadavg()[0] * 10) / 10,
      unit: '',
      note: 'wall times above this machine’s core count are mostly waiting for a CPU',
    });
    return rows;
  } finally {
    if (!given) await rm(outdir, { recursive: true, force: true });
  }
}
