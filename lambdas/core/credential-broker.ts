/**
 * The credential broker: turns an enrolled device's request into a short-lived, scoped token bound
 * to that device's certificate, or a refusal. Identity comes only from the client certificate.
 *
 * Order of checks: identity → request shape and grant → the issuance gate (kill switch, lifetime cap,
 * Cedar `RequestCredential`; shared with the OAuth server) → the record checked → sign → audit. The
 * token's claims are computed and its record validated before anything is signed, so nothing is
 * signed that cannot be recorded; the token leaves only after its record is committed; every refusal
 * is recorded too (a refusal whose record fails is still a refusal).
 */

import { randomUUID } from 'node:crypto';
import type { AirlockConfig } from '../../lib/config/schema';
import { accessTokenClaimsOf, type DeviceAccessTokenRequest, issueAccessToken } from './access-token';
import type { AuditAppender } from './audit-ledger';
import { certificateSubject, certificateThumbprint } from './certificate-thumbprint';
import { decideCredentialGrant } from './credential-request';
import { AirlockError } from './errors';
import { IssuanceGate } from './issuance-gate';
import type { KillSwitch } from './kill-switch';
import type { PolicyEngine } from './policy-engine';
import type { Clock, TokenSigner } from './ports';
import type { UsageMeter } from './usage-meter';

export interface CredentialBrokerDeps {
  readonly config: AirlockConfig;
  readonly signer: TokenSigner;
  readonly policy: PolicyEngine;
  readonly killSwitch: KillSwitch;
  readonly ledger: AuditAppender;
  readonly clock: Clock;
  /** `iss` of every token, e.g. `https://airlock.example.com`. */
  readonly issuer: string;
  /** `aud` of every token: the connector API, e.g. `https://airlock.example.com/v1`. */
  readonly audience: string;
  /** Prices token requests for the workflow (the KMS signature is the broker's own cost). @default - not metered */
  readonly meter?: UsageMeter;
}

/** The 201 body of `POST /v1/credentials`. */
export interface IssuedCredential {
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  readonly expiresAt: string;
  readonly scope: string;
}

export class CredentialBroker {
  private readonly gate: IssuanceGate;

  constructor(private readonly deps: CredentialBrokerDeps) {
    this.gate = new IssuanceGate(deps);
  }

  /**
   * Issues a token for the principal named by `certificatePem`'s CN, or throws an {@link AirlockError}
   * (400/403/404/503) after recording the refusal.
   */
  async issue(input: {
    certificatePem: string;
    body: unknown;
    requestId: string;
  }): Promise<IssuedCredential> {
    const { config, clock } = this.deps;
    const subject = certificateSubject(input.certificatePem);
    const principal = subject.commonName;
    const request = { channel: 'device', requestId: input.requestId } as const;
    const details = { certificateSerial: subject.serialNumber };
    let tokenRequest: DeviceAccessTokenRequest;
    let reasons: readonly string[];
    try {
      const grant = decideCredentialGrant(config, principal, input.body);
      reasons = await this.gate.admit({
        principal,
        workflow: grant.workflow,
        scope: grant.scope,
        lifetimeSeconds: grant.lifetimeSeconds,
        channel: 'device',
        requestId: input.requestId,
      });
      tokenRequest = {
        issuer: this.deps.issuer,
        audience: this.deps.audience,
        subject: principal,
        workflow: grant.workflow,
        resource: grant.resource,
        scope: grant.scope,
        lifetimeSeconds: grant.lifetimeSeconds,
        certificateThumbprint: certificateThumbprint(input.certificatePem),
        now: clock.now(),
        jti: randomUUID(),
      };
      // The record the token will have, checked before the signature: nothing signed goes unrecorded.
      this.gate.assertRecordable(request, accessTokenClaimsOf(tokenRequest), reasons, details);
    } catch (error) {
      if (error instanceof AirlockError) {
        await this.gate.refused(
          { principal, workflow: workflowNameOf(input.body), requestId: input.requestId },
          IssuanceGate.reasonsOf(error),
        );
      }
      throw error;
    }
    const issued = await issueAccessToken(this.deps.signer, tokenRequest);
    // The token leaves only after its record is committed.
    await this.gate.issued(request, issued.claims, reasons, details);
    return {
      accessToken: issued.token,
      tokenType: 'Bearer',
      expiresAt: issued.expiresAt.toISOString(),
      scope: issued.claims.scope,
    };
  }
}

/** The workflow named in a (possibly invalid) body, for the refusal's audit record. */
function workflowNameOf(body: unknown): string {
  const value = (body as { workflow?: unknown } | null)?.workflow;
  return typeof value === 'string' && value.length <= 64 ? value : '(none)';
}
