/**
 * `airlock audit verify | export | anchor`: the operator's side of the tamper-evident ledger.
 * `--local` works on the local pilot's state under AIRLOCK_HOME; without it, on a deployment
 * (DynamoDB table, Object Lock digest bucket, KMS signing key, named by flags or environment).
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Command } from 'commander';
import { type AwsCall, describeAwsError } from '../lambdas/adapters/aws/aws-permission-error';
import { DynamoDbAuditStore } from '../lambdas/adapters/aws/dynamodb-audit-store';
import { KmsTokenSigner } from '../lambdas/adapters/aws/kms-token-signer';
import { S3DigestStore } from '../lambdas/adapters/aws/s3-digest-store';
import { FolderDigestStore } from '../lambdas/adapters/local/folder-digest-store';
import {
  jwkThumbprintOf,
  LocalTokenSigner,
  TOKEN_SIGNING_KEY_FILE,
} from '../lambdas/adapters/local/local-token-signer';
import { anchorChains, DigestConflictError, type DigestStore } from '../lambdas/core/audit-anchor';
import { AuditConflictError, type AuditStore } from '../lambdas/core/audit-ledger';
import type { AuditRecord } from '../lambdas/core/audit-record';
import {
  type DigestKey,
  exportRecords,
  readLedger,
  type VerifyResult,
  verifyAuditTrail,
} from '../lambdas/core/audit-verifier';
import { DependencyError } from '../lambdas/core/errors';
import { systemClock, type TokenSigner } from '../lambdas/core/ports';
import { openLocalDynamo } from '../local/local-state';
import { type CliContext, CliError, EXIT } from './cli-context';

/** Options every `audit` command takes. */
interface AuditOptions {
  readonly local?: boolean;
  readonly table?: string;
  readonly bucket?: string;
  readonly keyId?: string;
}

interface WindowOptions extends AuditOptions {
  readonly from?: string;
  readonly to?: string;
}

interface ExportOptions extends WindowOptions {
  readonly out?: string;
}

/** Where the digests prefix lives in the digest bucket (the anchor function writes there). */
const DIGEST_PREFIX = 'digests/';
/** How often (in records read) progress is shown on a terminal. */
const PROGRESS_EVERY = 1000;

/** Registers `airlock audit verify`, `airlock audit export` and `airlock audit anchor`. */
export function registerAuditCommands(program: Command, context: CliContext): void {
  const audit = program
    .command('audit')
    .description('Verify, export and anchor the tamper-evident audit trail.');

  withTrailOptions(
    withWindowOptions(
      audit
        .command('verify')
        .description(
          'Recompute every record hash, link and digest signature; exit 1 naming the first record or digest that does not hold.',
        ),
    ),
    { digests: true },
  ).action((options: WindowOptions) => verify(context, options));

  withTrailOptions(
    withWindowOptions(
      audit
        .command('export')
        .description('Write the records in a time range as JSON Lines (canonical JSON, hashes kept).')
        .option('--out <file>', 'write to this new file (never overwritten) instead of stdout'),
    ),
    { digests: false },
  ).action((options: ExportOptions) => exportTrail(context, options));

  withTrailOptions(
    audit
      .command('anchor')
      .description('Sign the chain heads now and store the digests (normally the schedule does).'),
    { digests: true },
  ).action((options: AuditOptions) => anchor(context, options));
}

function withWindowOptions(command: Command): Command {
  return command
    .option('--from <time>', 'start of the time range, ISO 8601 (e.g. 2026-11-01 or 2026-11-01T09:00:00Z)')
    .option('--to <time>', 'end of the time range, ISO 8601 (a date alone means the end of that day, UTC)');
}

/** Where the trail is: the local pilot, or the deployment's table (and, with digests, its bucket and key). */
function withTrailOptions(command: Command, needs: { digests: boolean }): Command {
  command
    .option('--local', 'use the local pilot under AIRLOCK_HOME instead of AWS')
    .option('--table <name>', 'audit table (default: $AIRLOCK_AUDIT_TABLE)');
  if (!needs.digests) return command;
  return command
    .option('--bucket <name>', 'digest bucket (default: $AIRLOCK_DIGEST_BUCKET)')
    .option('--key-id <arn>', 'signing key ARN (default: $AIRLOCK_SIGNING_KEY_ID)');
}

async function verify(context: CliContext, options: WindowOptions): Promise<void> {
  const window = parseWindow(options);
  const trail = await openTrail(context, options, { bucket: true, keyId: true, readKeyOnly: true });
  let result: VerifyResult;
  try {
    const publicKey = await trail.publicKey();
    context.progress(`Verifying the audit trail in ${trail.where} ...`);
    result = await verifyAuditTrail({
      store: withProgress(trail.store, context),
      digests: trail.digests,
      publicKey,
      from: window.from,
      to: window.to,
    });
  } catch (error) {
    throw toCliError(error);
  } finally {
    await trail.close();
  }

  const counted = `${plural(result.records, 'record')} in ${plural(result.chains, 'chain')}, ${plural(result.digests, 'digest')}`;
  if (!result.ok) {
    const { failure } = result;
    const what =
      failure.kind === 'record'
        ? `record ${failure.chainId} seq ${failure.seq ?? '?'}`
        : `digest ${failure.digestId ?? '?'} (chain ${failure.chainId}, seq ${failure.seq ?? '?'})`;
    // With --json the verdict is the output (exit 1); the one-line reason still goes to stderr.
    if (context.json) context.result([], result);
    throw new CliError(
      `audit trail does NOT verify: ${what}: ${failure.reason} (checked ${counted} in ${trail.where})`,
      EXIT.failed,
      { resultPrinted: context.json },
    );
  }
  const lines = [`Audit trail intact: ${counted} checked in ${trail.where}.`];
  if (result.firstTs) lines.push(`  records from ${result.firstTs} to ${result.lastTs}`);
  if (window.from || window.to)
    lines.push(
      `  window: ${window.from?.toISOString() ?? 'the beginning'} to ${window.to?.toISOString() ?? 'now'} (every chain with a record in it, checked in full)`,
    );
  if (result.digests === 0)
    lines.push(
      '  warning: no digests yet; run "airlock audit anchor". Without a signed digest, a rewrite of a whole chain cannot be detected.',
    );
  context.result(lines, result);
}

async function exportTrail(context: CliContext, options: ExportOptions): Promise<void> {
  const window = parseWindow(options);
  const file = options.out === undefined ? undefined : resolve(context.io.cwd, options.out);
  if (options.out !== undefined && options.out.trim() === '')
    throw new CliError('--out needs a file name', EXIT.usage);
  const trail = await openTrail(context, options, { bucket: false, keyId: false, readKeyOnly: true });
  const hash = createHash('sha256');
  let records = 0;
  const chains = new Set<string>();
  let output: NodeJS.WritableStream = context.io.stdout;
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
    throw toCliError(error);
  } finally {
    await trail.close();
  }

  const summary = {
    records,
    chains: chains.size,
    sha256: hash.digest('hex'),
    from: window.from?.toISOString() ?? null,
    to: window.to?.toISOString() ?? null,
    source: trail.where,
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
  const trail = await openTrail(context, options, { bucket: true, keyId: true, readKeyOnly: false });
  let result: Awaited<ReturnType<typeof anchorChains>>;
  try {
    result = await anchorChains({
      store: trail.store,
      digests: trail.digests,
      signer: await trail.signer(),
      clock: systemClock,
    });
  } catch (error) {
    throw toCliError(error);
  } finally {
    await trail.close();
  }
  context.result(
    [
      `Anchored ${plural(result.anchored.length, 'chain head')} (${result.unchanged} already anchored) in ${trail.digestsWhere}.`,
      ...result.anchored.map((digest) => `  ${digest.digestId}  ${digest.hash}`),
    ],
    { anchored: result.anchored, unchanged: result.unchanged, digests: trail.digestsWhere },
  );
}

/** The ledger, digests and key of one deployment or of the local pilot, open for one command. */
interface AuditTrail {
  readonly store: AuditStore;
  readonly digests: DigestStore;
  /** For messages: where the records are. */
  readonly where: string;
  /** For messages: where the digests are. */
  readonly digestsWhere: string;
  publicKey(): Promise<DigestKey>;
  signer(): Promise<TokenSigner>;
  close(): Promise<void>;
}

interface TrailNeeds {
  readonly bucket: boolean;
  readonly keyId: boolean;
  /** Verify and export never create a key: a missing local key means the pilot has not run. */
  readonly readKeyOnly: boolean;
}

async function openTrail(context: CliContext, options: AuditOptions, needs: TrailNeeds): Promise<AuditTrail> {
  if (options.local) {
    const awsFlag = (['table', 'bucket', 'keyId'] as const).find((name) => options[name] !== undefined);
    if (awsFlag)
      throw new CliError(
        `--${awsFlag === 'keyId' ? 'key-id' : awsFlag} names an AWS resource; drop it or drop --local`,
        EXIT.usage,
      );
    return openLocalTrail(context.home, needs);
  }
  return openAwsTrail(context, options, needs);
}

async function openLocalTrail(home: string, needs: TrailNeeds): Promise<AuditTrail> {
  // Read the key before touching the tables, so a pilot that never ran leaves no state behind.
  const localKey = needs.keyId && needs.readKeyOnly ? await readLocalPublicKey(home) : undefined;
  let local: Awaited<ReturnType<typeof openLocalDynamo>>;
  try {
    local = await openLocalDynamo(home);
  } catch (error) {
    throw new CliError(
      `cannot open the local pilot's audit table: ${(error as Error).message}`,
      EXIT.failed,
      {
        cause: error,
      },
    );
  }
  const digests = new FolderDigestStore(home);
  return {
    store: new DynamoDbAuditStore({ client: local.doc, tableName: local.tables.audit }),
    digests,
    where: `the local pilot at ${home}`,
    digestsWhere: digests.folder,
    publicKey: async () => {
      const key = localKey ?? (await (await LocalTokenSigner.loadOrCreate(home)).getPublicKey());
      const keyId = jwkThumbprintOf(key);
      return (id: string) => (id === keyId ? key : undefined);
    },
    signer: () => LocalTokenSigner.loadOrCreate(home),
    close: () => local.close(),
  };
}

async function readLocalPublicKey(home: string): Promise<KeyObject> {
  const path = join(home, TOKEN_SIGNING_KEY_FILE);
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new CliError(
        `no local signing key at ${path}: the local pilot has not run yet (start it with "npm start"), so there is no audit trail to verify`,
        EXIT.failed,
      );
    throw new CliError(`cannot read the local signing key ${path}: ${(error as Error).message}`, EXIT.failed);
  }
  try {
    return createPublicKey(createPrivateKey(pem));
  } catch (error) {
    throw new CliError(`${path} is not a readable private key; it was damaged or replaced`, EXIT.failed, {
      cause: error,
    });
  }
}

async function openAwsTrail(
  context: CliContext,
  options: AuditOptions,
  needs: TrailNeeds,
): Promise<AuditTrail> {
  const env = context.io.env;
  const table = required(
    options.table ?? env.AIRLOCK_AUDIT_TABLE,
    'the audit table',
    '--table',
    'AIRLOCK_AUDIT_TABLE',
  );
  const bucket = needs.bucket
    ? required(
        options.bucket ?? env.AIRLOCK_DIGEST_BUCKET,
        'the digest bucket',
        '--bucket',
        'AIRLOCK_DIGEST_BUCKET',
      )
    : '';
  const keyArn = needs.keyId
    ? required(
        options.keyId ?? env.AIRLOCK_SIGNING_KEY_ID,
        'the signing key',
        '--key-id',
        'AIRLOCK_SIGNING_KEY_ID',
      )
    : '';
  let kmsSigner: KmsTokenSigner | undefined;
  if (needs.keyId) {
    try {
      kmsSigner = new KmsTokenSigner({ client: new KMSClient({}), keyId: keyArn });
    } catch (error) {
      throw new CliError(`--key-id / AIRLOCK_SIGNING_KEY_ID: ${(error as Error).message}`, EXIT.usage);
    }
  }

  const dynamo = new DynamoDBClient({});
  const inner = new DynamoDbAuditStore({ client: DynamoDBDocumentClient.from(dynamo), tableName: table });
  const store: AuditStore = {
    append: (record) => awsCall({ action: 'dynamodb:PutItem', resource: table }, () => inner.append(record)),
    listChainHeads: () => awsCall({ action: 'dynamodb:Scan', resource: table }, () => inner.listChainHeads()),
    readChain: (chainId, readOptions) =>
      awsStream({ action: 'dynamodb:Query', resource: table }, () => inner.readChain(chainId, readOptions)),
  };
  const s3 = needs.bucket ? new S3Client({}) : undefined;
  const innerDigests = s3 ? new S3DigestStore({ client: s3, bucket, prefix: DIGEST_PREFIX }) : undefined;
  const digestResource = `s3://${bucket}/${DIGEST_PREFIX}`;
  const digests: DigestStore = {
    put: (digest) =>
      awsCall({ action: 's3:PutObject', resource: digestResource }, () =>
        requireDigests(innerDigests).put(digest),
      ),
    list: () =>
      awsCall({ action: 's3:ListBucket and s3:GetObject', resource: digestResource }, () =>
        requireDigests(innerDigests).list(),
      ),
  };
  const signer = (): TokenSigner => {
    const kms = kmsSigner as KmsTokenSigner;
    return {
      keyId: kms.keyId,
      sign: (data) => awsCall({ action: 'kms:Sign', resource: keyArn }, () => kms.sign(data)),
      getPublicKey: () => awsCall({ action: 'kms:GetPublicKey', resource: keyArn }, () => kms.getPublicKey()),
    };
  };
  return {
    store,
    digests,
    where: `DynamoDB table ${table}`,
    digestsWhere: digestResource,
    publicKey: async () => {
      const kms = signer();
      const key = await kms.getPublicKey();
      return (id: string) => (id === kms.keyId ? key : undefined);
    },
    signer: async () => signer(),
    close: async () => {
      dynamo.destroy();
      s3?.destroy();
    },
  };
}

function requireDigests(store: DigestStore | undefined): DigestStore {
  if (!store) throw new Error('digest store not configured for this command');
  return store;
}

function required(value: string | undefined, what: string, flag: string, variable: string): string {
  if (value === undefined || value.trim() === '')
    throw new CliError(
      `${what} is not set: pass ${flag} or set ${variable} (from the stack's outputs), or use --local for the local pilot`,
      EXIT.usage,
    );
  return value.trim();
}

/** Runs one AWS call; a failure becomes one sentence naming the IAM action (conflicts pass through). */
async function awsCall<T>(call: AwsCall, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw describedAwsError(error, call);
  }
}

async function* awsStream<T>(call: AwsCall, source: () => AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* source();
  } catch (error) {
    throw describedAwsError(error, call);
  }
}

function describedAwsError(error: unknown, call: AwsCall): unknown {
  // The ledger and the anchor rely on these: they are answers, not failures.
  if (error instanceof AuditConflictError || error instanceof DigestConflictError) return error;
  // The KMS signer wraps the SDK's error; the SDK's own names the missing permission.
  const sdkError = error instanceof DependencyError && error.cause !== undefined ? error.cause : error;
  return new CliError(describeAwsError(sdkError, call), EXIT.failed, { cause: error });
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
function parseWindow(options: WindowOptions): { from?: Date; to?: Date } {
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

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
