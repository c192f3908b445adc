/**
 * Runs the operator CLI in this process against a local pilot's state, as an operator types it, and
 * returns its exit code and what it printed.
 */
import { runCli } from '../../../cli/program';

export interface CliRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `airlock <args>` with `AIRLOCK_HOME` = `home` (and `env` besides). */
export async function airlock(
  home: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const stream = (append: (text: string) => void) =>
    ({
      isTTY: false,
      write: (chunk: string | Uint8Array) => {
        append(String(chunk));
        return true;
      },
    }) as unknown as NodeJS.WritableStream;
  const exitCode = await runCli(['node', 'airlock', ...args], {
    stdout: stream((text) => {
      stdout += text;
    }),
    stderr: stream((text) => {
      stderr += text;
    }),
    env: { AIRLOCK_HOME: home, AIRLOCK_OPERATOR: 'oncall@example.com', ...env },
    cwd: process.cwd(),
  });
  return { exitCode, stdout, stderr };
}
