/**
 * One fuzzed request, in a form that can be saved as a regression file and replayed: the bytes of the
 * body in base64 (they may be invalid UTF-8), and the token either as sent or as the placeholder
 * {@link VALID_TOKEN}, which the replay replaces with a fresh valid token of its own pilot.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RawRequest } from './raw-mtls-client';

/** Stands for "a valid token for alice, expense-summary, every scope" in a saved case. */
export const VALID_TOKEN = '<valid-token>';

export interface FuzzCase {
  /** Which property generated it. */
  readonly property: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The body bytes, base64; absent for no body. */
  readonly bodyBase64?: string;
  /** Sent as `Authorization: Bearer <token>`; {@link VALID_TOKEN} for a valid one. */
  readonly token?: string;
}

/** A saved case: the request, and why it failed when it was found. */
export interface RegressionFile {
  readonly found: string;
  readonly problems: readonly string[];
  readonly case: FuzzCase;
}

/** A case with a body given as bytes or text. */
export function fuzzCase(
  property: string,
  request: {
    method: string;
    path: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
    token?: string;
  },
): FuzzCase {
  const body = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body;
  return {
    property,
    method: request.method,
    path: request.path,
    headers: request.headers ?? {},
    ...(body === undefined ? {} : { bodyBase64: body.toString('base64') }),
    ...(request.token === undefined ? {} : { token: request.token }),
  };
}

/** The request to send, with {@link VALID_TOKEN} resolved. */
export function toRawRequest(fuzz: FuzzCase, validToken: () => string): RawRequest {
  const headers: Record<string, string> = { ...fuzz.headers };
  if (fuzz.token !== undefined) {
    headers.authorization = `Bearer ${fuzz.token === VALID_TOKEN ? validToken() : fuzz.token}`;
  }
  return {
    method: fuzz.method,
    path: fuzz.path,
    headers,
    ...(fuzz.bodyBase64 === undefined ? {} : { body: Buffer.from(fuzz.bodyBase64, 'base64') }),
  };
}

/** Saves a failing case under `directory` (named by its content, so the same case is saved once). */
export async function saveRegression(
  directory: string,
  fuzz: FuzzCase,
  problems: readonly string[],
): Promise<string> {
  const id = createHash('sha256').update(JSON.stringify(fuzz)).digest('hex').slice(0, 12);
  const file = join(directory, `${fuzz.property}-${id}.json`);
  const content: RegressionFile = { found: new Date().toISOString(), problems, case: fuzz };
  await writeFile(file, `${JSON.stringify(content, null, 2)}\n`);
  return file;
}

/** Every saved case under `directory`. */
export async function loadRegressions(
  directory: string,
): Promise<{ file: string; regression: RegressionFile }[]> {
  const files = (await readdir(directory)).filter((name) => name.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => ({
      file,
      regression: JSON.parse(await readFile(join(directory, file), 'utf8')) as RegressionFile,
    })),
  );
}
