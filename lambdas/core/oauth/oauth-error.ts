/**
 * OAuth protocol errors as RFC 6749 §5.2, RFC 7591 §3.2.2, RFC 8707 §2 and RFC 7009 name them. The
 * OAuth routes answer `{error, error_description}` with these codes (not the Airlock error contract),
 * because spec-following clients read exactly these fields.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'unsupported_token_type';

const STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  access_denied: 403,
  server_error: 500,
  temporarily_unavailable: 503,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  unsupported_token_type: 400,
};

/** A refused OAuth request; `description` is a sentence the client's developer can act on. */
export class OAuthError extends Error {
  public readonly name = 'OAuthError';

  constructor(
    public readonly code: OAuthErrorCode,
    public readonly description: string,
    options: { cause?: unknown } = {},
  ) {
    super(description, { cause: options.cause });
  }

  /** The HTTP status RFC 6749 gives this error at the token endpoint. */
  get status(): number {
    return STATUS[this.code];
  }

  /** The JSON body of the error response. */
  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.code, error_description: this.description };
  }
}
