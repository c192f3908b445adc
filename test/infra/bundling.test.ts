import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { readPolicyFiles } from '../../lambdas/adapters/policy-files';
import { COMPILED_POLICIES_FORMAT } from '../../lambdas/core/compiled-policies';
import { PolicyEngine } from '../../lambdas/core/policy-engine';
import { parseConfig } from '../../lib/config/load-config';
import type { AirlockConfig } from '../../lib/config/schema';
import { AirlockFunction, type AirlockFunctionName } from '../../lib/constructs/airlock-function';
import { AirlockKeys } from '../../lib/constructs/airlock-keys';
import { filesLoadedAtStart } from '../../lib/constructs/split-bundle';
import { tinyPdf } from '../lambdas/support/tiny-pdf';
import { exampleConfig } from './airlock-test-app';

/** Bundles the given functions for real and returns each one's asset folder and environment. */
function bundle(
  functions: ReadonlyArray<{ name: AirlockFunctionName; config: AirlockConfig }>,
): Array<{ dir: string; environment: Record<string, string> }> {
  const cdkContext = (require('../../cdk.json') as { context: Record<string, unknown> }).context;
  const app = new App({ context: cdkContext });
  const stack = new Stack(app, 'BundlingProbe');
  const keys = new AirlockKeys(stack, 'Keys', { stage: 'test' });
  const built = functions.map(
    ({ name, config }, i) =>
      new AirlockFunction(stack, `Fn${i}`, {
        name,
        config,
        encryptionKey: keys.dataKey,
        reservedConcurrency: 1,
      }),
  );
  const assembly = app.synth();
  return built.map((fn) => {
    const cfn = fn.function.node.defaultChild as CfnFunction;
    const code = stack.resolve(cfn.code) as { s3Key: string };
    const environment = (stack.resolve(cfn.environment) as { variables: Record<string, string> }).variables;
    return { dir: path.join(assembly.directory, `asset.${code.s3Key.replace(/\.zip$/, '')}`), environment };
  });
}

describe('Class: AirlockFunction', () => {
  describe('Method: constructor (real bundling)', () => {
    const config = exampleConfig();
    const withSourceMaps: AirlockConfig = { ...config, functions: { ...config.functions, sourceMaps: true } };
    let broker: { dir: string; environment: Record<string, string> };
    let anchor: { dir: string; environment: Record<string, string> };
    let mapped: { dir: string; environment: Record<string, string> };
    let connector: { dir: string; environment: Record<string, string> };
    let costReport: { dir: string; environment: Record<string, string> };

    beforeAll(() => {
      [broker, anchor, mapped, connector, costReport] = bundle([
        { name: 'broker', config },
        { name: 'anchor', config },
        { name: 'broker', config: withSourceMaps },
        { name: 'connector', config },
        { name: 'cost-report', config },
      ]);
    });

    it('bundles an ESM handler with the Cedar wasm, the compiled policies and the validated config', () => {
      // Assess
      expect(existsSync(path.join(broker.dir, 'index.mjs'))).toBe(true);
      expect(statSync(path.join(broker.dir, 'cedar_wasm_bg.wasm')).size).toBeGreaterThan(1_000_000);
      const compiled = JSON.parse(readFileSync(path.join(broker.dir, 'policies.json'), 'utf8'));
      expect(compiled.format).toBe(COMPILED_POLICIES_FORMAT);
      // Named as the author edits them, so the version hash is the same wherever the CDK app runs.
      expect(compiled.versionHash).toBe(PolicyEngine.create(readPolicyFiles('policies')).versionHash);
      expect(compiled.policies.map((p: { fileName: string }) => p.fileName)).toContain('policies/erp.cedar');
      const bundled = JSON.parse(readFileSync(path.join(broker.dir, 'airlock.config.json'), 'utf8'));
      expect(bundled).toEqual(config);
      // The function reads it without the schema: it must be what the schema returns, defaults and all.
      expect(parseConfig(bundled, 'bundled')).toEqual(bundled);
      expect(readFileSync(path.join(broker.dir, 'index.mjs'), 'utf8')).toContain('createRequire');
    });

    it('starts from its own bundle alone: config, compiled policies and wasm load, Cedar warms up, a request is answered', () => {
      // Prepare: a fresh Node process, as Lambda starts one, with nothing of the repository on its path.
      const script = `
        import(${JSON.stringify(pathToFileURL(path.join(broker.dir, 'index.mjs')).href)})
          .then((bundle) => bundle.handler({ httpMethod: 'GET', resource: '/v1/health', path: '/v1/health', headers: {}, requestContext: { requestId: 'r-1' } }))
          .then((response) => process.stdout.write(JSON.stringify(response)));`;

      // Act
      const output = execFileSync(process.execPath, ['-e', script], {
        cwd: tmpdir(),
        env: {
          PATH: process.env.PATH,
          AWS_REGION: 'eu-west-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          // Nothing answers: the request must not need AWS, and init must make no AWS call.
          AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
          AWS_MAX_ATTEMPTS: '1',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          POWERTOOLS_LOG_LEVEL: 'CRITICAL',
          ...broker.environment,
          AIRLOCK_AUDIT_TABLE: 'audit',
          AIRLOCK_REVOCATIONS_TABLE: 'revocations',
          AIRLOCK_SIGNING_KEY_ID:
            'arn:aws:kms:eu-west-1:111111111111:key/11111111-2222-3333-4444-555555555555',
        },
      }).toString();

      // Assess: the handler answered with the error contract (no token), after init built the engine.
      const response = JSON.parse(output) as { statusCode: number; body: string };
      expect(response.statusCode).toBe(401);
      expect(JSON.parse(response.body).error.code).toBe('unauthenticated');
    });

    it('bundles the cost-report function small: no Cedar, no policies, no DynamoDB or KMS client', () => {
      // Assess
      const code = readFileSync(path.join(costReport.dir, 'index.mjs'), 'utf8');
      expect(code).not.toContain('cedar_wasm_bg.wasm');
      expect(existsSync(path.join(costReport.dir, 'cedar_wasm_bg.wasm'))).toBe(false);
      expect(existsSync(path.join(costReport.dir, 'policies.json'))).toBe(false);
      expect(existsSync(path.join(costReport.dir, 'airlock.config.json'))).toBe(true);
      expect(code).not.toMatch(/dynamodb\.[a-z0-9-]+\.amazonaws|TransactWriteItems/);
      expect(code).toContain('GetMetricData');
      expect(code).toContain('MonthToDateCostUsd');
    });

    it('leaves Cedar out of a function that does not decide (the anchor): no wasm, no policies', () => {
      // Assess
      expect(existsSync(path.join(anchor.dir, 'index.mjs'))).toBe(true);
      expect(readFileSync(path.join(anchor.dir, 'index.mjs'), 'utf8')).not.toContain('cedar_wasm_bg.wasm');
      expect(existsSync(path.join(anchor.dir, 'cedar_wasm_bg.wasm'))).toBe(false);
      expect(existsSync(path.join(anchor.dir, 'policies.json'))).toBe(false);
      expect(existsSync(path.join(anchor.dir, 'airlock.config.json'))).toBe(true);
    });

    it('parses neither Ajv nor the SNS, CloudWatch or Secrets Manager client at a connector cold start; each waits in a chunk for its first use', () => {
      // Arrange: a string only each package's own code carries.
      const markers = {
        'Ajv (arguments of an mcp-server tool)': 'unknown keyword',
        "SNS (a held write's notice)": 'AmazonSimpleNotificationService',
        'CloudWatch (Bedrock token counts)': 'GraniteServiceVersion20100801',
        'Secrets Manager (upstream credentials)': 'Secrets Manager Client for Node.js',
        'DynamoDB (every request)': 'DynamoDB_20120810',
      };
      const atStart = filesLoadedAtStart(connector.dir);
      const chunks = readdirSync(connector.dir).filter((name) => name.endsWith('.mjs'));
      const holding = (marker: string) =>
        chunks.filter((name) => readFileSync(path.join(connector.dir, name), 'utf8').includes(marker));

      // Act
      const where = Object.fromEntries(
        Object.entries(markers).map(([name, marker]) => {
          const files = holding(marker);
          return [name, { bundled: files.length > 0, atStart: files.some((file) => atStart.has(file)) }];
        }),
      );

      // Assess
      expect(where).toEqual({
        'Ajv (arguments of an mcp-server tool)': { bundled: true, atStart: false },
        "SNS (a held write's notice)": { bundled: true, atStart: false },
        'CloudWatch (Bedrock token counts)': { bundled: true, atStart: false },
        'Secrets Manager (upstream credentials)': { bundled: true, atStart: false },
        'DynamoDB (every request)': { bundled: true, atStart: true },
      });
    });

    it('keeps PDF.js out of the code parsed at cold start, and a PDF still reads from the bundle alone', () => {
      // Assess: the connector's bundle imports it on demand, from the package shipped beside it.
      const code = readFileSync(path.join(connector.dir, 'index.mjs'), 'utf8');
      expect(code).toContain('import("unpdf")');
      expect(code).not.toContain('Invalid PDF structure');
      expect(statSync(path.join(connector.dir, 'node_modules/unpdf/dist/pdfjs.mjs')).size).toBeGreaterThan(
        1_000_000,
      );
      expect(existsSync(path.join(broker.dir, 'node_modules'))).toBe(false);

      // Act: what the content extractor does on the first PDF, resolved from the bundle's folder.
      const pdf = tinyPdf({ pages: [['Invoice 4711 for ACME']] }).toString('base64');
      const script = `
        const unpdf = await import('unpdf');
        await unpdf.definePDFJSModule(() => import('unpdf/pdfjs'));
        const document = await unpdf.getDocumentProxy(new Uint8Array(Buffer.from('${pdf}', 'base64')));
        const { text } = await unpdf.extractText(document, { mergePages: true });
        process.stdout.write(text);`;
      const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: connector.dir,
        env: { PATH: process.env.PATH },
      }).toString();

      // Assess
      expect(output).toContain('Invoice 4711 for ACME');
    });

    it('ships no source map and has Node parse none at start, unless functions.sourceMaps says so', () => {
      // Assess
      expect(existsSync(path.join(broker.dir, 'index.mjs.map'))).toBe(false);
      expect(broker.environment.NODE_OPTIONS).toBeUndefined();
      expect(existsSync(path.join(mapped.dir, 'index.mjs.map'))).toBe(true);
      // Read on the first unexpected error (source-mapped-stack.ts), not by Node at every cold start.
      expect(mapped.environment.NODE_OPTIONS).toBeUndefined();
    });
  });
});
