/**
 * The `airlock` CLI as a script or a person at a terminal sees it, run in this process: argv in;
 * stdout, stderr and the exit code out. Every test under test/cli drives the CLI through this.
 */
import { PassThrough, Writable } from 'node:stream';
import type { CliIo } from '../../../cli/cli-context';
import { runCli } from '../../../cli/program';

/** A stdout or stderr that keeps what was written; `isTTY` says whether it passes for a terminal. */
export class CapturedStream extends Writable {
  text = '';

  constructor(public isTTY = false) {
    super();
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

export interface FakeCliIoOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** @default process.cwd() */
  readonly cwd?: string;
  /**
   * Lines typed at a terminal: stdin and stderr then count as terminals.
   * @default - stdin is an empty pipe and nothing is a terminal, as in a script
   */
  readonly typed?: string;
}

/** A {@link CliIo} whose output is captured and whose stdin is a pipe or a terminal with `typed` on it. */
export function fakeCliIo(options: FakeCliIoOptions = {}): CliIo & {
  readonly stdout: CapturedStream;
  readonly stderr: CapturedStream;
} {
  const terminal = options.typed !== undefined;
  const stdin = Object.assign(new PassThrough(), { isTTY: terminal });
  if (terminal) stdin.end(options.typed);
  return {
    stdout: new CapturedStream(),
    stderr: new CapturedStream(terminal),
    stdin,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
  };
}

/** What one run left behind. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `airlock <args>` once. */
export async function runAirlock(args: readonly string[], options: FakeCliIoOptions = {}): Promise<CliRun> {
  const io = fakeCliIo(options);
  const code = await runCli(['node', 'airlock', ...args], io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

/** The CLI bound to one environment, keeping the output of its last run (for tests that run several). */
export interface FakeCli {
  run(...args: string[]): Promise<number>;
  stdout(): string;
  stderr(): string;
  /** The last run's stdout parsed as JSON (what `--json` printed). */
  json<T = Record<string, unknown>>(): T;
}

/** A {@link FakeCli} with this environment, run from the current folder as a script would. */
export function fakeCli(env: NodeJS.ProcessEnv): FakeCli {
  let last: CliRun = { code: 0, stdout: '', stderr: '' };
  return {
    run: async (...args) => {
      last = await runAirlock(args, { env });
      return last.code;
    },
    stdout: () => last.stdout,
    stderr: () => last.stderr,
    json: <T>() => JSON.parse(last.stdout) as T,
  };
}
