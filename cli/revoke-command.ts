/**
 * `airlock revoke`: what IT/security does when a token, a person or a device can no longer be trusted.
 *
 * - `revoke --jti J`: one token (or one OAuth sign-in, by its family id);
 * - `revoke --principal P`: every token of P issued until now; with `--suspend`, also no new token on
 *   either entry point (device broker, OAuth sign-in) until lifted;
 * - `revoke --certificate <file | thumbprint | serial>`: a device certificate: the broker issues no
 *   token for it and no token bound to it is served, until lifted;
 * - `revoke list`: what is revoked, blocked or suspended now;
 * - `revoke lift --certificate … | --principal …`: ends a block or a suspension (tokens issued before
 *   the lift stay dead).
 *
 * Everything goes to the revocations table, which every request reads with one consistent read: a
 * change is seen by the next request. Every change takes `--reason`, is recorded in the audit ledger
 * on a chain of its own, and checks its target first: an unknown token id is refused (exit 1) unless
 * `--force`; a certificate Airlock never saw is blocked anyway, with a warning.
 */
import { randomUUID } from 'node:crypto';
import { Argument, type Command } from 'commander';
import type { AuditLedger } from '../lambdas/core/audit-ledger';
import type { AuditEvent, AuditRecord } from '../lambdas/core/audit-record';
import type { CredentialRecords } from '../lambdas/core/credential-records';
import { type BlockTarget, type RevocationListEntry, systemClock } from '../lambdas/core/ports';
import type { AirlockConfig } from '../lib/config/schema';
import { CLI_ENV } from '../lib/contracts/environment';
import { type CertificateTarget, certificateTargetOf } from './certificate-target';
import { type CliContext, CliError, describeFailure, EXIT, withCliErrors } from './cli-context';
import {
  type AwsTarget,
  addTargetOptions,
  type LocalTarget,
  resolveTarget,
  type TargetOptions,
} from './cli-target';
import { DEPLOYMENT_NAMES } from './deployment-names';
import { type AuditOutcome, appendOrFail, operatorIdentity } from './operator-audit';
import { type OperatorPorts, type RevocationTable, withOperatorPorts } from './operator-ports';

/** A jti as Airlock issues it (a UUID), with room for other issuers' ids; nothing that could smuggle markup. */
const JTI = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_REASON_LENGTH = 500;
/** The schema's upper bound of `maxTokenLifetimeMinutes`: used when the config has no workflow (fail closed). */
const LONGEST_POSSIBLE_LIFETIME_MINUTES = 12 * 60;

/** The revocations table (`--table`); the audit table is read from its variable (both name `--table`). */
const REVOKE_TARGET = { acts: 'state', names: ['revocationsTable'] } as const;

const ACTIONS = ['list', 'lift'] as const;
type Action = (typeof ACTIONS)[number];

interface RevokeOptions extends TargetOptions {
  readonly jti?: string;
  /** The principal whose tokens are revoked (not a device certificate: revoke acts on state, not an API). */
  readonly principal?: string;
  readonly certificate?: string;
  readonly suspend?: boolean;
  readonly reason?: string;
  readonly force?: boolean;
  readonly changedBy?: string;
}

/** What `revoke` and `revoke lift` did, as `--json` prints it. */
export interface RevocationResult {
  readonly kind: 'token' | 'principal' | 'certificate' | 'certificate-serial' | 'suspension';
  readonly action: 'revoke' | 'block' | 'lift';
  readonly jti?: string;
  readonly principal?: string;
  readonly certificate?: Readonly<Record<string, string>>;
  /** Tokens issued before this instant are dead (principal, block, lift). */
  readonly issuedBefore?: Date;
  /** Kept (and enforced) until then; absent for a block, which holds until lifted. */
  readonly until?: Date;
  readonly revokedBy: string;
  readonly revokedAt: Date;
  readonly reason: string;
  readonly mode: 'local' | 'aws';
  readonly table: string;
  /** Always `immediately`: every request reads the table with a consistent read. */
  readonly effective: 'immediately';
  /** What the audit ledger knew of the target before the change. */
  readonly target: { readonly seen: boolean; readonly records: number; readonly principals?: string[] };
  readonly audit: AuditOutcome;
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

/** Registers `airlock revoke [list | lift]`. */
export function registerRevokeCommand(program: Command, context: CliContext): void {
  addTargetOptions(
    program
      .command('revoke')
      .addArgument(
        new Argument(
          '[action]',
          '"list" shows what is revoked, blocked or suspended; "lift" ends a certificate block (--certificate) or a suspension (--principal); none revokes',
        ).choices(ACTIONS),
      )
      .description(
        'Revoke one token (--jti), every token of a principal (--principal, with --suspend also their new ones), or a device certificate (--certificate); effective at the next request.',
      )
      .option(
        '--jti <id>',
        'the token id (details.jti of its credential_issued audit record), or an OAuth sign-in’s family id',
      )
      .option('--principal <name>', 'a principal of the config: all of their tokens issued until now')
      .option(
        '--suspend',
        'with --principal: also refuse them new tokens, on the device and the OAuth entry point, until "revoke lift"',
      )
      .option(
        '--certificate <file|thumbprint|serial>',
        'a device certificate: its PEM file, its x5t#S256 thumbprint or SHA-256 fingerprint, or its serial (serial:3A:F1…); refused until "revoke lift"',
      )
      .option(
        '--reason <text>',
        'why (required to revoke and to lift): the incident ticket, for the audit record',
      )
      .option('--force', 'revoke a --jti that the audit ledger has no credential record of')
      .option('--changed-by <who>', `who is acting (default: $${CLI_ENV.operator}, else your OS user name)`),
    REVOKE_TARGET,
  ).action((action: Action | undefined, options: RevokeOptions) => {
    if (action === undefined) return runRevoke(context, options);
    return action === 'list' ? runList(context, options) : runLift(context, options);
  });
}

type Target =
  | { readonly kind: 'token'; readonly jti: string }
  | { readonly kind: 'principal'; readonly principal: string; readonly suspend: boolean }
  | { readonly kind: 'certificate'; readonly certificate: CertificateTarget };

async function runRevoke(context: CliContext, options: RevokeOptions): Promise<void> {
  const config = context.loadConfig();
  const target = revocationTarget(context, config, options);
  const reason = requireReason(options.reason, 'revoke');
  const where = await resolveTarget(context, options, REVOKE_TARGET, {
    required: ['revocationsTable'],
    optional: ['auditTable'],
  });
  requireAuditTable(where, 'revoke');
  const revokedBy = operatorIdentity(context, options.changedBy);

  await withOperatorPorts(where, async (ports) => {
    const { table, ledger, records } = await openState(context, ports, 'Nothing was revoked');
    const seen = await checkTarget(context, records, target, options.force === true);
    const revoked = await revoke(table, config, target, revokedBy, reason);
    const audit = await appendOrFail(ledger, revocationEvent(revoked, revokedBy, reason), revoked.summary);
    print(context, {
      ...revoked,
      revokedBy,
      reason,
      mode: ports.mode,
      table: table.table,
      target: seen,
      audit,
    });
  });
}

async function runLift(context: CliContext, options: RevokeOptions): Promise<void> {
  const config = context.loadConfig();
  if (options.jti !== undefined || options.suspend || options.force) {
    throw new CliError(
      'revoke lift ends a certificate block (--certificate) or a suspension (--principal); a revoked token stays revoked (request a new one)',
      EXIT.usage,
    );
  }
  if ((options.principal === undefined) === (options.certificate === undefined)) {
    throw new CliError(
      'revoke lift needs exactly one of --certificate <file|thumbprint|serial> or --principal <name> (a suspension)',
      EXIT.usage,
    );
  }
  const certificate =
    options.certificate === undefined ? undefined : certificateTargetOf(options.certificate, context.io.cwd);
  const principal = options.principal === undefined ? undefined : knownPrincipal(config, options.principal);
  const reason = requireReason(options.reason, 'revoke lift');
  const where = await resolveTarget(context, options, REVOKE_TARGET, {
    required: ['revocationsTable'],
    optional: ['auditTable'],
  });
  requireAuditTable(where, 'revoke lift');
  const liftedBy = operatorIdentity(context, options.changedBy);

  await withOperatorPorts(where, async (ports) => {
    const { table, ledger } = await openState(context, ports, 'Nothing was lifted');
    const now = systemClock.now();
    const until = revocationKeptUntil(config, now);
    const change = { by: liftedBy, reason, at: now };
    const targets: BlockTarget[] = certificate
      ? [certificate.block, ...(certificate.alsoLift ? [certificate.alsoLift] : [])]
      : [{ kind: 'suspension', principal: principal! }];
    const lifted: BlockTarget[] = [];
    for (const block of targets) {
      if (await withCliErrors(() => table.store.lift(block, change, until))) lifted.push(block);
    }
    const what = certificate ? certificate.described : `the suspension of ${principal}`;
    if (lifted.length === 0) {
      throw new CliError(
        `Nothing to lift: ${what} is not blocked (airlock revoke list shows what is); nothing changed`,
        EXIT.failed,
      );
    }
    const result: RevocationResult = {
      kind: lifted[0].kind,
      action: 'lift',
      ...(principal === undefined ? {} : { principal }),
      ...(certificate === undefined ? {} : { certificate: certificate.details }),
      issuedBefore: now,
      until,
      revokedBy: liftedBy,
      revokedAt: now,
      reason,
      mode: ports.mode,
      table: table.table,
      effective: 'immediately',
      target: { seen: true, records: 0 },
      audit: { recordedBy: '' },
      summary: `Lifted ${what}: effective immediately (every request reads the revocation list); ${
        certificate ? 'tokens are issued for it again' : `${principal} gets new tokens again`
      }, and tokens issued before ${now.toISOString()} stay dead (kept until ${until.toISOString()}).`,
    };
    const audit = await appendOrFail(ledger, liftEvent(result, lifted), result.summary);
    print(context, { ...result, audit });
  });
}

async function runList(context: CliContext, options: RevokeOptions): Promise<void> {
  const given = ['jti', 'principal', 'certificate', 'suspend', 'reason', 'force'].filter(
    (name) => (options as Record<string, unknown>)[name] !== undefined,
  );
  if (given.length > 0) {
    throw new CliError(
      `revoke list takes no --${given[0]}; it lists every entry (use --json to filter with jq)`,
      EXIT.usage,
    );
  }
  context.loadConfig();
  const where = await resolveTarget(context, options, REVOKE_TARGET, { required: ['revocationsTable'] });
  await withOperatorPorts(where, async (ports) => {
    const table = await openRevocationTable(context, ports, 'Nothing was listed');
    const entries = await withCliErrors(() => table.store.listEntries());
    context.result(listLines(entries, table, ports.mode), {
      mode: ports.mode,
      table: table.table,
      entries,
    });
  });
}

/** The revocations table, the ledger and its credential records; in AWS the audit table is required. */
async function openState(
  context: CliContext,
  ports: OperatorPorts,
  nothing: string,
): Promise<{ table: RevocationTable; ledger: AuditLedger; records: CredentialRecords }> {
  const table = await openRevocationTable(context, ports, nothing);
  let ledger: AuditLedger | undefined;
  let records: CredentialRecords | undefined;
  try {
    ledger = await ports.openAuditLedger();
    records = await ports.openCredentialRecords();
  } catch (error) {
    throw new CliError(
      `${nothing}: the local pilot's audit table in ${context.home} cannot be opened (${describeFailure(error)})`,
      EXIT.failed,
      { cause: error },
    );
  }
  if (!ledger || !records) {
    // requireAuditTable made sure of it; reaching here is a bug in this command.
    throw new Error('the audit table was not resolved with the target');
  }
  return { table, ledger, records };
}

async function openRevocationTable(
  context: CliContext,
  ports: OperatorPorts,
  nothing: string,
): Promise<RevocationTable> {
  try {
    return await ports.openRevocations();
  } catch (error) {
    throw new CliError(
      `${nothing}: the local pilot's tables in ${context.home} cannot be opened (${describeFailure(error)})`,
      EXIT.failed,
      { cause: error },
    );
  }
}

/** Every change is recorded, and checked against the ledger's credential records: the audit table must be named. */
function requireAuditTable(where: LocalTarget | AwsTarget, command: string): void {
  if (where.kind !== 'aws' || where.names.auditTable !== undefined) return;
  const name = DEPLOYMENT_NAMES.auditTable;
  throw new CliError(
    `${command} records every change in the audit ledger and checks its target there: set ${name.variable} (stack output ${name.output})`,
    EXIT.usage,
  );
}

function revocationTarget(context: CliContext, config: AirlockConfig, options: RevokeOptions): Target {
  const { jti, principal, certificate } = options;
  const given = [jti, principal, certificate].filter((value) => value !== undefined).length;
  if (given !== 1) {
    throw new CliError(
      'revoke needs exactly one of --jti <id> (one token), --principal <name> (all of their tokens) or --certificate <file|thumbprint|serial> (a device)',
      EXIT.usage,
    );
  }
  if (options.suspend && principal === undefined) {
    throw new CliError(
      '--suspend goes with --principal <name>: it suspends a person, not a token or a device',
      EXIT.usage,
    );
  }
  if (options.force && jti === undefined) {
    throw new CliError(
      '--force goes with --jti: a principal is checked against the config, and a certificate Airlock never saw is blocked anyway',
      EXIT.usage,
    );
  }
  if (jti !== undefined) {
    if (!JTI.test(jti)) {
      throw new CliError(
        `--jti: "${jti.slice(0, 80)}" is not a token id; expected the jti claim (letters, digits, ".", "_", ":", "-"; at most 128)`,
        EXIT.usage,
      );
    }
    return { kind: 'token', jti };
  }
  if (principal !== undefined) {
    return {
      kind: 'principal',
      principal: knownPrincipal(config, principal),
      suspend: options.suspend === true,
    };
  }
  return { kind: 'certificate', certificate: certificateTargetOf(certificate!, context.io.cwd) };
}

function knownPrincipal(config: AirlockConfig, principal: string): string {
  if (!Object.hasOwn(config.principals, principal)) {
    throw new CliError(
      `--principal: unknown principal "${principal.slice(0, 64)}"; expected one of: ${Object.keys(config.principals).join(', ')}`,
      EXIT.usage,
    );
  }
  return principal;
}

function requireReason(reason: string | undefined, command: string): string {
  const trimmed = reason?.trim() ?? '';
  if (trimmed === '') {
    throw new CliError(
      `${command} needs --reason "…": the incident ticket or why, for the audit record`,
      EXIT.usage,
    );
  }
  if (trimmed.length > MAX_REASON_LENGTH) {
    throw new CliError(
      `--reason is ${trimmed.length} characters long; keep it to ${MAX_REASON_LENGTH} and link the incident ticket for more`,
      EXIT.usage,
    );
  }
  return trimmed;
}

/**
 * What the ledger knows of the target. An unknown token id is refused unless `--force` (a typo would
 * otherwise revoke nothing, silently); a certificate Airlock never saw is blocked anyway (a stolen
 * device may not have been used yet), with a warning.
 */
async function checkTarget(
  context: CliContext,
  records: CredentialRecords,
  target: Target,
  force: boolean,
): Promise<RevocationResult['target']> {
  if (target.kind === 'principal') return { seen: true, records: 0 };
  if (target.kind === 'token' && force) {
    context.notice(
      `airlock: warning: --force: revoking ${target.jti} without checking the audit ledger for it`,
    );
    return { seen: false, records: 0 };
  }
  context.progress('Checking the audit ledger for the target ...');
  const query = target.kind === 'token' ? { jti: target.jti } : target.certificate.records;
  const found: AuditRecord[] = await withCliErrors(() => records.findCredentialRecords(query));
  const principals = [...new Set(found.map((record) => record.principal))].sort();
  const seen = {
    seen: found.length > 0,
    records: found.length,
    ...(principals.length > 0 ? { principals } : {}),
  };
  if (found.length > 0) return seen;
  if (target.kind === 'token') {
    throw new CliError(
      `--jti: no credential with id ${target.jti} is in the audit ledger, so nothing was revoked; check the id (details.jti of a credential_issued record, or an OAuth sign-in's details.familyId), or pass --force to revoke it anyway`,
      EXIT.failed,
    );
  }
  context.notice(
    `airlock: warning: Airlock has no credential record for ${target.certificate.described}: never seen, or the value has a typo. Blocked anyway; check it against the device inventory.`,
  );
  return seen;
}

type Revoked = Pick<
  RevocationResult,
  | 'kind'
  | 'action'
  | 'jti'
  | 'principal'
  | 'certificate'
  | 'issuedBefore'
  | 'until'
  | 'revokedAt'
  | 'effective'
  | 'summary'
>;

async function revoke(
  { store }: RevocationTable,
  config: AirlockConfig,
  target: Target,
  revokedBy: string,
  reason: string,
): Promise<Revoked> {
  const now = systemClock.now();
  const until = revocationKeptUntil(config, now);
  const immediately = 'effective immediately (every request reads the revocation list, consistently)';
  if (target.kind === 'token') {
    await withCliErrors(() => store.revokeToken(target.jti, until, revokedBy, reason));
    return {
      kind: 'token',
      action: 'revoke',
      jti: target.jti,
      until,
      revokedAt: now,
      effective: 'immediately',
      summary: `Revoked token ${target.jti} until ${until.toISOString()} (it cannot be valid longer): ${immediately}.`,
    };
  }
  if (target.kind === 'certificate') {
    const { certificate } = target;
    await withCliErrors(() =>
      store.block(certificate.block, { by: revokedBy, reason, at: now }, certificate.details),
    );
    return {
      kind: certificate.block.kind,
      action: 'block',
      certificate: certificate.details,
      issuedBefore: now,
      revokedAt: now,
      effective: 'immediately',
      summary: `Blocked ${certificate.described}: ${immediately}. No token is issued for it and no token bound to it is served until "airlock revoke lift --certificate …".`,
    };
  }
  const { principal, suspend } = target;
  await withCliErrors(() => store.revokePrincipal(principal, now, until, revokedBy, reason));
  if (suspend) {
    await withCliErrors(() =>
      store.block({ kind: 'suspension', principal }, { by: revokedBy, reason, at: now }),
    );
    return {
      kind: 'suspension',
      action: 'block',
      principal,
      issuedBefore: now,
      revokedAt: now,
      effective: 'immediately',
      summary: `Suspended ${principal}: every token issued before ${now.toISOString()} is revoked, and no new token is issued on either entry point (device or OAuth) until "airlock revoke lift --principal ${principal}"; ${immediately}.`,
    };
  }
  return {
    kind: 'principal',
    action: 'revoke',
    principal,
    issuedBefore: now,
    until,
    revokedAt: now,
    effective: 'immediately',
    summary: `Revoked every token of ${principal} issued before ${now.toISOString()}, kept until ${until.toISOString()}: ${immediately}. New tokens are still issued to ${principal}; to stop them too, add --suspend.`,
  };
}

/** The reasons code of each change, as the audit record names it. */
const REVOCATION_REASONS: Record<RevocationResult['kind'], string> = {
  token: 'token_revoked',
  principal: 'principal_revoked',
  suspension: 'principal_suspended',
  certificate: 'certificate_blocked',
  'certificate-serial': 'certificate_blocked',
};

function revocationEvent(revoked: Revoked, revokedBy: string, reason: string): AuditEvent {
  return {
    type: 'revocation',
    principal: revokedBy,
    workflow: '*',
    decision: 'recorded',
    reasons: [REVOCATION_REASONS[revoked.kind]],
    requestId: randomUUID(),
    docHashes: [],
    details: {
      kind: revoked.kind,
      ...(revoked.jti === undefined ? {} : { jti: revoked.jti }),
      ...(revoked.principal === undefined ? {} : { revokedPrincipal: revoked.principal }),
      ...(revoked.certificate === undefined ? {} : { certificate: { ...revoked.certificate } }),
      ...(revoked.issuedBefore === undefined ? {} : { issuedBefore: revoked.issuedBefore.toISOString() }),
      until: revoked.until?.toISOString() ?? null,
      reason,
      via: 'airlock cli',
    },
  };
}

function liftEvent(result: RevocationResult, lifted: readonly BlockTarget[]): AuditEvent {
  return {
    type: 'revocation',
    principal: result.revokedBy,
    workflow: '*',
    decision: 'recorded',
    reasons: [result.kind === 'suspension' ? 'suspension_lifted' : 'certificate_lifted'],
    requestId: randomUUID(),
    docHashes: [],
    details: {
      kind: result.kind,
      lifted: lifted.map((target) => target.kind),
      ...(result.principal === undefined ? {} : { revokedPrincipal: result.principal }),
      ...(result.certificate === undefined ? {} : { certificate: { ...result.certificate } }),
      issuedBefore: result.issuedBefore?.toISOString() ?? null,
      until: result.until?.toISOString() ?? null,
      reason: result.reason,
      via: 'airlock cli',
    },
  };
}

function print(context: CliContext, result: RevocationResult): void {
  const audit =
    'recorded' in result.audit
      ? `recorded in the ${result.mode === 'local' ? 'local ' : ''}ledger as ${result.audit.chainId}#${result.audit.seq}`
      : result.audit.recordedBy;
  const seen =
    result.action === 'lift' || result.kind === 'principal' || result.kind === 'suspension'
      ? []
      : [
          `  ledger:     ${
            result.target.seen
              ? `${result.target.records} credential record(s)${result.target.principals ? ` of ${result.target.principals.join(', ')}` : ''}`
              : 'no credential record of it'
          }`,
        ];
  context.result(
    [
      result.summary,
      `  table:      ${result.table}${result.mode === 'local' ? ' (local pilot)' : ''}`,
      `  ${result.action === 'lift' ? 'lifted by: ' : 'revoked by:'} ${result.revokedBy}: "${result.reason}"`,
      ...seen,
      `  audit:      ${audit}`,
    ],
    result,
  );
}

function listLines(entries: readonly RevocationListEntry[], table: RevocationTable, mode: string): string[] {
  const lines = [
    `Revocation list (${mode === 'local' ? 'local pilot' : table.table}): ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}`,
  ];
  for (const entry of entries) {
    const subject = entry.details?.subject ? ` (${entry.details.subject})` : '';
    const until = entry.until ? `, until ${entry.until}` : entry.state === 'blocked' ? ', until lifted' : '';
    const lifted = entry.lifted
      ? `; lifted by ${entry.lifted.by ?? '?'} at ${entry.lifted.at ?? '?'}: "${entry.lifted.reason ?? ''}"`
      : '';
    lines.push(
      `  ${entry.kind.padEnd(18)} ${entry.id}${subject}: ${entry.state.toUpperCase()} by ${entry.by ?? '?'} at ${entry.at ?? '?'}${entry.reason ? `: "${entry.reason}"` : ''}${until}${lifted}`,
    );
  }
  return lines;
}
