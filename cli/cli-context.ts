/**
 * What every `airlock` command shares: where the config and the local state live, how results are
 * printed (human text or `--json`), and the exit codes scripts rely on.
 */
import { resolve } from 'node:path';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../lib/config/load-config';
import type { AirlockConfig } from '../lib/config/schema';

/** Exit codes: 0 success; 1 the check failed or the operation was refused; 2 usage or config error. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A failure the CLI reports as one line on stderr with its exit code (never a stack trace). */
export class CliError extends Error {
  public readonly name = 'CliError';
  /** True when the command already printed its `--json` result; the CLI then adds no error object. */
  public readonly resultPrinted: boolean;

  constructor(
    message: string,
    public readonly exitCode: number = EXIT.failed,
    options?: { cause?: unknown; resultPrinted?: boolean },
  ) {
    super(message, { cause: options?.cause });
    this.resultPrinted = options?.resultPrinted ?? false;
  }
}

export interface GlobalOptions {
  readonly config?: string;
  readonly json?: boolean;
}

export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export const processIo: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
};

export class CliContext {
  constructor(
    public readonly io: CliIo,
    private readonly globals: () => GlobalOptions,
  ) {}

  get json(): boolean {
    return Boolean(this.globals().json);
  }

  /** The config file path: `--config`, else `AIRLOCK_CONFIG`, else the kit's example pilot. */
  get configPath(): string {
    return resolve(this.io.cwd, this.globals().config ?? this.io.env.AIRLOCK_CONFIG ?? DEFAULT_CONFIG_PATH);
  }

  /** The local pilot's state folder: `AIRLOCK_HOME`, else `.airlock/` in the current folder. */
  get home(): string {
    return resolve(this.io.cwd, this.io.env.AIRLOCK_HOME ?? '.airlock');
  }

  /** The validated config; a bad file is a usage error naming the field. */
  loadConfig(): AirlockConfig {
    try {
      return loadConfig(this.configPath);
    } catch (error) {
      if (error instanceof ConfigError)
        throw new CliError(`Invalid Airlock config: ${error.message}`, EXIT.usage);
      throw error;
    }
  }

  /** Prints a result: `data` as JSON with `--json`, else the human lines. */
  result(human: string | readonly string[], data: unknown): void {
    if (this.json) {
      this.io.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    } else {
      const lines = typeof human === 'string' ? [human] : human;
      this.io.stdout.write(`${lines.join('\n')}\n`);
    }
  }

  /** Progress for long work, only when a person is watching (stderr is a terminal) and not in JSON mode. */
  progress(message: string): void {
    if (this.io.stderr.isTTY && !this.json) this.io.stderr.write(`${message}\n`);
  }

  /** A notice on stderr (never mixes with the result on stdout). */
  notice(message: string): void {
    this.io.stderr.write(`${message}\n`);
  }
}
