/**
 * What every Airlock Lambda function builds once per execution environment: its settings (the pilot
 * config and the Cedar policies bundled next to the handler, the token identifiers, its own audit
 * chain) and its AWS ports, as the shared services its composition is built from.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { AirlockConfig } from '../../../lib/config/schema';
import { withoutPrototypes } from '../../../lib/config/without-prototypes';
import { FUNCTION_ENV } from '../../../lib/contracts/environment';
import type { AirlockSettings } from '../../composition/airlock-ports';
import { SharedServices } from '../../composition/shared-services';
import { newChainId } from '../../core/audit-ledger';
import {
  COMPILED_POLICIES_FORMAT,
  type CompiledPolicies,
  isCompiledPolicies,
} from '../../core/compiled-policies';
import { killSwitchPrefix } from '../../core/kill-switch';
import { readPolicyFiles } from '../policy-files';
import { type AwsEnvironment, type AwsPortBuilders, AwsPorts } from './aws-ports';
import { SourceMappedStack } from './source-mapped-stack';

/** The functions' shared logger (Powertools: JSON lines with the request id). */
export const logger = new Logger({ serviceName: 'airlock' });

/** `iss` and `aud` of the device channel's tokens for a deployment. */
export function tokenIdentifiers(config: AirlockConfig): { issuer: string; audience: string } {
  const issuer = `https://${config.domain.name}`;
  return { issuer, audience: `${issuer}/v1` };
}

/** Where the bundle keeps `airlock.config.json` and `policies/` (copied by the house function construct). */
function bundleDirectory(env: AwsEnvironment): string {
  return env[FUNCTION_ENV.bundleDir] ?? __dirname;
}

/**
 * The pilot config bundled with the function. The CDK app validated it with the config schema (a bad
 * config fails `cdk synth` with the field to fix) and bundled what the schema returned, defaults
 * filled in, so the function reads it as it is: a function never imports the schema, the YAML loader
 * or the connector kinds the schema is assembled from (test/infra/bundling.test.ts checks that the
 * bundled config is a config the schema returns unchanged).
 */
export function loadBundledConfig(env: AwsEnvironment = process.env): AirlockConfig {
  const file = env[FUNCTION_ENV.configFile] ?? join(bundleDirectory(env), 'airlock.config.json');
  const config = JSON.parse(readFileSync(file, 'utf8')) as AirlockConfig | null;
  if (config === null || typeof config !== 'object' || typeof config.stage !== 'string') {
    throw new Error(`${file} is not the pilot config the CDK app bundled; deploy the stack again`);
  }
  return withoutPrototypes(config);
}

/** The policies compiled when the function was bundled (lambdas/core/compiled-policies.ts). */
function readCompiledPolicies(file: string): CompiledPolicies {
  const compiled = JSON.parse(readFileSync(file, 'utf8')) as CompiledPolicies;
  if (!isCompiledPolicies(compiled)) {
    throw new Error(
      `${file} holds no compiled policies of format ${COMPILED_POLICIES_FORMAT}; deploy the stack again`,
    );
  }
  return compiled;
}

/** The settings of this execution environment. */
export function awsSettings(config: AirlockConfig, env: AwsEnvironment = process.env): AirlockSettings {
  const stacks = new SourceMappedStack(bundleDirectory(env));
  return {
    config,
    // Read when the policy engine is built: only the functions that decide carry and read them. The
    // bundle carries them compiled (validated at synth); tests point at a folder of policy files.
    get policies() {
      const folder = env[FUNCTION_ENV.policyDir];
      return folder
        ? readPolicyFiles(folder)
        : readCompiledPolicies(join(bundleDirectory(env), 'policies.json'));
    },
    tokens: tokenIdentifiers(config),
    // One chain per execution environment: it serves one request at a time, so its records never race.
    auditChainIds: [newChainId(env.AWS_LAMBDA_FUNCTION_NAME ?? 'airlock', randomUUID())],
    functionMemoryMb: Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? 512),
    killSwitchPrefix: env[FUNCTION_ENV.killSwitchPrefix] ?? killSwitchPrefix(config.stage),
    log: {
      warn: (message, error) => logger.warn(message, error as Error),
      // Never the request: it may carry a token. A bug's stack names the source when maps are shipped.
      unexpected: (message, error) => logger.error(message, stacks.map(error) as Error),
    },
  };
}

/**
 * The shared services of a Lambda function over AWS, from the bundle and the environment.
 * @param builders the builders of the ports the function's composition reads (`lambdas/<fn>/<fn>-aws-ports.ts`)
 */
export function awsServices(builders: AwsPortBuilders, env: AwsEnvironment = process.env): SharedServices {
  const config = loadBundledConfig(env);
  const ports = new AwsPorts({
    config,
    builders,
    env,
    onMetricsError: (error) => logger.warn('metrics not recorded', error as Error),
  });
  return new SharedServices(awsSettings(config, env), ports);
}
