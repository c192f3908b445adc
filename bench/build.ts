/**
 * What a platform team waits for and ships: `cdk synth` wall time (offline, bundling and cdk-nag
 * included), each function's bundle size, and each function's cold init (import + first request in a
 * fresh Node process, AWS endpoints pointed at a closed local port so nothing leaves the machine).
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BenchRow } from './bench-row';

const exec = promisify(execFile);

interface FunctionAsset {
  readonly name: string;
  readonly directory: string;
}

/** Bundle directories of the Airlock functions, from the synthesized templates' asset metadata. */
function functionAssets(outdir: string): FunctionAsset[] {
  const assets: FunctionAsset[] = [];
  for (const file of readdirSync(outdir).filter((f) => f.endsWith('.template.json'))) {
    const template = JSON.parse(readFileSync(join(outdir, file), 'utf8')) as {
      Resources: Record<string, { Type: string; Metadata?: Record<string, string> }>;
    };
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      const path = resource.Metadata?.['aws:asset:path'];
      if (resource.Type !== 'AWS::Lambda::Function' || !path) continue;
      const match = /^(Broker|Connector|Approvals|Anchor)/.exec(logicalId);
      if (!match) continue;
      assets.push({ name: match[1].toLowerCase(), directory: join(outdir, path) });
    }
  }
  return assets;
}

function directorySize(directory: string): number {
  let total = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    total += entry.isDirectory() ? directorySize(path) : statSync(path).size;
  }
  return total;
}

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
};

/** Import + first request of a bundle in a fresh process. */
async function coldInit(asset: FunctionAsset): Promise<{ importMs: number; firstMs: number }> {
  const script = `
    const { pathToFileURL } = require('node:url');
    (async () => {
      const t0 = performance.now();
      const mod = await import(pathToFileURL(${JSON.stringify(join(asset.directory, 'index.mjs'))}).href);
      const t1 = performance.now();
      try { await mod.handler(${JSON.stringify(FIRST_EVENTS[asset.name])}); } catch {}
      const t2 = performance.now();
      process.stdout.write(JSON.stringify({ importMs: t1 - t0, firstMs: t2 - t1 }));
    })();`;
  const closed = 'http://127.0.0.1:9';
  const { stdout } = await exec(process.execPath, ['-e', script], {
    timeout: 60_000,
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_ENDPOINT_URL: closed,
      AWS_MAX_ATTEMPTS: '1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_LAMBDA_FUNCTION_NAME: `airlock-${asset.name}`,
      AIRLOCK_STAGE: 'pilot',
      AIRLOCK_AUDIT_TABLE: 'audit',
      AIRLOCK_APPROVALS_TABLE: 'approvals',
      AIRLOCK_REVOCATIONS_TABLE: 'revocations',
      AIRLOCK_SIGNING_KEY_ID: 'arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000000',
      AIRLOCK_APPROVALS_TOPIC_ARN: 'arn:aws:sns:us-east-1:111111111111:approvals',
      AIRLOCK_DIGEST_BUCKET: 'digests',
      AIRLOCK_KILL_SWITCH_PREFIX: '/airlock/pilot/kill-switch',
      AIRLOCK_CONNECTOR_BUCKETS: '{"receipts":"receipts-bucket"}',
      AIRLOCK_CONNECTOR_SECRETS: '{}',
      POWERTOOLS_LOG_LEVEL: 'CRITICAL',
    },
  });
  return JSON.parse(stdout);
}

export async function run(): Promise<BenchRow[]> {
  const outdir = await mkdtemp(join(tmpdir(), 'airlock-bench-synth-'));
  try {
    const started = performance.now();
    await exec('npx', ['cdk', 'synth', '--quiet', '--output', outdir], {
      timeout: 300_000,
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true' },
    });
    const synthSeconds = (performance.now() - started) / 1000;
    const rows: BenchRow[] = [
      {
        name: 'cdk synth (offline, bundling + cdk-nag)',
        value: synthSeconds,
        unit: 's',
        note: 'wall time of npx cdk synth --quiet',
      },
    ];
    for (const asset of functionAssets(outdir)) {
      const js = statSync(join(asset.directory, 'index.mjs')).size;
      rows.push({
        name: `${asset.name} bundle`,
        value: directorySize(asset.directory) / 1024,
        unit: 'KB',
        note: `index.mjs ${(js / 1024).toFixed(0)} KB, rest cedar wasm + policies + config`,
      });
      const init = await coldInit(asset);
      rows.push({
        name: `${asset.name} cold init`,
        value: init.importMs + init.firstMs,
        unit: 'ms',
        note: `import ${init.importMs.toFixed(0)} ms + first request ${init.firstMs.toFixed(0)} ms, fresh process`,
      });
    }
    return rows;
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}
