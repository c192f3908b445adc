/**
 * An Airlock API as one person reaches it: over mutual TLS with their own device certificate, so the
 * API takes their identity from the certificate. `approvals` sends JSON requests through it and reads
 * the HTTP error contract; `bridge` uses its `fetch` for tokens and MCP.
 */
import { createMtlsFetch, type MtlsFetch } from '../local/mtls-fetch';
import { CliError, EXIT } from './cli-context';
import type { ServerTarget } from './cli-target';

/** Node error codes that mean "no server answered there". */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
]);

export interface AirlockApiClientOptions {
  /**
   * A request without response headers in this time fails with a sentence instead of hanging.
   * @default 30_000
   */
  readonly timeoutMs?: number;
}

/** The API of a server target. */
export interface AirlockApiClient {
  /** Base URL, e.g. `https://127.0.0.1:8443`. */
  readonly url: string;
  /** Who the certificate says the caller is, when the CLI knows (`--principal`). */
  readonly principal?: string;
  /** A `fetch` presenting the device certificate. */
  readonly fetch: MtlsFetch;
  /**
   * One JSON request; an error answer or no answer becomes a one-line CliError (exit 1) with the
   * API's own message.
   */
  request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T>;
  /** Drops the kept-alive connections. */
  close(): void;
}

/** A client of the API `target` names, with its device certificate. */
export function createAirlockApiClient(
  target: ServerTarget,
  options: AirlockApiClientOptions = {},
): AirlockApiClient {
  const fetch = createMtlsFetch({
    cert: target.cert,
    key: target.key,
    ...(target.ca === undefined ? {} : { ca: target.ca }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  return {
    url: target.url,
    ...(target.principal === undefined ? {} : { principal: target.principal }),
    fetch,
    request: (method, path, body) => requestJson(fetch, target.url, method, path, body),
    close: () => fetch.close(),
  };
}

async function requestJson<T>(
  fetch: MtlsFetch,
  url: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${url}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw unreachable(url, error);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const contract = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    if (typeof contract?.message === 'string') {
      throw new CliError(
        `${contract.message} (${response.status} ${String(contract.code ?? '')})`.replace(' )', ')'),
      );
    }
    throw new CliError(
      `${url} answered ${response.status} without an Airlock error; is this an Airlock API?`,
    );
  }
  if (json === undefined) throw new CliError(`${url} answered ${response.status} without a JSON body`);
  return json as T;
}

function unreachable(url: string, error: unknown): CliError {
  const cause = (error as { cause?: NodeJS.ErrnoException }).cause ?? (error as NodeJS.ErrnoException);
  const code = cause?.code ?? '';
  if (UNREACHABLE.has(code)) {
    return new CliError(`cannot reach ${url} (${code}); is the Airlock API running there?`, EXIT.failed, {
      cause: error,
    });
  }
  // A TLS refusal (unknown CA, expired or revoked certificate) reads best in Node's own words.
  return new CliError(`cannot talk to ${url}: ${cause?.message ?? String(error)}`, EXIT.failed, {
    cause: error,
  });
}
