/**
 * OAuth 2.0 Token Exchange (RFC 8693) for an upstream that acts on behalf of the signed-in user: the
 * connector asks the upstream's authorization server for an access token *for this principal*.
 *
 * **Which subject token.** Airlock signs a fresh, short-lived JWT about the caller (the subject
 * assertion) with a key of this connector alone, never the key that signs Airlock's access tokens:
 * `iss` the connector's issuer, `sub` the principal's stable name from the config, `aud` the token
 * endpoint, a lifetime of {@link SUBJECT_ASSERTION_LIFETIME_SECONDS} and a fresh `jti`. The caller's own
 * Airlock token is never forwarded: a device token is bound to a certificate the upstream does not hold,
 * an OAuth token is a bearer credential the upstream could replay against Airlock, and either would tell
 * the upstream more (scopes, workflow, token id) than it needs. The authorization server trusts the
 * connector's public key for that issuer; what it returns is scoped to the upstream (`audience`,
 * `resource`, `scope`), so a leak at the upstream is a leak of the upstream's token, not Airlock's.
 *
 * Exchanged tokens are cached **per subject** until {@link EXCHANGED_TOKEN_RENEWAL_MARGIN_MS} before they
 * expire; one subject's token is never handed to another. Neither a secret nor a token ever appears in
 * an error message.
 */
import { randomUUID } from 'node:crypto';
import { NAME_PATTERN } from '../../../lib/contracts/names';
import { AirlockError, DependencyError } from '../../core/errors';
import type { Clock, SecretSource } from '../../core/ports';
import type { UpstreamRequest, UpstreamResponse } from '../http-api/upstream-request';
import { parseBearerTokenResponse, postTokenRequest, readClientCredentials } from '../token-endpoint';

/** RFC 8693 §2.1 `grant_type`. */
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** RFC 8693 §3: the subject assertion is a JWT. */
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
/** RFC 8693 §3: what is asked for by default. */
export const ACCESS_TOKEN_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** A subject assertion is valid this long: enough for one exchange, too short to be worth stealing. */
export const SUBJECT_ASSERTION_LIFETIME_SECONDS = 60;
/** An exchanged token is renewed this long before it expires, so it never expires in flight. */
export const EXCHANGED_TOKEN_RENEWAL_MARGIN_MS = 30_000;
/** Subjects whose exchanged tokens are kept; the oldest is forgotten first. */
export const MAX_CACHED_SUBJECTS = 1000;
/** The reason a call is refused with when the authorization server will not act for this principal. */
export const TOKEN_EXCHANGE_REFUSED_REASON = 'upstream-token-exchange-refused';
/** The reason a call is refused with when nobody is signed in to act for (fail closed). */
export const TOKEN_EXCHANGE_NO_SUBJECT_REASON = 'upstream-token-exchange-needs-subject';

/**
 * The connector's own subject assertion key (KMS in AWS, a local P-256 key in the local pilot): never
 * the key that signs Airlock's access tokens, so what the connector can sign is never an Airlock token.
 */
export interface SubjectAssertionSigner {
  /** The `kid` of the assertions: names the key to the authorization server. */
  keyId(): Promise<string>;
  /** ECDSA P-256 / SHA-256 signature over `data`, raw r||s (64 bytes) as JOSE wants it. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export interface UpstreamTokenExchangeProps {
  readonly tokenUrl: URL;
  /** Secret holding `{clientId, clientSecret}`: the connector's own client at the authorization server. */
  readonly secretName: string;
  /** `iss` of the subject assertion: what the authorization server trusts the connector's key for. */
  readonly issuer: string;
  readonly audience?: string;
  readonly resource?: string;
  readonly scope?: string;
  readonly requestedTokenType: string;
  /** Signs subject assertions (this connector's own key). */
  readonly signer: SubjectAssertionSigner;
  readonly secretSource: SecretSource;
  readonly clock: Clock;
  readonly send: (request: UpstreamRequest) => Promise<UpstreamResponse>;
  readonly timeoutMs: number;
  /** How errors name the upstream, e.g. `Connector "tickets"`. */
  readonly label: string;
}

interface CachedToken {
  readonly accessToken: string;
  /** Epoch ms after which the token is no longer used. */
  readonly renewAt: number;
}

function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Upstream access tokens per principal, exchanged on demand and cached per subject. */
export class UpstreamTokenExchange {
  private readonly cache = new Map<string, CachedToken>();
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(private readonly props: UpstreamTokenExchangeProps) {}

  /**
   * An upstream access token for `subject`. Concurrent callers for the same subject share one exchange.
   * @param usage counts the secret reads this caller caused (the one that starts an exchange)
   * @throws AirlockError `forbidden` (reason {@link TOKEN_EXCHANGE_REFUSED_REASON}) when the authorization
   *   server refuses to act for the subject, or without a subject; `upstream_error` when the connector's
   *   own credentials are refused, the endpoint fails or answers garbage
   */
  getToken(subject: string | undefined, usage?: { secretReads: number }): Promise<string> {
    if (subject === undefined || !NAME_PATTERN.test(subject)) {
      return Promise.reject(
        new AirlockError(
          'forbidden',
          `${this.props.label}: its upstream acts on behalf of the signed-in user, and this call names none, so it is refused.`,
          { reasons: [TOKEN_EXCHANGE_NO_SUBJECT_REASON] },
        ),
      );
    }
    const now = this.props.clock.now().getTime();
    const cached = this.cache.get(subject);
    if (cached && now < cached.renewAt) return Promise.resolve(cached.accessToken);
    let pending = this.inFlight.get(subject);
    if (!pending) {
      if (usage) usage.secretReads += 1;
      pending = this.exchange(subject).finally(() => this.inFlight.delete(subject));
      this.inFlight.set(subject, pending);
    }
    return pending;
  }

  /** Forgets a token the upstream refused, for that subject only, and only if it is still the cached one. */
  invalidate(subject: string, accessToken: string): void {
    if (this.cache.get(subject)?.accessToken === accessToken) this.cache.delete(subject);
  }

  /** The subject assertion: a JWT about `subject`, for the token endpoint only (see the module comment). */
  async subjectAssertion(subject: string): Promise<string> {
    const iat = Math.floor(this.props.clock.now().getTime() / 1000);
    const claims = {
      iss: this.props.issuer,
      sub: subject,
      aud: this.props.tokenUrl.href,
      iat,
      nbf: iat,
      exp: iat + SUBJECT_ASSERTION_LIFETIME_SECONDS,
      jti: randomUUID(),
    };
    let signingInput: string;
    let signature: Uint8Array;
    try {
      const header = { alg: 'ES256', typ: 'JWT', kid: await this.props.signer.keyId() };
      signingInput = `${base64urlJson(header)}.${base64urlJson(claims)}`;
      signature = await this.props.signer.sign(Buffer.from(signingInput, 'ascii'));
      if (signature.length !== 64) throw new RangeError(`a ${signature.length}-byte signature`);
    } catch (cause) {
      throw new AirlockError(
        'upstream_error',
        `${this.props.label}: its subject assertion could not be signed; an operator must check the connector's signing key.`,
        { cause: cause instanceof DependencyError ? cause : undefined },
      );
    }
    return `${signingInput}.${Buffer.from(signature).toString('base64url')}`;
  }

  private async exchange(subject: string): Promise<string> {
    const { label, secretName } = this.props;
    const credentials = await readClientCredentials(
      this.props.secretSource,
      secretName,
      label,
      'its upstream client credentials',
    );
    const form = new URLSearchParams({
      grant_type: TOKEN_EXCHANGE_GRANT_TYPE,
      subject_token: await this.subjectAssertion(subject),
      subject_token_type: JWT_TOKEN_TYPE,
      requested_token_type: this.props.requestedTokenType,
    });
    if (this.props.audience) form.set('audience', this.props.audience);
    if (this.props.resource) form.set('resource', this.props.resource);
    if (this.props.scope) form.set('scope', this.props.scope);
    const requestedAt = this.props.clock.now().getTime();
    const response = await postTokenRequest(this.props.send, {
      tokenUrl: this.props.tokenUrl,
      credentials,
      form,
      timeoutMs: this.props.timeoutMs,
      label,
    });
    if (response.status < 200 || response.status > 299) throw this.refusal(response, subject);
    // The token goes into `Authorization: Bearer`, so it must be one (RFC 8693 §2.2.1: N_A is not).
    const token = parseBearerTokenResponse(response.body, {
      tokenType: 'required',
      issuedTokenType: this.props.requestedTokenType,
    });
    if (!token) {
      throw new AirlockError(
        'upstream_error',
        `${label}: the token endpoint's answer is not an RFC 8693 token exchange response with a bearer token.`,
      );
    }
    // Without expires_in the token is used for this call only: guessing a lifetime could outlive it.
    const renewAt = requestedAt + token.expiresInSeconds * 1000 - EXCHANGED_TOKEN_RENEWAL_MARGIN_MS;
    if (renewAt > requestedAt) {
      this.cache.delete(subject);
      this.cache.set(subject, { accessToken: token.accessToken, renewAt });
      while (this.cache.size > MAX_CACHED_SUBJECTS) {
        const oldest = this.cache.keys().next().value as string;
        this.cache.delete(oldest);
      }
    }
    return token.accessToken;
  }

  /**
   * A refused exchange: the authorization server declining *this user* (`invalid_grant`, `access_denied`)
   * is a decision, 403; the connector's own client or request refused, or the server failing, is the
   * upstream side's fault, 502. The server's own words never pass through.
   */
  private refusal(response: UpstreamResponse, subject: string): AirlockError {
    const { label, secretName } = this.props;
    // An OAuth error code is the protocol's word (RFC 6749 §5.2), named only in a 400 answer.
    const error = response.status === 400 ? oauthErrorCode(response.body) : undefined;
    if (response.status === 400 && (error === 'invalid_grant' || error === 'access_denied')) {
      return new AirlockError(
        'forbidden',
        `${label}: the upstream's authorization server refused to act on behalf of "${subject}" (${error}); ask its owner whether "${subject}" may use it.`,
        { reasons: [TOKEN_EXCHANGE_REFUSED_REASON], details: { upstreamStatus: response.status } },
      );
    }
    const clientRefused = response.status === 401 || error === 'invalid_client';
    return new AirlockError(
      'upstream_error',
      clientRefused
        ? `${label}: the token endpoint refused the connector's client credentials (HTTP ${response.status}); an operator must check the secret "${secretName}".`
        : `${label}: the token endpoint refused the token exchange (HTTP ${response.status}${error ? `, ${error}` : ''}); an operator must check the connector's auth settings.`,
      { details: { upstreamStatus: response.status, ...(error && { oauthError: error }) } },
    );
  }
}

/** The `error` of an OAuth error response (RFC 6749 §5.2), if it is one and the code is well formed. */
function oauthErrorCode(body: Buffer): string | undefined {
  try {
    const error = (JSON.parse(body.toString('utf8')) as { error?: unknown })?.error;
    return typeof error === 'string' && /^[a-z_]{1,64}$/.test(error) ? error : undefined;
  } catch {
    return undefined;
  }
}
