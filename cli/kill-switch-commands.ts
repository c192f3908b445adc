/**
 * `airlock kill-switch engage|release|status`: the operator's side of the kill switch, over SSM and the
 * parameters' copies in the revocations table (which every request reads) with the operator's own AWS
 * credentials, or over the local pilot's parameter files and tables with `--local`.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import type { ConcurrencyChange } from '../lambdas/adapters/aws/lambda-concurrency-controller';
import type { AuditLedger } from '../lambdas/core/audit-ledger';
import type { AuditEvent } from '../lambdas/core/audit-record';
import { killSwitchPrefix } from '../lambdas/core/kill-switch';
import {
  engageKillSwitch,
  type KillSwitchChange,
  type KillSwitchCopyStore,
  type KillSwitchParameterStatus,
  type KillSwitchStatusReport,
  type KillSwitchValueStatus,
  killSwitchStatus,
  releaseKillSwitch,
} from '../lambdas/core/kill-switch-operator';
import type { AirlockConfig } from '../lib/config/schema';
import { CLI_ENV } from '../lib/contracts/environment';
import { type CliContext, CliError, describeFailure, EXIT, withCliErrors } from './cli-context';
import {
  type AwsTarget,
  addTargetOptions,
  type LocalTarget,
  resolveTarget,
  type TargetOptions as WhereOptions,
} from './cli-target';
import { DEPLOYMENT_NAMES, type DeploymentNameKey, flagOf } from './deployment-names';
import { type AuditOutcome, appendOrFail, notRecorded, operatorIdentity } from './operator-audit';
import {
  type ConcurrencyController,
  type KillSwitchParameters,
  type OperatorPorts,
  withOperatorPorts,
} from './operator-ports';

/** What the anchor function does with a kill-switch change in AWS; printed so the operator knows where to look. */
const AWS_AUDIT_NOTE =
  'the anchor function records this change in the audit ledger (EventBridge rule on the parameter change)';

/**
 * The parameters, and in AWS the revocations table (the copies) and the functions hard mode acts on
 * (named by the stack outputs).
 */
const KILL_SWITCH_TARGET = {
  acts: 'state',
  names: ['revocationsTable', 'brokerFunction', 'connectorFunction', 'oauthFunction'],
} as const;

/** What `status` reads: the parameters, and the copies when the table is named. */
const STATUS_TARGET = { acts: 'state', names: ['revocationsTable'] } as const;

interface TargetOptions extends WhereOptions {
  readonly workflow?: string;
}

interface ChangeOptions extends TargetOptions {
  readonly reason?: string;
  readonly hard?: boolean;
  readonly changedBy?: string;
}

/** Where the parameters live: the local pilot's files, or SSM in the operator's account. */
interface ParameterBackend extends KillSwitchParameters {
  readonly mode: 'local' | 'aws';
}

/** Registers `airlock kill-switch engage|release|status`. */
export function registerKillSwitchCommands(program: Command, context: CliContext): void {
  const killSwitch = program
    .command('kill-switch')
    .description('Seal Airlock (globally or for one workflow), release it, or show its state.');

  const engage = killSwitch
    .command('engage')
    .description(
      'Engage the kill switch: the next request is refused (its copy in the revocations table is read by every request), and tokens issued before now stay revoked after release.',
    )
    .option('--reason <text>', 'why (required): the on-call and the auditors read it later')
    .option('--workflow <name>', 'seal only this workflow of the config (default: the global switch)')
    .option('--hard', 'also set the broker and connector functions to reserved concurrency 0 (AWS only)');
  withChangeOptions(engage).action((options: ChangeOptions) => runEngage(context, options));

  const release = killSwitch
    .command('release')
    .description(
      'Release the kill switch (seen within 1.2 × killSwitch.backstopSeconds); with --hard first restore the functions’ configured reserved concurrency.',
    )
    .option('--reason <text>', 'why it is safe again (default: "released by <operator>")')
    .option('--workflow <name>', 'release only this workflow’s switch (default: the global switch)')
    .option(
      '--hard',
      'first restore reserved concurrency from config functions.reservedConcurrency (AWS only)',
    );
  withChangeOptions(release).action((options: ChangeOptions) => runRelease(context, options));

  addTargetOptions(
    killSwitch
      .command('status')
      .description(
        'Read the global switch and every workflow’s, parameters and copies (no cache); engaged in either place counts as engaged.',
      )
      .option('--workflow <name>', 'report on this workflow only (default: every workflow of the config)'),
    STATUS_TARGET,
  ).action((options: TargetOptions) => runStatus(context, options));
}

/** The options engage and release share: who, and where (with the functions hard mode acts on). */
function withChangeOptions(command: Command): Command {
  return addTargetOptions(
    command.option(
      '--changed-by <who>',
      `who is acting (default: $${CLI_ENV.operator}, else your OS user name)`,
    ),
    KILL_SWITCH_TARGET,
  );
}

/**
 * Where a change acts. A release needs the revocations table (a copy left engaged keeps the switch
 * engaged); an engage writes the copy when the table is named, and otherwise the parameter alone, so
 * a missing variable never delays sealing. With --hard in AWS, the deployed functions must be named.
 */
async function changeTarget(
  context: CliContext,
  options: ChangeOptions,
  config: AirlockConfig,
  action: 'engage' | 'release',
): Promise<LocalTarget | AwsTarget> {
  const required: DeploymentNameKey[] = action === 'release' ? ['revocationsTable'] : [];
  const optional: DeploymentNameKey[] = action === 'release' ? [] : ['revocationsTable'];
  const purposes = action === 'release' ? ['a release'] : [];
  if (options.hard) {
    // The OAuth entry point serves agents too: with an oauth section, freezing the others alone
    // would leave it running.
    required.push('brokerFunction', 'connectorFunction', ...(config.oauth ? ['oauthFunction' as const] : []));
    if (!config.oauth) optional.push('oauthFunction');
    purposes.push('hard mode');
  }
  return resolveTarget(context, options, KILL_SWITCH_TARGET, {
    required,
    optional,
    ...(purposes.length > 0 ? { requiredFor: purposes.join(' and ') } : {}),
  });
}

/**
 * The copies of the switch. Engaging never waits for them: without the table (not named, or the local
 * one cannot be opened) it warns and writes the parameter alone. Releasing (and reading the status)
 * needs them: a copy left engaged keeps the switch engaged.
 */
async function openCopies(
  context: CliContext,
  ports: OperatorPorts,
  target: LocalTarget | AwsTarget,
  purpose: 'engage' | 'release' | 'status',
): Promise<KillSwitchCopyStore | undefined> {
  const alone =
    'so only the SSM parameter is written: every function sees the change within 1.2 × killSwitch.backstopSeconds instead of at its next request';
  let copies: KillSwitchCopyStore | undefined;
  try {
    copies = await ports.openKillSwitchCopies();
  } catch (error) {
    const problem = `the local pilot's revocations table in ${target.kind === 'local' ? target.home : 'AWS'} cannot be opened (${describeFailure(error)})`;
    if (purpose === 'engage') {
      context.notice(`airlock: warning: ${problem}, ${alone}.`);
      return undefined;
    }
    throw new CliError(
      purpose === 'release'
        ? `Did not release the kill switch: ${problem}; the switch is unchanged`
        : problem,
      EXIT.failed,
      { cause: error },
    );
  }
  if (copies === undefined && purpose !== 'status') {
    const name = DEPLOYMENT_NAMES.revocationsTable;
    context.notice(
      `airlock: warning: ${name.variable} is not set, ${alone}. Set ${name.variable} (stack output ${name.output}) or pass ${flagOf(name)}.`,
    );
  }
  return copies;
}

async function runEngage(context: CliContext, options: ChangeOptions): Promise<void> {
  const config = context.loadConfig();
  const workflow = requireWorkflow(config, options.workflow);
  if (options.reason === undefined || options.reason.trim() === '') {
    throw new CliError('a reason is required: --reason "..."', EXIT.usage);
  }
  const target = await changeTarget(context, options, config, 'engage');
  await withOperatorPorts(target, async (ports) => {
    const hard = options.hard ? hardMode(ports, target) : undefined;
    const changedBy = operatorIdentity(context, options.changedBy);
    const backend = parameterBackend(ports);
    const copies = await openCopies(context, ports, target, 'engage');

    context.progress(`Engaging the ${scopeName(workflow)} kill switch ...`);
    const change = await withCliErrors(() =>
      engageKillSwitch({
        source: backend.parameters,
        writer: backend.parameters,
        copies,
        prefix: prefixOf(config),
        workflow,
        reason: options.reason!,
        changedBy,
        backstopSeconds: config.killSwitch.backstopSeconds,
      }),
    );

    // The switch is engaged before the functions are frozen: if freezing fails, the switch still seals.
    let frozen: ConcurrencyChange[] | undefined;
    if (hard) {
      const names = Object.values(hard.functions);
      context.progress(`Freezing ${names.join(', ')} (reserved concurrency 0) ...`);
      try {
        frozen = await hard.controller.freeze(names);
      } catch (error) {
        throw new CliError(
          `${change.summary} But hard mode failed, so the functions still run (and refuse): ${describeFailure(error)}. Run the command again, or set their reserved concurrency to 0 in the Lambda console.`,
          EXIT.failed,
          { cause: error },
        );
      }
    }

    const audit = await recordChange(ports, change, { hard: Boolean(hard) });
    printChange(context, backend, change, audit, frozen);
  });
}

async function runRelease(context: CliContext, options: ChangeOptions): Promise<void> {
  const config = context.loadConfig();
  const workflow = requireWorkflow(config, options.workflow);
  const target = await changeTarget(context, options, config, 'release');
  await withOperatorPorts(target, async (ports) => {
    const hard = options.hard ? hardMode(ports, target) : undefined;
    const changedBy = operatorIdentity(context, options.changedBy);
    const backend = parameterBackend(ports);

    // Releasing opens Airlock again: locally it is refused unless the ledger can take its record.
    let ledger: AuditLedger | undefined;
    if (target.kind === 'local') {
      try {
        ledger = await ports.openAuditLedger();
      } catch (error) {
        throw new CliError(
          `Did not release the kill switch: the local audit ledger in ${target.home} cannot be opened (${describeFailure(error)}); the switch is unchanged`,
          EXIT.failed,
          { cause: error },
        );
      }
    }
    const copies = await openCopies(context, ports, target, 'release');
    let restored: ConcurrencyChange[] | undefined;
    if (hard) {
      // Restored before the release, so the functions come back still sealed by the parameter.
      const { functions } = hard;
      // A function with no reservation configured (the default) gets its reservation of 0 removed.
      const reserved: Record<string, number | null> = {
        [functions.broker]: config.functions.reservedConcurrency.broker ?? null,
        [functions.connector]: config.functions.reservedConcurrency.connector ?? null,
      };
      if (functions.oauth) reserved[functions.oauth] = config.oauth?.reservedConcurrency ?? null;
      context.progress(`Restoring reserved concurrency of ${Object.keys(reserved).join(', ')} ...`);
      try {
        restored = await hard.controller.restore(reserved);
      } catch (error) {
        throw new CliError(
          `Did not release the kill switch: restoring the functions failed: ${describeFailure(error)}. The switch stays engaged; run the command again, or set the reserved concurrency in the Lambda console.`,
          EXIT.failed,
          { cause: error },
        );
      }
    }

    context.progress(`Releasing the ${scopeName(workflow)} kill switch ...`);
    const change = await withCliErrors(() =>
      releaseKillSwitch({
        source: backend.parameters,
        writer: backend.parameters,
        copies,
        prefix: prefixOf(config),
        workflow,
        reason: options.reason,
        changedBy,
        backstopSeconds: config.killSwitch.backstopSeconds,
      }),
    );
    const audit = ledger
      ? await appendOrFail(ledger, killSwitchEvent(change, Boolean(hard)), change.summary)
      : ({ recordedBy: AWS_AUDIT_NOTE } as const);
    printChange(context, backend, change, audit, restored);
  });
}

async function runStatus(context: CliContext, options: TargetOptions): Promise<void> {
  const config = context.loadConfig();
  const workflow = requireWorkflow(config, options.workflow);
  const target = await resolveTarget(context, options, STATUS_TARGET, { optional: ['revocationsTable'] });
  await withOperatorPorts(target, async (ports) => {
    const backend = parameterBackend(ports);
    const copies = await openCopies(context, ports, target, 'status');
    const report = await withCliErrors(() =>
      killSwitchStatus({
        source: backend.parameters,
        copies,
        prefix: prefixOf(config),
        workflows: workflow === undefined ? Object.keys(config.workflows) : [workflow],
      }),
    );
    context.result(statusLines(report, backend), { mode: backend.mode, ...report });
  });
}

function statusLines(report: KillSwitchStatusReport, backend: ParameterBackend): string[] {
  const lines = [
    `Kill switch (${backend.mode === 'local' ? 'local pilot' : 'AWS'}) at ${report.checkedAt.toISOString()}: ${
      report.anyEngaged ? 'ENGAGED' : 'released'
    }`,
    `  global: ${parameterLine(report.global)}`,
    ...copyLines(report.global),
  ];
  for (const [workflow, status] of Object.entries(report.workflows)) {
    const effective = status.effective.engaged ? `sealed (${status.effective.scope} switch)` : 'serving';
    lines.push(`  workflow ${workflow}: ${parameterLine(status)}; requests are ${effective}`);
    lines.push(...copyLines(status));
  }
  return lines;
}

/** The copy's line, when it says something the parameter does not. */
function copyLines(status: KillSwitchParameterStatus): string[] {
  const copy = status.copy;
  if (copy === undefined) return [];
  if (copy === 'missing') {
    return [
      '    copy in the revocations table: none (the parameter alone decides; run engage or release once to write it)',
    ];
  }
  if (copy.engaged === status.engaged && copy.changedAt === status.changedAt) return [];
  return [
    `    copy in the revocations table differs: ${parameterLine(copy)} (engaged in either place counts as engaged)`,
  ];
}

function parameterLine(status: KillSwitchValueStatus): string {
  if (status.problem !== undefined)
    return `${status.status.toUpperCase()} (counts as engaged): ${status.problem}`;
  const sealed = status.revokeIssuedBefore
    ? `; tokens issued before ${status.revokeIssuedBefore} revoked`
    : '';
  return `${status.engaged ? 'ENGAGED' : 'released'} by ${status.changedBy} at ${status.changedAt}: "${status.reason}"${sealed}`;
}

function printChange(
  context: CliContext,
  backend: ParameterBackend,
  change: KillSwitchChange,
  audit: AuditOutcome,
  functions: readonly ConcurrencyChange[] | undefined,
): void {
  const file = backend.fileOf?.(change.parameter);
  const lines = [
    change.summary,
    `  parameter:  ${change.parameter}${file ? ` (${context.displayPath(file)})` : ''}`,
    `  reason:     ${change.value.reason}`,
    `  changed by: ${change.value.changedBy}`,
    `  effective:  ${effectiveLine(change)}`,
    `  audit:      ${'recorded' in audit ? `recorded in the local ledger as ${audit.chainId}#${audit.seq}` : audit.recordedBy}`,
  ];
  if (functions) {
    const what = functions
      .map(
        (f) =>
          `${f.functionName} ${f.before === undefined ? '' : `${f.before ?? 'unreserved'} → `}${f.reservedConcurrency ?? 'unreserved'}`,
      )
      .join(', ');
    lines.push(
      change.action === 'engage'
        ? `  hard mode:  reserved concurrency ${what}: Lambda refuses to run them from now on`
        : `  hard mode:  reserved concurrency restored: ${what}`,
    );
  }
  context.result(lines, {
    ...change,
    mode: backend.mode,
    ...(file ? { parameterFile: file } : {}),
    audit,
    ...(functions ? { functions } : {}),
  });
}

async function recordChange(
  ports: OperatorPorts,
  change: KillSwitchChange,
  options: { hard: boolean },
): Promise<AuditOutcome> {
  if (ports.mode === 'aws') return { recordedBy: AWS_AUDIT_NOTE };
  // Engaging never waits for the ledger: the switch is already engaged, and only the record is at stake.
  let ledger: AuditLedger | undefined;
  try {
    ledger = await ports.openAuditLedger();
  } catch (error) {
    throw notRecorded(change.summary, error);
  }
  if (!ledger) throw notRecorded(change.summary, new Error('the local pilot has no audit ledger'));
  return appendOrFail(ledger, killSwitchEvent(change, options.hard), change.summary);
}

function killSwitchEvent(change: KillSwitchChange, hard: boolean): AuditEvent {
  return {
    type: 'kill_switch_changed',
    principal: change.value.changedBy,
    workflow: change.workflow ?? '*',
    decision: 'recorded',
    reasons: [change.action === 'engage' ? 'kill_switch_engaged' : 'kill_switch_released'],
    requestId: randomUUID(),
    docHashes: [],
    details: {
      action: change.action,
      scope: change.scope,
      parameter: change.parameter,
      before: change.before,
      changed: change.changed,
      reason: change.value.reason,
      changedAt: change.changedAt.toISOString(),
      effectiveBy: change.effectiveBy.toISOString(),
      revokeIssuedBefore: change.revokeIssuedBefore?.toISOString() ?? null,
      hard,
      via: 'airlock cli',
    },
  };
}

/**
 * The workflow named by `--workflow`, checked against the config.
 * @throws CliError (usage) naming the known workflows.
 */
function requireWorkflow(config: AirlockConfig, workflow: string | undefined): string | undefined {
  if (workflow === undefined) return undefined;
  if (!Object.hasOwn(config.workflows, workflow)) {
    throw new CliError(
      `--workflow: unknown workflow "${workflow}"; expected one of: ${Object.keys(config.workflows).join(', ')}`,
      EXIT.usage,
    );
  }
  return workflow;
}

function prefixOf(config: AirlockConfig): string {
  try {
    return killSwitchPrefix(config.stage);
  } catch (error) {
    throw new CliError(`Invalid Airlock config: stage: ${(error as Error).message}`, EXIT.usage);
  }
}

function parameterBackend(ports: OperatorPorts): ParameterBackend {
  return { mode: ports.mode, ...ports.killSwitchParameters() };
}

/**
 * Hard mode: the deployed functions and what sets their reserved concurrency.
 * @throws CliError (usage) for the local pilot, which has no reserved concurrency.
 */
function hardMode(
  ports: OperatorPorts,
  target: LocalTarget | AwsTarget,
): { controller: ConcurrencyController; functions: { broker: string; connector: string; oauth?: string } } {
  const controller = ports.concurrencyController();
  const names = target.kind === 'aws' ? target.names : {};
  const { brokerFunction: broker, connectorFunction: connector, oauthFunction: oauth } = names;
  if (broker === undefined || connector === undefined) {
    // resolveTarget required both for hard mode; reaching here is a bug in this command.
    throw new Error('hard mode without the function names');
  }
  return { controller, functions: { broker, connector, ...(oauth ? { oauth } : {}) } };
}

function effectiveLine(change: KillSwitchChange): string {
  if (change.action === 'engage' && change.copied) {
    return 'at the next request (every request reads the copy in the revocations table)';
  }
  return `by ${change.effectiveBy.toISOString()} (each function reads the parameter every killSwitch.backstopSeconds ± 20 %)`;
}

function scopeName(workflow: string | undefined): string {
  return workflow === undefined ? 'global' : `workflow "${workflow}"`;
}
