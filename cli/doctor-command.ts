/**
 * `airlock doctor`: the checks a platform team runs after `cdk deploy` (or against the local pilot
 * with `--local`). Each check is named, passes, fails with what to fix, or is skipped with what it
 * would need; the command exits 1 when any check fails, 2 for a usage or config mistake. The checks
 * live in cli/doctor/; what each means is in the README (Deploy to AWS).
 */
import { type Command, Option } from 'commander';
import { type CliContext, CliError, EXIT } from './cli-context';
import { addTargetOptions } from './cli-target';
import type { CliRunner } from './doctor/audit-check';
import { doctorAwsClients } from './doctor/doctor-aws-adapters';
import type { DoctorCheck } from './doctor/doctor-check';
import { type DoctorOptions, planDoctor } from './doctor/doctor-plan';
import { systemResolver } from './doctor/domain-check';
import { type DoctorDependencies, runDoctor } from './doctor/run-doctor';

export type { DoctorCheck } from './doctor/doctor-check';

export function registerDoctorCommand(
  program: Command,
  context: CliContext,
  runCli: CliRunner,
  dependencies: Partial<DoctorDependencies> = {},
): void {
  const deps: DoctorDependencies = {
    dns: systemResolver,
    awsClients: doctorAwsClients,
    runCli,
    ...dependencies,
  };
  const doctor = program
    .command('doctor')
    .description(
      'Check a deployment (--server with a device certificate, under the auditor role) or the local pilot (--local) end to end: DNS, truststore, mutual TLS refusals, execute-api off, health, a credential and its signature, a read per connector, the audit trail, alarms, subscriptions, Lambda concurrency. Exit 1 names the failed checks.',
    );
  addTargetOptions(doctor, { acts: 'api', region: true });
  doctor
    // Kept so scripts written for the first doctor still run; help and README name --server.
    .addOption(new Option('--url <url>', 'deprecated: use --server').hideHelp())
    .option(
      '--workflow <name>',
      'the workflow to ask a credential for (default: the first the principal may run)',
    )
    .option(
      '--approvals <connector/operation>',
      'also hold this write, approve it as --approver, re-send it once: the write then runs for real',
    )
    .option(
      '--approval-arguments <json>',
      'with --approvals: the write’s arguments, above the approval threshold',
    )
    .option(
      '--approver <principal>',
      'with --approvals --local: the approver (default: a member of the approving group)',
    )
    .option('--approver-cert <file>', 'with --approvals: the approver’s device certificate, PEM')
    .option('--approver-key <file>', 'with --approvals: its private key, PEM')
    .option(
      '--kill-switch',
      'also engage the workflow’s kill switch, see credentials refused, release it (operator role; the workflow’s earlier tokens stay revoked)',
    )
    .action(async (options: DoctorOptions) => {
      const config = context.loadConfig();
      const plan = await planDoctor(context, config, options);
      const checks = await runDoctor(context, config, plan, deps);
      printChecks(context, checks);
    });
}

function printChecks(context: CliContext, checks: readonly DoctorCheck[]): void {
  const failures = checks.filter((c) => c.status === 'fail');
  const label = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' } as const;
  const lines = checks.map(
    (c) => `${label[c.status]}  ${c.name}: ${c.detail}${c.fix ? `\n        fix: ${c.fix}` : ''}`,
  );
  const passes = checks.filter((c) => c.status === 'pass').length;
  const skips = checks.length - passes - failures.length;
  lines.push(
    failures.length === 0
      ? `${passes} checks passed${skips > 0 ? `, ${skips} skipped` : ''}.`
      : `${failures.length} check${failures.length > 1 ? 's' : ''} failed: ${failures.map((c) => c.name).join(', ')}.`,
  );
  context.result(lines, { passed: failures.length === 0, checks });
  if (failures.length > 0) {
    throw new CliError(`doctor: failed ${failures.map((c) => c.name).join(', ')}`, EXIT.failed, {
      resultPrinted: true,
    });
  }
}
