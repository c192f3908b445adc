/**
 * `npm run bench`: every figure in one table, and the same as JSON in bench/results/latest.json for
 * comparison between runs. Figures are measured, never asserted: a busy machine shows in the numbers.
 *
 * `npm run bench -- tokens policy` runs only the named sections. The `machine` rows (how fast this machine
 * is right now) come first in every run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import * as audit from './audit';
import type { BenchRow } from './bench-row';
import * as build from './build';
import * as cost from './cost';
import * as killswitch from './kill-switch-fleet';
import * as machine from './machine';
import * as mcp from './mcp-upstream';
import * as mtls from './mtls-baseline';
import * as pipeline from './pipeline';
import * as policy from './policy';
import * as routes from './routes';
import * as tokens from './tokens';

const SECTIONS: Record<string, { run(): Promise<BenchRow[]> }> = {
  machine,
  tokens,
  policy,
  pipeline,
  killswitch,
  routes,
  audit,
  mcp,
  mtls,
  build,
  cost,
};

function format(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(value >= 10 ? 1 : 2);
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = wanted.filter((name) => !(name in SECTIONS));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown bench section(s): ${unknown.join(', ')}; known: ${Object.keys(SECTIONS).join(', ')}\n`,
    );
    process.exitCode = 2;
    return;
  }
  const names = [
    'machine',
    ...(wanted.length > 0 ? wanted : Object.keys(SECTIONS)).filter((n) => n !== 'machine'),
  ];
  const results: Array<BenchRow & { section: string }> = [];
  for (const section of names) {
    process.stderr.write(`bench: ${section} ...\n`);
    const rows = await SECTIONS[section].run();
    results.push(...rows.map((row) => ({ section, ...row })));
  }
  const width = Math.max(...results.map((r) => r.name.length));
  const valueWidth = Math.max(...results.map((r) => `${format(r.value)} ${r.unit}`.length));
  const lines = [
    `Airlock bench · ${new Date().toISOString()} · node ${process.version} · ${cpus().length} cores · load ${loadavg()[0].toFixed(1)}`,
    '',
    ...results.map(
      (r) =>
        `${r.section.padEnd(9)} ${r.name.padEnd(width)}  ${`${format(r.value)} ${r.unit}`.padStart(valueWidth)}  ${r.note ?? ''}`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'latest.json');
  writeFileSync(
    file,
    `${JSON.stringify({ at: new Date().toISOString(), node: process.version, cores: cpus().length, load: loadavg()[0], results }, null, 2)}\n`,
  );
  process.stderr.write(`bench: wrote ${file}\n`);
}

main().then(
  () => process.exit(),
  (error) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
