/**
 * What one `airlock doctor` run checks, from its flags and the environment, with every mistake a
 * usage error (exit 2) before anything is sent. Where doctor connects is the same target every
 * command resolves (cli-target.ts): `--local`, or `--server` with `--cert`/`--key` (or
 * `--principal`), `--ca`, and `--region` for the deployment's AWS account.
 */
import { X509Certificate } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { AirlockConfig } from '../../lib/config/schema';
import { CLI_ENV } from '../../lib/contracts/environment';
import { NAME_PATTERN, NAME_RULE } from '../../lib/contracts/names';
import { type PilotState, readPilotState } from '../../local/local-state';
import { type CliContext, CliError, EXIT } from '../cli-context';
import {
  type AwsTarget,
  type LocalTarget,
  resolveTarget,
  type ServerTarget,
  type TargetOptions,
} from '../cli-target';
import { localCertificateMissing, type PemSource, readDeviceCertificate } from '../device-certificate';
import type { ApprovalCall } from './round-trips';

/** The flags of `airlock doctor` as commander parses them. */
export interface DoctorOptions extends TargetOptions {
  /** Deprecated alias of `--server`. */
  readonly url?: string;
  readonly workflow?: string;
  /** `<connector>/<operation>` of the write to hold. */
  readonly approvals?: string;
  readonly approvalArguments?: string;
  readonly approver?: string;
  readonly approverCert?: string;
  readonly approverKey?: string;
  readonly killSwitch?: boolean;
}

/** Who approves in the approvals round trip: a principal of the local CA, certificate files, or whoever the approval's group has locally. */
export type ApproverSpec =
  | { readonly kind: 'principal'; readonly principal: string }
  | { readonly kind: 'files'; readonly cert: string; readonly key: string }
  | { readonly kind: 'group-member' };

/** One run, resolved. */
export type DoctorPlan =
  | { readonly kind: 'pilot-stopped'; readonly home: string }
  | {
      readonly kind: 'run';
      readonly place: LocalTarget | AwsTarget;
      readonly server: ServerTarget;
      /** The requester: from --principal, else the certificate's CN. */
      readonly principal?: string;
      readonly workflow: string;
      readonly approvals?: { readonly call: ApprovalCall; readonly approver: ApproverSpec };
      readonly killSwitch: boolean;
    };

export async function planDoctor(
  context: CliContext,
  config: AirlockConfig,
  given: DoctorOptions,
): Promise<DoctorPlan> {
  let options = given;
  if (options.url !== undefined) {
    if (options.server !== undefined && options.server !== options.url) {
      throw new CliError('--url is the old name of --server; pass --server alone', EXIT.usage);
    }
    context.notice('airlock: --url is deprecated; use --server (same meaning)');
    options = { ...options, server: options.url };
  }
  const place = await resolveTarget(context, options, { acts: 'state' });
  if (place.kind === 'local' && options.server !== undefined) {
    throw new CliError(
      `${given.url === undefined ? '--server' : '--url'} names a deployment's API; drop it or drop --local (the local pilot's URL is known)`,
      EXIT.usage,
    );
  }
  checkRoundTripFlags(options, place.kind === 'local');
  const env = context.io.env;
  if (place.kind === 'aws' && options.server === undefined && !env[CLI_ENV.server]?.trim()) {
    throw new CliError(
      `doctor checks a deployment through its API: pass --server https://<domain.name> (the ApiUrl output) with --cert and --key of a device certificate (or set ${CLI_ENV.server}, ${CLI_ENV.cert}, ${CLI_ENV.key}); or --local for the local pilot`,
      EXIT.usage,
    );
  }
  if (place.kind === 'local' && !(await runningPilot(context.home))) {
    return { kind: 'pilot-stopped', home: context.home };
  }
  const principalGiven =
    options.principal !== undefined ||
    options.as !== undefined ||
    options.cert !== undefined ||
    options.key !== undefined ||
    Boolean(env[CLI_ENV.principal]?.trim() || env[CLI_ENV.cert]?.trim() || env[CLI_ENV.key]?.trim());
  // Locally, doctor acts as the first principal who may run a workflow, as the pilot issued a certificate to each.
  const fallback = place.kind === 'local' && !principalGiven ? firstRunner(config) : undefined;
  const server = await resolveTarget(context, fallback ? { ...options, principal: fallback } : options, {
    acts: 'api',
  });
  const principal = server.principal ?? commonNameOf(server.cert);
  const workflow = workflowOf(config, options.workflow, principal);
  const approvals = options.approvals
    ? { call: approvalCall(config, workflow, options), approver: approverOf(options, place.kind === 'local') }
    : undefined;
  return {
    kind: 'run',
    place,
    server,
    ...(principal ? { principal } : {}),
    workflow,
    ...(approvals ? { approvals } : {}),
    killSwitch: Boolean(options.killSwitch),
  };
}

/** The pilot announced in `home` and still alive, or undefined. */
export async function runningPilot(home: string): Promise<PilotState | undefined> {
  const pilot = await readPilotState(home);
  if (!pilot) return undefined;
  try {
    process.kill(pilot.pid, 0);
    return pilot;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pilot : undefined;
  }
}

function checkRoundTripFlags(options: DoctorOptions, local: boolean): void {
  const approverFlags = (['approvalArguments', 'approver', 'approverCert', 'approverKey'] as const).filter(
    (flag) => options[flag] !== undefined,
  );
  if (!options.approvals && approverFlags.length > 0) {
    throw new CliError(
      `${approverFlags.map(flagName).join(' and ')} ${approverFlags.length === 1 ? 'belongs' : 'belong'} to the approvals round trip: add --approvals <connector/operation>`,
      EXIT.usage,
    );
  }
  if (!options.approvals) return;
  if (
    options.approver !== undefined &&
    (options.approverCert !== undefined || options.approverKey !== undefined)
  ) {
    throw new CliError(
      '--approver and --approver-cert/--approver-key both name the approver; pass one of them',
      EXIT.usage,
    );
  }
  if (!local && options.approver !== undefined) {
    throw new CliError(
      "--approver names a principal of the local CA; for a deployment pass --approver-cert and --approver-key (the approver's device certificate)",
      EXIT.usage,
    );
  }
  if ((options.approverCert === undefined) !== (options.approverKey === undefined)) {
    throw new CliError(
      `${options.approverCert === undefined ? '--approver-cert' : '--approver-key'} is missing: the approver's device certificate needs both --approver-cert and --approver-key`,
      EXIT.usage,
    );
  }
  if (!local && options.approverCert === undefined) {
    throw new CliError(
      '--approvals needs an approver: pass --approver-cert and --approver-key (a device certificate of a member of the approving group, e.g. managers)',
      EXIT.usage,
    );
  }
}

function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function approverOf(options: DoctorOptions, local: boolean): ApproverSpec {
  if (options.approver !== undefined) {
    const principal = options.approver.trim();
    if (!NAME_PATTERN.test(principal)) {
      throw new CliError(`--approver: "${principal}" is not a principal name (${NAME_RULE})`, EXIT.usage);
    }
    return { kind: 'principal', principal };
  }
  if (options.approverCert !== undefined && options.approverKey !== undefined) {
    return { kind: 'files', cert: options.approverCert, key: options.approverKey };
  }
  if (!local) throw new Error('checkRoundTripFlags lets no deployment run without approver files');
  return { kind: 'group-member' };
}

function approvalCall(config: AirlockConfig, workflow: string, options: DoctorOptions): ApprovalCall {
  const value = options.approvals ?? '';
  const [connector, operation, ...rest] = value.split('/');
  const definition = config.connectors[connector]?.operations[operation];
  if (!connector || !operation || rest.length > 0 || !definition) {
    const writes = Object.entries(config.connectors).flatMap(([c, k]) =>
      Object.entries(k.operations)
        .filter(([, op]) => op.access === 'write')
        .map(([op]) => `${c}/${op}`),
    );
    throw new CliError(
      `--approvals: "${value}" is not an operation of the config; give <connector>/<operation> of a write, e.g. ${writes[0] ?? 'erp/createJournalEntry'}`,
      EXIT.usage,
    );
  }
  if (definition.access !== 'write') {
    throw new CliError(
      `--approvals: ${value} is a ${definition.access}; the round trip holds a write`,
      EXIT.usage,
    );
  }
  if (!config.workflows[workflow]?.connectors[connector]?.includes(operation)) {
    throw new CliError(
      `--approvals: workflow ${workflow} may not call ${value}; pass --workflow of one that may`,
      EXIT.usage,
    );
  }
  if (options.approvalArguments === undefined) {
    throw new CliError(
      `--approvals needs --approval-arguments '<json>': the arguments of a ${value} call the policy holds for approval (above the workflow's threshold). It runs for real once approved`,
      EXIT.usage,
    );
  }
  let args: unknown;
  try {
    args = JSON.parse(options.approvalArguments);
  } catch (error) {
    throw new CliError(`--approval-arguments: not JSON (${(error as Error).message})`, EXIT.usage);
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw new CliError(
      '--approval-arguments: expected a JSON object of the operation’s parameters',
      EXIT.usage,
    );
  }
  return { connector, operation, arguments: args as Record<string, unknown> };
}

function workflowOf(config: AirlockConfig, given: string | undefined, principal: string | undefined): string {
  if (given !== undefined) {
    if (!config.workflows[given]) {
      throw new CliError(
        `--workflow: no workflow "${given}" in the config; use one of: ${Object.keys(config.workflows).join(', ')}`,
        EXIT.usage,
      );
    }
    return given;
  }
  const groups = principal ? config.principals[principal]?.groups : undefined;
  const found = Object.entries(config.workflows).find(
    ([, w]) => !groups || w.groups.some((g) => groups.includes(g)),
  );
  if (!found) {
    throw new CliError(
      `no workflow of the config may be run by ${principal ?? 'this certificate'}; pass --workflow, or a device certificate of a principal in a workflow's groups`,
      EXIT.usage,
    );
  }
  return found[0];
}

/** The first principal of the config in a group of some workflow. */
function firstRunner(config: AirlockConfig): string | undefined {
  const groups = new Set(Object.values(config.workflows).flatMap((w) => w.groups));
  return Object.entries(config.principals).find(([, p]) => p.groups.some((g) => groups.has(g)))?.[0];
}

function commonNameOf(pem: string): string | undefined {
  try {
    return /(?:^|\n)CN=([^\n]+)/.exec(new X509Certificate(pem).subject)?.[1];
  } catch {
    return undefined;
  }
}

/** Reads the approver's device certificate: files, or a principal's from the local CA. */
export async function approverCertificate(
  context: CliContext,
  server: ServerTarget,
  approver: { kind: 'principal'; principal: string } | { kind: 'files'; cert: string; key: string },
): Promise<ServerTarget> {
  const sources: { cert: PemSource; key: PemSource } =
    approver.kind === 'principal'
      ? {
          cert: localPem(context, approver.principal, 'cert'),
          key: localPem(context, approver.principal, 'key'),
        }
      : {
          cert: {
            file: resolve(context.io.cwd, approver.cert),
            setBy: '--approver-cert',
            what: 'device certificate',
            whenMissing: "name the approver's device certificate (PEM)",
          },
          key: {
            file: resolve(context.io.cwd, approver.key),
            setBy: '--approver-key',
            what: 'private key',
            whenMissing: "name the approver's private key (PEM)",
          },
        };
  const device = await readDeviceCertificate(sources);
  return {
    ...server,
    cert: device.cert,
    key: device.key,
    certFile: device.certFile,
    ...(approver.kind === 'principal' ? { principal: approver.principal } : { principal: undefined }),
  };
}

function localPem(context: CliContext, principal: string, part: 'cert' | 'key'): PemSource {
  return {
    file: join(context.home, 'certs', part === 'cert' ? `${principal}.pem` : `${principal}.key.pem`),
    setBy: `--approver ${principal}`,
    what: part === 'cert' ? 'device certificate' : 'device certificate key',
    whenMissing: localCertificateMissing(principal),
  };
}
