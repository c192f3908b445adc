/**
 * `airlock policies report`: what the shadow (log-only) policies under `policies/shadow/` would have
 * done over a time range, read from the audit trail's `policy_shadowed` records, on the local pilot's
 * state (`--local`) or a deployment's audit table.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { readPolicyFiles } from '../lambdas/adapters/policy-files';
import { readLedger } from '../lambdas/core/audit-verifier';
import { type ShadowReport, summariseShadowDecisions } from '../lambdas/core/shadow-report';
import {
  parseWindow,
  plural,
  RECORDS_TARGET,
  type WindowOptions,
  withTrail,
  withWindowOptions,
} from './audit-commands';
import { type CliContext, CliError, EXIT } from './cli-context';
import { addTargetOptions } from './cli-target';

interface ReportOptions extends WindowOptions {
  readonly policies?: string;
}

/** Registers `airlock policies report`. */
export function registerPoliciesCommands(program: Command, context: CliContext): void {
  const policies = program
    .command('policies')
    .description('See what the Cedar policies decide, and what shadow policies would have decided.');

  addTargetOptions(
    withWindowOptions(
      policies
        .command('report')
        .description(
          'Summarise what each shadow policy (policies/shadow/*.cedar) would have refused, held or allowed in a time range, from the audit trail. A shadow policy never changes a decision.',
        )
        .option(
          '--policies <folder>',
          'the policy folder whose shadow/ policies get a row even when they changed nothing',
          'policies',
        ),
    ),
    RECORDS_TARGET,
  ).action((options: ReportOptions) => report(context, options));
}

/** The ids of the shadow policies in force in `folder`; none when it cannot be read (a notice says so). */
function shadowPolicyIds(context: CliContext, folder: string): string[] {
  try {
    const sources = readPolicyFiles(folder);
    return (sources.shadowPolicies ?? []).flatMap((file) =>
      [...file.text.matchAll(/@id\(\s*"([^"]+)"\s*\)/g)].map((match) => match[1]!),
    );
  } catch (error) {
    context.notice(
      `--policies ${folder}: ${(error as Error).message}; only policies with records are listed`,
    );
    return [];
  }
}

async function report(context: CliContext, options: ReportOptions): Promise<void> {
  const window = parseWindow(options);
  const folder = options.policies ?? 'policies';
  if (folder.trim() === '') throw new CliError('--policies needs a folder', EXIT.usage);
  const known = shadowPolicyIds(context, resolve(context.io.cwd, folder));
  const summary = await withTrail(
    context,
    options,
    RECORDS_TARGET,
    { digests: false, readKeyOnly: true },
    async (trail) => {
      context.progress(`Reading policy_shadowed records from ${trail.where} ...`);
      const chains = await readLedger(trail.store);
      async function* all() {
        for (const records of chains.values()) yield* records;
      }
      return { where: trail.where, report: await summariseShadowDecisions(all(), { ...window, known }) };
    },
  );
  context.result(describe(summary.report, summary.where), { ...summary.report, source: summary.where });
}

function describe(report: ShadowReport, where: string): string[] {
  const range = `${report.from ?? 'the beginning'} to ${report.to ?? 'now'}`;
  const lines = [
    `Shadow policies, ${range} (${plural(report.records, 'policy_shadowed record')} in ${where}):`,
  ];
  if (report.policies.length === 0) {
    lines.push('  no shadow policies in force and none recorded (put one in policies/shadow/ to try it)');
  }
  for (const p of report.policies) {
    const changed = p.wouldRefuse + p.wouldHold + p.wouldAllow;
    if (changed === 0) {
      lines.push(`  ${p.policy}: would have changed nothing`);
      continue;
    }
    const parts = [
      p.wouldRefuse ? `would have refused ${plural(p.wouldRefuse, 'request')}` : '',
      p.wouldHold ? `held ${plural(p.wouldHold, 'request')} for approval` : '',
      p.wouldAllow ? `allowed ${plural(p.wouldAllow, 'refused request')}` : '',
    ].filter(Boolean);
    lines.push(`  ${p.policy}: ${parts.join(', ')} (${p.firstTs} to ${p.lastTs})`);
    lines.push(`    workflows: ${counts(p.workflows)}`);
    lines.push(`    operations: ${counts(p.operations)}`);
    lines.push(`    principals: ${counts(p.principals)}`);
    lines.push(`    e.g. request ${p.exampleRequestIds.join(', ')} (airlock audit export shows them)`);
  }
  if (report.evaluationErrors > 0) {
    lines.push(
      `  ${plural(report.evaluationErrors, 'record')} where the shadow policies could not be evaluated (their reasons say why)`,
    );
  }
  return lines;
}

function counts(values: Readonly<Record<string, number>>): string {
  return Object.entries(values)
    .sort(([, a], [, b]) => b - a)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
}
