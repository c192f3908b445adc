import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  AssetHashType,
  type BundlingOptions,
  DockerImage,
  Duration,
  type ILocalBundling,
  RemovalPolicy,
  Token,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { readPolicyFiles } from '../../lambdas/adapters/policy-files';
import { compilePolicies } from '../../lambdas/core/policy-compiler';
import { buildEntities } from '../../lambdas/core/policy-entities';
import type { PolicySources } from '../../lambdas/core/policy-validation';
import type { AirlockConfig } from '../config/schema';
import { FUNCTION_ENV } from '../contracts/environment';
import { METRICS_NAMESPACE } from '../contracts/metrics';
import type { ConnectorNetwork } from './connector-network';

/** Where the project root is: the CDK app always runs from it (cdk.json lives there). */
const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** The Lambda functions of Airlock; each has an entry at `lambdas/<name>/index.ts` (`oauth` only with the `oauth` config section). */
export type AirlockFunctionName = 'broker' | 'connector' | 'approvals' | 'anchor' | 'oauth' | 'cost-report';

/** The functions only EventBridge schedules and events invoke: no API Gateway 29-second limit applies. */
const SCHEDULED_FUNCTIONS: readonly AirlockFunctionName[] = ['anchor', 'cost-report'];

/**
 * Defines `require`, `__filename` and `__dirname` in the ESM bundle: bundled CommonJS dependencies
 * (cedar-wasm reads its .wasm next to itself with `__dirname`) expect them. Aliased imports keep
 * the names from colliding with anything esbuild emits.
 */
const ESM_BANNER = [
  "import { createRequire as __airlockCreateRequire } from 'node:module';",
  "import { fileURLToPath as __airlockFileURLToPath } from 'node:url';",
  "import { dirname as __airlockDirname } from 'node:path';",
  'const require = __airlockCreateRequire(import.meta.url);',
  'const __filename = __airlockFileURLToPath(import.meta.url);',
  'const __dirname = __airlockDirname(__filename);',
].join(' ');

/** Memory of a function unless its props say otherwise: about 0.29 of a vCPU. */
export const DEFAULT_FUNCTION_MEMORY_MB = 512;

/**
 * Packages a function imports only on demand (`await import(...)`), kept out of index.mjs so Node does
 * not parse them at cold start, with the files of each it loads. Each has no dependencies of its own.
 */
const LAZY_PACKAGES = ['unpdf'] as const;
const LAZY_PACKAGE_FILES: Record<(typeof LAZY_PACKAGES)[number], readonly string[]> = {
  unpdf: ['package.json', 'dist/index.mjs', 'dist/pdfjs.mjs'],
};

/**
 * Packages only the local pilot's adapters load (the embedded search of a local knowledge base), on
 * demand: left out of every bundle, since no function in AWS runs a local adapter. (PGlite is loaded by
 * path inside its worker, which the bundler never follows.)
 */
const LOCAL_ONLY_PACKAGES = ['@orama/orama'] as const;

export interface AirlockFunctionProps {
  /** Which Airlock function this is; selects the entry `lambdas/<name>/index.ts`. */
  readonly name: AirlockFunctionName;
  /** The validated pilot config; shipped in the bundle as `airlock.config.json`. */
  readonly config: AirlockConfig;
  /** Customer managed key that encrypts the function's log group. */
  readonly encryptionKey: kms.IKey;
  /**
   * Reserved concurrency: caps what one function can cost and guarantees it capacity. The kill
   * switch's hard mode sets it to 0 whether or not one is configured.
   * @default - none reserved: the function draws on the account's unreserved concurrency (a new
   * account's quota may be too small to reserve anything)
   */
  readonly reservedConcurrency?: number;
  /**
   * Memory in MB.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Timeout.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * Days the function's logs are kept.
   * @default 365
   */
  readonly logRetentionDays?: number;
  /**
   * Give the function an SQS dead-letter queue (SQS-managed encryption) for failed asynchronous
   * invocations and undeliverable events (scheduled and event-driven functions such as the anchor).
   * @default false
   */
  readonly deadLetterQueue?: boolean;
  /**
   * The VPC the function joins to reach private upstreams (functions that run connectors only), with the
   * network-interface permissions the Lambda service needs on its role.
   * @default - no VPC
   */
  readonly network?: ConnectorNetwork;
  /**
   * Project root holding `lambdas/`, `policies/` and `node_modules/`.
   * @default - the folder two levels above this file
   */
  readonly projectRoot?: string;
}

/**
 * The house Lambda function: Node.js 24 on ARM, X-Ray tracing, JSON logs into its own CMK-encrypted
 * log group, a minified ESM bundle of what the function's entry imports (source maps only with
 * `functions.sourceMaps`), optional reserved concurrency, and a bundle that carries the validated
 * config and, in the functions that decide, the Cedar wasm and the policies compiled (validated at
 * synth). Its role starts empty (no managed policy): it holds only what grants and bindings add.
 */
export class AirlockFunction extends Construct implements iam.IGrantable {
  /** The Lambda function (construct id `Resource`). */
  public readonly function: nodejs.NodejsFunction;
  /** The execution role; grants land here. */
  public readonly role: iam.Role;
  /** The function's own log group. */
  public readonly logGroup: logs.LogGroup;
  /** Dead-letter queue for failed asynchronous invocations, when enabled. */
  public readonly deadLetterQueue?: sqs.Queue;
  public readonly grantPrincipal: iam.IPrincipal;
  /** Which Airlock function this is. */
  public readonly name: AirlockFunctionName;

  constructor(scope: Construct, id: string, props: AirlockFunctionProps) {
    super(scope, id);
    validateProps(props);
    const root = props.projectRoot ?? PROJECT_ROOT;
    this.name = props.name;

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: retentionFor(props.logRetentionDays ?? 365),
      encryptionKey: props.encryptionKey,
      // Kept when the function goes, but not after a failed first create (nothing to keep, and an
      // orphan per attempt otherwise).
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    this.role = new iam.Role(this, 'ServiceRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the Airlock ${props.name} function`,
    });
    this.grantPrincipal = this.role;
    // Only this function's own log group, instead of AWSLambdaBasicExecutionRole's logs:* on every group.
    this.logGroup.grantWrite(this.role);
    if (props.deadLetterQueue) {
      this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
        // SQS-managed encryption, not the data key: Lambda (with the function's role) and EventBridge
        // (the function's rules) write here, and with a customer managed key each would need key
        // permissions of its own; EventBridge's cannot be tied to this account's rules by a key policy
        // condition. The queue holds the events that failed (schedule ticks, kill-switch parameter
        // changes), never enterprise data.
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
    }
    const configFile = writeBundledConfig(props.config);

    this.function = new nodejs.NodejsFunction(this, 'Resource', {
      code: lambda.Code.fromAsset(root, {
        assetHashType: AssetHashType.OUTPUT,
        bundling: new AirlockBundling({
          root,
          name: props.name,
          sourceMaps: props.config.functions.sourceMaps === true,
          configFile,
          compiledPolicies: () => writeCompiledPolicies(root, props.config),
        }),
      }),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? DEFAULT_FUNCTION_MEMORY_MB,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: lambda.Tracing.ACTIVE,
      loggingFormat: lambda.LoggingFormat.JSON,
      logGroup: this.logGroup,
      role: this.role,
      ...(props.network && {
        vpc: props.network.vpc,
        vpcSubnets: { subnets: [...props.network.subnets] },
        securityGroups: [...props.network.securityGroups],
      }),
      reservedConcurrentExecutions: props.reservedConcurrency,
      deadLetterQueue: this.deadLetterQueue,
      description: `Airlock ${props.name}`,
      environment: {
        [FUNCTION_ENV.stage]: props.config.stage,
        POWERTOOLS_SERVICE_NAME: `airlock-${props.name}`,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      },
    });
    props.network?.grantNetworkInterfaces(this, this.role, this.function);
  }

  /** The policy of the network-interface permissions, when the function joins a VPC. */
  public get networkPolicy(): iam.Policy | undefined {
    return this.node.tryFindChild('NetworkInterfaces') as iam.Policy | undefined;
  }

  /** Sets an environment variable; use it only from a `bindX()` that also grants what the variable names. */
  public addEnvironment(key: string, value: string): void {
    this.function.addEnvironment(key, value);
  }

  /** The function's ARN. */
  public get functionArn(): string {
    return this.function.functionArn;
  }
}

interface AirlockBundlingProps {
  readonly root: string;
  readonly name: AirlockFunctionName;
  readonly sourceMaps: boolean;
  /** The validated config, written where the bundle copies it from. */
  readonly configFile: string;
  /** Writes the compiled policies (only the bundles that load Cedar need them) and says where. */
  readonly compiledPolicies: () => string;
}

/**
 * Bundles a function with the local esbuild, split: what its routes load on demand (`await import(...)`:
 * the MCP SDK of `/v1/mcp`, each connector kind's AWS SDK client, a mail parser) goes into chunks beside
 * `index.mjs` that Node reads on first use, not at every cold start. NodejsFunction's own bundling
 * writes one file (`--outfile`), which esbuild's code splitting cannot do.
 *
 * Its data fields are what the asset cache keys on (CDK stringifies the bundling options): two functions
 * share a bundle only when entry, source maps and config are the same.
 */
class AirlockBundling implements BundlingOptions {
  /** Never pulled: local bundling either succeeds or throws (no Docker fallback). */
  public readonly image = DockerImage.fromRegistry('airlock-bundles-locally-with-esbuild');
  public readonly local: ILocalBundling;
  public readonly entry: string;
  public readonly sourceMaps: boolean;
  public readonly configFile: string;

  constructor(props: AirlockBundlingProps) {
    this.entry = path.posix.join('lambdas', props.name, 'index.ts');
    this.sourceMaps = props.sourceMaps;
    this.configFile = props.configFile;
    this.local = { tryBundle: (outputDir) => bundleFunction(props, outputDir) };
  }
}

/** Cedar's wasm-bindgen glue: a bundle that contains it loads the wasm next to itself. */
const CEDAR_GLUE = 'node_modules/@cedar-policy/cedar-wasm/nodejs/cedar_wasm.js';

function bundleFunction(props: AirlockBundlingProps, outputDir: string): true {
  // Required here, not at the top: only a synth that bundles needs esbuild (a devDependency).
  const esbuild = require('esbuild') as typeof import('esbuild');
  const result = esbuild.buildSync({
    absWorkingDir: props.root,
    entryPoints: { index: path.join(props.root, 'lambdas', props.name, 'index.ts') },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    mainFields: ['module', 'main'],
    minify: true,
    splitting: true,
    outdir: outputDir,
    outExtension: { '.js': '.mjs' },
    // Beside index.mjs, not in a folder: bundled CommonJS (Cedar's glue) reads files next to itself.
    chunkNames: '[name]-[hash]',
    // No --enable-source-maps: Node would parse the map (larger than the code) at every cold start.
    // With the flag on, the function maps an unexpected error's stack when it logs it.
    sourcemap: props.sourceMaps,
    // Ship the SDK versions the tests ran against rather than whatever the runtime carries (no
    // externals but the packages that ship beside the bundle or never run in AWS).
    external: [...LAZY_PACKAGES, ...LOCAL_ONLY_PACKAGES],
    banner: { js: ESM_BANNER },
    metafile: true,
    logLevel: 'warning',
  });
  const inputs = Object.keys(result.metafile.inputs);
  const imports = Object.values(result.metafile.outputs).flatMap((output) => output.imports);
  // Cedar's wasm (4 MB) and the policies, compiled (validated here, at synth), only in the bundles
  // that load Cedar: the functions that decide.
  if (inputs.some((input) => input.endsWith(CEDAR_GLUE))) {
    copyFileSync(
      path.join(props.root, 'node_modules/@cedar-policy/cedar-wasm/nodejs/cedar_wasm_bg.wasm'),
      path.join(outputDir, 'cedar_wasm_bg.wasm'),
    );
    copyFileSync(props.compiledPolicies(), path.join(outputDir, 'policies.json'));
  }
  // PDF.js (1.6 MB) is imported only when a result holds a PDF, yet inlined it would be parsed at every
  // cold start: it ships beside the bundle as a package of its own, where Node resolves `import('unpdf')`.
  for (const name of LAZY_PACKAGES) {
    if (!imports.some((imported) => imported.external && imported.path === name)) continue;
    for (const file of LAZY_PACKAGE_FILES[name]) {
      const to = path.join(outputDir, 'node_modules', name, file);
      mkdirSync(path.dirname(to), { recursive: true });
      copyFileSync(path.join(props.root, 'node_modules', name, file), to);
    }
  }
  copyFileSync(props.configFile, path.join(outputDir, 'airlock.config.json'));
  return true;
}

function validateProps(props: AirlockFunctionProps): void {
  if (
    props.reservedConcurrency !== undefined &&
    !Token.isUnresolved(props.reservedConcurrency) &&
    !(props.reservedConcurrency >= 1)
  ) {
    throw new Error(
      `AirlockFunction ${props.name}: reservedConcurrency must be at least 1 (got ${props.reservedConcurrency}); 0 would disable the function, which is the kill switch's job`,
    );
  }
  if (props.memorySize !== undefined && (props.memorySize < 128 || props.memorySize > 10240)) {
    throw new Error(
      `AirlockFunction ${props.name}: memorySize must be between 128 and 10240 MB (got ${props.memorySize})`,
    );
  }
  if (
    props.timeout !== undefined &&
    props.timeout.toSeconds() > 29 &&
    !SCHEDULED_FUNCTIONS.includes(props.name)
  ) {
    throw new Error(
      `AirlockFunction ${props.name}: timeout must be at most 29 seconds for a function behind API Gateway (got ${props.timeout.toSeconds()} s)`,
    );
  }
}

/** Writes the validated config to a temp file the bundling hook copies. */
function writeBundledConfig(config: AirlockConfig): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'airlock-config-'));
  const file = path.join(dir, 'airlock.config.json');
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

/** Compiled policies already written, by what they were compiled from: each deciding function bundles the same. */
const compiledPolicyFiles = new Map<string, string>();

/**
 * Validates the Cedar policies of `<root>/policies` and the config's entities against the schema and
 * writes them compiled (lambdas/core/compiled-policies.ts) to a temp file the bundling hook copies: a
 * bad policy fails the synth with its file and line, and a function skips validation at cold start.
 * The files are named as the author edits them (`policies/<name>`), so the version hash that binds an
 * approval to its rules does not depend on where the CDK app ran.
 */
function writeCompiledPolicies(root: string, config: AirlockConfig): string {
  const read = readPolicyFiles(path.join(root, 'policies'));
  const named = (fileName: string) => path.posix.join('policies', path.basename(fileName));
  const sources: PolicySources = {
    schemaText: read.schemaText,
    schemaFileName: named(read.schemaFileName ?? 'airlock.cedarschema'),
    policies: read.policies.map((file) => ({ fileName: named(file.fileName), text: file.text })),
    ...(read.shadowPolicies
      ? {
          shadowPolicies: read.shadowPolicies.map((file) => ({
            fileName: path.posix.join('policies', 'shadow', path.basename(file.fileName)),
            text: file.text,
          })),
        }
      : {}),
  };
  const entities = buildEntities(config);
  const key = JSON.stringify([sources, entities.entities]);
  let file = compiledPolicyFiles.get(key);
  if (!file) {
    file = path.join(mkdtempSync(path.join(tmpdir(), 'airlock-policies-')), 'policies.json');
    writeFileSync(file, `${JSON.stringify(compilePolicies(sources, entities))}\n`);
    compiledPolicyFiles.set(key, file);
  }
  return file;
}

const RETENTION_DAYS = Object.values(logs.RetentionDays).filter(
  (value): value is logs.RetentionDays => typeof value === 'number' && value > 0,
);

/** Maps a day count onto the retention periods CloudWatch Logs accepts. */
export function retentionFor(days: number): logs.RetentionDays {
  const match = RETENTION_DAYS.find((value) => value === days);
  if (match === undefined) {
    throw new Error(
      `log retention of ${days} days is not one CloudWatch Logs accepts; use one of ${RETENTION_DAYS.sort((a, b) => a - b).join(', ')}`,
    );
  }
  return match;
}
