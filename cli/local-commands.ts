import type { Command } from 'commander';
import { PolicyValidationError } from '../lambdas/core/policy-validation-error';
import { ConfigError } from '../lib/config/load-config';
import { CLI_ENV } from '../lib/contracts/environment';
import { CertificateAuthorityError, LocalCertificateAuthority } from '../local/local-certificate-authority';
import { type LocalPilot, startLocalPilot } from '../local/local-pilot';
import { type CliContext, CliError, EXIT } from './cli-context';
import { configuredLocalPort, DEFAULT_LOCAL_PORT } from './cli-target';

/** `airlock local` (what `npm start` runs) and `airlock certs issue <name>`. */
export function registerLocalCommands(program: Command, context: CliContext): void {
  program
    .command('local')
    .description('Run the whole pilot locally over mutual TLS (no AWS account needed).')
    .option('--port <port>', `port on 127.0.0.1 (default: $${CLI_ENV.port} or ${DEFAULT_LOCAL_PORT})`)
    .action(async (options: { port?: string }) => {
      const port = configuredLocalPort(context, options.port) ?? DEFAULT_LOCAL_PORT;
      const config = context.loadConfig();
      let pilot: LocalPilot;
      try {
        context.progress(`Starting the local pilot in ${context.home} ...`);
        pilot = await startLocalPilot({
          home: context.home,
          port,
          config,
          log: (line) => context.io.stderr.write(`${line}\n`),
          // Ready means ready: a first query, or \`airlock doctor\`, finds the databases up.
          startDatabases: true,
        });
      } catch (error) {
        throw startFailure(error, port);
      }
      const display = (path: string) => context.displayPath(path);
      const alice = Object.keys(config.principals)[0];
      const workflow = Object.keys(config.workflows)[0];
      const files = alice ? pilot.certificates.client(alice) : undefined;
      const body = JSON.stringify({
        workflow,
        scopes: scopesOf(pilot, workflow),
        durationMinutes: 15,
      });
      const curl = files
        ? `curl --cacert ${display(pilot.certificates.ca)} --cert ${display(files.cert)} --key ${display(files.key)} -H 'content-type: application/json' -d '${body}' ${pilot.url}/v1/credentials`
        : '';
      context.result(
        [
          `Airlock local pilot listening on ${pilot.url} (mutual TLS; stage "${config.stage}")`,
          `State:        ${display(pilot.home)}`,
          `CA:           ${display(pilot.certificates.ca)}`,
          `Certificates: ${Object.keys(config.principals)
            .map((p) => display(pilot.certificates.client(p).cert))
            .join(', ')} (keys beside them, *.key.pem)`,
          `Sample ERP:   ${pilot.sampleErp.url}`,
          '',
          `Get a token as ${alice}:`,
          `  ${curl}`,
          '',
          'Press Ctrl-C to stop.',
        ],
        { url: pilot.url, home: pilot.home, ca: pilot.certificates.ca, curl },
      );
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          context.notice('Stopping the local pilot ...');
          void pilot.close().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });

  const certs = program.command('certs').description('Local pilot device certificates.');
  certs
    .command('issue <name>')
    .description(`Issue a device certificate and key for <name> from the local CA ($${CLI_ENV.home}/certs).`)
    .option('--days <days>', 'validity in days', '365')
    .action(async (name: string, options: { days: string }) => {
      const days = Number(options.days);
      if (!Number.isInteger(days) || days < 1 || days > 3650) {
        throw new CliError(
          `--days: expected a whole number of days from 1 to 3650, got "${options.days}"`,
          EXIT.usage,
        );
      }
      try {
        const ca = await LocalCertificateAuthority.loadOrCreate(context.home);
        const issued = await ca.issueClientCertificate(name, { days });
        const files = ca.paths.client(name);
        const known = name in context.loadConfig().principals;
        context.result(
          [
            `Issued a device certificate for "${name}" (valid until ${issued.notAfter.toISOString()}):`,
            `  certificate: ${files.cert}`,
            `  key:         ${files.key}`,
            ...(known
              ? []
              : [
                  `Note: "${name}" is not a principal in the config yet; Airlock will refuse it until it is.`,
                ]),
          ],
          { principal: name, cert: files.cert, key: files.key, notAfter: issued.notAfter.toISOString() },
        );
      } catch (error) {
        if (error instanceof CertificateAuthorityError) throw new CliError(error.message, EXIT.usage);
        throw error;
      }
    });
}

function scopesOf(pilot: LocalPilot, workflow: string | undefined): string[] {
  if (!workflow) return [];
  const scopes = new Set<string>();
  for (const [connector, operations] of Object.entries(pilot.config.workflows[workflow].connectors)) {
    for (const op of operations) {
      const access = pilot.config.connectors[connector]?.operations[op]?.access;
      if (access === 'read') scopes.add(`${connector}:${access}`);
    }
  }
  return [...scopes].sort();
}

function startFailure(error: unknown, port: number): CliError {
  if (error instanceof ConfigError)
    return new CliError(`Invalid Airlock config: ${error.message}`, EXIT.usage);
  if (error instanceof PolicyValidationError) return new CliError(error.message, EXIT.usage);
  if (error instanceof CertificateAuthorityError) return new CliError(error.message, EXIT.failed);
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'EADDRINUSE') {
    return new CliError(
      `Port ${port} is in use (is another local pilot running?). Stop it, or set ${CLI_ENV.port} to another port.`,
      EXIT.failed,
    );
  }
  return new CliError(
    `The local pilot could not start: ${(error as Error)?.message ?? String(error)}`,
    EXIT.failed,
    {
      cause: error,
    },
  );
}
