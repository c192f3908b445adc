/**
 * Airlock access tokens: RFC 9068 JWTs (`typ: at+jwt`, `alg: ES256` only) signed by Airlock's token
 * key, in two profiles that share one codec.
 *
 * - **device**: issued by the credential broker to an enrolled device over mutual TLS; `cnf` carries
 *   the RFC 8705 `x5t#S256` thumbprint of that device's certificate, and a token presented over any
 *   other certificate is refused.
 * - **oauth**: issued by the OAuth entry point to a remote MCP client; no `cnf` (there is no client
 *   certificate), but `client_id` (RFC 9068 §2.2) and `fam`, the sign-in (refresh-token family) the
 *   token belongs to, which is checked on every request so revoking a sign-in ends its tokens at once.
 *
 * Each profile refuses the other's binding, so neither kind of token passes where the other belongs;
 * the issuer and audience of the two entry points differ as well.
 */
import { ACCESS_SCOPE_PATTERN, TOKEN_SCOPE_PATTERN, USAGE_REPORT_SCOPE } from '../../../lib/contracts/names';
import { AirlockError } from '../errors';

export { ACCESS_SCOPE_PATTERN, TOKEN_SCOPE_PATTERN, USAGE_REPORT_SCOPE };

/** The longest lifetime the config schema allows any workflow (12 hours); a longer token was not issued by us. */
export const MAX_ACCESS_TOKEN_LIFETIME_SECONDS = 12 * 60 * 60;

/** The `typ` header of every Airlock access token (RFC 9068 §2.1). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** The only signature algorithm of an Airlock access token (ECDSA P-256, the KMS key spec ECC_NIST_P256). */
export const ACCESS_TOKEN_ALGORITHM = 'ES256';

/** Claims every Airlock access token carries. */
export interface BaseAccessTokenClaims {
  readonly iss: string;
  /** The principal. */
  readonly sub: string;
  readonly aud: string;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  readonly jti: string;
  /** Space-separated `<connector>:<access>` scopes, and `usage:report` (RFC 9068 §2.2.3). */
  readonly scope: string;
  readonly workflow: string;
  /** What the token was granted for within its connectors (e.g. a key prefix). */
  readonly resource?: string;
}

/** A device token: bound to the client certificate that asked for it. */
export interface AccessTokenClaims extends BaseAccessTokenClaims {
  readonly cnf: { readonly 'x5t#S256': string };
}

/** An OAuth token: bound to the OAuth client and the sign-in that obtained it. */
export interface OAuthAccessTokenClaims extends BaseAccessTokenClaims {
  readonly client_id: string;
  /** The refresh-token family (sign-in) the token belongs to. */
  readonly fam: string;
}

/** How a token is bound to its holder; it also names the profile. */
export type TokenBinding =
  | { readonly certificateThumbprint: string }
  | { readonly clientId: string; readonly familyId: string };

/** A profile of the codec: which binding its tokens carry and what a refused client should do next. */
export interface AccessTokenProfile<C extends BaseAccessTokenClaims = BaseAccessTokenClaims> {
  readonly name: 'device' | 'oauth';
  /** Appended to every refusal: what the client does next. */
  readonly requestAgain: string;
  /** Checks the binding claims of a verified payload and returns the typed claims. */
  readonly bindingOf: (payload: Record<string, unknown>) => C;
}

/** Machine-readable reason a token was refused; clients and the audit ledger see it. */
export type TokenRejectionReason =
  | 'malformed'
  | 'alg_not_allowed'
  | 'unknown_kid'
  | 'header_key_not_allowed'
  | 'bad_type'
  | 'bad_signature'
  | 'bad_issuer'
  | 'bad_audience'
  | 'expired'
  | 'not_yet_valid'
  | 'certificate_mismatch'
  | 'revoked'
  | 'issued_before_revocation';

/**
 * An access token was refused (HTTP 401). The message says what to do next and never contains the
 * token; `reason` is the machine-readable cause (also in `reasons`, for the error contract).
 */
export class TokenRejectedError extends AirlockError {
  constructor(
    public readonly reason: TokenRejectionReason,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super('unauthenticated', message, { reasons: [reason], cause: options.cause });
  }
}

export function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** The device profile: `cnf.x5t#S256` required, OAuth claims refused. */
const REQUEST_DEVICE_TOKEN = 'Request a new token from POST /v1/credentials.';
const SIGN_IN_AGAIN = 'Sign in again through your MCP client (reconnect the Airlock connector).';

export const DEVICE_TOKEN_PROFILE: AccessTokenProfile<AccessTokenClaims> = {
  name: 'device',
  requestAgain: REQUEST_DEVICE_TOKEN,
  bindingOf: (payload) => {
    const cnf = payload.cnf;
    const bound =
      cnf !== null && typeof cnf === 'object' ? (cnf as Record<string, unknown>)['x5t#S256'] : undefined;
    if (!isNonEmptyString(bound)) {
      throw new TokenRejectedError(
        'certificate_mismatch',
        `The access token is not bound to a client certificate. ${REQUEST_DEVICE_TOKEN}`,
      );
    }
    if (payload.client_id !== undefined || payload.fam !== undefined) {
      throw new TokenRejectedError(
        'malformed',
        `The access token carries OAuth client claims; it is not a device token. ${REQUEST_DEVICE_TOKEN}`,
      );
    }
    return payload as unknown as AccessTokenClaims;
  },
};

/** The OAuth profile: `client_id` and `fam` required, `cnf` refused. */
export const OAUTH_TOKEN_PROFILE: AccessTokenProfile<OAuthAccessTokenClaims> = {
  name: 'oauth',
  requestAgain: SIGN_IN_AGAIN,
  bindingOf: (payload) => {
    // A certificate-bound token belongs to the mTLS routes; accepting it here would drop its binding.
    if (payload.cnf !== undefined) {
      throw new TokenRejectedError(
        'certificate_mismatch',
        `A certificate-bound token is not accepted on the OAuth entry point. ${SIGN_IN_AGAIN}`,
      );
    }
    for (const claim of ['client_id', 'fam'] as const) {
      if (!isNonEmptyString(payload[claim])) {
        throw new TokenRejectedError(
          'malformed',
          `The access token lacks a valid "${claim}" claim. ${SIGN_IN_AGAIN}`,
        );
      }
    }
    return payload as unknown as OAuthAccessTokenClaims;
  },
};

/** The claims type of a profile. */
export type ClaimsOf<P> = P extends AccessTokenProfile<infer C> ? C : never;
