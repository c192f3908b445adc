/**
 * Who is calling, once an entry point has proven it. Each entry point has its own
 * {@link Authenticator} (the device certificate and a token bound to it; an OAuth access token) and
 * hands the connector pipeline only the {@link Caller} it produced: the pipeline never sees how the
 * caller was authenticated, so the channels cannot drift apart in what they allow.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';

/** The channel a caller came through; policies may treat them differently (`context.channel`). */
export type CallerChannel = 'device' | 'oauth';

/** A caller proven by an entry point. */
export interface Caller {
  readonly principal: string;
  readonly workflow: string;
  readonly scopes: ReadonlySet<string>;
  /** The access token's `jti`: rate limits and the cost metric's run id key on it. */
  readonly tokenId: string;
  /** What the token was granted for within its connectors (the token's `resource` claim). */
  readonly resource?: string;
  readonly channel: CallerChannel;
  /** When the caller's token was issued. */
  readonly issuedAt: Date;
  /** The OAuth client the caller signed in through (OAuth channel only). */
  readonly clientId?: string;
}

/** What an authenticator reads of a request: its headers and what the TLS layer proved. */
export type AuthenticationRequest = Pick<APIGatewayProxyEvent, 'headers' | 'requestContext'>;

/** Turns a request into a {@link Caller}, or refuses it. */
export interface Authenticator {
  /**
   * @throws AirlockError `unauthenticated` (401) for a missing, invalid or revoked credential,
   *   KillSwitchEngagedError (503) when the caller's workflow is sealed, DependencyError when a
   *   dependency cannot answer (the call is refused)
   */
  authenticate(request: AuthenticationRequest): Promise<Caller>;
}

/** The scopes of a token's `scope` claim. */
export function scopesOf(scope: string): ReadonlySet<string> {
  return new Set(scope.split(' ').filter(Boolean));
}
