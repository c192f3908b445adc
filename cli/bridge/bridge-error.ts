/**
 * The bridge's failures in words a person can act on: Airlock's error-contract refusals and the
 * network and TLS errors of reaching it. Its own file because the token source, the upstream client
 * and the server all explain failures the same way, and none of it needs the MCP SDK.
 */
import { CLI_ENV } from '../../lib/contracts/environment';

/** A refusal or failure the bridge explains to a person (its message is the explanation). */
export class BridgeError extends Error {
  public readonly name = 'BridgeError';
}

/** Whether a response body is Airlock's error contract (`{"error":{"code",...}}`), not some other JSON. */
export function isContractError(text: string): boolean {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown } };
    return typeof body.error?.code === 'string';
  } catch {
    return false;
  }
}

/** An error-contract response in words: what was refused, why, and what to do. */
export async function describeHttpRefusal(response: Response, what: string): Promise<string> {
  let error: { code?: string; message?: string; reasons?: string[]; reason?: string; requestId?: string } =
    {};
  try {
    error = ((await response.json()) as { error?: typeof error }).error ?? {};
  } catch {
    // Not the contract: described by its status alone.
  }
  const message = error.message ?? `HTTP ${response.status}`;
  const request = error.requestId ? ` (request ${error.requestId})` : '';
  switch (error.code) {
    case 'kill_switch_engaged':
      return `the kill switch is engaged: ${message}${request}`;
    case 'forbidden':
      return `Airlock refused ${what}: ${message}${error.reasons?.length ? ` (policies: ${error.reasons.join(', ')})` : ''}${request}`;
    case 'unauthenticated':
      return `Airlock did not accept the credentials: ${message}${request}`;
    default:
      return `Airlock refused ${what} (${error.code ?? `HTTP ${response.status}`}): ${message}${request}`;
  }
}

/** A failure in words a person can act on; never a token, a key or a stack trace. */
export function describeBridgeFailure(error: unknown, server: string): string {
  if (error instanceof BridgeError) return error.message;
  const code = errorCodeOf(error);
  switch (code) {
    case 'ECONNREFUSED':
      return isLocal(server)
        ? `cannot reach Airlock at ${server} (connection refused): is the local pilot running? Start it with npm start (and check ${CLI_ENV.port}).`
        : `cannot reach Airlock at ${server} (connection refused); check --server and your network.`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve the host of ${server}; check --server and your network.`;
    case 'ETIMEDOUT':
    case 'ECONNRESET':
      return `Airlock at ${server} did not answer (${code}); try again, and check your network.`;
    case 'CERT_HAS_EXPIRED':
      return `the server's certificate at ${server} has expired; tell your Airlock operators.`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `the server's certificate at ${server} is not issued by a CA you trust; pass its CA with --ca (local pilot: $${CLI_ENV.home}/certs/ca.pem).`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `the server's certificate does not name ${new URL(server).hostname}; check --server.`;
    default:
      break;
  }
  const message = messageChain(error);
  if (/certificate (required|unknown|expired|revoked)|bad certificate|unknown ca|alert/i.test(message)) {
    return `Airlock refused your device certificate during the TLS handshake (${message}); check that --cert is a current certificate issued by the CA Airlock trusts.`;
  }
  return `the request to Airlock failed: ${message}`;
}

function errorCodeOf(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function messageChain(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const message = e instanceof Error ? e.message : String(e);
    if (message && !parts.includes(message)) parts.push(message);
  }
  // Bodies quoted by SDK errors are cut, so one odd response cannot flood the desktop's log.
  return parts.join(': ').slice(0, 500);
}

function isLocal(server: string): boolean {
  const host = new URL(server).hostname;
  return host === 'localhost' || host.startsWith('127.') || host === '[::1]';
}
