/**
 * `airlock revoke --jti J | --principal P`: kills one token, or every token of one principal issued until
 * now, in the revocations table the connector reads (consistently) on every call.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import type { AuditLedger } from '../lambdas/core/audit-ledger';
import type { AuditEvent } from '../lambdas/core/audit-record';
import { systemClock } from '../lambdas/core/ports';
import type { AirlockConfig } from '../lib/config/schema';
import { CLI_ENV, FUNCTION_ENV } from '../lib/contracts/environment';
import { type CliContext, CliError, describeFailure, EXIT, withCliErrors } from './cli-context';
import { addTargetOptions, resolveTarget, type TargetOptions } from './cli-target';
import { type AuditOutcome, appendOrFail, operatorIdentity } from './operator-audit';
import { type RevocationTable, withOperatorPorts } from './operator-ports';

/** A jti as Airlock issues it (a UUID), with room for other issuers' ids; nothing that could smuggle markup. */
const JTI = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_REASON_LENGTH = 500;
/** The schema's upper bound of `maxTokenLifetimeMinutes`: used when the config has no workflow (fail closed). */
const LONGEST_POSSIBLE_LIFETIME_MINUTES = 12 * 60;

/** The revocations table, and the audit table that records the revocation when the operator names it. */
const REVOKE_TARGET = { acts: 'state', names: ['revocationsTable'] } as const;

interface RevokeOptions extends TargetOptions {
  readonly jti?: string;
  /** The principal whose tokens are revoked (not a device certificate: revoke acts on state, not an API). */
  readonly principal?: string;
  readonly reason?: string;
  readonly changedBy?: string;
}

/** What a revocation did, as `--json` prints it. */
export interface RevocationResult {
  readonly kind: 'token' | 'principal';
  readonly jti?: string;
  readonly principal?: string;
  /** Principal: every token issued before this instant is dead. */
  readonly issuedBefore?: Date;
  /** The revocation is kept until then: no token it covers can still be valid afterwards. */
  readonly until: Date;
  readonly revokedBy: string;
  readonly revokedAt: Date;
  readonly reason: string | null;
  readonly mode: 'local' | 'aws';
  readonly table: string;
  /** Always `immediately`: the connector reads the table with a consistent read on every call. */
  readonly effective: 'immediately';
  readonly audit: AuditOutcome | { readonly recorded: false; readonly warning: string };
  readonly summary: string;
}

/**
 * How long a revocation must be kept: the longest lifetime of any credential it revokes (a workflow's
 * longest token, and an OAuth sign-in's refresh tokens, `oauth.refreshTokenHours`), plus the clock skew
 * verifiers tolerate after `exp`. A credential this revokes was issued at the latest now, so it cannot
 * be valid after that.
 */
export function revocationKeptUntil(config: AirlockConfig, now: Date): Date {
  const lifetimes = Object.values(config.workflows).map((w) => w.maxTokenLifetimeMinutes);
  if (config.oauth) lifetimes.push(config.oauth.refreshTokenHours * 60);
  const longest = lifetimes.length > 0 ? Math.max(...lifetimes) : LONGEST_POSSIBLE_LIFETIME_MINUTES;
  return new Date(now.getTime() + longest * 60_000 + config.tokens.clockSkewSeconds * 1000);
}

/** Registers `airlock revoke`. */
export function registerRevokeCommand(program: Command, context: CliContext): void {
  addTargetOptions(
    program
      .command('revoke')
      .description(
        'Revoke one token (--jti) or every token of a principal issued until now (--principal); effective immediately.',
      )
      .option(
        '--jti <id>',
        'the token id (the jti claim; it is in the audit record of the issued credential)',
      )
      .option('--principal <name>', 'a principal of the config: all of their tokens issued until now')
      .option('--reason <text>', 'why, for the audit record')
      .option('--changed-by <who>', `who is acting (default: $${CLI_ENV.operator}, else your OS user name)`),
    REVOKE_TARGET,
  ).action((options: RevokeOptions) => runRevoke(context, options));
}

async function runRevoke(context: CliContext, options: RevokeOptions): Promise<void> {
  const config = context.loadConfig();
  const target = revocationTarget(config, options);
  const reason = reasonOf(options.reason);
  const where = await resolveTarget(context, options, REVOKE_TARGET, {
    required: ['revocationsTable'],
    optional: ['auditTable'],
  });
  const revokedBy = operatorIdentity(context, options.changedBy);

  await withOperatorPorts(where, async (ports) => {
    let table: RevocationTable;
    let ledger: AuditLedger | undefined;
    try {
      table = await ports.openRevocations();
      ledger = await ports.openAuditLedger();
    } catch (error) {
      throw new CliError(
        `Nothing was revoked: the local pilot's tables in ${context.home} cannot be opened (${describeFailure(error)})`,
        EXIT.failed,
        { cause: error },
      );
    }
    const revoked = await revoke(table, config, target, revokedBy);
    let audit: RevocationResult['audit'];
    if (ledger) {
      audit = await appendOrFail(ledger, revocationEvent(revoked, revokedBy, reason), revoked.summary);
    } else {
      const warning = `${FUNCTION_ENV.auditTable} is not set, so this revocation is not in the audit ledger: only CloudTrail has it (if DynamoDB data events are logged). Set ${FUNCTION_ENV.auditTable} to the audit table to record revocations.`;
      context.notice(`airlock: warning: ${warning}`);
      audit = { recorded: false, warning };
    }
    print(context, { ...revoked, revokedBy, reason, mode: ports.mode, table: table.table, audit });
  });
}

type Target =
  | { readonly kind: 'token'; readonly jti: string }
  | { readonly kind: 'principal'; readonly principal: string };

function revocationTarget(config: AirlockConfig, options: RevokeOptions): Target {
  const { jti, principal } = options;
  if ((jti === undefined) === (principal === undefined)) {
    throw new CliError(
      'revoke needs exactly one of --jti <id> (one token) or --principal <name> (all of their tokens)',
      EXIT.usage,
    );
  }
  if (jti !== undefined) {
    if (!JTI.test(jti)) {
      throw new CliError(
        `--jti: "${jti}" is not a token id; expected the jti claim (letters, digits, ".", "_", ":", "-"; at most 128)`,
        EXIT.usage,
      );
    }
    return { kind: 'token', jti };
  }
  if (!Object.hasOwn(config.principals, principal!)) {
    throw new CliError(
      `--principal: unknown principal "${principal}"; expected one of: ${Object.keys(config.principals).join(', ')}`,
      EXIT.usage,
    );
  }
  return { kind: 'principal', principal: principal! };
}

function reasonOf(reason: string | undefined): string | null {
  const trimmed = reason?.trim() ?? '';
  if (trimmed === '') return null;
  if (trimmed.length > MAX_REASON_LENGTH) {
    throw new CliError(
      `--reason is ${trimmed.length} characters long; keep it to ${MAX_REASON_LENGTH} and link the incident ticket for more`,
      EXIT.usage,
    );
  }
  return trimmed;
}

type Revoked = Pick<
  RevocationResult,
  'kind' | 'jti' | 'principal' | 'issuedBefore' | 'until' | 'revokedAt' | 'effective' | 'summary'
>;

async function revoke(
  { store }: RevocationTable,
  config: AirlockConfig,
  target: Target,
  revokedBy: string,
): Promise<Revoked> {
  const now = systemClock.now();
  const until = revocationKeptUntil(config, now);
  const immediately =
    'effective immediately (the connector checks revocations on every call, with a consistent read)';
  if (target.kind === 'token') {
    await withCliErrors(() => store.revokeToken(target.jti, until, revokedBy));
    return {
      kind: 'token',
      jti: target.jti,
      until,
      revokedAt: now,
      effective: 'immediately',
      summary: `Revoked token ${target.jti} until ${until.toISOString()} (it cannot be valid longer): ${immediately}.`,
    };
  }
  await withCliErrors(() => store.revokePrincipal(target.principal, now, until, revokedBy));
  return {
    kind: 'principal',
    principal: target.principal,
    issuedBefore: now,
    until,
    revokedAt: now,
    effective: 'immediately',
    summary: `Revoked every token of ${target.principal} issued before ${now.toISOString()}, kept until ${until.toISOString()}: ${immediately}. New tokens are still issued to ${target.principal}; to stop them, remove their certificate or principal too.`,
  };
}

function revocationEvent(revoked: Revoked, revokedBy: string, reason: string | null): AuditEvent {
  return {
    type: 'revocation',
    principal: revokedBy,
    workflow: '*',
    decision: 'recorded',
    reasons: [revoked.kind === 'token' ? 'token_revoked' : 'principal_revoked'],
    requestId: randomUUID(),
    docHashes: [],
    details: {
      kind: revoked.kind,
      ...(revoked.jti === undefined ? {} : { jti: revoked.jti }),
      ...(revoked.principal === undefined ? {} : { revokedPrincipal: revoked.principal }),
      ...(revoked.issuedBefore === undefined ? {} : { issuedBefore: revoked.issuedBefore.toISOString() }),
      until: revoked.until.toISOString(),
      reason,
      via: 'airlock cli',
    },
  };
}

function print(context: CliContext, result: RevocationResult): void {
  const audit =
    'recorded' in result.audit && result.audit.recorded
      ? `recorded in the ${result.mode === 'local' ? 'local ' : ''}ledger as ${result.audit.chainId}#${result.audit.seq}`
      : 'not in the audit ledger (see the warning above)';
  context.result(
    [
      result.summary,
      `  table:      ${result.table}${result.mode === 'local' ? ' (local pilot)' : ''}`,
      `  revoked by: ${result.revokedBy}${result.reason === null ? '' : `: "${result.reason}"`}`,
      `  audit:      ${audit}`,
    ],
    result,
  );
}
