/**
 * What must hold before Airlock issues any credential, on either entry point: the kill switch
 * released for the workflow, the device certificate not blocked and the principal not suspended (one
 * read of the revocation list, by the revocation guard), a lifetime within the workflow's cap, and
 * Cedar's `RequestCredential` allowing the principal. The gate also writes the credential's audit record (before the token
 * leaves) and every refusal's, and meters both, so the device broker and the OAuth server cannot
 * drift apart in what they check, record or price.
 */
import type { AirlockConfig } from '../../lib/config/schema';
import type { BaseAccessTokenClaims } from './access-token';
import { type AuditDetails, type AuditEvent, auditEventProblemOf, boundedAuditEvent } from './audit-record';
import type { CallerChannel } from './caller';
import { AirlockError } from './errors';
import type { PolicyEngine } from './policy-engine';
import type { CertificateIdentity, Clock } from './ports';
import type { IssuanceAdmission, IssuanceSubject } from './revocation-guard';
import { recordShadowDecision } from './shadow-record';
import type { UsageMeter } from './usage-meter';

export interface IssuanceGateDeps {
  readonly config: AirlockConfig;
  readonly policy: Pick<PolicyEngine, 'decide'>;
  /** The kill switch, blocked certificates and suspended principals. */
  readonly guard: { admitIssuance(subject: IssuanceSubject): Promise<IssuanceAdmission | undefined> };
  readonly ledger: { append(event: AuditEvent): Promise<unknown> };
  readonly clock: Clock;
  /** Prices each request for the workflow (the signature is the issuer's own cost). @default - not metered */
  readonly meter?: UsageMeter;
  /** Waits `ms` (tests give their own). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** A credential someone asks for. */
export interface IssuanceRequest {
  readonly principal: string;
  readonly workflow: string;
  readonly scope: readonly string[];
  readonly lifetimeSeconds: number;
  readonly channel: CallerChannel;
  readonly requestId: string;
  /** The device certificate that asks (device channel). */
  readonly certificate?: CertificateIdentity;
}

export class IssuanceGate {
  constructor(private readonly deps: IssuanceGateDeps) {}

  /**
   * Admits a request or refuses it. The issuer records a refusal with {@link IssuanceGate.refused}
   * (with what it knows besides: the device certificate, the OAuth client).
   * @returns the policies that allowed it
   * @throws KillSwitchEngagedError (503) while the workflow is sealed; AirlockError `forbidden` when
   *   the certificate is blocked, the principal suspended, or the workflow's lifetime cap or the policy
   *   refuses (with the deciding policies as reasons); DependencyError when the revocation list cannot
   *   be read
   */
  /**
   * A JWT `iat` has whole seconds: a token signed in the same second as a cut-off (a kill switch
   * engaged and released, a revocation) would count as before it and be refused at its first use.
   * Issuing waits for the next whole second instead (at most one second, only right after a cut-off).
   */
  private async waitPast(cutOffMs: number | null): Promise<void> {
    if (cutOffMs === null) return;
    const now = this.deps.clock.now().getTime();
    if (Math.floor(now / 1000) * 1000 >= cutOffMs) return;
    const waitMs = Math.ceil(cutOffMs / 1000) * 1000 - now;
    if (waitMs > 1000) return; // a cut-off in the future is the verifier's to judge, not a wait
    await (this.deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))))(
      waitMs,
    );
  }

  async admit(request: IssuanceRequest): Promise<readonly string[]> {
    const admission = await this.deps.guard.admitIssuance({
      workflow: request.workflow,
      principal: request.principal,
      ...(request.certificate === undefined ? {} : { certificate: request.certificate }),
    });
    await this.waitPast(admission?.issueNotBeforeMs ?? null);
    const cap = this.deps.config.workflows[request.workflow]?.maxTokenLifetimeMinutes;
    if (cap === undefined || request.lifetimeSeconds > cap * 60) {
      throw new AirlockError(
        'forbidden',
        `Workflow "${request.workflow}" allows credentials of at most ${cap ?? 0} minutes.`,
        { reasons: ['lifetime-over-workflow-cap'] },
      );
    }
    const decision = this.deps.policy.decide({
      principal: request.principal,
      action: 'RequestCredential',
      resource: { kind: 'workflow', id: request.workflow },
      workflow: request.workflow,
      context: {
        approval: 'none',
        durationMinutes: Math.ceil(request.lifetimeSeconds / 60),
        scope: [...request.scope],
        channel: request.channel,
      },
    });
    // What shadow policies would have decided otherwise is recorded, and changes nothing.
    await recordShadowDecision(
      this.deps.ledger,
      { principal: request.principal, workflow: request.workflow, requestId: request.requestId },
      decision,
    );
    if (decision.decision !== 'allow') {
      throw new AirlockError(
        'forbidden',
        `Policy does not allow ${request.principal} to get credentials for workflow "${request.workflow}".`,
        { reasons: decision.reasons },
      );
    }
    return decision.reasons;
  }

  /**
   * Checks, before anything is signed, that the credential's record could be written: a request whose
   * record the ledger would refuse (a value that looks like a token, say) is refused here, with 400,
   * instead of after the signature (a 500, and a signed token without a record).
   * @throws AirlockError `invalid_request` naming what could not be recorded
   */
  assertRecordable(
    request: Pick<IssuanceRequest, 'channel' | 'requestId'>,
    claims: BaseAccessTokenClaims,
    reasons: readonly string[],
    details: AuditDetails = {},
  ): void {
    const problem = auditEventProblemOf(this.issuedEvent(request, claims, reasons, details));
    if (problem !== undefined) {
      throw new AirlockError(
        'invalid_request',
        `The credential could not be recorded in the audit trail (${problem.replace(/^details\./, '')}); nothing was issued.`,
        { reasons: ['unrecordable-request'] },
      );
    }
  }

  /** Records an issued credential (before it leaves) and meters it; a ledger failure refuses it. */
  async issued(
    request: Pick<IssuanceRequest, 'channel' | 'requestId'>,
    claims: BaseAccessTokenClaims,
    reasons: readonly string[],
    details: AuditDetails = {},
  ): Promise<void> {
    const started = performance.now();
    await this.deps.ledger.append(this.issuedEvent(request, claims, reasons, details));
    this.meter(claims.workflow, 'credential_issued', started, 1);
  }

  private issuedEvent(
    request: Pick<IssuanceRequest, 'channel' | 'requestId'>,
    claims: BaseAccessTokenClaims,
    reasons: readonly string[],
    details: AuditDetails,
  ): AuditEvent {
    return {
      type: 'credential_issued',
      principal: claims.sub,
      workflow: claims.workflow,
      decision: 'allow',
      reasons: [...reasons],
      requestId: request.requestId,
      docHashes: [],
      details: {
        channel: request.channel,
        jti: claims.jti,
        scope: claims.scope,
        exp: claims.exp,
        ...(claims.resource ? { resource: claims.resource } : {}),
        ...details,
      },
    };
  }

  /**
   * Records and meters a refused credential request, whoever refused it (the gate, the request's
   * shape, the sign-in). Never throws: the request is refused either way.
   * @param reasons - the error code first, then the deciding policies or causes
   */
  async refused(
    request: Pick<IssuanceRequest, 'principal' | 'workflow' | 'requestId'> & {
      readonly channel?: CallerChannel;
    },
    reasons: readonly string[],
    details?: AuditDetails,
  ): Promise<void> {
    const started = performance.now();
    try {
      // Bounded: a request with 64 refused scopes, or a token pasted where a name goes, is still recorded.
      await this.deps.ledger.append(
        boundedAuditEvent({
          type: 'credential_denied',
          principal: request.principal,
          workflow: request.workflow,
          decision: 'deny',
          reasons: [...reasons],
          requestId: request.requestId,
          docHashes: [],
          ...(details || request.channel
            ? { details: { ...(request.channel ? { channel: request.channel } : {}), ...details } }
            : {}),
        }),
      );
    } catch {
      // The request is refused either way; the ledger's own failure surfaces on the next append.
    }
    this.meter(request.workflow, 'credential_denied', started, 0);
  }

  /** The reasons an error is recorded with: its code, then its own reasons. */
  static reasonsOf(error: AirlockError): string[] {
    return [error.code, ...(error.reasons ?? [])];
  }

  /** Only configured workflows become metric dimensions; a made-up name is not metered. */
  private meter(
    workflow: string,
    outcome: 'credential_issued' | 'credential_denied',
    started: number,
    kms: number,
  ): void {
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
}
