import type { Environment } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { AirlockConfig } from '../config/schema';
import { airlockStackNames } from '../contracts/stack-names';
import { acknowledgeNagFindings } from '../nag/acknowledgements';
import { ApiStack } from './api-stack';
import { FoundationStack } from './foundation-stack';
import { MonitoringStack } from './monitoring-stack';

/** Airlock's stacks for one stage. */
export interface AirlockStacks {
  readonly foundation: FoundationStack;
  readonly api: ApiStack;
  readonly monitoring: MonitoringStack;
}

/** Options for the stacks of one stage. */
export interface AirlockStacksOptions {
  /**
   * The account and region to deploy to. With a concrete region, certificates of another region are
   * refused at synth instead of at deploy time.
   * @default - environment-agnostic: `cdk synth` works offline, the AWS profile picks the target
   */
  readonly env?: Environment;
}

/**
 * Creates the stacks of one Airlock stage (`Airlock-<stage>-Foundation`, `Airlock-<stage>-Api`,
 * `Airlock-<stage>-Monitoring`), environment-agnostic unless `options.env` says otherwise so
 * `cdk synth` works offline, and records the reviewed cdk-nag acknowledgements on them.
 */
export function createAirlockStacks(
  scope: Construct,
  config: AirlockConfig,
  options: AirlockStacksOptions = {},
): AirlockStacks {
  const names = airlockStackNames(config.stage);
  const env = options.env;
  const foundation = new FoundationStack(scope, names.foundation, {
    env,
    config,
    description: `Airlock ${config.stage}: keys, secrets, audit ledger, approvals, revocations, connector data, topics`,
  });
  const api = new ApiStack(scope, names.api, {
    env,
    config,
    foundation,
    description: `Airlock ${config.stage}: mutual-TLS API, functions, kill switch, operator role`,
  });
  const monitoring = new MonitoringStack(scope, names.monitoring, {
    env,
    config,
    foundation,
    description: `Airlock ${config.stage}: finance dashboard, budgets per workflow, anomaly and KMS signing-rate alarms`,
  });
  const stacks = { foundation, api, monitoring };
  acknowledgeNagFindings(stacks);
  return stacks;
}
