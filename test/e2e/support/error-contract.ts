/**
 * The HTTP error contract (DESIGN.md) as a test checks it: `{"error":{"code","message","requestId"}}`
 * with a snake_case code that matches the status, a sentence, and the request id; never a 5xx other
 * than the contract's 502/503, never a stack trace, never a token.
 */
import type { E2eResponse } from '../e2e-client';

/** Status of each code of the contract (and the 405-free routing the local API server adds). */
export const CONTRACT_STATUS: Readonly<Record<string, number>> = {
  invalid_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  upstream_error: 502,
  kill_switch_engaged: 503,
  unavailable: 503,
};

/** Lines of a stack trace, as Node prints them. */
const STACK_FRAME = /\n\s+at .+\(.+:\d+:\d+\)/;

/**
 * A list of what is wrong with `response` as a refusal (empty when it follows the contract), so
 * property tests can report the offending case instead of the first failed `expect`.
 */
export function errorContractViolations(response: E2eResponse): string[] {
  const problems: string[] = [];
  if (response.status >= 500 && response.status !== 502 && response.status !== 503) {
    problems.push(`status ${response.status} is not a refusal the contract allows`);
  }
  if (response.status < 400) problems.push(`status ${response.status} is not a refusal`);
  const error = response.json?.error;
  if (error === null || typeof error !== 'object') {
    problems.push(`body is not {"error": {...}}: ${response.text.slice(0, 200)}`);
    return problems;
  }
  if (typeof error.code !== 'string' || !/^[a-z]+(_[a-z]+)*$/.test(error.code)) {
    problems.push(`error.code ${JSON.stringify(error.code)} is not snake_case`);
  } else if (CONTRACT_STATUS[error.code] !== response.status) {
    problems.push(`error.code ${error.code} does not go with status ${response.status}`);
  }
  if (typeof error.message !== 'string' || error.message.length === 0)
    problems.push('error.message is missing');
  if (typeof error.requestId !== 'string' || error.requestId.length === 0)
    problems.push('error.requestId is missing');
  if (STACK_FRAME.test(response.text)) problems.push('the body carries a stack trace');
  if (/"accessToken"/.test(response.text)) problems.push('a refusal carries an accessToken');
  return problems;
}

/** Asserts `response` is a refusal that follows the contract, with the given status and code when given. */
export function expectErrorContract(
  response: E2eResponse,
  expected: { readonly status?: number; readonly code?: string } = {},
): void {
  expect(errorContractViolations(response)).toEqual([]);
  if (expected.status !== undefined) expect(response.status).toBe(expected.status);
  if (expected.code !== undefined) expect(response.json.error.code).toBe(expected.code);
}
