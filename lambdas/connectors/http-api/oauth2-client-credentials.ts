/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4) for HTTP connectors: the client id and secret come
 * from the SecretSource, go to the token endpoint as HTTP Basic (client_secret_basic, §2.3.1), and the
 * access token is reused until shortly before it expires. Neither the secret nor the token ever
 * appears in an error message.
 */
import { AirlockError } from '../../core/errors';
import type { Clock, SecretSource } from '../../core/ports';
import { parseBearerTokenResponse, postTokenRequest, readClientCredentials } from '../token-endpoint';
import type { UpstreamRequest, UpstreamResponse } from './upstream-request';

/** A token is renewed this long before it expires, so it never expires in flight. */
export const TOKEN_RENEWAL_MARGIN_MS = 60_000;

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
    const credentials = await readClientCredentials(
      this.props.secretSource,
      secretName,
      label,
      'the upstream credentials',
    );
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (this.props.scope) form.set('scope', this.props.scope);
    const requestedAt = this.props.clock.now().getTime();
    const response = await postTokenRequest(this.props.send, {
      tokenUrl: this.props.tokenUrl,
      credentials,
      form,
      timeoutMs: this.props.timeoutMs,
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
    const token = parseBearerTokenResponse(response.body, { tokenType: 'optional' });
    if (!token) {
      throw new AirlockError(
        'upstream_error',
        `${label}: the token endpoint's answer is not an OAuth 2.0 bearer token response.`,
      );
    }
    // Without expires_in the token is used for this call only: guessing a lifetime could outlive it.
    const renewAt = requestedAt + token.expiresInSeconds * 1000 - TOKEN_RENEWAL_MARGIN_MS;
    this.cached = { accessToken: token.accessToken, renewAt };
    return token.accessToken;
  }
}
