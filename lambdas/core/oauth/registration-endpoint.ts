/**
 * RFC 7591 dynamic client registration at `/oauth/register`, bounded: refused while the kill switch is
 * engaged, at most `registrationsPerSourcePerHour` per source address and `registrationsPerHour` in all,
 * and a client that completes no sign-in within `unusedClientHours` is forgotten.
 */
import type { AuthorizationServerContext } from './authorization-server-context';
import type { ClientDirectory } from './client-directory';
import { registerClient } from './oauth-client';
import { OAuthError } from './oauth-error';

/** Registration was refused for now (rate limit: 429, kill switch: 503). */
export class RegistrationRefusedError extends OAuthError {
  constructor(
    description: string,
    public readonly httpStatus: 429 | 503,
    public readonly retryAfterSeconds: number,
  ) {
    super('temporarily_unavailable', description);
  }

  override get status(): number {
    return this.httpStatus;
  }
}

export class RegistrationEndpoint {
  constructor(
    private readonly context: AuthorizationServerContext,
    private readonly directory: ClientDirectory,
  ) {}

  /** Registers a client and returns the 201 body; `sourceIp` is the caller's address as API Gateway saw it. */
  async register(body: unknown, sourceIp: string, requestId: string): Promise<Record<string, unknown>> {
    const { deps, oauth, store } = this.context;
    if (!oauth.dynamicRegistration) {
      throw new OAuthError('invalid_request', 'Dynamic client registration is turned off here.');
    }
    const refuse = async (reason: string, error: RegistrationRefusedError): Promise<never> => {
      await this.context.record({
        type: 'credential_denied',
        principal: '(client registration)',
        workflow: oauth.workflow,
        decision: 'deny',
        reasons: [reason],
        requestId,
        docHashes: [],
        details: { channel: 'oauth', kind: 'client_registration', sourceIp: sourceIp.slice(0, 64) },
      });
      throw error;
    };
    const killSwitch = await deps.guard.check(oauth.workflow);
    if (killSwitch.engaged) {
      await refuse(
        'kill_switch_engaged',
        new RegistrationRefusedError(`Airlock is sealed (kill switch): ${killSwitch.reason}`, 503, 60),
      );
    }
    const now = this.context.nowSeconds();
    const hour = Math.floor(now / 3600);
    const [fromSource, total] = await store.increment(
      [`register#${hour}#${sourceIp.slice(0, 64)}`, `register#${hour}`],
      (hour + 2) * 3600,
    );
    const retryAfter = (hour + 1) * 3600 - now;
    if (fromSource > oauth.registrationsPerSourcePerHour || total > oauth.registrationsPerHour) {
      await refuse(
        'registration_rate_limited',
        new RegistrationRefusedError(
          'Too many client registrations; try again later, or reuse the client you registered.',
          429,
          retryAfter,
        ),
      );
    }
    const registration = registerClient(body, this.directory.redirectPolicy(), this.context.now());
    await store.putClient(registration.client, now + oauth.unusedClientHours * 3600);
    await this.context.record({
      type: 'credential_issued',
      principal: '(client registration)',
      workflow: oauth.workflow,
      decision: 'allow',
      reasons: [],
      requestId,
      docHashes: [],
      details: {
        channel: 'oauth',
        kind: 'client_registration',
        clientId: registration.client.clientId,
        clientName: registration.client.clientName ?? null,
        redirectUris: [...registration.client.redirectUris],
        sourceIp: sourceIp.slice(0, 64),
      },
    });
    return registration.response;
  }
}
