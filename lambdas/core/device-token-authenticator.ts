/**
 * The device channel's authenticator (the mutual-TLS API): the client certificate API Gateway
 * verified, and an access token bound to that certificate, not revoked, with the kill switch released
 * for its workflow.
 */
import { type AccessTokenVerifier, assertNotRevoked } from './access-token';
import { bearerTokenOf, clientCertificateOf } from './api-request';
import type { AuthenticationRequest, Authenticator, Caller } from './caller';
import { scopesOf } from './caller';
import { certificateThumbprint } from './certificate-thumbprint';
import { type KillSwitch, KillSwitchEngagedError } from './kill-switch';
import type { RevocationStore } from './ports';

export interface DeviceTokenAuthenticatorDeps {
  /** Verifies device-profile tokens. */
  readonly verifier: AccessTokenVerifier;
  readonly killSwitch: Pick<KillSwitch, 'check'>;
  readonly revocations: Pick<RevocationStore, 'isRevoked'>;
}

export class DeviceTokenAuthenticator implements Authenticator {
  constructor(private readonly deps: DeviceTokenAuthenticatorDeps) {}

  async authenticate(request: AuthenticationRequest): Promise<Caller> {
    const certificatePem = clientCertificateOf(request);
    const token = bearerTokenOf(request);
    const claims = await this.deps.verifier.verify(token, {
      certificateThumbprint: certificateThumbprint(certificatePem),
      isRevoked: (t) => this.deps.revocations.isRevoked(t),
    });
    // The kill switch is read for the token's own workflow; its revokeIssuedBefore keeps tokens
    // issued before an incident dead after the switch is released.
    const killSwitch = await this.deps.killSwitch.check(claims.workflow);
    if (killSwitch.engaged) throw new KillSwitchEngagedError(killSwitch);
    await assertNotRevoked(claims, { revokeIssuedBefore: killSwitch.revokeIssuedBefore });
    return {
      principal: claims.sub,
      workflow: claims.workflow,
      scopes: scopesOf(claims.scope),
      tokenId: claims.jti,
      ...(claims.resource === undefined ? {} : { resource: claims.resource }),
      channel: 'device',
      issuedAt: new Date(claims.iat * 1000),
    };
  }
}
