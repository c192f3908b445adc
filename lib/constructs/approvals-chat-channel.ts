import * as chatbot from 'aws-cdk-lib/aws-chatbot';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface ApprovalsChatChannelProps {
  /** The topic whose messages are posted to the channel (custom notifications of the chat integration). */
  readonly topic: sns.ITopic;
  /** The name of the channel configuration(s): letters, digits, `-` and `_`, at most 128. */
  readonly configurationName: string;
  /**
   * A Slack channel of a workspace authorized in the chat integration's console.
   * @default - no Slack channel
   */
  readonly slack?: { readonly workspaceId: string; readonly channelId: string };
  /**
   * A Microsoft Teams channel of a team authorized in the chat integration's console.
   * @default - no Teams channel
   */
  readonly teams?: { readonly tenantId: string; readonly teamId: string; readonly channelId: string };
}

/**
 * The approvers' chat channel: AWS's chat integration (Amazon Q Developer in chat applications,
 * formerly AWS Chatbot) subscribed to a topic, posting what it publishes to a Slack and/or a Teams
 * channel. The channel only receives notices: its role holds no permission and its guardrail denies
 * every action, so nobody can run an AWS command from the chat.
 *
 * The topic may be encrypted with a customer managed key: SNS decrypts each message before it delivers
 * it to a subscriber, so the chat integration (an HTTPS subscriber SNS signs for) never uses the key;
 * only publishers need it (NotificationTopic.grantPublish).
 */
export class ApprovalsChatChannel extends Construct {
  /** The channel role: trusted by the chat integration, with no permission at all. */
  public readonly role: iam.Role;
  /** The guardrail: an upper bound on what anyone in the channel could do, which is nothing. */
  public readonly guardrail: iam.ManagedPolicy;
  public readonly slack?: chatbot.SlackChannelConfiguration;
  public readonly teams?: chatbot.CfnMicrosoftTeamsChannelConfiguration;

  constructor(scope: Construct, id: string, props: ApprovalsChatChannelProps) {
    super(scope, id);
    if (!props.slack && !props.teams) {
      throw new Error('ApprovalsChatChannel: name a slack or a teams channel (config approvals.chat)');
    }
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(props.configurationName)) {
      throw new Error(
        `ApprovalsChatChannel: configurationName "${props.configurationName}" must be 1-128 letters, digits, "-" or "_"`,
      );
    }
    this.role = new iam.Role(this, 'ChannelRole', {
      assumedBy: new iam.ServicePrincipal('chatbot.amazonaws.com'),
      description: 'Airlock approvals chat channel: receives notices only; no AWS command runs from the chat',
    });
    this.guardrail = new iam.ManagedPolicy(this, 'Guardrail', {
      description:
        'Airlock approvals chat channel guardrail: denies every action (the channel only receives notices)',
      statements: [
        // `*` on purpose: a guardrail is an upper bound, and this one must leave nothing to run from chat.
        new iam.PolicyStatement({
          sid: 'NoCommandsFromChat',
          effect: iam.Effect.DENY,
          actions: ['*'],
          resources: ['*'],
        }),
      ],
    });
    if (props.slack) {
      this.slack = new chatbot.SlackChannelConfiguration(this, 'Slack', {
        slackChannelConfigurationName: props.configurationName,
        slackWorkspaceId: props.slack.workspaceId,
        slackChannelId: props.slack.channelId,
        notificationTopics: [props.topic],
        role: this.role,
        guardrailPolicies: [this.guardrail],
        userRoleRequired: false,
        loggingLevel: chatbot.LoggingLevel.ERROR,
      });
    }
    if (props.teams) {
      this.teams = new chatbot.CfnMicrosoftTeamsChannelConfiguration(this, 'Teams', {
        configurationName: props.configurationName,
        teamsTenantId: props.teams.tenantId,
        teamId: props.teams.teamId,
        teamsChannelId: props.teams.channelId,
        snsTopicArns: [props.topic.topicArn],
        iamRoleArn: this.role.roleArn,
        guardrailPolicies: [this.guardrail.managedPolicyArn],
        userRoleRequired: false,
        loggingLevel: 'ERROR',
      });
    }
  }
}
