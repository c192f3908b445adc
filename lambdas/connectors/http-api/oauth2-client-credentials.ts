/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4) for HTTP connectors: the client id and secret come
 * from the SecretSource, go to the token endpoint as HTTP Basic (client_secret_basic, §2.3.1), and the
 * access token is reused until shortly before it expires. Neither the secret nor the token ever
 * appears in an error message.
 */
import { AirlockError, DependencyError } from '../../core/errors';
import type { Clock, SecretSource } from '../../core/ports';
import type { UpstreamRequest, UpstreamResponse } from './upstream-request';

/** A token is renewed this long before it expires, so it never expires in flight. */
export const TOKEN_RENEWAL_MARGIN_MS = 60_000;

/** Token responses are small; anything bigger is not a token response. */
const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;

export interface OAuth2ClientCredentialsProps {
  readonly tokenUrl: URL;
  /** Secret holding `{clientId, clientSecret}`. */
  readonly secretName: string;
  readonly scope?: string;
  readonly secretSource: SecretSource;
  readonly clock: Clock;
  /** Sends one request (the HTTP connector binds its agent); swapped in tests of the caching alone. */
  readonly send: (request: UpstreamRequest) => Promise<UpstreamResponse>;
  readonly timeoutMs: number;
  /** How errors name the upstream, e.g. `connector "erp"`. */
  readonly label: string;
}

interface CachedToken {
  readonly accessToken: string;
  /** Epoch ms after which the token is no longer used. */
  readonly renewAt: number;
}

/** `application/x-www-form-urlencoded` as RFC 6749 §2.3.1 wants it for the Basic credentials. */
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

/** Access tokens for one upstream, cached and fetched once at a time. */
export class OAuth2ClientCredentials {
  private cached?: CachedToken;
  private inFlight?: Promise<string>;

  constructor(private readonly props: OAuth2ClientCredentialsProps) {}

  /**
   * A valid access token. Concurrent callers share one token request, which runs without their
   * cancellation signals so one caller giving up does not fail the others.
   * @param usage counts the secret reads this caller caused (the one that starts a token request;
   *   callers sharing it or served from the cache cause none), so the read is priced once, to that call
   * @throws AirlockError `upstream_error` when the credentials cannot be read or are refused
   */
  getToken(usage?: { secretReads: number }): Promise<string> {
    const now = this.props.clock.now().getTime();
    if (this.cached && now < this.cached.renewAt) return Promise.resolve(this.cached.accessToken);
    if (!this.inFlight) {
      if (usage) usage.secretReads += 1;
      this.inFlight = this.fetchToken().finally(() => {
        this.inFlight = undefined;
      });
    }
    return this.inFlight;
  }

  /**
   * Forgets a token the upstream refused (HTTP 401). Only that token: when concurrent calls all see
   * the same 401, the first one's fresh token is not thrown away by the others.
   */
  invalidate(accessToken: string): void {
    if (this.cached?.accessToken === accessToken) this.cached = undefined;
  }

  private async fetchToken(): Promise<string> {
    const { label, secretName } = this.props;
    let credentials: Record<string, string>;
    try {
      credentials = await this.props.secretSource.getJson(secretName);
    } catch (error) {
      throw new AirlockError(
        'upstream_error',
        `${label}: the upstream credentials are unavailable; an operator must check the secret "${secretName}".`,
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
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (this.props.scope) form.set('scope', this.props.scope);
    const basic = Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64');
    const requestedAt = this.props.clock.now().getTime();
    const response = await this.props.send({
      url: this.props.tokenUrl,
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
      timeoutMs: this.props.timeoutMs,
      maxResponseBytes: MAX_TOKEN_RESPONSE_BYTES,
      label,
    });
    if (response.status < 200 || response.status > 299) {
      const refused = response.status === 400 || response.status === 401;
      throw new AirlockError(
        'upstream_error',
        refused
          ? `${label}: the token endpoint refused the client credentials (HTTP ${response.status}); an operator must check the secret "${secretName}".`
          : `${label}: the token endpoint answered HTTP ${response.status}.`,
        { details: { upstreamStatus: response.status } },
      );
    }
    const token = this.parseTokenResponse(response.body);
    // Without expires_in the token is used for this call only: guessing a lifetime could outlive it.
    const renewAt = requestedAt + token.expiresInSeconds * 1000 - TOKEN_RENEWAL_MARGIN_MS;
    this.cached = { accessToken: token.accessToken, renewAt };
    return token.accessToken;
  }

  private parseTokenResponse(body: Buffer): { accessToken: string; expiresInSeconds: number } {
    const garbage = new AirlockError(
      'upstream_error',
      `${this.props.label}: the token endpoint's answer is not an OAuth 2.0 bearer token response.`,
    );
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw garbage;
    }
    if (parsed === null || typeof parsed !== 'object') throw garbage;
    const { access_token, token_type, expires_in } = parsed as Record<string, unknown>;
    if (typeof access_token !== 'string' || access_token.length === 0) throw garbage;
    if (token_type !== undefined && String(token_type).toLowerCase() !== 'bearer') throw garbage;
    const expiresInSeconds = Number(expires_in ?? 0);
    return {
      accessToken: access_token,
      expiresInSeconds: Number.isFinite(expiresInSeconds) && expiresInSeconds > 0 ? expiresInSeconds : 0,
    };
  }
}
