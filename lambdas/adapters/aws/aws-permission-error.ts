/**
 * Turns an AWS SDK failure into one sentence an operator can act on: which IAM action is missing, or
 * that the credentials are missing or expired. The CLI prints it instead of a stack trace.
 */

/** The call that failed, as IAM names it. */
export interface AwsCall {
  /** IAM action, e.g. `ssm:PutParameter`. */
  readonly action: string;
  /** What it was called on: a parameter name, table, function name or ARN. */
  readonly resource: string;
  /**
   * The Airlock role meant to make the call, for the advice on a refusal.
   * @default 'operator'
   */
  readonly role?: 'operator' | 'auditor';
}

/** Error names the services use when the caller's policies do not allow the action. */
const ACCESS_DENIED = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnauthorizedOperation',
  'AuthorizationErrorException',
  'KMSAccessDeniedException',
]);

/** Error names for credentials that exist but that AWS does not accept (expired, revoked, wrong account). */
const CREDENTIALS_REJECTED = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
]);

const THROTTLED = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'Throttling',
  'RequestLimitExceeded',
]);

/** The SDK's name for "no credentials found" (from its credential provider chain). */
const CREDENTIALS_MISSING = 'CredentialsProviderError';

/** True when the error says the caller may not perform the action (not a transient failure). */
export function isAwsAccessDenied(error: unknown): boolean {
  return ACCESS_DENIED.has(errorName(error));
}

/**
 * One sentence for a failed AWS call, e.g. `not allowed to ssm:PutParameter on /airlock/pilot/kill-switch:
 * ask for the Airlock operator role`.
 */
export function describeAwsError(error: unknown, call: AwsCall): string {
  const name = errorName(error);
  const target = `${call.action} on ${call.resource}`;
  if (ACCESS_DENIED.has(name)) {
    return `not allowed to ${target}: ask for the Airlock ${call.role ?? 'operator'} role (or a role that allows ${call.action} on it)`;
  }
  if (name === CREDENTIALS_MISSING) {
    return `no AWS credentials found for ${target}: sign in (e.g. "aws sso login --profile <profile>" and set AWS_PROFILE) and try again`;
  }
  if (CREDENTIALS_REJECTED.has(name)) {
    return `AWS rejected the credentials for ${target} (${name}: they are expired or invalid): sign in again (e.g. "aws sso login") and try again`;
  }
  const message = errorMessage(error);
  if (/region is missing/i.test(message)) {
    return `no AWS region configured for ${target}: set AWS_REGION (or a region in your AWS profile) and try again`;
  }
  if (THROTTLED.has(name)) {
    return `AWS throttled ${target} (${name}): wait a few seconds and try again`;
  }
  const status = httpStatusOf(error);
  return `${target} failed (${name}${status === undefined ? '' : `, HTTP ${status}`}): ${message}`;
}

function errorName(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const named = error as { name?: unknown; Code?: unknown };
    if (typeof named.name === 'string' && named.name !== 'Error') return named.name;
    if (typeof named.Code === 'string') return named.Code;
    if (typeof named.name === 'string') return named.name;
  }
  return 'UnknownError';
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { message?: unknown }).message === 'string'
  ) {
    return (error as { message: string }).message;
  }
  return String(error);
}

function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}
