/**
 * Where a command acts, as an operator sets it: flags, else the environment variables the stack
 * outputs and the docs name; every missing or conflicting setting a usage error (exit 2) naming the
 * flag and the variable. Certificates are real ones from the local CA.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliContext, CliError, EXIT } from '../../cli/cli-context';
import { resolveTarget, type TargetOptions } from '../../cli/cli-target';
import { readDeviceCertificate } from '../../cli/device-certificate';
import { buildProgram } from '../../cli/program';
import { CLI_ENV, FUNCTION_ENV } from '../../lib/contracts/environment';
import { LocalCertificateAuthority } from '../../local/local-certificate-authority';
import { writePilotState } from '../../local/local-state';
import { fakeCliIo } from './support/fake-cli-io';

const STATE = { acts: 'state', names: ['auditTable', 'digestBucket', 'signingKey'] } as const;
const API = { acts: 'api' } as const;

let folder: string;
let home: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'airlock-cli-target-'));
  home = join(folder, 'home');
  const ca = await LocalCertificateAuthority.loadOrCreate(home);
  await ca.issueClientCertificate('bob', { days: 30 });
  await ca.issueClientCertificate('alice', { days: 30 });
}, 60_000);

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** A context as the CLI builds it, in `folder`, with this environment. */
function contextWith(env: NodeJS.ProcessEnv = {}) {
  const io = fakeCliIo({ env, cwd: folder });
  return { context: new CliContext(io, () => ({})), stderr: () => io.stderr.text };
}

/** The usage error a resolution throws (fails the test when it resolves). */
async function refusal(resolution: Promise<unknown>): Promise<CliError> {
  const error = await resolution.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CliError);
  return error as CliError;
}

describe('Function: resolveTarget', () => {
  describe('Method: local and AWS targets', () => {
    it('resolves --local to the local pilot in the home folder of the environment', async () => {
      // Prepare
      const { context } = contextWith({ [CLI_ENV.home]: home });

      // Act
      const target = await resolveTarget(context, { local: true }, STATE);

      // Assess
      expect(target).toEqual({ kind: 'local', home });
    });

    it('resolves --local to .airlock in the current folder without the home variable', async () => {
      // Act
      const target = await resolveTarget(contextWith().context, { local: true }, STATE);

      // Assess
      expect(target).toEqual({ kind: 'local', home: join(folder, '.airlock') });
    });

    it('takes the deployment names from the variables the stack outputs name, a flag winning over its variable', async () => {
      // Prepare
      const { context } = contextWith({
        [FUNCTION_ENV.auditTable]: 'from-env-audit',
        [FUNCTION_ENV.digestBucket]: 'from-env-bucket',
        [FUNCTION_ENV.signingKeyId]: ' arn:aws:kms:eu-west-1:111122223333:key/k ',
      });
      const options = { table: 'from-flag-audit' } as TargetOptions;

      // Act
      const target = await resolveTarget(context, options, STATE, {
        required: ['auditTable', 'digestBucket', 'signingKey'],
      });

      // Assess
      expect(target).toEqual({
        kind: 'aws',
        names: {
          auditTable: 'from-flag-audit',
          digestBucket: 'from-env-bucket',
          signingKey: 'arn:aws:kms:eu-west-1:111122223333:key/k',
        },
      });
    });

    it('passes --region to the target and leaves the region to the SDK without it', async () => {
      // Act
      const withRegion = await resolveTarget(contextWith().context, { region: 'eu-central-1' }, STATE);
      const without = await resolveTarget(contextWith().context, {}, STATE);

      // Assess
      expect(withRegion).toEqual({ kind: 'aws', region: 'eu-central-1', names: {} });
      expect(without).toEqual({ kind: 'aws', names: {} });
    });

    it('exits 2 naming the flag, the variable and the stack output of each missing name (blank counts as missing)', async () => {
      // Prepare
      const { context } = contextWith({
        [FUNCTION_ENV.auditTable]: 'audit',
        [FUNCTION_ENV.digestBucket]: '  ',
      });

      // Act
      const error = await refusal(
        resolveTarget(context, {}, STATE, { required: ['auditTable', 'digestBucket', 'signingKey'] }),
      );

      // Assess
      expect(error.exitCode).toBe(EXIT.usage);
      expect(error.message).toBe(
        'the digest bucket is not set: pass --bucket <name> or set AIRLOCK_DIGEST_BUCKET (stack output DigestBucketName); ' +
          'the signing key is not set: pass --key-id <arn> or set AIRLOCK_SIGNING_KEY_ID (stack output SigningKeyId), ' +
          'or use --local for the local pilot',
      );
    });

    it('says what needs a name, without offering --local, when a purpose is given', async () => {
      // Act
      const error = await refusal(
        resolveTarget(
          contextWith().context,
          {},
          { acts: 'state', names: ['brokerFunction'] },
          {
            required: ['brokerFunction'],
            requiredFor: 'hard mode',
          },
        ),
      );

      // Assess
      expect(error.exitCode).toBe(EXIT.usage);
      expect(error.message).toBe(
        'hard mode needs the broker function: pass --broker-function <name> or set AIRLOCK_BROKER_FUNCTION (stack output BrokerFunctionName)',
      );
    });

    it('reads an optional name only when it is set', async () => {
      // Prepare
      const unset = contextWith().context;
      const set = contextWith({ [FUNCTION_ENV.auditTable]: 'audit' }).context;

      // Act
      const without = await resolveTarget(unset, {}, { acts: 'state' }, { optional: ['auditTable'] });
      const withIt = await resolveTarget(set, {}, { acts: 'state' }, { optional: ['auditTable'] });

      // Assess
      expect(without).toEqual({ kind: 'aws', names: {} });
      expect(withIt).toEqual({ kind: 'aws', names: { auditTable: 'audit' } });
    });

    it.each([
      [{ local: true, table: 'audit' }, '--table names an AWS resource; drop it or drop --local'],
      [
        { local: true, region: 'eu-west-1', keyId: 'arn' },
        '--region and --key-id name an AWS resource; drop them or drop --local',
      ],
      [{ region: 'Ireland' }, '--region: "Ireland" is not an AWS region; use e.g. eu-west-1'],
    ])('exits 2 for %j naming the flag', async (options, message) => {
      // Act
      const error = await refusal(resolveTarget(contextWith().context, options as TargetOptions, STATE));

      // Assess
      expect(error.exitCode).toBe(EXIT.usage);
      expect(error.message).toContain(message);
    });
  });

  describe('Method: server targets', () => {
    const bobCert = () => readFile(join(home, 'certs', 'bob.pem'), 'utf8');
    const localCa = () => readFile(join(home, 'certs', 'ca.pem'), 'utf8');

    it('uses the local CA’s certificate of --principal against the running pilot’s announced URL', async () => {
      // Prepare
      const pilotHome = join(folder, 'running');
      await copyCertificates(pilotHome);
      await writePilotState(pilotHome, {
        pid: process.pid,
        url: 'https://127.0.0.1:48443',
        dynamodbEndpoint: { socketPath: join(pilotHome, 'no-such.sock') },
        startedAt: new Date().toISOString(),
      });
      const { context } = contextWith({ [CLI_ENV.home]: pilotHome });

      // Act
      const target = await resolveTarget(context, { local: true, principal: 'bob' }, API, {
        requireRunningPilot: true,
      });

      // Assess
      expect(target).toMatchObject({
        kind: 'server',
        url: 'https://127.0.0.1:48443',
        localPilot: true,
        principal: 'bob',
        cert: await readFile(join(pilotHome, 'certs', 'bob.pem'), 'utf8'),
        ca: await readFile(join(pilotHome, 'certs', 'ca.pem'), 'utf8'),
      });
    });

    it('defaults to the local pilot on the port of the environment, else on 8443', async () => {
      // Act
      const onPort = await resolveTarget(
        contextWith({ [CLI_ENV.home]: home, [CLI_ENV.port]: '9443' }).context,
        { principal: 'bob' },
        API,
      );
      const onDefault = await resolveTarget(
        contextWith({ [CLI_ENV.home]: home }).context,
        { principal: 'bob' },
        API,
      );

      // Assess
      expect(onPort).toMatchObject({ url: 'https://127.0.0.1:9443', localPilot: true });
      expect(onDefault).toMatchObject({ url: 'https://127.0.0.1:8443', localPilot: true });
    });

    it('exits 1 saying the pilot is not running when a one-shot command needs it', async () => {
      // Act
      const error = await refusal(
        resolveTarget(contextWith({ [CLI_ENV.home]: home }).context, { principal: 'bob' }, API, {
          requireRunningPilot: true,
        }),
      );

      // Assess
      expect(error.exitCode).toBe(EXIT.failed);
      expect(error.message).toBe(
        `the local pilot in ${home} is not running: start it with \`npm start\` (or set AIRLOCK_HOME to its folder)`,
      );
    });

    it('takes --server, --cert, --key and --ca, trimming the URL to its base', async () => {
      // Prepare
      const options = {
        server: 'https://airlock.example.com/',
        cert: join(home, 'certs', 'bob.pem'),
        key: join(home, 'certs', 'bob.key.pem'),
        ca: join(home, 'certs', 'ca.pem'),
      };

      // Act
      const target = await resolveTarget(contextWith().context, options, API);

      // Assess
      expect(target).toMatchObject({
        kind: 'server',
        url: 'https://airlock.example.com',
        localPilot: false,
        cert: await bobCert(),
        ca: await localCa(),
      });
      expect(target.principal).toBeUndefined();
    });

    it('falls back to the server, certificate, key and CA variables, and to no CA (the system’s) for a remote server', async () => {
      // Prepare
      const env = {
        [CLI_ENV.server]: 'https://airlock.example.com',
        [CLI_ENV.cert]: join(home, 'certs', 'bob.pem'),
        [CLI_ENV.key]: join(home, 'certs', 'bob.key.pem'),
      };

      // Act
      const withoutCa = await resolveTarget(contextWith(env).context, {}, API);
      const withCa = await resolveTarget(
        contextWith({ ...env, [CLI_ENV.ca]: join(home, 'certs', 'ca.pem') }).context,
        {},
        API,
      );

      // Assess
      expect(withoutCa).toMatchObject({ url: 'https://airlock.example.com', cert: await bobCert() });
      expect(withoutCa.ca).toBeUndefined();
      expect(withCa.ca).toBe(await localCa());
    });

    it('falls back to the principal variable, and lets a flag win over the variables', async () => {
      // Prepare
      const env = { [CLI_ENV.home]: home, [CLI_ENV.principal]: 'bob' };

      // Act
      const fromEnv = await resolveTarget(contextWith(env).context, {}, API);
      const flagWins = await resolveTarget(
        contextWith({ ...env, [CLI_ENV.cert]: join(home, 'certs', 'bob.pem') }).context,
        { principal: 'alice' },
        API,
      );

      // Assess
      expect(fromEnv).toMatchObject({ principal: 'bob', cert: await bobCert() });
      expect(flagWins).toMatchObject({
        principal: 'alice',
        cert: await readFile(join(home, 'certs', 'alice.pem'), 'utf8'),
      });
    });

    it('accepts the deprecated --as as --principal, with a notice', async () => {
      // Prepare
      const { context, stderr } = contextWith({ [CLI_ENV.home]: home });

      // Act
      const target = await resolveTarget(context, { as: 'bob' }, API);

      // Assess
      expect(target.principal).toBe('bob');
      expect(stderr()).toBe('airlock: --as is deprecated; use --principal (same meaning)\n');
    });

    it.each<[string, TargetOptions, NodeJS.ProcessEnv, string]>([
      [
        'no certificate at all',
        {},
        {},
        'say which device certificate to use: --local --principal <name> (the local pilot), or --server URL --cert FILE --key FILE (a deployment); or set AIRLOCK_PRINCIPAL, or AIRLOCK_SERVER, AIRLOCK_CERT and AIRLOCK_KEY',
      ],
      [
        'a certificate without its key',
        { cert: 'bob.pem' },
        {},
        'the private key of the device certificate is missing: pass --key FILE or set AIRLOCK_KEY',
      ],
      [
        'a key without its certificate',
        {},
        { [CLI_ENV.key]: 'bob.key.pem' },
        'the device certificate is missing: pass --cert FILE or set AIRLOCK_CERT',
      ],
      [
        '--principal with --cert',
        { principal: 'bob', cert: 'bob.pem' },
        {},
        '--principal and --cert/--key both say which device certificate to use; pass one of them',
      ],
      [
        'both variables naming a certificate',
        {},
        { [CLI_ENV.principal]: 'bob', [CLI_ENV.cert]: 'bob.pem' },
        'AIRLOCK_PRINCIPAL and AIRLOCK_CERT/AIRLOCK_KEY both say which device certificate to use',
      ],
      [
        '--as and --principal differing',
        { as: 'bob', principal: 'alice' },
        {},
        '--as is the old name of --principal',
      ],
      [
        'a principal that is not a name',
        { principal: 'Bob Smith' },
        {},
        '--principal: "Bob Smith" is not a principal name (lower-case letters, digits and dashes',
      ],
      [
        'a principal variable that is not a name',
        {},
        { [CLI_ENV.principal]: '../bob' },
        'AIRLOCK_PRINCIPAL: "../bob" is not a principal name',
      ],
      [
        '--local with --server',
        { local: true, server: 'https://airlock.example.com', principal: 'bob' },
        {},
        "--server names a deployment's API; drop it or drop --local",
      ],
      [
        'a --server that is not a URL',
        { server: 'airlock.example.com', principal: 'bob' },
        {},
        '--server: "airlock.example.com" is not a URL; use e.g. https://airlock.example.com',
      ],
      [
        'a server variable over plain http',
        { principal: 'bob' },
        { [CLI_ENV.server]: 'http://airlock.example.com' },
        `${CLI_ENV.server}: Airlock is reached over mutual TLS, so the URL must start with https://`,
      ],
      [
        'a port variable that is not a port',
        { principal: 'bob' },
        { [CLI_ENV.port]: 'eighty' },
        'AIRLOCK_PORT: expected a port number from 0 to 65535, got "eighty"',
      ],
      [
        'a principal without a certificate',
        { principal: 'zoe' },
        {},
        '--principal zoe: no device certificate',
      ],
    ])('exits 2 for %s, naming the flag or variable', async (_case, options, env, message) => {
      // Act
      const error = await refusal(
        resolveTarget(contextWith({ [CLI_ENV.home]: home, ...env }).context, options, API),
      );

      // Assess
      expect(error.exitCode).toBe(EXIT.usage);
      expect(error.message).toContain(message);
    });

    it('tells how to get the missing certificate of a principal', async () => {
      // Act
      const error = await refusal(
        resolveTarget(contextWith({ [CLI_ENV.home]: home }).context, { principal: 'zoe' }, API),
      );

      // Assess
      expect(error.message).toBe(
        `--principal zoe: no device certificate ${join(home, 'certs', 'zoe.pem')}; issue one with \`airlock certs issue zoe\` (the local pilot issues one to each principal of the config when it starts), or set AIRLOCK_HOME to the pilot's folder`,
      );
    });

    it('names a certificate file that does not exist by its flag (exit 2)', async () => {
      // Act
      const error = await refusal(
        resolveTarget(
          contextWith().context,
          { server: 'https://airlock.example.com', cert: 'absent.pem', key: 'absent.key.pem' },
          API,
        ),
      );

      // Assess
      expect(error.exitCode).toBe(EXIT.usage);
      expect(error.message).toBe(
        `--cert: no device certificate ${join(folder, 'absent.pem')}; name your device certificate (PEM) with --cert`,
      );
    });

    it('names the key of another certificate as such', async () => {
      // Act
      const error = await refusal(
        resolveTarget(
          contextWith({
            [CLI_ENV.cert]: join(home, 'certs', 'bob.pem'),
            [CLI_ENV.key]: join(home, 'certs', 'alice.key.pem'),
          }).context,
          { server: 'https://airlock.example.com' },
          API,
        ),
      );

      // Assess
      expect(error.message).toBe(
        `AIRLOCK_KEY: ${join(home, 'certs', 'alice.key.pem')} is not the private key of the certificate ${join(home, 'certs', 'bob.pem')}; name the matching certificate and key`,
      );
    });
  });
});

describe('Function: readDeviceCertificate', () => {
  it('exits 1 naming an expired certificate before anything is sent', async () => {
    // Prepare
    const source = (file: string, setBy: string) => ({ file, setBy, what: 'file', whenMissing: '' });
    const later = new Date(Date.now() + 400 * 24 * 60 * 60 * 1000);

    // Act
    const error = await refusal(
      readDeviceCertificate(
        {
          cert: source(join(home, 'certs', 'bob.pem'), '--cert'),
          key: source(join(home, 'certs', 'bob.key.pem'), '--key'),
        },
        later,
      ),
    );

    // Assess
    expect(error.exitCode).toBe(EXIT.failed);
    expect(error.message).toMatch(/^Your device certificate .*bob\.pem expired on .* \(notAfter\)/);
  });
});

describe('Function: addTargetOptions', () => {
  /** Each command's help lines of these flags, by command path. */
  function helpLines(flags: readonly string[]): Map<string, string[]> {
    const { program } = buildProgram(fakeCliIo());
    const lines = new Map<string, string[]>();
    const walk = (command: typeof program, path: string[]) => {
      for (const child of command.commands) {
        const here = [...path, child.name()];
        const options = child.options.filter((o) => !o.hidden && flags.includes(o.long ?? ''));
        if (options.length > 0)
          lines.set(
            here.join(' '),
            options.map((o) => `${o.flags}: ${o.description}`),
          );
        walk(child, here);
      }
    };
    walk(program, []);
    return lines;
  }

  it('gives every command that acts on state the same --local and --region', () => {
    // Act
    const lines = helpLines(['--local', '--region']);

    // Assess
    // clients config acts on no state: its --local only names the local pilot's stand-in inference profile.
    const commands = [...lines.keys()].filter(
      (path) =>
        !path.startsWith('approvals') && path !== 'bridge' && path !== 'token' && path !== 'clients config',
    );
    expect(lines.get('clients config')).toEqual([
      "--local: a workflow with llm: the local pilot's Bedrock stand-in profile",
    ]);
    expect(commands.sort()).toEqual([
      'audit anchor',
      'audit export',
      'audit verify',
      'connectors pin',
      'cost report',
      'doctor',
      'kill-switch engage',
      'kill-switch release',
      'kill-switch status',
      'policies report',
      'revoke',
    ]);
    for (const path of commands) expect(lines.get(path)).toEqual(lines.get('audit verify'));
  });

  it('gives approvals, the bridge, doctor and token the same server flags, with their variables named', () => {
    // Act
    const lines = helpLines(['--local', '--server', '--principal', '--cert', '--key', '--ca']);

    // Assess
    const commands = [...lines.keys()].filter(
      (path) => path.startsWith('approvals') || path === 'bridge' || path === 'doctor' || path === 'token',
    );
    expect(commands.sort()).toEqual([
      'approvals approve',
      'approvals list',
      'approvals reject',
      'approvals show',
      'bridge',
      'doctor',
      'token',
    ]);
    for (const path of commands) expect(lines.get(path)).toEqual(lines.get('bridge'));
    const help = lines.get('bridge')!.join('\n');
    for (const variable of [CLI_ENV.server, CLI_ENV.principal, CLI_ENV.cert, CLI_ENV.key, CLI_ENV.ca]) {
      expect(help).toContain(`$${variable}`);
    }
  });
});

async function copyCertificates(to: string): Promise<void> {
  await mkdir(join(to, 'certs'), { recursive: true });
  for (const file of ['ca.pem', 'bob.pem', 'bob.key.pem']) {
    await copyFile(join(home, 'certs', file), join(to, 'certs', file));
  }
}
