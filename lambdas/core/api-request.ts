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
    );
  }
  return match[1];
}

/**
 * The request body parsed as a JSON object, refusing (with the contract's codes) a body that is too
 * large (413), not declared as JSON, not JSON, or not an object (400).
 */
export function jsonBodyOf(
  event: Pick<APIGatewayProxyEvent, 'headers' | 'body' | 'isBase64Encoded'>,
  maxBytes: number,
  { allowEmpty = false }: { allowEmpty?: boolean } = {},
): Record<string, unknown> {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  const size = Buffer.byteLength(text, 'utf8');
  if (size > maxBytes) {
    throw new AirlockError(
      'payload_too_large',
      `The request body is ${size} bytes; the limit is ${maxBytes} bytes. Send less data per call.`,
    );
  }
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
  return parsed as Record<string, unknown>;
}

/** The API Gateway request id, the one id a user quotes in a support request. */
export function requestIdOf(event: Pick<APIGatewayProxyEvent, 'requestContext'>): string {
  return event.requestContext?.requestId ?? 'unknown';
}
