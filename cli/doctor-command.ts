/**
 * `airlock doctor`: the checks a platform team runs after `cdk deploy` (or against the local pilot
 * with `--local`). Each check is named, passes, fails with what to fix, or is skipped with what it
 * would need; the command exits 1 when any check fails.
 */
import { createPublicKey, type KeyObject, webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { KMSClient } from '@aws-sdk/client-kms';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { Command } from 'commander';
import { jwtVerify } from 'jose';
import { KmsTokenSigner } from '../lambdas/adapters/aws/kms-token-signer';
import { TOKEN_SIGNING_KEY_FILE } from '../lambdas/adapters/local/local-token-signer';
import type { AirlockConfig, ParameterConfig } from '../lib/config/schema';
import { LAMBDA_MINIMUM_UNRESERVED } from '../lib/config/schema';
import { CLI_ENV, FUNCTION_ENV } from '../lib/contracts/environment';
import { readPilotState } from '../local/local-state';
import { type CliContext, CliError, type CliIo, describeFailure, EXIT } from './cli-context';
import { addTargetOptions } from './cli-target';

/** The outcome of one check. */
export interface DoctorCheck {
  /** Stable name, e.g. `tls-refuses-anonymous` or `connector-read:receipts`. */
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'skip';
  /** What was observed. */
  readonly detail: string;
  /** What to do about a failure (or what a skipped check needs). */
  readonly fix?: string;
}

interface DoctorOptions {
  readonly local?: boolean;
  readonly region?: string;
  readonly url?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
  readonly as?: string;
  readonly workflow?: string;
  readonly tokenKeyId?: string;
}

/** Where the checks connect and with which device certificate. */
interface Target {
  readonly mode: 'local' | 'aws';
  readonly url: URL;
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
  readonly home: string;
}

interface HttpResult {
  readonly status: number;
  readonly json: Record<string, unknown> | undefined;
}

/** A request that got no HTTP answer (refused, reset, TLS alert, timeout). Not an `instanceof Error` test: errors from Node's core can come from another realm. */
interface NoAnswer {
  readonly failure: NodeJS.ErrnoException;
}

const noAnswer = (result: HttpResult | NoAnswer): result is NoAnswer => 'failure' in result;

const REQUEST_TIMEOUT_MS = 10_000;

/** Runs one `airlock` command line in this process (the program's own `runCli`) and returns its exit code. */
export type CliRunner = (argv: readonly string[], io: CliIo) => Promise<number>;

export function registerDoctorCommand(program: Command, context: CliContext, runCli: CliRunner): void {
  const doctor = program
    .command('doctor')
    .description(
      'Check a deployment (or the local pilot) end to end: mutual TLS refuses anonymous and untrusted clients, health, a credential issued and its signature, a read through each connector, the audit trail, Lambda concurrency. Exit 1 names the failed checks.',
    );
  // The local pilot or AWS as every state command names them (--local, --region); the API flags below.
  addTargetOptions(doctor, { acts: 'state' });
  doctor
    .option('--url <url>', 'the deployment URL (the ApiUrl output), e.g. https://airlock.example.com')
    .option('--cert <file>', 'a device certificate (PEM) whose CN is a principal of the config')
    .option('--key <file>', 'its private key (PEM)')
    .option(
      '--ca <file>',
      "CA bundle for the server's certificate (default: the system's; local: certs/ca.pem)",
    )
    .option('--as <principal>', 'with --local: the principal whose certificate to use', 'alice')
    .option(
      '--workflow <name>',
      'the workflow to ask a credential for (default: the first the principal may run)',
    )
    .option(
      '--token-key-id <arn>',
      'the TokenSigningKeyId output: checks the credential signature with its public key',
    )
    .action(async (options: DoctorOptions) => {
      const config = context.loadConfig();
      const checks = await runDoctor(context, config, options, runCli);
      const failed = checks.filter((c) => c.status === 'fail');
      const lines = checks.map(
        (c) =>
          `${c.status === 'pass' ? 'PASS' : c.status === 'fail' ? 'FAIL' : 'SKIP'}  ${c.name}: ${c.detail}${c.fix ? `\n        fix: ${c.fix}` : ''}`,
      );
      lines.push(
        failed.length === 0
          ? `${checks.filter((c) => c.status === 'pass').length} checks passed.`
          : `${failed.length} check${failed.length > 1 ? 's' : ''} failed: ${failed.map((c) => c.name).join(', ')}.`,
      );
      context.result(lines, { passed: failed.length === 0, checks });
      if (failed.length > 0) {
        throw new CliError(`doctor: failed ${failed.map((c) => c.name).join(', ')}`, EXIT.failed, {
          resultPrinted: true,
        });
      }
    });
}

/** Runs every check in order; a check that others depend on stops them (they are reported as skipped). */
export async function runDoctor(
  context: CliContext,
  config: AirlockConfig,
  options: DoctorOptions,
  runCli: CliRunner,
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const add = (check: DoctorCheck) => {
    checks.push(check);
    context.progress(`${check.status.toUpperCase()} ${check.name}`);
    return check;
  };
  const target = await resolveTarget(context, options, add);
  if (!target) return checks;

  const anonymous = await tryRequest(target, 'GET', '/v1/health', { withCertificate: false });
  add(refusalCheck('tls-refuses-anonymous', 'a client without a certificate', anonymous));
  const untrusted = await tryRequest(target, 'GET', '/v1/health', { certificate: selfSignedCertificate() });
  add(
    refusalCheck('tls-refuses-untrusted', 'a client certificate from a CA outside the truststore', untrusted),
  );

  const health = await tryRequest(target, 'GET', '/v1/health');
  if (noAnswer(health)) {
    add({
      name: 'health',
      status: 'fail',
      detail: `no answer from ${target.url.origin}: ${describeFailure(health.failure)}`,
      fix:
        target.mode === 'local'
          ? `start the local pilot (npm start) with this ${CLI_ENV.home}`
          : 'check the URL (the ApiUrl output), DNS (RegionalDomainName), and that --cert/--key are a device certificate the truststore accepts',
    });
    return skipRest(checks, 'health');
  }
  const killSwitch = health.json?.killSwitch as { engaged?: boolean } | undefined;
  add(
    health.status === 200 && killSwitch?.engaged === false
      ? { name: 'health', status: 'pass', detail: `200, kill switch released` }
      : {
          name: 'health',
          status: 'fail',
          detail: `${health.status} ${JSON.stringify(health.json ?? {})}`,
          fix:
            killSwitch?.engaged === true
              ? 'the kill switch is engaged: npx airlock kill-switch status, then release it when the incident is over'
              : 'read the error above; the broker function logs say more',
        },
  );

  const principal = target.mode === 'local' ? (options.as ?? 'alice') : undefined;
  const workflowName = options.workflow ?? firstWorkflowOf(config, principal);
  const workflow = workflowName ? config.workflows[workflowName] : undefined;
  if (!workflowName || !workflow) {
    add({
      name: 'credential-issued',
      status: 'fail',
      detail: options.workflow
        ? `no workflow "${options.workflow}" in the config`
        : 'no workflow to ask a credential for',
      fix: `pass --workflow with one of: ${Object.keys(config.workflows).join(', ')}`,
    });
    return skipRest(checks, 'credential-issued');
  }
  const scopes = Object.keys(workflow.connectors).map((connector) => `${connector}:read`);
  const credential = await tryRequest(target, 'POST', '/v1/credentials', {
    body: { workflow: workflowName, scopes, durationMinutes: 5 },
  });
  const token = !noAnswer(credential) && credential.status === 201 ? credential.json?.accessToken : undefined;
  if (typeof token !== 'string') {
    add({
      name: 'credential-issued',
      status: 'fail',
      detail: noAnswer(credential)
        ? describeFailure(credential.failure)
        : `${credential.status} ${JSON.stringify(credential.json ?? {})}`,
      fix: `the certificate's CN must be a principal in a group of workflow ${workflowName}; the broker's logs and the audit records say which policy refused`,
    });
    return skipRest(checks, 'credential-issued');
  }
  add({ name: 'credential-issued', status: 'pass', detail: `201 for ${workflowName} (${scopes.join(' ')})` });
  add(await signatureCheck(target, token, options.tokenKeyId));

  for (const [connector, operations] of Object.entries(workflow.connectors)) {
    add(await connectorReadCheck(target, config, connector, operations, token));
  }

  add(await auditCheck(context, target, runCli));
  if (target.mode === 'aws') add(await concurrencyCheck(options.region));
  else
    add({
      name: 'lambda-concurrency',
      status: 'skip',
      detail: 'the local pilot runs no Lambda functions',
    });
  return checks;
}

async function resolveTarget(
  context: CliContext,
  options: DoctorOptions,
  add: (check: DoctorCheck) => DoctorCheck,
): Promise<Target | undefined> {
  if (options.local) {
    for (const flag of ['url', 'cert', 'key', 'tokenKeyId'] as const) {
      if (options[flag] !== undefined) {
        throw new CliError(
          `--${flag === 'tokenKeyId' ? 'token-key-id' : flag} names an AWS deployment; drop it or drop --local`,
          EXIT.usage,
        );
      }
    }
    const home = context.home;
    const pilot = await readPilotState(home);
    const alive = pilot !== undefined && processIsAlive(pilot.pid);
    if (!pilot || !alive) {
      add({
        name: 'local-pilot-running',
        status: 'fail',
        detail: `no running local pilot announced in ${context.displayPath(join(home, 'pilot.json'))}`,
        fix: `start it with npm start (with the same ${CLI_ENV.home}), then run the doctor again`,
      });
      return undefined;
    }
    add({ name: 'local-pilot-running', status: 'pass', detail: `${pilot.url} (pid ${pilot.pid})` });
    const principal = options.as ?? 'alice';
    const certs = join(home, 'certs');
    return {
      mode: 'local',
      url: new URL(pilot.url),
      cert: await readOrUsage(join(certs, `${principal}.pem`), `--as ${principal}: no device certificate`),
      key: await readOrUsage(join(certs, `${principal}.key.pem`), `--as ${principal}: no device key`),
      ca: await readOrUsage(join(certs, 'ca.pem'), 'the local CA certificate'),
      home,
    };
  }
  if (!options.url || !options.cert || !options.key) {
    throw new CliError(
      'give --url, --cert and --key (a device certificate of a principal) to check a deployment, or --local for the local pilot',
      EXIT.usage,
    );
  }
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new CliError(
      `--url: "${options.url}" is not a URL; give the ApiUrl output, e.g. https://airlock.example.com`,
      EXIT.usage,
    );
  }
  if (url.protocol !== 'https:') {
    throw new CliError(`--url: "${options.url}" must be https:// (the mutual-TLS domain)`, EXIT.usage);
  }
  return {
    mode: 'aws',
    url,
    cert: await readOrUsage(options.cert, '--cert'),
    key: await readOrUsage(options.key, '--key'),
    ca: options.ca ? await readOrUsage(options.ca, '--ca') : undefined,
    home: context.home,
  };
}

async function readOrUsage(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`${what}: cannot read ${path} (${(error as NodeJS.ErrnoException).code})`, EXIT.usage);
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Every check not yet run, as skipped because `after` failed. */
function skipRest(checks: DoctorCheck[], after: string): DoctorCheck[] {
  const later = [
    'credential-issued',
    'credential-signature',
    'connector-read',
    'audit-verify',
    'lambda-concurrency',
  ];
  for (const name of later.slice(later.indexOf(after) + 1)) {
    checks.push({ name, status: 'skip', detail: `needs ${after} to pass first` });
  }
  return checks;
}

/** A refused connection (TLS alert, reset) or a 401/403 passes; an answer with data fails. */
function refusalCheck(name: string, who: string, result: HttpResult | NoAnswer): DoctorCheck {
  if (noAnswer(result)) {
    const { failure } = result;
    const code = failure.code ?? '';
    if (
      code === 'ECONNREFUSED' ||
      code === 'ENOTFOUND' ||
      code === 'ETIMEDOUT' ||
      failure.name === 'TimeoutError'
    ) {
      return {
        name,
        status: 'fail',
        detail: `could not reach the server: ${describeFailure(failure)}`,
        fix: 'check the URL and DNS; the check needs the server to answer the TLS handshake',
      };
    }
    return { name, status: 'pass', detail: `refused during the TLS handshake (${code || failure.message})` };
  }
  if (result.status === 401 || result.status === 403) {
    return { name, status: 'pass', detail: `refused with ${result.status}` };
  }
  return {
    name,
    status: 'fail',
    detail: `${who} got ${result.status}: mutual TLS is not enforced`,
    fix: 'the custom domain must have mutual TLS with your truststore (domain.truststore), and the execute-api endpoint must stay disabled',
  };
}

async function signatureCheck(
  target: Target,
  token: string,
  tokenKeyId: string | undefined,
): Promise<DoctorCheck> {
  let publicKey: KeyObject;
  try {
    if (target.mode === 'local') {
      publicKey = createPublicKey(await readFile(join(target.home, TOKEN_SIGNING_KEY_FILE), 'utf8'));
    } else if (tokenKeyId) {
      publicKey = await new KmsTokenSigner({ client: new KMSClient({}), keyId: tokenKeyId }).getPublicKey();
    } else {
      return {
        name: 'credential-signature',
        status: 'skip',
        detail: 'no public key to check the signature with',
        fix: 'pass --token-key-id with the TokenSigningKeyId output of the Api stack',
      };
    }
  } catch (error) {
    return {
      name: 'credential-signature',
      status: 'fail',
      detail: `cannot read the token signing key's public half: ${describeFailure(error)}`,
      fix:
        target.mode === 'local'
          ? 'restart the local pilot'
          : 'use credentials allowed kms:GetPublicKey on the TokenSigningKeyId key',
    };
  }
  try {
    const { protectedHeader } = await jwtVerify(token, publicKey, { algorithms: ['ES256'], typ: 'at+jwt' });
    return {
      name: 'credential-signature',
      status: 'pass',
      detail: `ES256 signature valid (kid ${protectedHeader.kid})`,
    };
  } catch (error) {
    return {
      name: 'credential-signature',
      status: 'fail',
      detail: `the token does not verify with the signing key's public half: ${describeFailure(error)}`,
      fix: `the broker signs with another key than the one given; compare ${FUNCTION_ENV.signingKeyId} of the broker with --token-key-id`,
    };
  }
}

async function connectorReadCheck(
  target: Target,
  config: AirlockConfig,
  connector: string,
  allowed: readonly string[],
  token: string,
): Promise<DoctorCheck> {
  const name = `connector-read:${connector}`;
  const operations = config.connectors[connector]?.operations ?? {};
  const candidates = allowed
    .map((op) => [op, operations[op]] as const)
    .filter(([, op]) => op?.access === 'read')
    .map(([op, definition]) => ({ op, args: sampleArguments(definition.parameters) }))
    .filter((c): c is { op: string; args: Record<string, unknown> } => c.args !== undefined);
  const candidate = candidates[0];
  if (!candidate) {
    return {
      name,
      status: 'skip',
      detail: 'the workflow allows no read operation doctor can call without knowing your data',
    };
  }
  const result = await tryRequest(target, 'POST', `/v1/connectors/${connector}/${candidate.op}`, {
    body: candidate.args,
    token,
  });
  if (!noAnswer(result) && result.status === 200) {
    return { name, status: 'pass', detail: `${candidate.op} answered 200` };
  }
  const error = noAnswer(result)
    ? describeFailure(result.failure)
    : `${result.status} ${JSON.stringify(result.json ?? {})}`;
  return {
    name,
    status: 'fail',
    detail: `${candidate.op}: ${error}`,
    fix: fixForConnector(config.connectors[connector]),
  };
}

function fixForConnector(connector: AirlockConfig['connectors'][string] | undefined): string {
  if (connector?.kind === 'http-api') {
    return `put the upstream client credentials in the secret ${connector.auth.secretName} and check ${connector.baseUrl} is reachable from the connector function`;
  }
  return 'check the connector’s bucket and prefix (connectors.*.aws) and the connector function logs';
}

/** Arguments for an operation from its declared parameters, or undefined when one cannot be guessed safely. */
function sampleArguments(
  parameters: Readonly<Record<string, ParameterConfig>>,
): Record<string, unknown> | undefined {
  const args: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(parameters)) {
    if (!p.required) continue;
    if (p.enum) args[name] = p.enum[0];
    else if (p.type === 'string' && p.pattern === undefined) args[name] = 'a';
    else if (p.type === 'number' || p.type === 'integer') args[name] = p.minimum ?? 1;
    else if (p.type === 'boolean') args[name] = false;
    else return undefined;
  }
  return args;
}

/** Runs `airlock audit anchor` (local) and `airlock audit verify` in this process and reads their JSON. */
async function auditCheck(context: CliContext, target: Target, runCli: CliRunner): Promise<DoctorCheck> {
  const local = target.mode === 'local' ? ['--local'] : [];
  const run = async (...args: string[]) => {
    const stdout = new CollectedText();
    const stderr = new CollectedText();
    const config = context.configPath;
    const code = await runCli(['node', 'airlock', '--json', '--config', config, 'audit', ...args, ...local], {
      ...context.io,
      stdout,
      stderr,
    });
    return { code, stdout: stdout.text, stderr: stderr.text.trim() };
  };
  if (target.mode === 'local') {
    const anchored = await run('anchor');
    if (anchored.code !== 0) {
      return {
        name: 'audit-verify',
        status: 'fail',
        detail: `audit anchor failed: ${anchored.stderr}`,
        fix: 'run npx airlock audit anchor --local for the details',
      };
    }
  }
  const verified = await run('verify');
  if (verified.code === EXIT.usage && target.mode === 'aws') {
    return {
      name: 'audit-verify',
      status: 'skip',
      detail: verified.stderr.replace(/^airlock: /, ''),
      fix: `export ${FUNCTION_ENV.auditTable}, ${FUNCTION_ENV.digestBucket} and ${FUNCTION_ENV.signingKeyId} from the Api stack outputs (README, Operating it)`,
    };
  }
  if (verified.code !== 0) {
    return {
      name: 'audit-verify',
      status: 'fail',
      detail: verified.stderr.replace(/^airlock: /, '') || verified.stdout.trim(),
      fix: 'run npx airlock audit verify for the first record that does not hold, and follow docs/runbooks/forensics.md',
    };
  }
  return { name: 'audit-verify', status: 'pass', detail: 'every chain and digest holds' };
}

/** Lambda keeps 100 of the account's concurrency unreserved; less than that left means reservations elsewhere crowd Airlock out. */
async function concurrencyCheck(region: string | undefined): Promise<DoctorCheck> {
  try {
    const settings = await new LambdaClient(region ? { region } : {}).send(new GetAccountSettingsCommand({}));
    const limit = settings.AccountLimit?.ConcurrentExecutions ?? 0;
    const unreserved = settings.AccountLimit?.UnreservedConcurrentExecutions ?? 0;
    const detail = `account quota ${limit}, ${unreserved} unreserved`;
    return unreserved >= LAMBDA_MINIMUM_UNRESERVED
      ? { name: 'lambda-concurrency', status: 'pass', detail }
      : {
          name: 'lambda-concurrency',
          status: 'fail',
          detail,
          fix: 'ask for a higher "Concurrent executions" quota in Service Quotas (AWS Lambda); a new account starts at 10',
        };
  } catch (error) {
    return {
      name: 'lambda-concurrency',
      status: 'fail',
      detail: `cannot read the account's Lambda settings: ${describeFailure(error)}`,
      fix: 'run with AWS credentials of the deployment account and region (lambda:GetAccountSettings)',
    };
  }
}

function firstWorkflowOf(config: AirlockConfig, principal: string | undefined): string | undefined {
  const groups = principal ? (config.principals[principal]?.groups ?? []) : undefined;
  return Object.entries(config.workflows).find(
    ([, w]) => !groups || w.groups.some((g) => groups.includes(g)),
  )?.[0];
}

/** A client certificate no truststore holds: a fresh self-signed P-256 certificate (key never stored). */
async function selfSignedCertificate(): Promise<{ cert: string; key: string }> {
  require('reflect-metadata');
  const x509 = (await import('@peculiar/x509')) as typeof import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=alice, O=airlock doctor (untrusted on purpose)',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3_600_000),
    signingAlgorithm: algorithm,
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`;
  return { cert: certificate.toString('pem'), key };
}

/** One HTTPS request over mutual TLS; network and TLS failures are returned, not thrown. */
async function tryRequest(
  target: Target,
  method: 'GET' | 'POST',
  path: string,
  options: {
    body?: unknown;
    token?: string;
    withCertificate?: boolean;
    certificate?: { cert: string; key: string } | Promise<{ cert: string; key: string }>;
  } = {},
): Promise<HttpResult | NoAnswer> {
  const certificate = options.certificate
    ? await options.certificate
    : options.withCertificate === false
      ? undefined
      : { cert: target.cert, key: target.key };
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve) => {
    const request = httpsRequest(
      new URL(path, target.url),
      {
        method,
        ca: target.ca,
        cert: certificate?.cert,
        key: certificate?.key,
        timeout: REQUEST_TIMEOUT_MS,
        headers: {
          accept: 'application/json',
          ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (failure) => resolve({ failure }));
        response.on('end', () => {
          let json: Record<string, unknown> | undefined;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            json = undefined;
          }
          resolve({ status: response.statusCode ?? 0, json });
        });
      },
    );
    request.on('timeout', () =>
      request.destroy(Object.assign(new Error('no answer in 10 s'), { name: 'TimeoutError' })),
    );
    request.on('error', (failure) => resolve({ failure }));
    request.end(body);
  });
}

/** A stream that keeps what a command printed, for reading its result. */
class CollectedText extends Writable {
  text = '';

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}
