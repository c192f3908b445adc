/**
 * The audit record of a request an entry point's authenticator refused: a bad or revoked token, a
 * blocked certificate, a suspended principal, the kill switch, an unreadable revocation list. Recorded
 * before the refusal is answered, in a bounded form: the principal and workflow the request can be
 * held to (a verified token's, else the client certificate's CN, else `anonymous`), the machine-readable
 * reasons, never the token or anything else the caller sent.
 */
import type { AuditEvent } from './audit-record';
import type { CallerChannel } from './caller';
import { AirlockError, DependencyError } from './errors';

/** Where the refusals go (the audit ledger). */
export interface AuthenticationRefusalLedger {
  append(event: AuditEvent): Promise<unknown>;
}

/** What the authenticator knew when it refused. */
export interface AuthenticationRefusal {
  readonly channel: CallerChannel;
  /** A verified token's subject, or the client certificate's CN; `undefined`: nobody proven. */
  readonly principal?: string;
  /** A verified token's workflow; `undefined` before a token was verified. */
  readonly workflow?: string;
  readonly requestId: string;
  /** The OAuth client of a verified token (OAuth channel only). */
  readonly clientId?: string;
}

/** Longest principal, workflow and reason kept: the config's names are at most 63 characters. */
const MAX_FIELD = 64;

/**
 * Appends a `connector_denied` record for a refused request. Never throws: the request is refused
 * whether or not the record could be written (the ledger's failure surfaces on the next append).
 */
export async function recordAuthenticationRefusal(
  ledger: AuthenticationRefusalLedger,
  error: unknown,
  refusal: AuthenticationRefusal,
): Promise<void> {
  try {
    await ledger.append({
      type: 'connector_denied',
      principal: bounded(refusal.principal) ?? 'anonymous',
      workflow: bounded(refusal.workflow) ?? '(none)',
      decision: 'deny',
      reasons: reasonsOf(error),
      requestId: refusal.requestId,
      docHashes: [],
      details: {
        channel: refusal.channel,
        stage: 'authentication',
        ...(refusal.clientId === undefined ? {} : { clientId: refusal.clientId.slice(0, 256) }),
      },
    });
  } catch {
    // Refused either way.
  }
}

/** The error code first, then what decided: the token's rejection reason, the kill switch's scope, the dependency. */
function reasonsOf(error: unknown): string[] {
  if (error instanceof AirlockError) {
    const scope = error.code === 'kill_switch_engaged' ? error.details?.scope : undefined;
    return [
      error.code,
      ...(error.reasons ?? []).map((reason) => reason.slice(0, MAX_FIELD)),
      ...(typeof scope === 'string' ? [scope] : []),
    ];
  }
  if (error instanceof DependencyError) return ['unavailable', error.dependency.slice(0, MAX_FIELD)];
  return ['internal_error'];
}

function bounded(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value.slice(0, MAX_FIELD);
}
