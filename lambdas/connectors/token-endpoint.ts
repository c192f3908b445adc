/**
 * What every connector that gets an upstream access token from an OAuth 2.0 token endpoint does the same
 * way: read its client credentials from the secret, send the form with HTTP Basic client authentication
 * (RFC 6749 §2.3.1), bound the answer, and read a bearer token response (RFC 6749 §5.1). The grants
 * themselves (client credentials for http-api, token exchange for mcp-server) build the form and decide
 * what a refusal means. Neither a secret nor a token ever appears in an error message.
 */
import { AirlockError, DependencyError } from '../core/errors';
import type { SecretSource } from '../core/ports';
import type { UpstreamRequest, UpstreamResponse } from './http-api/upstream-request';

/** A token endpoint's answer is read up to this size; a larger one is refused, never buffered. */
export const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;

/** The connector's own client at the authorization server, from `auth.secretName`. */
export interface ClientCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

/**
 * The client credentials the secret holds (`{clientId, clientSecret}`).
 * @param what how the message names them, e.g. `the upstream credentials`
 * @throws AirlockError `upstream_error` naming the secret when it cannot be read or lacks a field
 */
export async function readClientCredentials(
  secretSource: SecretSource,
  secretName: string,
  label: string,
  what: string,
): Promise<ClientCredentials> {
  let credentials: Record<string, string>;
  try {
    credentials = await secretSource.getJson(secretName);
  } catch (error) {
    throw new AirlockError(
      'upstream_error',
      `${label}: ${what} are unavailable; an operator must check the secret "${secretName}".`,
      { cause: error instanceof DependencyError ? error : undefined },
    );
  }
  const { clientId, clientSecret } = credentials;
  if (!clientId || !clientSecret) {
    throw new AirlockError(
      'upstream_error',
      `${label}: the secret "${secretName}" must hold the fields clientId and clientSecret.`,
    );
  }
  return { clientId, clientSecret };
}

/** `application/x-www-form-urlencoded` as RFC 6749 §2.3.1 wants it for the Basic credentials. */
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

/** POSTs `form` to the token endpoint with the client's Basic credentials; the answer is bounded. */
export function postTokenRequest(
  send: (request: UpstreamRequest) => Promise<UpstreamResponse>,
  request: {
    readonly tokenUrl: URL;
    readonly credentials: ClientCredentials;
    readonly form: URLSearchParams;
    readonly timeoutMs: number;
    readonly label: string;
  },
): Promise<UpstreamResponse> {
  const { clientId, clientSecret } = request.credentials;
  const basic = Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64');
  return send({
    url: request.tokenUrl,
    method: 'POST',
    headers: {
      authorization: `Basic ${basic}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: request.form.toString(),
    timeoutMs: request.timeoutMs,
    maxResponseBytes: MAX_TOKEN_RESPONSE_BYTES,
    label: request.label,
  });
}

/** A bearer token from a token response, and how long it lives (0 without `expires_in`: one call). */
export interface BearerToken {
  readonly accessToken: string;
  readonly expiresInSeconds: number;
}

/**
 * The bearer token of a successful token response, or `undefined` when the body is not one.
 * @param rules `tokenType: 'required'` refuses an answer without `token_type: Bearer` (RFC 8693 allows
 *   `N_A`, which cannot go into `Authorization: Bearer`); `issuedTokenType` must match when present
 */
export function parseBearerTokenResponse(
  body: Buffer,
  rules: { readonly tokenType: 'required' | 'optional'; readonly issuedTokenType?: string },
): BearerToken | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const { access_token, token_type, expires_in, issued_token_type } = parsed as Record<string, unknown>;
  if (typeof access_token !== 'string' || access_token.length === 0) return undefined;
  if (
    token_type === undefined ? rules.tokenType === 'required' : String(token_type).toLowerCase() !== 'bearer'
  ) {
    return undefined;
  }
  if (rules.issuedTokenType !== undefined && issued_token_type !== undefined) {
    if (issued_token_type !== rules.issuedTokenType) return undefined;
  }
  const expiresInSeconds = Number(expires_in ?? 0);
  return {
    accessToken: access_token,
    expiresInSeconds: Number.isFinite(expiresInSeconds) && expiresInSeconds > 0 ? expiresInSeconds : 0,
  };
}
