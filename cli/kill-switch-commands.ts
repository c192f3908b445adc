/**
 * `airlock kill-switch engage|release|status`: the operator's side of the kill switch, over SSM with the
 * operator's own AWS credentials, or over the local pilot's parameter files with `--local`.
 */
import { randomUUID } from 'node:crypto';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Command } from 'commander';
import {
  type ConcurrencyChange,
  LambdaConcurrencyController,
} from '../lambdas/adapters/aws/lambda-concurrency-controller';
import { SsmKillSwitchParameters } from '../lambdas/adapters/aws/ssm-kill-switch-parameters';
import { FileKillSwitchParameters } from '../lambdas/adapters/local/file-kill-switch-parameters';
import type { AuditEvent } from '../lambdas/core/audit-record';
import { killSwitchPrefix } from '../lambdas/core/kill-switch';
import {
  engageKillSwitch,
  type KillSwitchChange,
  type KillSwitchParameterStatus,
  type KillSwitchStatusReport,
  killSwitchStatus,
  releaseKillSwitch,
} from '../lambdas/core/kill-switch-operator';
import type { KillSwitchParameterSource, KillSwitchParameterWriter } from '../lambdas/core/ports';
import type { AirlockConfig } from '../lib/config/schema';
import { type CliContext, CliError, describeFailure, EXIT, withCliErrors } from './cli-context';
import {
  type AuditOutcome,
  appendOrFail,
  type LocalLedger,
  notRecorded,
  openLocalLedger,
  operatorIdentity,
} from './operator-audit';

/** What the anchor function does with a kill-switch change in AWS; printed so the operator knows where to look. */
const AWS_AUDIT_NOTE =
  'the anchor function records this change in the audit ledger (EventBridge rule on the parameter change)';

interface TargetOptions {
  readonly workflow?: string;
  readonly local?: boolean;
}

interface ChangeOptions extends TargetOptions {
  readonly reason?: string;
  readonly hard?: boolean;
  readonly changedBy?: string;
  readonly brokerFunction?: string;
  readonly connectorFunction?: string;
  readonly oauthFunction?: string;
}

/** Where the parameters live: the local pilot's files, or SSM in the operator's account. */
interface ParameterBackend {
  readonly mode: 'local' | 'aws';
  readonly parameters: KillSwitchParameterSource & KillSwitchParameterWriter;
  /** The file of a parameter (local only), for the operator to look at. */
  readonly fileOf?: (parameter: string) => string;
}

/** Registers `airlock kill-switch engage|release|status`. */
export function registerKillSwitchCommands(program: Command, context: CliContext): void {
  const killSwitch = program
    .command('kill-switch')
    .description('Seal Airlock (globally or for one workflow), release it, or show its state.');

  const engage = killSwitch
    .command('engage')
    .description(
      'Engage the kill switch: every function refuses within killSwitch.cacheSeconds, and tokens issued before now stay revoked after release.',
    )
    .option('--reason <text>', 'why (required): the on-call and the auditors read it later')
    .option('--workflow <name>', 'seal only this workflow of the config (default: the global switch)')
    .option('--hard', 'also set the broker and connector functions to reserved concurrency 0 (AWS only)');
  withChangeOptions(engage).action((options: ChangeOptions) => runEngage(context, options));

  const release = killSwitch
    .command('release')
    .description(
      'Release the kill switch; with --hard first restore the functions’ configured reserved concurrency.',
    )
    .option('--reason <text>', 'why it is safe again (default: "released by <operator>")')
    .option('--workflow <name>', 'release only this workflow’s switch (default: the global switch)')
    .option(
      '--hard',
      'first restore reserved concurrency from config functions.reservedConcurrency (AWS only)',
    );
  withChangeOptions(release).action((options: ChangeOptions) => runRelease(context, options));

  killSwitch
    .command('status')
    .description(
      'Read the global switch and every workflow’s (no cache); missing or unreadable counts as engaged.',
    )
    .option('--workflow <name>', 'report on this workflow only (default: every workflow of the config)')
    .option('--local', 'read the local pilot in AIRLOCK_HOME instead of AWS')
    .action((options: TargetOptions) => runStatus(context, options));
}

/** The options engage and release share: where, who, and the functions hard mode acts on. */
function withChangeOptions(command: Command): Command {
  return command
    .option('--local', 'act on the local pilot in AIRLOCK_HOME instead of AWS')
    .option('--changed-by <who>', 'who is acting (default: $AIRLOCK_OPERATOR, else your OS user name)')
    .option(
      '--broker-function <name>',
      'deployed broker function, for --hard (default: $AIRLOCK_BROKER_FUNCTION)',
    )
    .option(
      '--connector-function <name>',
      'deployed connector function, for --hard (default: $AIRLOCK_CONNECTOR_FUNCTION)',
    )
    .option(
      '--oauth-function <name>',
      'deployed OAuth entry-point function, for --hard when the deployment has one (default: $AIRLOCK_OAUTH_FUNCTION)',
    );
}

async function runEngage(context: CliContext, options: ChangeOptions): Promise<void> {
  const config = context.loadConfig();
  const workflow = requireWorkflow(config, options.workflow);
  if (options.reason === undefined || options.reason.trim() === '') {
    throw new CliError('a reason is required: --reason "..."', EXIT.usage);
  }
  const functions = options.hard ? hardModeFunctions(context, options) : undefined;
  const changedBy = operatorIdentity(context, options.changedBy);
  const backend = parameterBackend(context, options.local);

  context.progress(`Engaging the ${scopeName(workflow)} kill switch ...`);
  const change = await withCliErrors(() =>
    engageKillSwitch({
      source: backend.parameters,
      writer: backend.parameters,
      prefix: prefixOf(config),
      workflow,
      reason: options.reason!,
      changedBy,
      cacheSeconds: config.killSwitch.cacheSeconds,
    }),
  );

  // The switch is engaged before the functions are frozen: if freezing fails, the switch still seals.
  let frozen: ConcurrencyChange[] | undefined;
  if (functions) {
    context.progress(`Freezing ${Object.values(functions).join(', ')} (reserved concurrency 0) ...`);
    try {
      frozen = await lambdaController().freeze(Object.values(functions));
    } catch (error) {
      throw new CliError(
        `${change.summary} But hard mode failed, so the functions still run (and refuse): ${describeFailure(error)}. Run the command again, or set their reserved concurrency to 0 in the Lambda console.`,
        EXIT.failed,
        { cause: error },
      );
    }
  }

  const audit = await recordChange(context, backend, change, { hard: Boolean(functions) });
  printChange(context, backend, change, audit, frozen);
}

async function runRelease(context: CliContext, options: ChangeOptions): Promise<void> {
  const config = context.loadConfig();
  const workflow = requireWorkflow(config, options.workflow);
  const functions = options.hard ? hardModeFunctions(context, options) : undefined;
  const changedBy = operatorIdentity(context, options.changedBy);
  const backend = parameterBackend(context, options.local);

  // Releasing opens Airlock again: locally it is refused unless the ledger can take its record.
  let ledger: LocalLedger | undefined;
  if (backend.mode === 'local') {
    try {
      ledger = await openLocalLedger(context.home);
    } catch (error) {
      throw new CliError(
        `Did not release the kill switch: the local audit ledger in ${context.home} cannot be opened (${describeFailure(error)}); the switch is unchanged`,
        EXIT.failed,
        { cause: error },
      );
    }
  }
  try {
    let restored: ConcurrencyChange[] | undefined;
    if (functions) {
      // Restored before the release, so the functions come back still sealed by the parameter.
      // A function with no reservation configured (the default) gets its reservation of 0 removed.
      const reserved: Record<string, number | null> = {
        [functions.broker]: config.functions.reservedConcurrency.broker ?? null,
        [functions.connector]: config.functions.reservedConcurrency.connector ?? null,
      };
      if (functions.oauth) reserved[functions.oauth] = config.oauth?.reservedConcurrency ?? null;
      context.progress(`Restoring reserved concurrency of ${Object.keys(reserved).join(', ')} ...`);
      try {
        restored = await lambdaController().restore(reserved);
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
        prefix: prefixOf(config),
        workflow,
        reason: options.reason,
        changedBy,
        cacheSeconds: config.killSwitch.cacheSeconds,
      }),
    );
    const audit = ledger
      ? await appendOrFail(ledger, killSwitchEvent(change, Boolean(functions)), change.summary)
      : ({ recordedBy: AWS_AUDIT_NOTE } as const);
    printChange(context, backend, change, audit, restored);
  } finally {
    await ledger?.close();
  }
}

async function runStatus(context: CliContext, options: TargetOptions): Promise<void> {
  const config = context.loadConfig();
  const workflow = requireWorkflow(config, options.workflow);
  const backend = parameterBackend(context, options.local);
  const report = await withCliErrors(() =>
    killSwitchStatus({
      source: backend.parameters,
      prefix: prefixOf(config),
      workflows: workflow === undefined ? Object.keys(config.workflows) : [workflow],
    }),
  );
  context.result(statusLines(report, backend), { mode: backend.mode, ...report });
}

function statusLines(report: KillSwitchStatusReport, backend: ParameterBackend): string[] {
  const lines = [
    `Kill switch (${backend.mode === 'local' ? 'local pilot' : 'AWS'}) at ${report.checkedAt.toISOString()}: ${
      report.anyEngaged ? 'ENGAGED' : 'released'
    }`,
    `  global: ${parameterLine(report.global)}`,
  ];
  for (const [workflow, status] of Object.entries(report.workflows)) {
    const effective = status.effective.engaged ? `sealed (${status.effective.scope} switch)` : 'serving';
    lines.push(`  workflow ${workflow}: ${parameterLine(status)}; requests are ${effective}`);
  }
  return lines;
}

function parameterLine(status: KillSwitchParameterStatus): string {
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
    `  effective:  by ${change.effectiveBy.toISOString()} (killSwitch.cacheSeconds after the change)`,
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
  context: CliContext,
  backend: ParameterBackend,
  change: KillSwitchChange,
  options: { hard: boolean },
): Promise<AuditOutcome> {
  if (backend.mode === 'aws') return { recordedBy: AWS_AUDIT_NOTE };
  // Engaging never waits for the ledger: the switch is already engaged, and only the record is at stake.
  let ledger: LocalLedger;
  try {
    ledger = await openLocalLedger(context.home);
  } catch (error) {
    throw notRecorded(change.summary, error);
  }
  try {
    return await appendOrFail(ledger, killSwitchEvent(change, options.hard), change.summary);
  } finally {
    await ledger.close();
  }
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

function parameterBackend(context: CliContext, local: boolean | undefined): ParameterBackend {
  if (local) {
    const files = new FileKillSwitchParameters(context.home);
    return { mode: 'local', parameters: files, fileOf: (parameter) => files.fileOf(parameter) };
  }
  // Region and credentials come from the SDK's usual chain (AWS_REGION, AWS_PROFILE, SSO, ...).
  return { mode: 'aws', parameters: new SsmKillSwitchParameters({ client: new SSMClient({}) }) };
}

function lambdaController(): LambdaConcurrencyController {
  return new LambdaConcurrencyController({ client: new LambdaClient({}) });
}

/**
 * The deployed function names hard mode acts on.
 * @throws CliError (usage) for `--local`, or when a name is missing.
 */
function hardModeFunctions(
  context: CliContext,
  options: ChangeOptions,
): { broker: string; connector: string; oauth?: string } {
  if (options.local) {
    throw new CliError(
      'hard mode needs AWS: it sets the reserved concurrency of the deployed functions, and the local pilot has none; drop --hard (the switch alone seals the local pilot) or drop --local',
      EXIT.usage,
    );
  }
  const broker = (options.brokerFunction ?? context.io.env.AIRLOCK_BROKER_FUNCTION)?.trim();
  const connector = (options.connectorFunction ?? context.io.env.AIRLOCK_CONNECTOR_FUNCTION)?.trim();
  if (!broker || !connector) {
    throw new CliError(
      'hard mode needs the deployed function names: pass --broker-function and --connector-function (or set AIRLOCK_BROKER_FUNCTION and AIRLOCK_CONNECTOR_FUNCTION)',
      EXIT.usage,
    );
  }
  const oauth = (options.oauthFunction ?? context.io.env.AIRLOCK_OAUTH_FUNCTION)?.trim();
  return { broker, connector, ...(oauth ? { oauth } : {}) };
}

function scopeName(workflow: string | undefined): string {
  return workflow === undefined ? 'global' : `workflow "${workflow}"`;
}
