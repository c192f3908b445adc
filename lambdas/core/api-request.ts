/**
 * Reading an API Gateway proxy event the same way in AWS and in the local pilot:
 * the caller's certificate, its bearer token, and a bounded JSON body.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { AirlockError } from './errors';

/** A header's value, whatever case the client (or API Gateway) used for its name. */
export function headerOf(event: Pick<APIGatewayProxyEvent, 'headers'>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

/**
 * The PEM of the client certificate that API Gateway (or the local pilot) verified during the TLS
 * handshake. Identity comes only from here, never from the body.
 */
export function clientCertificateOf(event: Pick<APIGatewayProxyEvent, 'requestContext'>): string {
  const pem = event.requestContext?.identity?.clientCert?.clientCertPem;
  if (!pem) {
    throw new AirlockError(
      'unauthenticated',
      'No client certificate reached Airlock. Connect with your device certificate (mutual TLS).',
    );
  }
  return pem;
}

/** The bearer token of the `Authorization` header. */
export function bearerTokenOf(event: Pick<APIGatewayProxyEvent, 'headers'>): string {
  const header = headerOf(event, 'authorization');
  if (!header) {
    throw new AirlockError(
      'unauthenticated',
      'Missing access token. Send "Authorization: Bearer <token>" with a token from POST /v1/credentials.',
    );
  }
  const match = /^Bearer[ ]+([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim());
  if (!match) {
    throw new AirlockError(
      'unauthenticated',
      'The Authorization header must be "Bearer <token>" with a token from POST /v1/credentials.',
      { reasons: ['malformed'] },
    );
  }
  return match[1];
}

/** Refuses bytes that are not UTF-8 instead of replacing them; keeps a byte order mark as a character. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A UTF-16 surrogate not in a pair (the `u` flag reads a pair as one code point, which does not match). */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * The request body parsed as a JSON object, refusing (with the contract's codes) a body that is too
 * large (413), not declared as JSON, not UTF-8, not JSON, not an object, or holding a string or a name
 * with an unpaired surrogate (400). JSON text is UTF-8 (RFC 8259 §8.1) and its strings Unicode (I-JSON,
 * RFC 7493 §2.1): a body that is not would be read with replacement characters, or carry a string that
 * has no UTF-8 form into the audit ledger, which refuses it only after the request was accepted.
 */
export function jsonBodyOf(
  event: Pick<APIGatewayProxyEvent, 'headers' | 'body' | 'isBase64Encoded'>,
  maxBytes: number,
  { allowEmpty = false }: { allowEmpty?: boolean } = {},
): Record<string, unknown> {
  const raw = event.body ?? '';
  // A base64 body is API Gateway's form for binary media types: its bytes must be UTF-8.
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : undefined;
  const size = bytes ? bytes.length : Buffer.byteLength(raw, 'utf8');
  if (size > maxBytes) {
    throw new AirlockError(
      'payload_too_large',
      `The request body is ${size} bytes; the limit is ${maxBytes} bytes. Send less data per call.`,
    );
  }
  const text = bytes ? utf8Of(bytes) : raw;
  if (text.trim() === '') {
    if (allowEmpty) return {};
    throw new AirlockError('invalid_request', 'The request body is empty; send a JSON object.');
  }
  const contentType = headerOf(event, 'content-type');
  if (!contentType || !/^application\/json\s*(;|$)/i.test(contentType.trim())) {
    throw new AirlockError(
      'invalid_request',
      `The Content-Type must be application/json (got ${contentType ? JSON.stringify(contentType.slice(0, 80)) : 'none'}).`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AirlockError('invalid_request', 'The request body is not valid JSON.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AirlockError('invalid_request', 'The request body must be a JSON object.');
  }
  // Only a raw lone surrogate in the text, or a \u escape, can put one into the parsed value.
  if ((LONE_SURROGATE.test(text) || text.includes('\\u')) && holdsLoneSurrogate(parsed)) {
    throw new AirlockError(
      'invalid_request',
      'The request body holds a string with an unpaired UTF-16 surrogate (a \\ud800-\\udfff escape without its pair), which is not Unicode text; send well-formed strings.',
    );
  }
  return parsed as Record<string, unknown>;
}

/** The bytes as UTF-8 text; 400 when they are not UTF-8. */
function utf8Of(bytes: Buffer): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    throw new AirlockError(
      'invalid_request',
      'The request body is not valid UTF-8; send JSON encoded in UTF-8.',
    );
  }
}

/** Whether any string or property name in `value` has a lone surrogate; iterative, so any depth is safe. */
function holdsLoneSurrogate(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const current = pending.pop();
    if (typeof current === 'string') {
      if (LONE_SURROGATE.test(current)) return true;
    } else if (current !== null && typeof current === 'object') {
      for (const [name, child] of Object.entries(current)) {
        if (LONE_SURROGATE.test(name)) return true;
        pending.push(child);
      }
    }
  }
  return false;
}

/** The API Gateway request id, the one id a user quotes in a support request. */
export function requestIdOf(event: Pick<APIGatewayProxyEvent, 'requestContext'>): string {
  return event.requestContext?.requestId ?? 'unknown';
}
