/**
 * What every `airlock` command shares: where the config and the local state live, how results are
 * printed (human text or `--json`), and the exit codes scripts rely on.
 */
import { relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { AirlockError } from '../lambdas/core/errors';
import {
  ConfigError,
  DEFAULT_CONFIG_PATH,
  type LoadConfigOptions,
  loadConfig,
} from '../lib/config/load-config';
import type { AirlockConfig } from '../lib/config/schema';
import { CLI_ENV } from '../lib/contracts/environment';

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

/** Where a command reads and writes: the process's own streams, or a test's. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /**
   * What a prompt reads (`approvals approve`) and the desktop's MCP channel (`bridge`).
   * @default process.stdin
   */
  readonly stdin?: Readable & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export const processIo: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
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

  /** The config file path: `--config`, else its variable ({@link CLI_ENV}), else the kit's example pilot. */
  get configPath(): string {
    return resolve(this.io.cwd, this.globals().config ?? this.io.env[CLI_ENV.config] ?? DEFAULT_CONFIG_PATH);
  }

  /** Standard input: the test's, else the process's. */
  get stdin(): Readable & { isTTY?: boolean } {
    return this.io.stdin ?? process.stdin;
  }

  /** The local pilot's state folder: its variable ({@link CLI_ENV}), else `.airlock/` in the current folder. */
  get home(): string {
    return resolve(this.io.cwd, this.io.env[CLI_ENV.home] ?? '.airlock');
  }

  /** The validated config; a bad file is a usage error naming the field. */
  loadConfig(options?: LoadConfigOptions): AirlockConfig {
    try {
      return loadConfig(this.configPath, options);
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

  /** A path as the operator would type it: relative to the current folder when inside it. */
  displayPath(path: string): string {
    const rel = relative(this.io.cwd, path);
    return rel.startsWith('..') ? path : rel;
  }
}

/**
 * Runs a domain call and turns its typed failures into CLI errors: a refused input is a usage error
 * (exit 2), a dependency failure (AWS permission, missing credentials, unreadable file) exit 1.
 */
export async function withCliErrors<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (error instanceof AirlockError && error.code === 'invalid_request') {
      throw new CliError(error.message, EXIT.usage, { cause: error });
    }
    throw new CliError(describeFailure(error), EXIT.failed, { cause: error });
  }
}

/** One sentence for a failure (the adapters already phrase AWS errors for the operator). */
export function describeFailure(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
