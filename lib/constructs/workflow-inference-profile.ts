import { Arn, ArnFormat, Stack, Tags, Token } from 'aws-cdk-lib';
import * as bedrock from 'aws-cdk-lib/aws-bedrock';
import { Construct } from 'constructs';
import { WORKFLOW_COST_TAG } from './workflow-budget';

/** System-defined cross-region inference profiles start with their geography (`us.anthropic...`). */
const CROSS_REGION_PREFIX = /^(us|eu|apac|us-gov|global|jp|au|ca)\./;

export interface WorkflowInferenceProfileProps {
  /** Deployment stage; part of the profile's name `airlock-<stage>-<workflow>`. */
  readonly stage: string;
  /** The workflow whose model calls the profile carries (the value of the `airlock:workflow` tag). */
  readonly workflow: string;
  /**
   * The foundation model id (`anthropic.claude-...`) or system-defined inference profile id
   * (`us.anthropic.claude-...`) the profile routes to (`workflows.<w>.llm.bedrockModelId`).
   */
  readonly bedrockModelId: string;
}

/**
 * A Bedrock application inference profile for one workflow, tagged `airlock:workflow=<workflow>`.
 * Clients call the model through its ARN (`airlock clients config` and the stack output give it), so
 * Bedrock counts the workflow's tokens under the profile (CloudWatch `AWS/Bedrock`, dimension
 * `ModelId`) and the bill carries the workflow's tag: the LLM cost is measured by the provider, not
 * reported by the agent.
 */
export class WorkflowInferenceProfile extends Construct {
  /** The profile (construct id `Resource`). */
  public readonly profile: bedrock.CfnApplicationInferenceProfile;
  /** The ARN clients call the model with. */
  /** The profile's id (the last segment of its ARN): the other value Bedrock's `ModelId` may carry. */
  public readonly profileId: string;
  public readonly profileArn: string;

  constructor(scope: Construct, id: string, props: WorkflowInferenceProfileProps) {
    super(scope, id);
    if (
      !Token.isUnresolved(props.bedrockModelId) &&
      !/^[a-z0-9-]+(\.[a-zA-Z0-9-]+)+(:\d+)?$/.test(props.bedrockModelId)
    ) {
      throw new Error(
        `WorkflowInferenceProfile: bedrockModelId "${props.bedrockModelId}" of workflow "${props.workflow}" is not a Bedrock model or inference profile id; set workflows.${props.workflow}.llm.bedrockModelId to e.g. us.anthropic.claude-sonnet-4-5-20250929-v1:0`,
      );
    }
    const stack = Stack.of(this);
    const crossRegion = CROSS_REGION_PREFIX.test(props.bedrockModelId);
    // A system-defined profile is the account's own resource; a foundation model has no account.
    const copyFrom = Arn.format(
      crossRegion
        ? {
            service: 'bedrock',
            resource: 'inference-profile',
            resourceName: props.bedrockModelId,
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          }
        : {
            service: 'bedrock',
            account: '',
            resource: 'foundation-model',
            resourceName: props.bedrockModelId,
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          },
      stack,
    );
    this.profile = new bedrock.CfnApplicationInferenceProfile(this, 'Resource', {
      inferenceProfileName: `airlock-${props.stage}-${props.workflow}`,
      // Bedrock allows letters, digits, `:` and `.` with single spaces, dashes or underscores between.
      description: `Airlock ${props.stage} workflow ${props.workflow} model calls`,
      modelSource: { copyFrom },
      tags: [{ key: WORKFLOW_COST_TAG, value: props.workflow }],
    });
    Tags.of(this.profile).add(WORKFLOW_COST_TAG, props.workflow);
    this.profileArn = this.profile.attrInferenceProfileArn;
    this.profileId = this.profile.attrInferenceProfileId;
  }
}
