/**
 * What every Airlock Lambda function builds once per execution environment: its settings (the pilot
 * config and the Cedar policies bundled next to the handler, the token identifiers, its own audit
 * chain) and its AWS ports, as the shared services its composition is built from.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { parseConfig } from '../../../lib/config/load-config';
import type { AirlockConfig } from '../../../lib/config/schema';
import { FUNCTION_ENV } from '../../../lib/contracts/environment';
import type { AirlockSettings } from '../../composition/airlock-ports';
import { SharedServices } from '../../composition/shared-services';
import { newChainId } from '../../core/audit-ledger';
import { killSwitchPrefix } from '../../core/kill-switch';
import { readPolicyFiles } from '../policy-files';
import { type AwsEnvironment, AwsPorts } from './aws-ports';

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

/** The validated pilot config bundled with the function. */
export function loadBundledConfig(env: AwsEnvironment = process.env): AirlockConfig {
  const file = env[FUNCTION_ENV.configFile] ?? join(bundleDirectory(env), 'airlock.config.json');
  return parseConfig(JSON.parse(readFileSync(file, 'utf8')), file);
}

/** The settings of this execution environment. */
export function awsSettings(config: AirlockConfig, env: AwsEnvironment = process.env): AirlockSettings {
  return {
    config,
    policies: readPolicyFiles(env[FUNCTION_ENV.policyDir] ?? join(bundleDirectory(env), 'policies')),
    tokens: tokenIdentifiers(config),
    // One chain per execution environment: it serves one request at a time, so its records never race.
    auditChainIds: [newChainId(env.AWS_LAMBDA_FUNCTION_NAME ?? 'airlock', randomUUID())],
    functionMemoryMb: Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? 512),
    killSwitchPrefix: env[FUNCTION_ENV.killSwitchPrefix] ?? killSwitchPrefix(config.stage),
    log: {
      warn: (message, error) => logger.warn(message, error as Error),
      // Never the request: it may carry a token.
      unexpected: (message, error) => logger.error(message, error as Error),
    },
  };
}

/** The shared services of a Lambda function over AWS, from the bundle and the environment. */
export function awsServices(env: AwsEnvironment = process.env): SharedServices {
  const config = loadBundledConfig(env);
  const ports = new AwsPorts({
    config,
    env,
    onMetricsError: (error) => logger.warn('metrics not recorded', error as Error),
  });
  return new SharedServices(awsSettings(config, env), ports);
}
