import type { Construct } from 'constructs';
import type { AirlockConfig } from '../config/schema';
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

/**
 * Creates the stacks of one Airlock stage (`Airlock-<stage>-Foundation`, `Airlock-<stage>-Api`,
 * `Airlock-<stage>-Monitoring`),
 * environment-agnostic so `cdk synth` works offline, and records the reviewed cdk-nag
 * acknowledgements on them.
 */
export function createAirlockStacks(scope: Construct, config: AirlockConfig): AirlockStacks {
  const prefix = `Airlock-${config.stage}`;
  const foundation = new FoundationStack(scope, `${prefix}-Foundation`, {
    config,
    description: `Airlock ${config.stage}: keys, secrets, audit ledger, approvals, revocations, connector data, topics`,
  });
  const api = new ApiStack(scope, `${prefix}-Api`, {
    config,
    foundation,
    description: `Airlock ${config.stage}: mutual-TLS API, functions, kill switch, operator role`,
  });
  const monitoring = new MonitoringStack(scope, `${prefix}-Monitoring`, {
    config,
    foundation,
    description: `Airlock ${config.stage}: finance dashboard, budgets per workflow, anomaly and KMS signing-rate alarms`,
  });
  const stacks = { foundation, api, monitoring };
  acknowledgeNagFindings(stacks);
  return stacks;
}
