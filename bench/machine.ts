/**
 * How fast this machine is right now, so that figures from two sittings can be compared. The machines
 * this bench runs on are shared VMs whose speed changes through the day: the same approvals bundle, not
 * changed in between, started in 59 ms at one sitting and 132 ms at another. Every run prints these rows
 * first; a figure that moved by as much as the reference did says nothing about the code.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import type { BenchRow } from './bench-row';

const exec = promisify(execFile);
const ROUNDS = 7;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * A fixed piece of the work a connector call does, in the same proportions as a call's own CPU: JSON
 * text made and read back, sha256 digests, and a regular expression over text. Returns its result so
 * that nothing is optimised away.
 */
function referenceWork(): number {
  const record = {
    requestId: 'bench',
    principal: 'alice',
    workflow: 'expense-summary',
    resource: { connector: 'receipts', id: '2026-q3/2026-08-05-hotel-harbour-view.txt' },
    lines: Array.from({ length: 20 }, (_, i) => `Room ${400 + i} GBP ${(165 + i).toFixed(2)}`),
  };
  const phone = /\+?\d(?:[ .-]?\d){6,16}/g;
  let total = 0;
  for (let i = 0; i < 2_000; i++) {
    const text = JSON.stringify({ ...record, sequence: i });
    total += (JSON.parse(text) as { sequence: number }).sequence;
    total += createHash('sha256').update(text).digest()[0]!;
    total += text.match(phone)?.length ?? 0;
  }
  return total;
}

export async function run(): Promise<BenchRow[]> {
  referenceWork();
  const work: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    referenceWork();
    work.push(performance.now() - start);
  }
  const starts: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    await exec(process.execPath, ['-e', '0'], { env: { PATH: process.env.PATH } });
    starts.push(performance.now() - start);
  }
  return [
    {
      name: 'reference work, in process',
      value: median(work),
      unit: 'ms',
      note: `fixed JSON, sha256 and regex work, median of ${ROUNDS}: compare sittings by this (docs/performance.md, "Comparing sittings")`,
    },
    {
      name: 'fresh Node process (node -e 0)',
      value: median(starts),
      unit: 'ms',
      note: `wall, median of ${ROUNDS}: part of every cold start, and not the functions' code`,
    },
  ];
}
