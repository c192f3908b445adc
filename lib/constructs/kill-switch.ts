import { ArnFormat, AspectPriority, Aspects, type IAspect, Names, Stack, Tags } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct, type IConstruct } from 'constructs';
import { FUNCTION_ENV } from '../contracts/environment';
import type { AirlockFunction } from './airlock-function';
import type { NotificationTopic } from './notification-topic';

/**
 * The value every kill-switch parameter starts with. Never change it: CloudFormation writes the
 * template's value whenever it updates the parameter, so a different value here would release every
 * engaged switch (and forget its `revokeIssuedBefore`) on the next deploy. The date is fixed for the
 * same reason. See "Deployments" in docs/runbooks/kill-switch.md.
 */
export const INITIAL_KILL_SWITCH_STATE = {
  engaged: false,
  reason: 'initial deployment',
  changedBy: 'cdk',
  changedAt: '2026-01-01T00:00:00.000Z',
  revokeIssuedBefore: null,
} as const;

export interface KillSwitchProps {
  /** Deployment stage; the parameters live under `/airlock/<stage>/kill-switch`. */
  readonly stage: string;
  /** Workflow names; each gets its own switch `/airlock/<stage>/kill-switch/<workflow>`. */
  readonly workflows: readonly string[];
}

/**
 * The kill switch: a global SSM parameter and one per workflow, each holding the JSON state
 * `{engaged, reason, changedBy, changedAt, revokeIssuedBefore}`. Functions read them with a short
 * cache; operators flip them; every change raises an alert and an audit record.
 */
export class KillSwitch extends Construct {
  /** `/airlock/<stage>/kill-switch`: the prefix functions read. */
  public readonly parameterPrefix: string;
  /** The global switch (construct id `Resource`). */
  public readonly globalParameter: ssm.StringParameter;
  /** Workflow name → its switch. */
  public readonly workflowParameters: ReadonlyMap<string, ssm.StringParameter>;
  /** Names of every kill-switch parameter: the global one first. */
  public readonly parameterNames: readonly string[];
  /** The role EventBridge publishes kill-switch changes to the alerts topic with, once `onChange` ran. */
  public alertsPublisher?: iam.Role;

  constructor(scope: Construct, id: string, props: KillSwitchProps) {
    super(scope, id);
    const duplicates = props.workflows.filter((w, i) => props.workflows.indexOf(w) !== i);
    if (duplicates.length > 0) {
      throw new Error(`KillSwitch: workflow names must be unique (repeated: ${duplicates.join(', ')})`);
    }
    for (const workflow of props.workflows) {
      if (!/^[a-z][a-z0-9-]{0,62}$/.test(workflow)) {
        throw new Error(
          `KillSwitch: workflow name "${workflow}" cannot be part of a parameter name; use lower-case letters, digits and dashes`,
        );
      }
    }
    this.parameterPrefix = `/airlock/${props.stage}/kill-switch`;
    const initialValue = JSON.stringify(INITIAL_KILL_SWITCH_STATE);
    this.globalParameter = new ssm.StringParameter(this, 'Resource', {
      parameterName: this.parameterPrefix,
      description: `Airlock ${props.stage}: global kill switch (engaged refuses every call)`,
      stringValue: initialValue,
      tier: ssm.ParameterTier.STANDARD,
    });
    pinTags(this.globalParameter, { 'airlock:stage': props.stage });
    const workflowParameters = new Map<string, ssm.StringParameter>();
    for (const workflow of props.workflows) {
      const parameter = new ssm.StringParameter(this, `Workflow-${workflow}`, {
        parameterName: `${this.parameterPrefix}/${workflow}`,
        description: `Airlock ${props.stage}: kill switch of the ${workflow} workflow`,
        stringValue: initialValue,
        tier: ssm.ParameterTier.STANDARD,
      });
      Tags.of(parameter).add('airlock:workflow', workflow);
      pinTags(parameter, { 'airlock:stage': props.stage, 'airlock:workflow': workflow });
      workflowParameters.set(workflow, parameter);
    }
    this.workflowParameters = workflowParameters;
    this.parameterNames = [
      this.parameterPrefix,
      ...props.workflows.map((w) => `${this.parameterPrefix}/${w}`),
    ];
  }

  /** Every kill-switch parameter: the global one first. */
  public get parameters(): ssm.StringParameter[] {
    return [this.globalParameter, ...this.workflowParameters.values()];
  }

  /** Allows `ssm:GetParameters` (what the kill switch reads with) on exactly the kill-switch parameters. */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['ssm:GetParameters'],
      resourceArns: this.parameters.map((p) => p.parameterArn),
    });
  }

  /** Allows reading and flipping the kill-switch parameters (and nothing else in Parameter Store). */
  public grantWrite(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['ssm:GetParameters', 'ssm:PutParameter'],
      resourceArns: this.parameters.map((p) => p.parameterArn),
    });
  }

  /** Binds a reader: `AIRLOCK_KILL_SWITCH_PREFIX` with read access to the switches under it. */
  public bindReader(fn: AirlockFunction): void {
    fn.addEnvironment(FUNCTION_ENV.killSwitchPrefix, this.parameterPrefix);
    this.grantRead(fn);
  }

  /**
   * Sends every change of a kill-switch parameter to the alerts topic and to the function that
   * records it in the audit ledger (`kill_switch_changed`).
   */
  public onChange(
    id: string,
    options: { alerts: NotificationTopic; recorder: AirlockFunction },
  ): events.Rule {
    const rule = new events.Rule(this, id, {
      description: 'A kill switch of Airlock changed',
      eventPattern: {
        source: ['aws.ssm'],
        detailType: ['Parameter Store Change'],
        detail: { name: [...this.parameterNames] },
      },
    });
    // A name fixed at synth (not generated by CloudFormation) lets the publisher role trust exactly
    // this rule's ARN; referencing the rule's ARN attribute instead would be circular (the rule names the role).
    const ruleName = Names.uniqueResourceName(rule, { maxLength: 64, separator: '-' });
    (rule.node.defaultChild as events.CfnRule).name = ruleName;
    const stack = Stack.of(this);
    // EventBridge publishes to the encrypted alerts topic through this role, not through the topic's
    // and the key's resource policies: EventBridge's KMS requests carry no aws:SourceArn or
    // aws:SourceAccount, so a key policy could not tie them to this rule, while this role's trust can.
    const publisher = new iam.Role(this, `${id}AlertsPublisher`, {
      description: 'EventBridge publishes kill-switch changes to the Airlock alerts topic with this role',
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnEquals: {
          'aws:SourceArn': stack.formatArn({
            service: 'events',
            resource: 'rule',
            resourceName: ruleName,
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          }),
        },
      }),
    });
    options.alerts.grantPublish(publisher);
    // The target gets the topic by reference only: given the topic itself, it would grant the role
    // `topic.grantPublish`'s kms:GenerateDataKey* wildcard on top of the exact actions above.
    const alertsTopic = sns.Topic.fromTopicArn(this, `${id}AlertsTopic`, options.alerts.topicArn);
    rule.addTarget(
      new targets.SnsTopic(alertsTopic, {
        role: publisher,
        deadLetterQueue: options.recorder.deadLetterQueue,
      }),
    );
    this.alertsPublisher = publisher;
    rule.addTarget(
      new targets.LambdaFunction(options.recorder.function, {
        deadLetterQueue: options.recorder.deadLetterQueue,
        retryAttempts: 8,
      }),
    );
    return rule;
  }
}

/**
 * Fixes a kill-switch parameter's tags to exactly `tags`, whatever tags an app, stage or stack adds
 * later. Any change to a parameter's properties, tags included, makes CloudFormation update it, and
 * an update writes the template's value over the operator's: an engaged switch would be released by
 * someone adding a cost tag to the app. So every property of these parameters stays constant.
 */
function pinTags(parameter: ssm.StringParameter, tags: Record<string, string>): void {
  const resource = parameter.node.defaultChild as ssm.CfnParameter;
  resource.addPropertyOverride('Tags', tags);
  // The override sets these tags; the aspect removes any other, after every tagging aspect has run.
  Aspects.of(resource).add(new OnlyTheseTags(tags), { priority: AspectPriority.READONLY });
}

/** Removes every tag but the given ones from an SSM parameter, outranking any `Tags.of(...).add`. */
class OnlyTheseTags implements IAspect {
  private static readonly PRIORITY = 1_000_000;

  constructor(private readonly tags: Record<string, string>) {}

  public visit(node: IConstruct): void {
    if (!(node instanceof ssm.CfnParameter)) return;
    for (const key of Object.keys(node.tags.tagValues())) {
      if (!(key in this.tags)) node.tags.removeTag(key, OnlyTheseTags.PRIORITY);
    }
  }
}
