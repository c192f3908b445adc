/**
 * The CDK app `cdk synth` runs: loads the pilot config, creates the stacks, applies cdk-nag.
 * Config path: CDK context `config`, else AIRLOCK_CONFIG, else config/airlock.config.yaml.
 */
import { App, Validations } from 'aws-cdk-lib';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../lib/config/load-config';
import { CLI_ENV } from '../lib/contracts/environment';
import { createNagPacks } from '../lib/nag/nag-packs';
import { createAirlockStacks } from '../lib/stacks/airlock-stacks';

const app = new App();
const configPath =
  (app.node.tryGetContext('config') as string | undefined) ??
  process.env[CLI_ENV.config] ??
  DEFAULT_CONFIG_PATH;

try {
  const config = loadConfig(configPath);
  createAirlockStacks(app, config);
  Validations.of(app).addPlugins(...createNagPacks(app));
} catch (error) {
  // A bad config is the user's to fix: one line naming the field, no stack trace.
  if (error instanceof ConfigError) {
    process.stderr.write(`Invalid Airlock config: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
