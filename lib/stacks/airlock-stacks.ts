import type { Construct } from 'constructs';
import type { AirlockConfig } from '../config/schema';
import { acknowledgeNagFindings } from '../nag/acknowledgements';
import { ApiStack } from './api-stack';
import { FoundationStack } from './foundation-stack';

/** Airlock's stacks for one stage. */
export interface AirlockStacks {
  readonly foundation: FoundationStack;
  readonly api: ApiStack;
}

/**
 * Creates the stacks of one Airlock stage (`Airlock-<stage>-Foundation`, `Airlock-<stage>-Api`),
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
  const stacks = { foundation, api };
  acknowledgeNagFindings(stacks);
  return stacks;
}
