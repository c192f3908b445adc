/**
 * Entry of the integration test for `integ-runner` (`npm run integ`): Airlock's stacks from the pilot
 * config (AIRLOCK_CONFIG, else config/airlock.config.yaml) and the assertions of airlock-integ-test.ts.
 * Use a config of its own (`stage: integ`, your domain, certificate and truststore): the stacks are
 * deployed, asserted and destroyed, and Foundation's retained resources stay behind.
 */
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../../lib/config/load-config';
import { addAirlockInteg } from './airlock-integ-test';

// integ-runner runs this file from its own folder; config and truststore paths are the project's.
process.chdir(path.resolve(__dirname, '..', '..'));

const app = new App();
try {
  addAirlockInteg(app, loadConfig(process.env.AIRLOCK_CONFIG ?? DEFAULT_CONFIG_PATH));
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`Invalid Airlock config: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
app.synth();
