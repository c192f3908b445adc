/**
 * The names of one stage's CloudFormation stacks. The CDK app creates them under these names, and
 * `airlock doctor` reads the deployment's outputs and resources by them, so both use this one function.
 */

/** The stacks of one Airlock stage. */
export interface AirlockStackNames {
  /** Keys, secrets, the audit ledger, approvals, revocations, connector data, topics. */
  readonly foundation: string;
  /** The mutual-TLS API, the functions, the kill switch, the operator and auditor roles. */
  readonly api: string;
  /** The finance dashboard, budgets and alarms. */
  readonly monitoring: string;
}

/** `Airlock-<stage>-Foundation`, `Airlock-<stage>-Api`, `Airlock-<stage>-Monitoring`. */
export function airlockStackNames(stage: string): AirlockStackNames {
  const prefix = `Airlock-${stage}`;
  return {
    foundation: `${prefix}-Foundation`,
    api: `${prefix}-Api`,
    monitoring: `${prefix}-Monitoring`,
  };
}
