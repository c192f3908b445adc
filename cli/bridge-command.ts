/**
 * `airlock bridge`: the desktop side of Airlock. A stdio MCP server that a desktop assistant (Claude
 * Desktop, Claude Code) starts as a local command; it holds the device certificate, gets a short-lived
 * token from `POST /v1/credentials` over mutual TLS, and forwards `tools/list` and `tools/call` to
 * Airlock's `POST /v1/mcp` (see `bridge/bridge-server.ts`).
 *
 * This file is the command: its flags, and turning them into {@link BridgeOptions}, with every
 * problem (a missing certificate, an expired one, an unknown workflow) named before anything is sent.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { workflowScopes } from '../lambdas/core/credential-request';
import { ConfigError } from '../lib/config/load-config';
import { PRINCIPAL_NAME_PATTERN } from '../local/local-certificate-authority';
import type { BridgeOptions } from './bridge/bridge-options';
import { runBridge } from './bridge/bridge-server';
import { type CliContext, CliError, EXIT } from './cli-context';

const DEFAULT_LOCAL_PORT = 8443;
const DEFAULT_DURATION_MINUTES = 60;

interface BridgeCommandFlags {
  readonly workflow: string;
  readonly server?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
  readonly principal?: string;
  readonly scopes?: string[];
  readonly durationMinutes?: number;
}

/** Registers `airlock bridge`. */
export function registerBridgeCommand(program: Command, context: CliContext): void {
  program
    .command('bridge')
    .description(
      'Serve Airlock to a desktop assistant as a stdio MCP server (stdout is the MCP channel; messages go to stderr).',
    )
    .requiredOption('--workflow <name>', 'the workflow the assistant works for, e.g. expense-summary')
    .option('--server <url>', 'Airlock base URL (default: https://127.0.0.1:$AIRLOCK_PORT, port 8443)')
    .option(
      '--principal <name>',
      'use the local pilot device certificate of this principal from $AIRLOCK_HOME/certs',
    )
    .option('--cert <file>', 'device certificate (PEM)')
    .option('--key <file>', "device certificate's private key (PEM)")
    .option(
      '--ca <file>',
      "CA of the server's certificate (PEM; default for the local pilot: $AIRLOCK_HOME/certs/ca.pem)",
    )
    .option(
      '--scopes <list>',
      'comma-separated scopes (default: every scope the workflow allows)',
      parseScopes,
    )
    .option('--duration-minutes <n>', "token lifetime (default: the workflow's maximum)", parseMinutes)
    .action(async (flags: BridgeCommandFlags) => {
      const options = resolveBridgeOptions(flags, context);
      await runBridge(options, {
        stdin: context.stdin,
        stdout: context.io.stdout,
        stderr: context.io.stderr,
      });
    });
}

function parseScopes(value: string): string[] {
  const scopes = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (scopes.length === 0) throw new InvalidArgumentError('expected scopes such as receipts:read,erp:read');
  return scopes;
}

function parseMinutes(value: string): number {
  const minutes = Number(value);
  if (!Number.isInteger(minutes) || minutes < 1)
    throw new InvalidArgumentError('expected a whole number of minutes, 1 or more');
  return minutes;
}

/** Turns the flags into {@link BridgeOptions}; every problem is a usage error naming what to fix. */
function resolveBridgeOptions(flags: BridgeCommandFlags, context: CliContext): BridgeOptions {
  const env = context.io.env;
  const server = (flags.server ?? `https://127.0.0.1:${env.AIRLOCK_PORT || DEFAULT_LOCAL_PORT}`).replace(
    /\/+$/,
    '',
  );
  let serverUrl: URL;
  try {
    serverUrl = new URL(server);
  } catch {
    throw new CliError(
      `--server: "${server}" is not a URL; use e.g. https://airlock.example.com.`,
      EXIT.usage,
    );
  }
  if (serverUrl.protocol !== 'https:') {
    throw new CliError(
      `--server: Airlock is reached over mutual TLS, so the URL must start with https:// (got ${server}).`,
      EXIT.usage,
    );
  }

  const certsDir = join(context.home, 'certs');
  if (flags.principal !== undefined && !PRINCIPAL_NAME_PATTERN.test(flags.principal)) {
    throw new CliError(
      `--principal: "${flags.principal}" is not a principal name (lower-case letters, digits, dashes).`,
      EXIT.usage,
    );
  }
  const certPath = flags.cert ?? (flags.principal ? join(certsDir, `${flags.principal}.pem`) : undefined);
  const keyPath = flags.key ?? (flags.principal ? join(certsDir, `${flags.principal}.key.pem`) : undefined);
  if (!certPath || !keyPath) {
    throw new CliError(
      'Say which device certificate to use: --principal <name> for the local pilot, or --cert <file> --key <file>.',
      EXIT.usage,
    );
  }
  const isLoopback =
    ['127.0.0.1', 'localhost', '[::1]'].includes(serverUrl.hostname) || serverUrl.hostname.startsWith('127.');
  const caPath = flags.ca ?? (isLoopback ? join(certsDir, 'ca.pem') : undefined);
  const cert = readPem(context, certPath, 'device certificate', '--cert');
  const key = readPem(context, keyPath, 'private key', '--key');
  const ca = caPath ? readPem(context, caPath, 'CA certificate', '--ca') : undefined;
  checkCertificate(cert, key, resolve(context.io.cwd, certPath));

  let scopes = flags.scopes;
  let durationMinutes = flags.durationMinutes;
  if (!scopes || durationMinutes === undefined) {
    const config = loadConfigFor(context, flags.workflow, Boolean(scopes));
    const workflow = config?.workflows[flags.workflow];
    if (config && !workflow) {
      throw new CliError(
        `--workflow: "${flags.workflow}" is not a workflow of ${context.configPath}; workflows: ${Object.keys(config.workflows).join(', ')}.`,
        EXIT.usage,
      );
    }
    scopes ??= config ? [...workflowScopes(config, flags.workflow)].sort() : [];
    durationMinutes ??= workflow?.maxTokenLifetimeMinutes ?? DEFAULT_DURATION_MINUTES;
  }
  return { workflow: flags.workflow, server, cert, key, ca, scopes, durationMinutes };
}

function loadConfigFor(context: CliContext, workflow: string, optional: boolean) {
  try {
    return context.loadConfig();
  } catch (error) {
    if (optional) return undefined;
    const why = error instanceof CliError ? error.message : (error as Error).message;
    throw new CliError(
      `Cannot find the scopes of workflow "${workflow}" (${why}). Pass --scopes, e.g. receipts:read,erp:read, or point --config / AIRLOCK_CONFIG at the pilot config.`,
      EXIT.usage,
      { cause: error instanceof ConfigError ? error : undefined },
    );
  }
}

function readPem(context: CliContext, path: string, what: string, flag: string): string {
  const file = resolve(context.io.cwd, path);
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint =
      code === 'ENOENT'
        ? `no such file. Start the local pilot once (npm start) to create the local certificates, set AIRLOCK_HOME to its state folder, or pass ${flag}.`
        : `${code ?? 'unreadable'}; check the file's permissions.`;
    throw new CliError(`Cannot read the ${what} ${file}: ${hint}`, EXIT.usage);
  }
}

/** Checked before anything is sent, so an expired certificate is named as such and not as a TLS alert. */
function checkCertificate(certPem: string, keyPem: string, file: string, now = new Date()): void {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certPem);
  } catch {
    throw new CliError(
      `${file} is not a PEM certificate; pass the device certificate with --cert.`,
      EXIT.usage,
    );
  }
  const notAfter = new Date(certificate.validTo);
  const notBefore = new Date(certificate.validFrom);
  if (notAfter.getTime() <= now.getTime()) {
    throw new CliError(
      `Your device certificate ${file} expired on ${notAfter.toISOString()} (notAfter). Ask IT/security for a new one; for the local pilot, restart it (npm start) and it issues a new one.`,
      EXIT.failed,
    );
  }
  if (notBefore.getTime() > now.getTime()) {
    throw new CliError(
      `Your device certificate ${file} is not valid before ${notBefore.toISOString()} (notBefore); check this computer's clock.`,
      EXIT.failed,
    );
  }
  let matches = false;
  try {
    matches = certificate.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    throw new CliError(
      'The private key file is not a PEM private key; pass the key of the device certificate with --key.',
      EXIT.usage,
    );
  }
  if (!matches) {
    throw new CliError(
      `The private key does not belong to the certificate ${file}; pass the matching --cert and --key.`,
      EXIT.usage,
    );
  }
}
