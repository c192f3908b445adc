/**
 * Where an `airlock` command acts, resolved in one place, with the same flags, help and environment
 * variables for every command:
 *
 * - `local`: the local pilot whose state is in `$AIRLOCK_HOME` (`--local`);
 * - `aws`: a deployment's resources, by the names its stack outputs (exported as the environment
 *   variables the outputs name, or one flag each), with the AWS profile's credentials and region
 *   (`--region` overrides the region);
 * - `server`: an Airlock API reached over mutual TLS with a device certificate: `--server` (default:
 *   the local pilot), and `--cert` with `--key`, or `--principal NAME` for the local CA's certificate
 *   of that principal; `--ca` for the server's CA.
 *
 * A flag wins over its environment variable. A missing or conflicting setting is a usage error
 * (exit 2) that names the flag and the variable to set.
 */
import { join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { CLI_ENV } from '../lib/contracts/environment';
import { NAME_PATTERN, NAME_RULE } from '../lib/contracts/names';
import { readPilotState } from '../local/local-state';
import { type CliContext, CliError, EXIT } from './cli-context';
import {
  DEPLOYMENT_NAMES,
  type DeploymentName,
  type DeploymentNameKey,
  flagOf,
  optionKeyOf,
} from './deployment-names';
import {
  type DeviceCertificate,
  localCertificateMissing,
  type PemSource,
  readDeviceCertificate,
} from './device-certificate';

/** The port the local pilot listens on unless `--port` or `$AIRLOCK_PORT` says otherwise. */
export const DEFAULT_LOCAL_PORT = 8443;

/** The local pilot, by its state folder. */
export interface LocalTarget {
  readonly kind: 'local';
  /** `$AIRLOCK_HOME`, else `.airlock/` in the current folder. */
  readonly home: string;
}

/** A deployment in AWS, by the names of its resources. */
export interface AwsTarget {
  readonly kind: 'aws';
  /** `--region`; without it the SDK's chain decides (`AWS_REGION`, the profile's region). */
  readonly region?: string;
  /** The names the command asked for, each from its flag or its environment variable. */
  readonly names: Readonly<Partial<Record<DeploymentNameKey, string>>>;
}

/** An Airlock API reached over mutual TLS with a device certificate. */
export interface ServerTarget extends DeviceCertificate {
  readonly kind: 'server';
  /** Base URL without a trailing slash, e.g. `https://127.0.0.1:8443`. */
  readonly url: string;
  /** True when the URL is the local pilot's (no `--server` and no `$AIRLOCK_SERVER`, or `--local`). */
  readonly localPilot: boolean;
  /** The principal of a local-CA certificate (`--principal`); unknown for `--cert`. */
  readonly principal?: string;
}

/** Where one run of a command acts. */
export type CliTarget = LocalTarget | AwsTarget | ServerTarget;

/**
 * What a command can act on, which decides the flags it takes.
 * - `state`: the local pilot's state (`--local`) or a deployment's resources in AWS (the default):
 *   `--local`, `--region`, and a flag for each of `names`.
 * - `api`: an Airlock API over mutual TLS: `--local`, `--server`, `--principal`, `--cert`, `--key`, `--ca`;
 *   with `region`, also `--region` for the AWS account the API runs in (`airlock doctor` reads both).
 */
export type TargetSpec =
  | { readonly acts: 'state'; readonly names?: readonly DeploymentNameKey[] }
  | { readonly acts: 'api'; readonly region?: boolean };

/** What one run of a `state` command needs from a deployment. */
export interface StateNeeds {
  /** Names without which the command cannot act in AWS. */
  readonly required?: readonly DeploymentNameKey[];
  /** Names it uses when set. */
  readonly optional?: readonly DeploymentNameKey[];
  /** What needs the required names, for the message: `hard mode`. @default - "<name> is not set" */
  readonly requiredFor?: string;
}

/** What one run of an `api` command needs. */
export interface ApiNeeds {
  /**
   * The local pilot must have announced itself (`$AIRLOCK_HOME/pilot.json`) when it is the server:
   * for one-shot requests. A long-running client (the bridge) waits for the pilot instead.
   */
  readonly requireRunningPilot?: boolean;
}

/** The target flags as commander parses them (deployment-name flags by their camel-case key). */
export interface TargetOptions {
  readonly local?: boolean;
  readonly region?: string;
  readonly server?: string;
  readonly principal?: string;
  /** Deprecated alias of {@link principal}. */
  readonly as?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
}

const LOCAL_HELP = `act on the local pilot whose state is in $${CLI_ENV.home} (default: .airlock)`;
const REGION_HELP = 'AWS region of the deployment (default: $AWS_REGION, else your AWS profile’s)';
const AWS_REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
/** Server-target settings that name a deployment or a certificate file, each with its variable. */
const SERVER_SETTINGS = {
  server: { flag: '--server', variable: CLI_ENV.server },
  cert: { flag: '--cert', variable: CLI_ENV.cert },
  key: { flag: '--key', variable: CLI_ENV.key },
  ca: { flag: '--ca', variable: CLI_ENV.ca },
  principal: { flag: '--principal', variable: CLI_ENV.principal },
} as const;

/**
 * Adds the target flags of `spec` to `command`, with the same names, help text and defaults as on
 * every other command.
 */
export function addTargetOptions(command: Command, spec: TargetSpec): Command {
  command.option('--local', LOCAL_HELP);
  if (spec.acts === 'state') {
    command.option('--region <region>', REGION_HELP);
    for (const key of spec.names ?? []) {
      const name: DeploymentName = DEPLOYMENT_NAMES[key];
      command.option(name.flag, `${name.help} (default: $${name.variable}, stack output ${name.output})`);
    }
    return command;
  }
  command
    .option(
      '--server <url>',
      `Airlock API URL, reached over mutual TLS (default: $${CLI_ENV.server}, else the local pilot)`,
    )
    .option(
      '--principal <name>',
      `present the local CA's device certificate of this principal, from $${CLI_ENV.home}/certs (default: $${CLI_ENV.principal})`,
    )
    .addOption(
      // Kept so scripts written for the first approvals commands still run; README and help name --principal.
      new Option('--as <principal>', 'deprecated: use --principal').hideHelp(),
    )
    .option('--cert <file>', `your device certificate, PEM (default: $${CLI_ENV.cert})`)
    .option('--key <file>', `the device certificate's private key, PEM (default: $${CLI_ENV.key})`)
    .option(
      '--ca <file>',
      `CA of the server's certificate, PEM (default: $${CLI_ENV.ca}; for the local pilot or a loopback URL, $${CLI_ENV.home}/certs/ca.pem; else the system's)`,
    );
  return spec.region ? command.option('--region <region>', REGION_HELP) : command;
}

/** Resolves where a `state` command acts. */
export function resolveTarget(
  context: CliContext,
  options: TargetOptions,
  spec: TargetSpec & { acts: 'state' },
  needs?: StateNeeds,
): Promise<LocalTarget | AwsTarget>;
/** Resolves the API an `api` command talks to, and reads and checks the device certificate. */
export function resolveTarget(
  context: CliContext,
  options: TargetOptions,
  spec: TargetSpec & { acts: 'api' },
  needs?: ApiNeeds,
): Promise<ServerTarget>;
/**
 * Resolves where a command acts from its flags and the environment.
 * @throws CliError (usage) naming the flag or variable that is missing, malformed or in conflict.
 */
export async function resolveTarget(
  context: CliContext,
  options: TargetOptions,
  spec: TargetSpec,
  needs: StateNeeds | ApiNeeds = {},
): Promise<CliTarget> {
  if (spec.acts === 'api') return resolveServerTarget(context, options, needs as ApiNeeds);
  return resolveStateTarget(context, options, spec.names ?? [], needs as StateNeeds);
}

function resolveStateTarget(
  context: CliContext,
  options: TargetOptions,
  declared: readonly DeploymentNameKey[],
  needs: StateNeeds,
): LocalTarget | AwsTarget {
  const flags = options as Record<string, unknown>;
  if (options.local) {
    const given = [
      ...(options.region === undefined ? [] : ['--region']),
      ...declared
        .map((key) => DEPLOYMENT_NAMES[key])
        .flatMap((name) => (flags[optionKeyOf(name)] === undefined ? [] : [flagOf(name)])),
    ];
    if (given.length > 0) {
      throw new CliError(
        `${given.join(' and ')} ${given.length === 1 ? 'names' : 'name'} an AWS resource; drop ${given.length === 1 ? 'it' : 'them'} or drop --local (the local pilot has its own)`,
        EXIT.usage,
      );
    }
    return { kind: 'local', home: context.home };
  }

  const region = options.region?.trim();
  if (region !== undefined && !AWS_REGION_PATTERN.test(region)) {
    throw new CliError(
      `--region: "${options.region}" is not an AWS region; use e.g. eu-west-1 (or drop it for your AWS profile's region)`,
      EXIT.usage,
    );
  }
  const env = context.io.env;
  const nameOf = (key: DeploymentNameKey): string | undefined => {
    const name = DEPLOYMENT_NAMES[key];
    const flag = declared.includes(key) ? flags[optionKeyOf(name)] : undefined;
    const value = (typeof flag === 'string' ? flag : env[name.variable])?.trim();
    return value === '' ? undefined : value;
  };
  const names: Partial<Record<DeploymentNameKey, string>> = {};
  const missing: DeploymentName[] = [];
  for (const key of needs.required ?? []) {
    const value = nameOf(key);
    if (value === undefined) missing.push(DEPLOYMENT_NAMES[key]);
    else names[key] = value;
  }
  if (missing.length > 0) throw missingNames(missing, needs.requiredFor);
  for (const key of needs.optional ?? []) {
    const value = nameOf(key);
    if (value !== undefined) names[key] = value;
  }
  return { kind: 'aws', ...(region ? { region } : {}), names };
}

/**
 * One clause per missing name, each naming its flag, variable and stack output:
 * `the audit table is not set: pass --table <name> or set <variable> (stack output AuditTableName)`.
 */
function missingNames(missing: readonly DeploymentName[], requiredFor: string | undefined): CliError {
  const clauses = missing.map(
    (name) =>
      `${requiredFor ? `${requiredFor} needs ${name.what}` : `${name.what} is not set`}: pass ${name.flag} or set ${name.variable} (stack output ${name.output})`,
  );
  const local = requiredFor ? '' : ', or use --local for the local pilot';
  return new CliError(`${clauses.join('; ')}${local}`, EXIT.usage);
}

/** A setting and where it came from: the flag, or the variable the operator exported. */
interface Setting {
  readonly value: string;
  readonly setBy: string;
}

/** A server setting: its flag when given, else its variable when set (blank is unset). */
type SettingOf = (key: keyof typeof SERVER_SETTINGS, flag?: string) => Setting | undefined;

/** Which device certificate to present: the local CA's of a principal, or files. */
type Credentials = { readonly principal: Setting } | { readonly cert: Setting; readonly key: Setting };

async function resolveServerTarget(
  context: CliContext,
  options: TargetOptions,
  needs: ApiNeeds,
): Promise<ServerTarget> {
  const env = context.io.env;
  const settingOf: SettingOf = (key, flag) => {
    const setting = SERVER_SETTINGS[key];
    if (flag !== undefined) return { value: flag.trim(), setBy: setting.flag };
    const value = env[setting.variable]?.trim();
    return value ? { value, setBy: setting.variable } : undefined;
  };
  if (options.local && options.server !== undefined) {
    throw new CliError(
      "--server names a deployment's API; drop it or drop --local (the local pilot's URL is known)",
      EXIT.usage,
    );
  }
  const credentials = credentialsOf(context, options, settingOf);

  // Where: --server, else $AIRLOCK_SERVER, else the local pilot.
  const home = context.home;
  const server = options.local ? undefined : settingOf('server', options.server);
  const url = server ? parseServerUrl(server) : await localPilotUrl(context, needs);
  const localPilot = server === undefined;

  // The server's CA: --ca, else $AIRLOCK_CA, else the local CA for the pilot (or any loopback URL).
  const caSetting = settingOf('ca', options.ca);
  const certs = join(home, 'certs');
  let ca: PemSource | undefined;
  if (caSetting) {
    ca = {
      file: resolve(context.io.cwd, caSetting.value),
      setBy: caSetting.setBy,
      what: 'CA certificate',
      whenMissing: `name the CA of the server's certificate (PEM)`,
    };
  } else if (localPilot || isLoopback(url)) {
    ca = {
      file: join(certs, 'ca.pem'),
      setBy: 'the local CA',
      what: 'CA certificate',
      whenMissing: `start the local pilot once (npm start) to create it, set ${CLI_ENV.home} to its folder, or pass --ca`,
    };
  }

  const device = await readDeviceCertificate(
    'principal' in credentials
      ? {
          cert: principalPem(certs, credentials.principal, 'cert'),
          key: principalPem(certs, credentials.principal, 'key'),
          ca,
        }
      : {
          cert: filePem(context, credentials.cert, 'device certificate'),
          key: filePem(context, credentials.key, 'private key'),
          ca,
        },
  );
  return {
    kind: 'server',
    url,
    localPilot,
    ...('principal' in credentials ? { principal: credentials.principal.value } : {}),
    ...device,
  };
}

/**
 * `--principal` or `--cert` with `--key`; without either flag, the same from the variables. A flag of
 * either kind wins over every variable; two kinds at the same level are a conflict.
 */
function credentialsOf(context: CliContext, options: TargetOptions, settingOf: SettingOf): Credentials {
  const principalFlag = principalFlagOf(context, options);
  const fileFlags = options.cert !== undefined || options.key !== undefined;
  if (principalFlag && fileFlags) {
    throw new CliError(
      `${principalFlag.setBy} and --cert/--key both say which device certificate to use; pass one of them`,
      EXIT.usage,
    );
  }
  const principal = principalFlag ?? (fileFlags ? undefined : settingOf('principal'));
  const cert = settingOf('cert', options.cert);
  const key = settingOf('key', options.key);
  if (principal) {
    if (!principalFlag && (cert || key)) {
      throw new CliError(
        `${CLI_ENV.principal} and ${CLI_ENV.cert}/${CLI_ENV.key} both say which device certificate to use; unset one of them, or pass --principal or --cert and --key`,
        EXIT.usage,
      );
    }
    if (!NAME_PATTERN.test(principal.value)) {
      throw new CliError(
        `${principal.setBy}: "${principal.value}" is not a principal name (${NAME_RULE})`,
        EXIT.usage,
      );
    }
    return { principal };
  }
  if (!cert && !key) {
    throw new CliError(
      `say which device certificate to use: --local --principal <name> (the local pilot), or --server URL --cert FILE --key FILE (a deployment); or set ${CLI_ENV.principal}, or ${CLI_ENV.server}, ${CLI_ENV.cert} and ${CLI_ENV.key}`,
      EXIT.usage,
    );
  }
  if (!cert || !key) {
    const absent = SERVER_SETTINGS[cert ? 'key' : 'cert'];
    throw new CliError(
      `${cert ? 'the private key of the device certificate' : 'the device certificate'} is missing: pass ${absent.flag} FILE or set ${absent.variable}`,
      EXIT.usage,
    );
  }
  return { cert, key };
}

/** `--principal`, or its deprecated alias `--as` (with a notice), or nothing. */
function principalFlagOf(context: CliContext, options: TargetOptions): Setting | undefined {
  if (options.as !== undefined) {
    if (options.principal !== undefined && options.principal !== options.as) {
      throw new CliError('--as is the old name of --principal; pass --principal alone', EXIT.usage);
    }
    context.notice('airlock: --as is deprecated; use --principal (same meaning)');
    if (options.principal === undefined) return { value: options.as.trim(), setBy: '--as' };
  }
  return options.principal === undefined
    ? undefined
    : { value: options.principal.trim(), setBy: '--principal' };
}

function principalPem(certs: string, principal: Setting, part: 'cert' | 'key'): PemSource {
  return {
    file: join(certs, part === 'cert' ? `${principal.value}.pem` : `${principal.value}.key.pem`),
    setBy: `${principal.setBy} ${principal.value}`,
    what: part === 'cert' ? 'device certificate' : 'device certificate key',
    whenMissing: localCertificateMissing(principal.value),
  };
}

function filePem(context: CliContext, setting: Setting, what: string): PemSource {
  return {
    file: resolve(context.io.cwd, setting.value),
    setBy: setting.setBy,
    what,
    whenMissing: `name your ${what} (PEM) with ${setting.setBy}`,
  };
}

/** The URL of `--server` or `$AIRLOCK_SERVER`, without a trailing slash; https only (mutual TLS). */
function parseServerUrl(setting: Setting): string {
  let url: URL;
  try {
    url = new URL(setting.value);
  } catch {
    throw new CliError(
      `${setting.setBy}: "${setting.value}" is not a URL; use e.g. https://airlock.example.com`,
      EXIT.usage,
    );
  }
  if (url.protocol !== 'https:') {
    throw new CliError(
      `${setting.setBy}: Airlock is reached over mutual TLS, so the URL must start with https:// (got ${setting.value})`,
      EXIT.usage,
    );
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/**
 * The local pilot's URL: `$AIRLOCK_PORT` when set (the port it was told to use), else the URL the
 * running pilot announced in `pilot.json`, else the default port.
 */
async function localPilotUrl(context: CliContext, needs: ApiNeeds): Promise<string> {
  const home = context.home;
  const pilot = await readPilotState(home);
  if (needs.requireRunningPilot && !pilot) {
    throw new CliError(
      `the local pilot in ${home} is not running: start it with \`npm start\` (or set ${CLI_ENV.home} to its folder)`,
      EXIT.failed,
    );
  }
  const port = configuredLocalPort(context);
  if (port !== undefined && port !== 0) return `https://127.0.0.1:${port}`;
  return pilot?.url ?? `https://127.0.0.1:${DEFAULT_LOCAL_PORT}`;
}

/**
 * The local pilot's port from `--port` (the `local` command) or `$AIRLOCK_PORT`; 0 asks for any free
 * port. `undefined` when neither is set.
 * @throws CliError (usage) naming the flag or the variable of a value that is not a port.
 */
export function configuredLocalPort(context: CliContext, flag?: string): number | undefined {
  const value = flag ?? context.io.env[CLI_ENV.port];
  if (value === undefined || value.trim() === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliError(
      `${flag === undefined ? CLI_ENV.port : '--port'}: expected a port number from 0 to 65535, got "${value}"`,
      EXIT.usage,
    );
  }
  return port;
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
}
