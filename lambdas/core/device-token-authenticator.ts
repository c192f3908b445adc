/**
 * The device channel's authenticator (the mutual-TLS API): the client certificate API Gateway
 * verified, and an access token bound to that certificate, judged by the revocation guard (the token,
 * its principal and its certificate not revoked, blocked or suspended; the kill switch released for
 * its workflow). Every refusal is on the audit record.
 */
import type { AccessTokenVerifier } from './access-token';
import { bearerTokenOf, clientCertificateOf, requestIdOf } from './api-request';
import { type AuthenticationRefusalLedger, recordAuthenticationRefusal } from './authentication-refusal';
import type { AuthenticationRequest, Authenticator, Caller } from './caller';
import { scopesOf } from './caller';
import { certificateIdentity, certificateSubject } from './certificate-thumbprint';
import type { RevocationGuard } from './revocation-guard';

export interface DeviceTokenAuthenticatorDeps {
  /** Verifies device-profile tokens. */
  readonly verifier: AccessTokenVerifier;
  /** One consistent read of the revocation list per request, with the kill switch. */
  readonly guard: Pick<RevocationGuard, 'admitToken'>;
  /** Where refusals are recorded. */
  readonly ledger: AuthenticationRefusalLedger;
}

export class DeviceTokenAuthenticator implements Authenticator {
  constructor(private readonly deps: DeviceTokenAuthenticatorDeps) {}

  async authenticate(request: AuthenticationRequest): Promise<Caller> {
    // Who the refusal is recorded for: the token's subject once it is verified; before that the
    // certificate's CN (proven by mutual TLS), never a claim of an unverified token.
    let principal: string | undefined;
    let workflow: string | undefined;
    try {
      const certificatePem = clientCertificateOf(request);
      principal = commonNameOf(certificatePem);
      const certificate = certificateIdentity(certificatePem);
      const claims = await this.deps.verifier.verify(bearerTokenOf(request), {
        certificateThumbprint: certificate.thumbprint,
      });
      principal = claims.sub;
      workflow = claims.workflow;
      const issuedAt = new Date(claims.iat * 1000);
      // The kill switch is read for the token's own workflow; its revokeIssuedBefore keeps tokens
      // issued before an incident dead after the switch is released.
      await this.deps.guard.admitToken({
        workflow: claims.workflow,
        principal: claims.sub,
        jti: claims.jti,
        issuedAt,
        certificate,
        channel: 'device',
      });
      return {
        principal: claims.sub,
        workflow: claims.workflow,
        scopes: scopesOf(claims.scope),
        tokenId: claims.jti,
        ...(claims.resource === undefined ? {} : { resource: claims.resource }),
        channel: 'device',
        issuedAt,
      };
    } catch (error) {
      await recordAuthenticationRefusal(this.deps.ledger, error, {
        channel: 'device',
        principal,
        workflow,
        requestId: requestIdOf(request),
      });
      throw error;
    }
  }
}

/** The certificate's CN, or `undefined` when it names none (the refusal is then recorded as anonymous). */
function commonNameOf(pem: string): string | undefined {
  try {
    return certificateSubject(pem).commonName;
  } catch {
    return undefined;
  }
}
