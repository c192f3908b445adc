import 'aws-cdk-lib/testhelpers/jest-autoclean';
import type { Stack } from 'aws-cdk-lib';
import { parseConfig } from '../../lib/config/load-config';
import { FUNCTION_ENV } from '../../lib/contracts/environment';
import { createNagPacks } from '../../lib/nag/nag-packs';
import {
  type AirlockTestApp,
  chatConfig,
  exampleConfig,
  synthesizeAirlock,
  TEST_CHAT_SECTION,
} from './airlock-test-app';

describe('Construct: ApprovalsChatChannel (config approvals.chat)', () => {
  let airlock: AirlockTestApp;
  let chatTopic: string;
  let approvalsTopic: string;
  let dataKey: string;

  beforeAll(() => {
    airlock = synthesizeAirlock(chatConfig());
    const f = airlock.foundation;
    chatTopic = f.getLogicalId(f.approvalsChatTopic!.topic.node.defaultChild as never);
    approvalsTopic = f.getLogicalId(f.approvalsTopic.topic.node.defaultChild as never);
    dataKey = f.getLogicalId(f.keys.dataKey.node.defaultChild as never);
  });

  it('posts the chat topic (encrypted with the data key) to the Slack and the Teams channel', () => {
    // Assess
    const t = airlock.foundationTemplate;
    t.hasResourceProperties('AWS::SNS::Topic', {
      DisplayName: 'Airlock pilot: approvals waiting (chat)',
      KmsMasterKeyId: { 'Fn::GetAtt': [dataKey, 'Arn'] },
    });
    t.hasResourceProperties('AWS::Chatbot::SlackChannelConfiguration', {
      ConfigurationName: 'airlock-pilot-approvals',
      SlackWorkspaceId: TEST_CHAT_SECTION.slack.workspaceId,
      SlackChannelId: TEST_CHAT_SECTION.slack.channelId,
      SnsTopicArns: [{ Ref: chatTopic }],
      UserRoleRequired: false,
      LoggingLevel: 'ERROR',
    });
    t.hasResourceProperties('AWS::Chatbot::MicrosoftTeamsChannelConfiguration', {
      ConfigurationName: 'airlock-pilot-approvals',
      TeamsTenantId: TEST_CHAT_SECTION.teams.tenantId,
      TeamId: TEST_CHAT_SECTION.teams.teamId,
      TeamsChannelId: TEST_CHAT_SECTION.teams.channelId,
      SnsTopicArns: [{ Ref: chatTopic }],
      UserRoleRequired: false,
    });
  });

  it('never subscribes the chat to the approvals topic, whose decisions are for their requester alone', () => {
    // Assess
    const t = airlock.foundationTemplate;
    for (const type of [
      'AWS::Chatbot::SlackChannelConfiguration',
      'AWS::Chatbot::MicrosoftTeamsChannelConfiguration',
    ]) {
      for (const channel of Object.values(t.findResources(type))) {
        expect(channel.Properties.SnsTopicArns).toEqual([{ Ref: chatTopic }]);
        expect(JSON.stringify(channel.Properties.SnsTopicArns)).not.toContain(approvalsTopic);
      }
    }
    // The chat topic has no subscriber but the chat integration (which subscribes itself).
    const onChat = Object.values(t.findResources('AWS::SNS::Subscription')).filter(
      (r) => r.Properties.TopicArn?.Ref === chatTopic,
    );
    expect(onChat).toEqual([]);
  });

  it('gives the channel role no permission and a guardrail that denies every action (attack: commands run from chat)', () => {
    // Assess
    const t = airlock.foundationTemplate;
    const channel = airlock.foundation.approvalsChatChannel!;
    const roleId = airlock.foundation.getLogicalId(channel.role.node.defaultChild as never);
    const role = t.findResources('AWS::IAM::Role')[roleId];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({ Principal: { Service: 'chatbot.amazonaws.com' }, Action: 'sts:AssumeRole' }),
    ]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.Policies).toBeUndefined();
    const attached = Object.values(t.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles ?? []).includes(roleId),
    );
    expect(attached).toEqual([]);
    const guardrailId = airlock.foundation.getLogicalId(channel.guardrail.node.defaultChild as never);
    t.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: [{ Sid: 'NoCommandsFromChat', Effect: 'Deny', Action: '*', Resource: '*' }],
      },
    });
    t.hasResourceProperties('AWS::Chatbot::SlackChannelConfiguration', {
      GuardrailPolicies: [{ Ref: guardrailId }],
      IamRoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
    });
    t.hasResourceProperties('AWS::Chatbot::MicrosoftTeamsChannelConfiguration', {
      GuardrailPolicies: [{ Ref: guardrailId }],
    });
  });

  it('grants the chat integration nothing on the data key: SNS decrypts before it delivers to a subscriber', () => {
    // Assess: the key policy names no chat service principal; publishers hold the key use (grantPublish)
    const key = airlock.foundationTemplate.findResources('AWS::KMS::Key')[dataKey];
    expect(JSON.stringify(key.Properties.KeyPolicy)).not.toMatch(/chatbot|management\.chatbot/);
  });

  it('lets the functions that hold or remind publish to the chat topic (sns:Publish, the key through SNS only)', () => {
    // Assess
    const t = airlock.apiTemplate;
    const publishers = Object.values(t.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[]).some(
        (s) => s.Action === 'sns:Publish' && JSON.stringify(s.Resource).includes('ApprovalsChatTopic'),
      ),
    );
    expect(publishers.length).toBe(3); // connector, approvals, oauth
    const bound = Object.values(t.findResources('AWS::Lambda::Function')).filter((fn) =>
      JSON.stringify(
        fn.Properties.Environment?.Variables?.[FUNCTION_ENV.approvalsChatTopicArn] ?? '',
      ).includes('ApprovalsChatTopic'),
    );
    expect(bound.length).toBe(3);
  });

  it('leaves no unacknowledged cdk-nag finding in the Foundation stack with a chat channel', () => {
    // Act
    const findings = findingsOf(airlock.foundation);

    // Assess
    expect(findings).toEqual([]);
  });

  it('creates no chat topic or channel without approvals.chat', () => {
    // Act
    const plain = synthesizeAirlock(exampleConfig());

    // Assess
    plain.foundationTemplate.resourceCountIs('AWS::Chatbot::SlackChannelConfiguration', 0);
    plain.foundationTemplate.resourceCountIs('AWS::Chatbot::MicrosoftTeamsChannelConfiguration', 0);
    expect(plain.foundation.approvalsChatTopic).toBeUndefined();
  });

  it.each([
    [{}, /name a slack or a teams channel/],
    [{ slack: { workspaceId: 'my workspace', channelId: 'C0123' } }, /Slack workspace id such as T0123ABCD/],
    [
      {
        teams: {
          tenantId: TEST_CHAT_SECTION.teams.tenantId,
          teamId: TEST_CHAT_SECTION.teams.teamId,
          channelId: 'general',
        },
      },
      /Teams channel id from the channel's link/,
    ],
  ])('refuses a chat section %j with a message naming what to fix', (chat, message) => {
    // Prepare
    const example = exampleConfig();

    // Act / Assess
    expect(() =>
      parseConfig({ ...example, approvals: { ...example.approvals, chat } }, 'test config'),
    ).toThrow(message);
  });
});

function findingsOf(stack: Stack): string[] {
  return createNagPacks(stack).flatMap((pack) =>
    pack
      .validateScope(stack)
      .violations.flatMap((v) =>
        v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}: ${v.description}`),
      ),
  );
}
