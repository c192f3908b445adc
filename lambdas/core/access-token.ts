/**
 * The access-token codec: the one way Airlock issues and verifies its access tokens, for both entry
 * points. RFC 9068 JWTs (`typ: at+jwt`, `alg: ES256` only) in two profiles, device (bound to the
 * client certificate, RFC 8705 `cnf`) and OAuth (bound to the client and the sign-in). The parts live
 * in `tokens/`; this module is their public surface.
 */
export {
  ACCESS_SCOPE_PATTERN,
  ACCESS_TOKEN_TYPE,
  type AccessTokenClaims,
  type AccessTokenProfile,
  type BaseAccessTokenClaims,
  type ClaimsOf,
  DEVICE_TOKEN_PROFILE,
  MAX_ACCESS_TOKEN_LIFETIME_SECONDS,
  OAUTH_TOKEN_PROFILE,
  type OAuthAccessTokenClaims,
  TOKEN_SCOPE_PATTERN,
  type TokenBinding,
  TokenRejectedError,
  type TokenRejectionReason,
  USAGE_REPORT_SCOPE,
} from './tokens/access-token-claims';
export {
  type AccessTokenRequest,
  accessTokenClaimsOf,
  type DeviceAccessTokenRequest,
  type IssuedAccessToken,
  issueAccessToken,
  type OAuthAccessTokenRequest,
} from './tokens/access-token-issuer';
export {
  type AccessTokenKeys,
  type AccessTokenVerifier,
  type AccessTokenVerifierOptions,
  createAccessTokenVerifier,
  type VerifyAccessTokenOptions,
} from './tokens/access-token-verifier';
export { assertNotRevoked, type RevocationCheck } from './tokens/token-revocation';
