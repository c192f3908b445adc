/**
 * The credential broker: turns an enrolled device's request into a short-lived, scoped token bound
 * to that device's certificate, or a refusal. Identity comes only from the client certificate.
 *
 * Order of checks: identity → request shape and grant → kill switch → Cedar `RequestCredential` →
 * sign → audit. The token leaves only after its audit record is committed; every refusal is
 * recorded too (a refusal whose record fails is still a refusal).
 */
import type { AirlockConfig } from '../../lib/config/schema';
import { type AccessTokenClaims, issueAccessToken } from './access-token';
import type { AuditAppender } from './audit-ledger';
import type { AuditEvent } from './audit-record';
import { certificateSubject, certificateThumbprint } from './certificate-thumbprint';
import { decideCredentialGrant } from './credential-request';
import { AirlockError } from './errors';
import { type KillSwitch, KillSwitchEngagedError } from './kill-switch';
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
  constructor(private readonly deps: CredentialBrokerDeps) {}

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
    const started = performance.now();
    const subject = certificateSubject(input.certificatePem);
    const principal = subject.commonName;
    const requestedWorkflow = workflowNameOf(input.body);
    try {
      const grant = decideCredentialGrant(config, principal, input.body);
      const killSwitch = await this.deps.killSwitch.check(grant.workflow);
      if (killSwitch.engaged) throw new KillSwitchEngagedError(killSwitch);

      const decision = this.deps.policy.decide({
        principal,
        action: 'RequestCredential',
        resource: { kind: 'workflow', id: grant.workflow },
        workflow: grant.workflow,
        context: {
          approval: 'none',
          durationMinutes: Math.ceil(grant.lifetimeSeconds / 60),
          scope: [...grant.scope],
        },
      });
      if (decision.decision !== 'allow') {
        throw new AirlockError(
          'forbidden',
          `Policy does not allow ${principal} to get credentials for workflow "${grant.workflow}".`,
          { reasons: decision.reasons },
        );
      }

      const issued = await issueAccessToken(this.deps.signer, {
        issuer: this.deps.issuer,
        audience: this.deps.audience,
        subject: principal,
        workflow: grant.workflow,
        resource: grant.resource,
        scope: grant.scope,
        lifetimeSeconds: grant.lifetimeSeconds,
        certificateThumbprint: certificateThumbprint(input.certificatePem),
        now: clock.now(),
      });
      await this.deps.ledger.append(
        issuedEvent(issued.claims, input.requestId, decision.reasons, subject.serialNumber),
      );
      this.meter(grant.workflow, 'credential_issued', started, 1);
      return {
        accessToken: issued.token,
        tokenType: 'Bearer',
        expiresAt: issued.expiresAt.toISOString(),
        scope: issued.claims.scope,
      };
    } catch (error) {
      if (error instanceof AirlockError || error instanceof KillSwitchEngagedError) {
        await this.recordRefusal(principal, requestedWorkflow, input.requestId, error);
        this.meter(requestedWorkflow, 'credential_denied', started, 0);
      }
      throw error;
    }
  }

  /** Only configured workflows become metric dimensions; a made-up name is not metered. */
  private meter(
    workflow: string,
    outcome: 'credential_issued' | 'credential_denied',
    started: number,
    kms: number,
  ) {
    if (!this.deps.meter || !Object.hasOwn(this.deps.config.workflows, workflow)) return;
    this.deps.meter.record({
      workflow,
      outcome,
      bytesOut: 0,
      durationMs: performance.now() - started,
      usage: { apiRequests: 1, kmsRequests: kms, secretsManagerCalls: 0, dynamodbWrites: 1 },
      timestamp: this.deps.clock.now(),
    });
  }

  private async recordRefusal(
    principal: string,
    workflow: string,
    requestId: string,
    error: AirlockError,
  ): Promise<void> {
    try {
      await this.deps.ledger.append({
        type: 'credential_denied',
        principal,
        workflow,
        decision: 'deny',
        reasons: [error.code, ...(error.reasons ?? [])],
        requestId,
        docHashes: [],
      });
    } catch {
      // The request is refused either way; the ledger's own failure surfaces on the next append.
    }
  }
}

function issuedEvent(
  claims: AccessTokenClaims,
  requestId: string,
  reasons: readonly string[],
  certificateSerial: string,
): AuditEvent {
  return {
    type: 'credential_issued',
    principal: claims.sub,
    workflow: claims.workflow,
    decision: 'allow',
    reasons: [...reasons],
    requestId,
    docHashes: [],
    details: {
      jti: claims.jti,
      scope: claims.scope,
      exp: claims.exp,
      certificateSerial,
      ...(claims.resource ? { resource: claims.resource } : {}),
    },
  };
}

/** The workflow named in a (possibly invalid) body, for the refusal's audit record. */
function workflowNameOf(body: unknown): string {
  const value = (body as { workflow?: unknown } | null)?.workflow;
  return typeof value === 'string' && value.length <= 64 ? value : '(none)';
}
