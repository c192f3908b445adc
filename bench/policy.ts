/**
 * Policy decisions and DLP redaction, warmed up, in-process: what the connector proxy and the
 * credential broker pay per request on top of their own work.
 */

import { readPolicyFiles } from '../lambdas/adapters/policy-files';
import { scanConnectorResult } from '../lambdas/core/dlp/result-scanner';
import { redactPii } from '../lambdas/core/pii-redactor';
import { PolicyEngine } from '../lambdas/core/policy-engine';
import { buildEntities } from '../lambdas/core/policy-entities';
import type { PolicyRequest } from '../lambdas/core/policy-request';
import { loadConfig } from '../lib/config/load-config';
import { tinyPdf } from '../test/lambdas/support/tiny-pdf';
import type { BenchRow } from './bench-row';
import { profileIfAsked } from './cpu-profile';

const WARM_UP = 300;
const SAMPLES = 3000;
/**
 * Decisions run between the early window and the settled one. Right after start V8 runs Cedar's wasm
 * as Liftoff code and recompiles the hot functions with TurboFan on background threads, which takes a
 * few thousand decisions (docs/performance.md, "Early and settled"); by 20,000 it is done on this machine.
 */
const SETTLE = 20_000;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `fn` `warmUp` times, then SAMPLES times, and returns p50 and p99 in µs. */
function measure(fn: () => unknown, warmUp = WARM_UP): { p50: number; p99: number } {
  for (let i = 0; i < warmUp; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const start = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

/** Like {@link measure}, for an asynchronous call, with fewer samples (a PDF takes milliseconds). */
async function measureAsync(
  fn: () => Promise<unknown>,
  warmUp = 20,
  samples = 200,
): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < warmUp; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

/** A scanned hotel receipt of about 4 KB with the personal data such receipts carry. */
function receipt4k(): string {
  const header = [
    'HOTEL ADLER GmbH · Unter den Linden 77 · 10117 Berlin · Tel. +49 30 2261 1111',
    'USt-IdNr. DE123456789 · IBAN DE89 3704 0044 0532 0130 00',
    'Guest: Alice Example <alice@example.com>, mobile 07700 900123',
    'Invoice INV-2026-000451 · Date 2026-09-14 · Arrival 2026-09-12 · Departure 2026-09-14',
  ];
  const lines: string[] = [];
  for (let night = 1; lines.join('\n').length < 3400; night++) {
    lines.push(
      `2026-09-${String(11 + (night % 18)).padStart(2, '0')}  Room 412 night ${night}  GL 6400  EUR 189.00  VAT 7% 12.36`,
      `2026-09-${String(11 + (night % 18)).padStart(2, '0')}  Breakfast buffet          GL 6410  EUR  24.50  VAT 19% 3.91`,
    );
  }
  const footer = [
    'Total EUR 1,234.56 · paid by Visa 4111 1111 1111 1111 on 2026-09-14T08:12:44Z',
    'Questions: reservations@hotel-adler.example, +49 (30) 2261-1111. Thank you for staying with us.',
  ];
  return [...header, ...lines, ...footer].join('\n');
}

export async function run(): Promise<BenchRow[]> {
  const sources = readPolicyFiles();
  const entities = buildEntities(loadConfig());
  const createStart = process.hrtime.bigint();
  // Cedar asked on every decision: the engine as the functions build it remembers answers by the exact
  // request, and this loop repeats one request (the remembered figure is its own row below).
  const engine = PolicyEngine.create({ ...sources, entities, decisionsRemembered: 0 });
  const remembering = PolicyEngine.create({ ...sources, entities });
  const createMs = Number(process.hrtime.bigint() - createStart) / 1e6;

  const read: PolicyRequest = {
    principal: 'alice',
    action: 'Read',
    resource: { kind: 'resource', connector: 'receipts', id: 'read', classification: 'pii' },
    workflow: 'expense-summary',
    context: { approval: 'none', scope: ['receipts:read'] },
  };
  const write: PolicyRequest = {
    principal: 'alice',
    action: 'Write',
    resource: {
      kind: 'resource',
      connector: 'erp',
      id: 'createJournalEntry',
      classification: 'confidential',
    },
    workflow: 'expense-summary',
    context: {
      approval: 'none',
      amountCents: 250000,
      destinationHost: 'erp.example.com',
      scope: ['erp:write'],
    },
  };
  // The first Read was decided by the warm-up; the first Write preparses the Write policy set (each
  // action's set is preparsed on its first decision): what the first request of another action pays.
  const firstWriteStart = process.hrtime.bigint();
  const firstWrite = engine.decide(write);
  const firstWriteMs = Number(process.hrtime.bigint() - firstWriteStart) / 1e6;
  if (engine.decide(read).decision !== 'allow' || firstWrite.decision !== 'approval_required') {
    throw new Error('bench requests no longer decide as expected; update bench/policy.ts');
  }
  // Early: the first decisions after start, what a newly started execution environment sees.
  // Settled: the same decisions once V8 has finished compiling Cedar's hot wasm, what it sees after.
  const readEarly = measure(() => engine.decide(read));
  const writeEarly = measure(() => engine.decide(write));
  const readTimes = measure(() => engine.decide(read), SETTLE);
  const writeTimes = measure(() => engine.decide(write), SETTLE / 2);
  const rememberedTimes = measure(() => remembering.decide(read), SETTLE);
  await profileIfAsked('policy-decide', () => {
    for (let i = 0; i < SAMPLES; i++) {
      engine.decide(read);
      engine.decide(write);
    }
  });

  const text = receipt4k();
  const document = { key: 'receipts/2026-q3/hotel-adler.txt', contentType: 'text/plain', content: text };
  const redaction = measure(() => redactPii(document));
  const redactions = redactPii(document).redactions;

  // What the proxy runs per result: the same receipt as a PDF file (base64, as the file store returns it).
  const pdf = tinyPdf({ pages: [text.split('\n').slice(0, 60)] });
  const pdfFile = {
    key: 'receipts/2026-q3/hotel-adler.pdf',
    contentType: 'application/pdf',
    content: pdf.toString('base64'),
  };
  const latin1File = {
    key: 'receipts/2026-q3/hotel-adler.txt',
    contentType: 'application/octet-stream',
    content: Buffer.from(`${text}\nCafé Müller`, 'latin1').toString('base64'),
  };
  const pdfScan = await measureAsync(() => scanConnectorResult(pdfFile));
  const pdfRedactions = (await scanConnectorResult(pdfFile)).redactions;
  const latin1Scan = await measureAsync(() => scanConnectorResult(latin1File), 100, 1000);

  return [
    {
      name: 'policy engine create',
      value: round(createMs, 1),
      unit: 'ms',
      note: 'validate + one warm-up decision (Read), once per process',
    },
    {
      name: 'policy first decision of another action (Write)',
      value: round(firstWriteMs, 1),
      unit: 'ms',
      note: "preparses that action's policy set, once per process",
    },
    {
      name: 'policy decide Read p50, early',
      value: round(readEarly.p50),
      unit: 'µs',
      note: `allow; ${SAMPLES} samples after ${WARM_UP} warm-up: the first decisions after start`,
    },
    {
      name: 'policy decide Read p99, early',
      value: round(readEarly.p99),
      unit: 'µs',
      note: "V8 still compiling Cedar's hot wasm in the background",
    },
    {
      name: 'policy decide Read p50, settled',
      value: round(readTimes.p50),
      unit: 'µs',
      note: `${SAMPLES} samples after ${SETTLE.toLocaleString('en-US')} more decisions`,
    },
    {
      name: 'policy decide Read p99, settled',
      value: round(readTimes.p99),
      unit: 'µs',
      note: 'target ≤ 300 µs',
    },
    {
      name: 'policy decide Read p50, answer remembered',
      value: round(rememberedTimes.p50),
      unit: 'µs',
      note: "the same request again: the engine's memory of Cedar's answers, as the functions build it",
    },
    { name: 'policy decide Read p99, answer remembered', value: round(rememberedTimes.p99), unit: 'µs' },
    {
      name: 'policy decide Write (approval required) p50, early',
      value: round(writeEarly.p50),
      unit: 'µs',
      note: 'two Cedar evaluations (as asked, and as if approved)',
    },
    { name: 'policy decide Write (approval required) p99, early', value: round(writeEarly.p99), unit: 'µs' },
    {
      name: 'policy decide Write (approval required) p50, settled',
      value: round(writeTimes.p50),
      unit: 'µs',
      note: `${SAMPLES} samples after ${(SETTLE / 2).toLocaleString('en-US')} more decisions`,
    },
    {
      name: 'policy decide Write (approval required) p99, settled',
      value: round(writeTimes.p99),
      unit: 'µs',
      note: 'target ≤ 300 µs per evaluation',
    },
    {
      name: 'PII redaction 4 KB receipt p50',
      value: round(redaction.p50),
      unit: 'µs',
      note: `${Math.round(text.length / 1024)} KB, ${redactions} redactions`,
    },
    { name: 'PII redaction 4 KB receipt p99', value: round(redaction.p99), unit: 'µs' },
    {
      name: 'DLP scan 4 KB Latin-1 receipt p50',
      value: round(latin1Scan.p50),
      unit: 'µs',
      note: 'base64 decode, encoding sniff, Windows-1252 decode, redaction',
    },
    { name: 'DLP scan 4 KB Latin-1 receipt p99', value: round(latin1Scan.p99), unit: 'µs' },
    {
      name: 'DLP scan 1-page PDF receipt p50',
      value: round(pdfScan.p50),
      unit: 'µs',
      note: `${Math.round(pdf.length / 1024)} KB PDF, PDF.js text + metadata + annotations, ${pdfRedactions} redactions`,
    },
    { name: 'DLP scan 1-page PDF receipt p99', value: round(pdfScan.p99), unit: 'µs' },
  ];
}

function round(value: number, digits = 0): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

if (require.main === module) {
  run().then(
    (rows) => console.table(rows),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
