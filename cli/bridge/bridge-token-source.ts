/**
 * The bridge's access token, asked for over mutual TLS at `POST /v1/credentials` and renewed before it
 * expires or when Airlock refuses it. Its own file because it is the one stateful piece of the bridge
 * that needs no MCP: what it guarantees (one request at a time, never a token near its expiry) can be
 * read and tested alone.
 */
import { BridgeError, describeHttpRefusal } from './bridge-error';
import type { BridgeOptions } from './bridge-options';

/** A token is renewed once this share of its life has passed, so a call never carries a token about to expire. */
const REFRESH_AT_LIFE_SHARE = 0.8;

interface HeldToken {
  readonly value: string;
  readonly refreshAt: number;
}

/**
 * The bridge's access token: asked for on first use, renewed once 80% of its life has passed, and on
 * a 401. One request at a time: callers that need a token while one is being fetched wait for it.
 */
export class BridgeTokenSource {
  private held?: HeldToken;
  private inFlight?: Promise<string>;

  constructor(
    private readonly fetch: (input: string, init?: RequestInit) => Promise<Response>,
    private readonly options: Pick<BridgeOptions, 'server' | 'workflow' | 'scopes' | 'durationMinutes'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** A token valid for a while yet. */
  current(): Promise<string> {
    if (this.held && this.now() < this.held.refreshAt) return Promise.resolve(this.held.value);
    return this.renew();
  }

  /** A token other than `rejected` (the server answered 401 to it); fetched unless another caller already renewed it. */
  replace(rejected: string): Promise<string> {
    if (this.held && this.held.value !== rejected && this.now() < this.held.refreshAt) {
      return Promise.resolve(this.held.value);
    }
    this.held = undefined;
    return this.renew();
  }

  private renew(): Promise<string> {
    this.inFlight ??= this.request().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Asks for a new token now, and says when it expires (what `airlock token` prints). */
  async issue(): Promise<{ readonly accessToken: string; readonly expiresAt?: string }> {
    const accessToken = await this.renew();
    return { accessToken, ...(this.expiresAt === undefined ? {} : { expiresAt: this.expiresAt }) };
  }

  private expiresAt?: string;

  private async request(): Promise<string> {
    if (this.options.scopes.length === 0) {
      throw new BridgeError(
        `workflow "${this.options.workflow}" grants no scopes in the pilot config, so there is nothing to ask a token for.`,
      );
    }
    const requestedAt = this.now();
    const response = await this.fetch(`${this.options.server}/v1/credentials`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        workflow: this.options.workflow,
        scopes: this.options.scopes,
        durationMinutes: this.options.durationMinutes,
      }),
    });
    if (response.status !== 201) {
      throw new BridgeError(
        await describeHttpRefusal(response, `a token for workflow "${this.options.workflow}"`),
      );
    }
    const body = (await response.json()) as { accessToken?: unknown; expiresAt?: unknown };
    if (typeof body.accessToken !== 'string') {
      throw new BridgeError(
        'the credential broker answered without an access token; tell your Airlock operators.',
      );
    }
    const requestedLifeMs = this.options.durationMinutes * 60_000;
    const expiresAt = typeof body.expiresAt === 'string' ? Date.parse(body.expiresAt) : Number.NaN;
    this.expiresAt = typeof body.expiresAt === 'string' ? body.expiresAt : undefined;
    // The server's expiry bounds the life, but a skewed clock must not make it look already over.
    const lifeMs =
      Number.isFinite(expiresAt) && expiresAt > requestedAt
        ? Math.min(expiresAt - requestedAt, requestedLifeMs)
        : requestedLifeMs;
    this.held = { value: body.accessToken, refreshAt: requestedAt + lifeMs * REFRESH_AT_LIFE_SHARE };
    return body.accessToken;
  }
}
