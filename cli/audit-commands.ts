/**
 * `airlock audit verify | export | anchor`: the operator's side of the tamper-evident ledger, on the
 * local pilot's state (`--local`) or a deployment's (DynamoDB table, Object Lock digest bucket, KMS
 * signing key; see cli-target.ts for how they are named).
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { anchorChains } from '../lambdas/core/audit-anchor';
import type { AuditStore } from '../lambdas/core/audit-ledger';
import type { AuditRecord } from '../lambdas/core/audit-record';
import { exportRecords, readLedger, verifyAuditTrail } from '../lambdas/core/audit-verifier';
import { DependencyError } from '../lambdas/core/errors';
import { systemClock } from '../lambdas/core/ports';
import { type CliContext, CliError, EXIT } from './cli-context';
import { addTargetOptions, resolveTarget, type TargetOptions, type TargetSpec } from './cli-target';
import type { DeploymentNameKey } from './deployment-names';
import { type AuditTrail, type AuditTrailNeeds, withOperatorPorts } from './operator-ports';

/** Options every `audit` command takes: where the trail is. */
type AuditOptions = TargetOptions;

export interface WindowOptions extends AuditOptions {
  readonly from?: string;
  readonly to?: string;
}

interface VerifyOptions extends WindowOptions {
  readonly requireAnchored?: boolean;
}

interface ExportOptions extends WindowOptions {
  readonly out?: string;
}

/** How often (in records read) progress is shown on a terminal. */
const PROGRESS_EVERY = 1000;

/** Where the trail is: the local pilot's, or a deployment's table (and bucket and key, for digests). */
const TRAIL_TARGET = { acts: 'state', names: ['auditTable', 'digestBucket', 'signingKey'] } as const;
export const RECORDS_TARGET = { acts: 'state', names: ['auditTable'] } as const;

/** Registers `airlock audit verify`, `airlock audit export` and `airlock audit anchor`. */
export function registerAuditCommands(program: Command, context: CliContext): void {
  const audit = program
    .command('audit')
    .description('Verify, export and anchor the tamper-evident audit trail.');

  addTargetOptions(
    withWindowOptions(
      audit
        .command('verify')
        .description(
          'Recompute every record hash, link and digest signature; exit 1 naming the first record or digest that does not hold. Says how many records no digest covers yet.',
        )
        .option(
          '--require-anchored',
          'also exit 1 when any record is not yet covered by a signed digest (run "airlock audit anchor" first)',
        ),
    ),
    TRAIL_TARGET,
  ).action((options: VerifyOptions) => verify(context, options));

  addTargetOptions(
    withWindowOptions(
      audit
        .command('export')
        .description('Write the records in a time range as JSON Lines (canonical JSON, hashes kept).')
        .option('--out <file>', 'write to this new file (never overwritten) instead of stdout'),
    ),
    RECORDS_TARGET,
  ).action((options: ExportOptions) => exportTrail(context, options));

  addTargetOptions(
    audit
      .command('anchor')
      .description('Sign the chain heads now and store the digests (normally the schedule does).'),
    TRAIL_TARGET,
  ).action((options: AuditOptions) => anchor(context, options));
}

export function withWindowOptions(command: Command): Command {
  return command
    .option('--from <time>', 'start of the time range, ISO 8601 (e.g. 2026-11-01 or 2026-11-01T09:00:00Z)')
    .option('--to <time>', 'end of the time range, ISO 8601 (a date alone means the end of that day, UTC)');
}

async function verify(context: CliContext, options: VerifyOptions): Promise<void> {
  const window = parseWindow(options);
  const result = await withTrail(
    context,
    options,
    TRAIL_TARGET,
    { digests: true, readKeyOnly: true },
    async (trail) => {
      const digestKey = await trail.digestKey();
      context.progress(`Verifying the audit trail in ${trail.where} ...`);
      return {
        where: trail.where,
        verdict: await verifyAuditTrail({
          store: withProgress(trail.store, context),
          digests: trail.digests,
          publicKey: digestKey,
          from: window.from,
          to: window.to,
        }),
      };
    },
  );
  const { where, verdict } = result;

  const counted = `${plural(verdict.records, 'record')} in ${plural(verdict.chains, 'chain')}, ${plural(verdict.digests, 'digest')}`;
  if (!verdict.ok) {
    const { failure } = verdict;
    const what =
      failure.kind === 'record'
        ? `record ${failure.chainId} seq ${failure.seq ?? '?'}`
        : `digest ${failure.digestId ?? '?'} (chain ${failure.chainId}, seq ${failure.seq ?? '?'})`;
    // With --json the verdict is the output (exit 1); the one-line reason still goes to stderr.
    if (context.json) context.result([], verdict);
    throw new CliError(
      `audit trail does NOT verify: ${what}: ${failure.reason} (checked ${counted} in ${where})`,
      EXIT.failed,
      { resultPrinted: context.json },
    );
  }
  const lines = [`Audit trail intact: ${counted} checked in ${where}.`];
  if (verdict.firstTs) lines.push(`  records from ${verdict.firstTs} to ${verdict.lastTs}`);
  if (window.from || window.to)
    lines.push(
      `  window: ${window.from?.toISOString() ?? 'the beginning'} to ${window.to?.toISOString() ?? 'now'} (every chain with a record in it, checked in full)`,
    );
  if (verdict.digests === 0)
    lines.push(
      '  warning: no digests yet; run "airlock audit anchor". Without a signed digest, a rewrite of a whole chain cannot be detected.',
    );
  const unanchored =
    verdict.unanchoredRecords === 0
      ? 'every record is covered by a signed digest'
      : `${plural(verdict.unanchoredRecords, 'record')} in ${plural(verdict.unanchoredChains, 'chain')} not yet covered by a signed digest (recorded after the last anchor; a rewrite of them would not be detected)`;
  lines.push(`  ${unanchored}`);
  if (options.requireAnchored && verdict.unanchoredRecords > 0) {
    if (context.json) context.result([], verdict);
    throw new CliError(
      `audit trail not fully anchored: ${unanchored}; run "airlock audit anchor" and verify again (--require-anchored)`,
      EXIT.failed,
      { resultPrinted: context.json },
    );
  }
  context.result(lines, verdict);
}

async function exportTrail(context: CliContext, options: ExportOptions): Promise<void> {
  const window = parseWindow(options);
  const file = options.out === undefined ? undefined : resolve(context.io.cwd, options.out);
  if (options.out !== undefined && options.out.trim() === '')
    throw new CliError('--out needs a file name', EXIT.usage);
  const hash = createHash('sha256');
  let records = 0;
  const chains = new Set<string>();
  let output: NodeJS.WritableStream = context.io.stdout;
  const where = await withTrail(
    context,
    options,
    RECORDS_TARGET,
    { digests: false, readKeyOnly: true },
    async (trail) => {
      try {
        if (file) output = await createExportFile(file);
        context.progress(`Exporting audit records from ${trail.where} ...`);
        const lines = exportRecords({
          records: await readLedger(withProgress(trail.store, context)),
          from: window.from,
          to: window.to,
        });
        for await (const line of lines) {
          records += 1;
          chains.add((JSON.parse(line) as AuditRecord).chainId);
          hash.update(line, 'utf8');
          if (!output.write(line)) await once(output, 'drain');
        }
        if (file) await closeStream(output);
      } catch (error) {
        if (file && output !== context.io.stdout) {
          // An export cut short is not evidence: remove it rather than leave a file that looks complete.
          output.end();
          await unlink(file).catch(() => undefined);
        }
        throw error;
      }
      return trail.where;
    },
  );

  const summary = {
    records,
    chains: chains.size,
    sha256: hash.digest('hex'),
    from: window.from?.toISOString() ?? null,
    to: window.to?.toISOString() ?? null,
    source: where,
    ...(file ? { file } : {}),
  };
  if (file) {
    context.result(
      [
        `Exported ${plural(records, 'record')} from ${plural(summary.chains, 'chain')} to ${file}.`,
        `  sha256 ${summary.sha256} (note it with the evidence; it changes if a byte changes)`,
      ],
      summary,
    );
  } else {
    // stdout holds the records; the summary goes to stderr so it never mixes with them.
    context.notice(
      `Exported ${plural(records, 'record')} from ${plural(summary.chains, 'chain')}; sha256 ${summary.sha256}`,
    );
  }
}

async function anchor(context: CliContext, options: AuditOptions): Promise<void> {
  const { result, digestsWhere } = await withTrail(
    context,
    options,
    TRAIL_TARGET,
    { digests: true, readKeyOnly: false },
    async (trail) => ({
      digestsWhere: trail.digestsWhere,
      result: await anchorChains({
        store: trail.store,
        digests: trail.digests,
        signer: await trail.signer(),
        clock: systemClock,
      }),
    }),
  );
  context.result(
    [
      `Anchored ${plural(result.anchored.length, 'chain head')} (${result.unchanged} already anchored) in ${digestsWhere}.`,
      ...result.anchored.map((digest) => `  ${digest.digestId}  ${digest.hash}`),
    ],
    { anchored: result.anchored, unchanged: result.unchanged, digests: digestsWhere },
  );
}

/**
 * Resolves where the trail is, opens it for `work`, and closes it; a failure becomes one CliError.
 * In AWS the command needs the names `spec` declares: the table, and for digests the bucket and key.
 */
export async function withTrail<T>(
  context: CliContext,
  options: AuditOptions,
  spec: TargetSpec & { acts: 'state'; names: readonly DeploymentNameKey[] },
  needs: AuditTrailNeeds,
  work: (trail: AuditTrail) => Promise<T>,
): Promise<T> {
  const target = await resolveTarget(context, options, spec, { required: spec.names });
  return withOperatorPorts(target, async (ports) => {
    try {
      return await work(await ports.openAuditTrail(needs));
    } catch (error) {
      throw toCliError(error);
    }
  });
}

/** The first {@link CliError} in a cause chain, or a CliError carrying the sentence of what failed. */
function toCliError(error: unknown): CliError {
  for (let current: unknown = error, depth = 0; current && depth < 10; depth += 1) {
    if (current instanceof CliError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  if (error instanceof DependencyError) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return new CliError(`${error.message}${cause}`, EXIT.failed, { cause: error });
  }
  return new CliError((error as Error)?.message ?? String(error), EXIT.failed, { cause: error });
}

/** Shows progress on a terminal while chains are read (a large ledger takes a while). */
function withProgress(store: AuditStore, context: CliContext): AuditStore {
  let read = 0;
  return {
    append: (record) => store.append(record),
    listChainHeads: () => store.listChainHeads(),
    readChain: (chainId, options) =>
      (async function* () {
        for await (const record of store.readChain(chainId, options)) {
          read += 1;
          if (read % PROGRESS_EVERY === 0) context.progress(`  ${read} records read ...`);
          yield record;
        }
      })(),
  };
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** `--from` / `--to` as instants; a bad value is a usage error naming the flag. */
export function parseWindow(options: WindowOptions): { from?: Date; to?: Date } {
  const from = parseTime('--from', options.from, 'start');
  const to = parseTime('--to', options.to, 'end');
  if (from && to && from.getTime() > to.getTime())
    throw new CliError(`--from (${options.from}) is after --to (${options.to}); swap them`, EXIT.usage);
  return { from, to };
}

function parseTime(flag: string, value: string | undefined, edge: 'start' | 'end'): Date | undefined {
  if (value === undefined) return undefined;
  const problem = `${flag} "${value}" is not an ISO 8601 date or time; use e.g. 2026-11-01 or 2026-11-01T09:00:00Z (a time needs Z or an offset)`;
  const date = ISO_DATE.exec(value) ?? ISO_DATE_TIME.exec(value);
  if (!date) throw new CliError(problem, EXIT.usage);
  const ms = Date.parse(value);
  // Date.parse rolls 2026-02-30 over to March; a calendar date must survive the round trip.
  const calendar = new Date(Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3])));
  if (
    Number.isNaN(ms) ||
    calendar.getUTCFullYear() !== Number(date[1]) ||
    calendar.getUTCMonth() !== Number(date[2]) - 1 ||
    calendar.getUTCDate() !== Number(date[3])
  )
    throw new CliError(problem, EXIT.usage);
  // A date alone: --from means its first instant, --to its last (UTC), so "--to 2026-11-30" includes the 30th.
  if (ISO_DATE.test(value) && edge === 'end') return new Date(ms + 24 * 60 * 60 * 1000 - 1);
  return new Date(ms);
}

async function createExportFile(file: string): Promise<NodeJS.WritableStream> {
  const stream = createWriteStream(file, { flags: 'wx', mode: 0o600 });
  try {
    await once(stream, 'open');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      throw new CliError(
        `--out ${file} exists; an export never overwrites a file: choose a new name`,
        EXIT.usage,
      );
    throw new CliError(`--out ${file} cannot be created: ${(error as Error).message}`, EXIT.usage);
  }
  return stream;
}

async function closeStream(stream: NodeJS.WritableStream): Promise<void> {
  stream.end();
  await once(stream, 'finish');
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
