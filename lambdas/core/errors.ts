/**
 * The HTTP error contract (DESIGN.md): every refusal is one of these codes, with a sentence a
 * person can act on. Core code throws {@link AirlockError}; handlers map it to a response.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  /** A method a route does not serve (GET and DELETE on the stateless `/v1/mcp`), with `Allow`. */
  method_not_allowed: 405,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  upstream_error: 502,
  kill_switch_engaged: 503,
  unavailable: 503,
  internal_error: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface AirlockErrorOptions {
  /** Policy ids (or other machine-readable reasons) that decided a refusal. */
  readonly reasons?: readonly string[];
  readonly cause?: unknown;
  /** Extra fields a client can act on (e.g. the kill switch's reason). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** A refusal that follows the error contract. Anything else reaching a handler is a bug (and is refused too). */
export class AirlockError extends Error {
  public readonly name = 'AirlockError';
  public readonly reasons?: readonly string[];
  public readonly details?: Readonly<Record<string, unknown>>;

  constructor(
    public readonly code: ErrorCode,
    message: string,
    options: AirlockErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.reasons = options.reasons;
    this.details = options.details;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** A dependency (signer, ledger, parameter store, ...) failed or timed out; the request is refused. */
export class DependencyError extends Error {
  public readonly name = 'DependencyError';
  constructor(
    public readonly dependency: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
