import {
  OAuth2ClientCredentials,
  TOKEN_RENEWAL_MARGIN_MS,
} from '../../../lambdas/connectors/http-api/oauth2-client-credentials';
import type {
  UpstreamRequest,
  UpstreamResponse,
} from '../../../lambdas/connectors/http-api/upstream-request';
import { AirlockError } from '../../../lambdas/core/errors';
import type { Clock } from '../../../lambdas/core/ports';

class MovableClock implements Clock {
  time = Date.parse('2026-10-01T09:00:00Z');
  now(): Date {
    return new Date(this.time);
  }
}

/** A token endpoint that issues numbered tokens valid for `expiresIn` seconds. */
function tokenEndpoint(expiresIn: number | undefined, body?: string) {
  const requests: UpstreamRequest[] = [];
  const send = async (request: UpstreamRequest): Promise<UpstreamResponse> => {
    requests.push(request);
    await new Promise((resolve) => setImmediate(resolve));
    const token = { access_token: `token-${requests.length}`, token_type: 'bearer', expires_in: expiresIn };
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(body ?? JSON.stringify(token)),
    };
  };
  return { requests, send };
}

function credentials(send: (request: UpstreamRequest) => Promise<UpstreamResponse>, clock: Clock) {
  return new OAuth2ClientCredentials({
    tokenUrl: new URL('https://erp.example.com/api/oauth/token'),
    secretName: 'airlock/pilot/erp-client',
    scope: 'gl.read gl.write',
    secretSource: { getJson: async () => ({ clientId: 'airlock-pilot', clientSecret: 'test-secret' }) },
    clock,
    send,
    timeoutMs: 1000,
    label: 'Connector "erp"',
  });
}

describe('Class: OAuth2ClientCredentials', () => {
  describe('Method: getToken', () => {
    it('reuses a token until the renewal margin before it expires', async () => {
      // Prepare
      const clock = new MovableClock();
      const endpoint = tokenEndpoint(300);
      const tokens = credentials(endpoint.send, clock);

      // Act
      const first = await tokens.getToken();
      clock.time += 300_000 - TOKEN_RENEWAL_MARGIN_MS - 1;
      const stillFirst = await tokens.getToken();
      clock.time += 1;
      const renewed = await tokens.getToken();

      // Assess
      expect([first, stillFirst, renewed]).toEqual(['token-1', 'token-1', 'token-2']);
    });

    it('shares one token request among concurrent callers', async () => {
      // Prepare
      const endpoint = tokenEndpoint(3600);
      const tokens = credentials(endpoint.send, new MovableClock());

      // Act
      const all = await Promise.all([tokens.getToken(), tokens.getToken(), tokens.getToken()]);

      // Assess
      expect(all).toEqual(['token-1', 'token-1', 'token-1']);
      expect(endpoint.requests).toHaveLength(1);
      expect(endpoint.requests[0].body).toBe('grant_type=client_credentials&scope=gl.read+gl.write');
    });

    it('counts the secret read for the caller that starts a token request only', async () => {
      // Prepare
      const endpoint = tokenEndpoint(3600);
      const tokens = credentials(endpoint.send, new MovableClock());
      const usages = [{ secretReads: 0 }, { secretReads: 0 }, { secretReads: 0 }];

      // Act
      await Promise.all(usages.map((usage) => tokens.getToken(usage)));
      const cached = { secretReads: 0 };
      await tokens.getToken(cached);

      // Assess
      expect(usages.map((u) => u.secretReads)).toEqual([1, 0, 0]);
      expect(cached.secretReads).toBe(0);
      expect(endpoint.requests).toHaveLength(1);
    });

    it('does not keep a token that came without expires_in', async () => {
      // Prepare
      const endpoint = tokenEndpoint(undefined);
      const tokens = credentials(endpoint.send, new MovableClock());

      // Act
      await tokens.getToken();
      const second = await tokens.getToken();

      // Assess
      expect(second).toBe('token-2');
    });

    it('refuses an answer that is not a bearer token response', async () => {
      // Prepare
      const endpoint = tokenEndpoint(3600, JSON.stringify({ access_token: 'mac-token', token_type: 'mac' }));
      const tokens = credentials(endpoint.send, new MovableClock());

      // Act
      const error = await tokens.getToken().catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(AirlockError);
      expect((error as AirlockError).code).toBe('upstream_error');
      expect((error as AirlockError).message).not.toContain('mac-token');
    });
  });

  describe('Method: invalidate', () => {
    it('forgets only the refused token, so a newer one survives late 401s', async () => {
      // Prepare
      const endpoint = tokenEndpoint(3600);
      const tokens = credentials(endpoint.send, new MovableClock());
      const first = await tokens.getToken();
      tokens.invalidate(first);
      const second = await tokens.getToken();

      // Act
      tokens.invalidate(first);
      const afterLate401 = await tokens.getToken();

      // Assess
      expect(second).toBe('token-2');
      expect(afterLate401).toBe('token-2');
      expect(endpoint.requests).toHaveLength(2);
    });
  });
});
