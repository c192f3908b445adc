/**
 * Responses of the v1 HTTP API. Every refusal follows the error contract
 * `{"error":{"code","message","requestId", reasons?}}`; nothing that reaches here leaks a stack trace.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { AirlockError, DependencyError } from './errors';

const SECURITY_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

/** A JSON response with the API's security headers. */
export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return { statusCode, headers: { ...SECURITY_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** What a handler logs about a refusal it could not classify (never the request body or a token). */
export type UnexpectedErrorLogger = (message: string, error: unknown) => void;

/**
 * Maps any error to the contract. An {@link AirlockError} keeps its code; a {@link DependencyError}
 * becomes 503 `unavailable` (fail closed: the request is refused, not guessed at). Anything else is a
 * bug: it is logged and answered 500 `internal_error` with no detail.
 */
export function errorResponse(
  error: unknown,
  requestId: string,
  logUnexpected?: UnexpectedErrorLogger,
): APIGatewayProxyResult {
  if (error instanceof AirlockError) {
    const body: Record<string, unknown> = { code: error.code, message: error.message, requestId };
    if (error.reasons) body.reasons = error.reasons;
    if (error.details) Object.assign(body, error.details);
    const headers: Record<string, string> = {};
    if (error.code === 'unauthenticated') headers['www-authenticate'] = bearerChallengeOf(error);
    if (
      error.code === 'rate_limited' ||
      error.code === 'kill_switch_engaged' ||
      error.code === 'unavailable'
    ) {
      headers['retry-after'] = String(error.details?.retryAfterSeconds ?? 5);
    }
    return jsonResponse(error.status, { error: body }, headers);
  }
  if (error instanceof DependencyError) {
    return jsonResponse(
      503,
      {
        error: {
          code: 'unavailable',
          message: `Airlock could not reach its ${error.dependency}, so the request was refused. Try again shortly; if it persists, tell your Airlock operators (request ${requestId}).`,
          requestId,
        },
      },
      { 'retry-after': '5' },
    );
  }
  logUnexpected?.('unexpected error', error);
  return jsonResponse(500, {
    error: {
      code: 'internal_error',
      message: `Airlock failed unexpectedly and refused the request. Report request ${requestId} to your Airlock operators.`,
      requestId,
    },
  });
}

/**
 * RFC 6750 §3: a presented token that was refused (its reasons name why) is `invalid_token`, so a
 * client re-runs what produced it (Claude Code's `headersHelper`, the bridge's renewal) instead of
 * starting an OAuth discovery; a request with no token gets the bare challenge.
 */
function bearerChallengeOf(error: AirlockError): string {
  if (!error.reasons?.length) return 'Bearer realm="airlock"';
  // error_description is %x20-21 / %x23-5B / %x5D-7E: no quote or backslash.
  const description = error.message.replace(/[^\x20-\x7e]|["\\]/g, '').slice(0, 200);
  return `Bearer realm="airlock", error="invalid_token", error_description="${description}"`;
}
