import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { AirlockFunction } from '../../lib/constructs/airlock-function';
import { parseConfig } from '../../lib/config/load-config';
import { AirlockKeys } from '../../lib/constructs/airlock-keys';
import { exampleConfig } from './airlock-test-app';

describe('Class: AirlockFunction', () => {
  describe('Method: constructor (real bundling)', () => {
    it('bundles an ESM handler with the Cedar wasm, the policies folder and the validated config', () => {
      // Prepare
      const cdkContext = (require('../../cdk.json') as { context: Record<string, unknown> }).context;
      const app = new App({ context: cdkContext });
      const { Stack } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
      const stack = new Stack(app, 'BundlingProbe');
      const keys = new AirlockKeys(stack, 'Keys', { stage: 'test' });
      const config = exampleConfig();
      const fn = new AirlockFunction(stack, 'Broker', {
        name: 'broker',
        config,
        encryptionKey: keys.dataKey,
        reservedConcurrency: 1,
      });

      // Act
      const assembly = app.synth();
      const code = stack.resolve(
        (fn.function.node.defaultChild as import('aws-cdk-lib/aws-lambda').CfnFunction).code,
      ) as {
        s3Key: string;
      };
      const assetDir = path.join(assembly.directory, `asset.${code.s3Key.replace(/\.zip$/, '')}`);

      // Assess
      expect(existsSync(path.join(assetDir, 'index.mjs'))).toBe(true);
      expect(existsSync(path.join(assetDir, 'index.mjs.map'))).toBe(true);
      expect(statSync(path.join(assetDir, 'cedar_wasm_bg.wasm')).size).toBeGreaterThan(1_000_000);
      expect(statSync(path.join(assetDir, 'policies')).isDirectory()).toBe(true);
      const bundled = JSON.parse(readFileSync(path.join(assetDir, 'airlock.config.json'), 'utf8'));
      expect(bundled).toEqual(config);
      // The function reads it without the schema: it must be what the schema returns, defaults and all.
      expect(parseConfig(bundled, 'bundled')).toEqual(bundled);
      expect(readFileSync(path.join(assetDir, 'index.mjs'), 'utf8')).toContain('createRequire');
    });
  });
});
