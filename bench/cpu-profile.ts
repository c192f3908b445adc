/**
 * `BENCH_CPU_PROF=<folder>`: after a section has measured, its loop runs once more under V8's sampling
 * profiler and the profile is written to `<folder>/<name>.cpuprofile` (open it in Chrome DevTools or
 * speedscope; docs/performance.md summarises one). The measured figures never run under the profiler.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

/** Runs `loop` under the profiler when BENCH_CPU_PROF names a folder; does nothing otherwise. */
export async function profileIfAsked(name: string, loop: () => Promise<void> | void): Promise<void> {
  const folder = process.env.BENCH_CPU_PROF;
  if (!folder) return;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  // 100 µs: the calls profiled take a few hundred.
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  try {
    await loop();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `${name}.cpuprofile`), JSON.stringify(profile));
  }
}
