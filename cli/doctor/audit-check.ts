/**
 * The audit check: `airlock audit verify` run in this process, as an operator would run it (locally
 * after `audit anchor`, so the newest records are under a digest too). In AWS the audit table, the
 * digest bucket and the digest key come from the exported variables when set, else from the stack
 * outputs doctor read.
 */
import { Writable } from 'node:stream';
import { FUNCTION_ENV } from '../../lib/contracts/environment';
import { type CliContext, EXIT } from '../cli-context';
import { type DoctorCheck, failed, passed, skipped } from './doctor-check';

export const AUDIT_CHECK = 'audit-verify';

/** Runs one `airlock` command line in this process (the program's own `runCli`) and returns its exit code. */
export type CliRunner = (argv: readonly string[], io: CliContext['io']) => Promise<number>;

/** What one in-process command printed. */
export interface CommandRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `airlock --json --config <same> <args>` in this process, with the same environment. */
export async function runCommand(
  context: CliContext,
  runCli: CliRunner,
  args: readonly string[],
): Promise<CommandRun> {
  const stdout = new CollectedText();
  const stderr = new CollectedText();
  const code = await runCli(['node', 'airlock', '--json', '--config', context.configPath, ...args], {
    ...context.io,
    stdout,
    stderr,
  });
  return { code, stdout: stdout.text, stderr: stderr.text.trim().replace(/^airlock: /gm, '') };
}

/** Where audit verify acts: the local pilot, or AWS with these names (output key → flag). */
export type AuditTarget =
  | { readonly kind: 'local' }
  | { readonly kind: 'aws'; readonly region?: string; readonly outputs: Readonly<Record<string, string>> };

/** Stack outputs that name what `audit verify` reads, with its flag and the variable that wins over them. */
const AUDIT_NAMES = [
  { output: 'AuditTableName', flag: '--table', variable: FUNCTION_ENV.auditTable },
  { output: 'DigestBucketName', flag: '--bucket', variable: FUNCTION_ENV.digestBucket },
  { output: 'DigestSigningKeyId', flag: '--key-id', variable: FUNCTION_ENV.signingKeyId },
] as const;

export async function auditCheck(
  context: CliContext,
  runCli: CliRunner,
  target: AuditTarget,
): Promise<DoctorCheck> {
  if (target.kind === 'local') {
    const anchored = await runCommand(context, runCli, ['audit', 'anchor', '--local']);
    if (anchored.code !== 0) {
      return failed(
        AUDIT_CHECK,
        `audit anchor failed: ${anchored.stderr}`,
        'run npx airlock audit anchor --local for the details',
      );
    }
  }
  const where =
    target.kind === 'local'
      ? ['--local']
      : [
          ...(target.region ? ['--region', target.region] : []),
          ...AUDIT_NAMES.flatMap(({ output, flag, variable }) =>
            context.io.env[variable]?.trim() || !target.outputs[output] ? [] : [flag, target.outputs[output]],
          ),
        ];
  const verified = await runCommand(context, runCli, ['audit', 'verify', ...where]);
  if (verified.code === EXIT.usage && target.kind === 'aws') {
    return skipped(
      AUDIT_CHECK,
      verified.stderr,
      `run doctor under the auditor role so it can read the stack outputs, or export ${FUNCTION_ENV.auditTable}, ${FUNCTION_ENV.digestBucket} and ${FUNCTION_ENV.signingKeyId} from them`,
    );
  }
  if (verified.code !== 0) {
    return failed(
      AUDIT_CHECK,
      verified.stderr || verified.stdout.trim(),
      'run npx airlock audit verify for the first record that does not hold, and follow docs/runbooks/forensics.md',
    );
  }
  return passed(AUDIT_CHECK, 'every chain and digest holds');
}

/** A stream that keeps what a command printed, for reading its result. */
class CollectedText extends Writable {
  text = '';

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}
