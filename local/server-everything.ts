/**
 * A real upstream MCP server for the local pilot: `@modelcontextprotocol/server-everything` from npm
 * (the MCP project's reference server, nothing Airlock wrote), run in streamable HTTP mode on loopback
 * in a child process that the pilot starts and stops. The example config's `everything` connector
 * points at it, so the walkthrough shows an MCP server the enterprise already runs behind the airlock.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The package, pinned to an exact version in package.json. */
export const SERVER_EVERYTHING_PACKAGE = '@modelcontextprotocol/server-everything';

/** How long the server may take to listen before the pilot gives up on it. */
const START_TIMEOUT_MS = 20_000;
/** How long it may take to stop before it is killed. */
const STOP_TIMEOUT_MS = 3_000;
/** What of its output is kept, for the message when it fails to start. */
const OUTPUT_TAIL_CHARS = 2_000;

const LAUNCHER = join(__dirname, 'server-everything-process.cjs');

export interface ServerEverything {
  /** Its streamable HTTP endpoint, e.g. http://127.0.0.1:41234/mcp */
  readonly url: string;
  /** The child process's id. */
  readonly pid: number;
  close(): Promise<void>;
}

export interface ServerEverythingOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default START_TIMEOUT_MS */
  readonly startTimeoutMs?: number;
  /** The package's CLI entry. @default - the installed package's `bin` */
  readonly entry?: string;
}

/** The installed package's CLI entry (its `bin`). */
export function serverEverythingEntry(): string {
  const manifestPath = require.resolve(`${SERVER_EVERYTHING_PACKAGE}/package.json`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { bin: Record<string, string> };
  const bin = Object.values(manifest.bin)[0];
  return join(dirname(manifestPath), bin);
}

/**
 * Starts server-everything on 127.0.0.1 and resolves once it listens.
 * @throws Error saying why it could not start (not installed, port taken, exited, too slow) with the
 *   end of its output
 */
export async function startServerEverything(
  options: ServerEverythingOptions = {},
): Promise<ServerEverything> {
  let entry: string;
  try {
    entry = options.entry ?? serverEverythingEntry();
  } catch {
    throw new Error(
      `The local MCP upstream cannot start: ${SERVER_EVERYTHING_PACKAGE} is not installed. Run "npm ci" in the project folder.`,
    );
  }
  // Its own environment only: the server's get-env tool returns every variable it has.
  const child = fork(LAUNCHER, [JSON.stringify({ entry, port: options.port ?? 0 })], {
    execArgv: [],
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', GZIP_ALLOWED_DOMAINS: 'invalid.invalid' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  let settled = false;
  const port = await new Promise<number>((resolve, reject) => {
    const fail = (reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stop(child, exited).finally(() =>
        reject(
          new Error(
            `The local MCP upstream (${SERVER_EVERYTHING_PACKAGE}) could not start: ${reason}.${output.trim() ? ` Its output ended with:\n${output.trim()}` : ''}`,
          ),
        ),
      );
    };
    const timer = setTimeout(
      () => fail(`it did not listen within ${options.startTimeoutMs ?? START_TIMEOUT_MS} ms`),
      options.startTimeoutMs ?? START_TIMEOUT_MS,
    );
    child.once('message', (message: { type: string; port?: number; message?: string; code?: string }) => {
      if (message.type === 'listening' && typeof message.port === 'number') {
        settled = true;
        clearTimeout(timer);
        resolve(message.port);
      } else {
        fail(
          message.code === 'EADDRINUSE' ? `port ${options.port} is in use` : (message.message ?? 'failed'),
        );
      }
    });
    child.once('exit', (code, signal) => fail(`it exited (${signal ?? `code ${code}`})`));
    child.once('error', (error) => fail(error.message));
  });

  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    pid: child.pid ?? 0,
    close: () => {
      closed ??= stop(child, exited);
      return closed;
    },
  };
}

/** Disconnects the child (it exits on that), and kills it if it lingers. */
async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (child.connected) child.disconnect();
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
