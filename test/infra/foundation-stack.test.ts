import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { Match } from 'aws-cdk-lib/assertions';
import { APPROVALS_TABLE, AUDIT_TABLE, COUNTERS_TABLE, REVOCATIONS_TABLE } from '../../lib/contracts/tables';
import { type AirlockTestApp, synthesizeAirlock } from './airlock-test-app';

describe('Class: FoundationStack', () => {
  let airlock: AirlockTestApp;
  let dataKeyId: string;

  beforeAll(() => {
    airlock = synthesizeAirlock();
    dataKeyId = airlock.foundation.getLogicalId(airlock.foundation.keys.dataKey.node.defaultChild as never);
  });

  const keyArn = () => ({ 'Fn::GetAtt': [dataKeyId, 'Arn'] });

  describe('Method: constructor', () => {
    it('matches the snapshot', () => {
      // Assess
      expect(airlock.foundationTemplate.toJSON()).toMatchSnapshot();
    });

    it('creates a Bedrock application inference profile per workflow with an llm, tagged with the workflow, its ARN an output', () => {
      // Assess
      const t = airlock.foundationTemplate;
      t.resourceCountIs('AWS::Bedrock::ApplicationInferenceProfile', 1);
      t.hasResourceProperties('AWS::Bedrock::ApplicationInferenceProfile', {
        InferenceProfileName: 'airlock-pilot-expense-summary',
        ModelSource: {
          CopyFrom: {
            'Fn::Join': [
              '',
              Match.arrayWith([':inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0']),
            ],
          },
        },
        Tags: Match.arrayWith([{ Key: 'airlock:workflow', Value: 'expense-summary' }]),
      });
      t.hasOutput('InferenceProfileArns', {
        Description: Match.stringLikeRegexp('AIRLOCK_INFERENCE_PROFILES'),
      });
      t.hasOutput('InferenceProfileArnExpenseSummary', {});
    });

    it('creates a symmetric data key with rotation and an ES256 signing key with its alias', () => {
      // Assess
      const t = airlock.foundationTemplate;
      t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, KeySpec: Match.absent() });
      t.hasResourceProperties('AWS::KMS::Key', { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
      t.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/airlock-pilot-token-signing' });
    });

    it('creates the four tables with the key schemas the adapters use, PITR, the CMK and deletion protection', () => {
      // Assess
      const t = airlock.foundationTemplate;
      const secure = {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn() },
        DeletionProtectionEnabled: true,
      };
      t.resourceCountIs('AWS::DynamoDB::Table', 4);
      t.hasResourceProperties('AWS::DynamoDB::Table', {
        ...secure,
        KeySchema: [
          { AttributeName: AUDIT_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: AUDIT_TABLE.sortKey, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([{ AttributeName: AUDIT_TABLE.sortKey, AttributeType: 'N' }]),
      });
      t.hasResourceProperties('AWS::DynamoDB::Table', {
        ...secure,
        KeySchema: [{ AttributeName: APPROVALS_TABLE.partitionKey, KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: APPROVALS_TABLE.ttlAttribute, Enabled: true },
        GlobalSecondaryIndexes: [
          Match.objectLike({
            IndexName: APPROVALS_TABLE.statusIndex.name,
            KeySchema: [
              { AttributeName: APPROVALS_TABLE.statusIndex.partitionKey, KeyType: 'HASH' },
              { AttributeName: APPROVALS_TABLE.statusIndex.sortKey, KeyType: 'RANGE' },
            ],
          }),
        ],
      });
      t.hasResourceProperties('AWS::DynamoDB::Table', {
        ...secure,
        KeySchema: [{ AttributeName: REVOCATIONS_TABLE.partitionKey, KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: REVOCATIONS_TABLE.ttlAttribute, Enabled: true },
      });
      t.hasResourceProperties('AWS::DynamoDB::Table', {
        ...secure,
        KeySchema: [{ AttributeName: COUNTERS_TABLE.partitionKey, KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: COUNTERS_TABLE.ttlAttribute, Enabled: true },
      });
    });

    it('locks audit digests under Object Lock COMPLIANCE for the configured days, versioned and CMK-encrypted', () => {
      // Assess
      airlock.foundationTemplate.hasResourceProperties('AWS::S3::Bucket', {
        ObjectLockEnabled: true,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 365 } },
        },
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            Match.objectLike({
              ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn() },
            }),
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'audit-digests/' }),
      });
    });

    it('refuses plain HTTP on every bucket', () => {
      // Assess
      const policies = airlock.foundationTemplate.findResources('AWS::S3::BucketPolicy');
      const buckets = airlock.foundationTemplate.findResources('AWS::S3::Bucket');
      const denied = Object.values(policies).filter((p) =>
        JSON.stringify(p).includes('"aws:SecureTransport":"false"'),
      );
      expect(denied).toHaveLength(Object.keys(buckets).length);
    });

    it('creates an encrypted bucket for the receipts connector, logging to the access-log bucket', () => {
      // Assess
      airlock.foundationTemplate.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            Match.objectLike({
              ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn() },
            }),
          ],
        },
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'connector-receipts/' }),
      });
    });

    it('creates each HTTP API connector’s secret under its configured name, encrypted with the CMK, with the credentials template', () => {
      // Assess
      const names = ['erp', 'crm', 'mail', 'hr'].map((name) => `airlock/pilot/${name}-client`);
      airlock.foundationTemplate.resourceCountIs('AWS::SecretsManager::Secret', names.length);
      for (const name of names) {
        airlock.foundationTemplate.hasResourceProperties('AWS::SecretsManager::Secret', {
          Name: name,
          KmsKeyId: keyArn(),
          GenerateSecretString: Match.objectLike({
            SecretStringTemplate: JSON.stringify({ clientId: 'replace-me' }),
            GenerateStringKey: 'clientSecret',
          }),
        });
      }
    });

    it('encrypts every topic (approvals, alerts, cost reports) with the CMK', () => {
      // Assess
      const topics = airlock.foundationTemplate.findResources('AWS::SNS::Topic', {
        Properties: { KmsMasterKeyId: keyArn() },
      });
      expect(Object.keys(topics)).toHaveLength(3);
    });

    it('tags every resource that takes tags with airlock:stage', () => {
      // Assess
      airlock.foundationTemplate.hasResourceProperties('AWS::DynamoDB::Table', {
        Tags: Match.arrayWith([{ Key: 'airlock:stage', Value: 'pilot' }]),
      });
      airlock.foundationTemplate.hasResourceProperties('AWS::KMS::Key', {
        Tags: Match.arrayWith([{ Key: 'airlock:stage', Value: 'pilot' }]),
      });
    });

    it('sends approvers pending notices only and each requester the decisions on their own requests only', () => {
      // Assess
      const t = airlock.foundationTemplate;
      const approvalsTopic = airlock.foundation.getLogicalId(
        airlock.foundation.approvalsTopic.topic.node.defaultChild as never,
      );
      t.hasResourceProperties('AWS::SNS::Subscription', {
        TopicArn: { Ref: approvalsTopic },
        Protocol: 'email',
        Endpoint: 'finance-managers@example.com',
        FilterPolicy: { kind: ['pending'] },
      });
      t.hasResourceProperties('AWS::SNS::Subscription', {
        TopicArn: { Ref: approvalsTopic },
        Protocol: 'email',
        Endpoint: 'alice@example.com',
        FilterPolicy: { kind: ['decision'], requester: ['alice'] },
      });
      const onApprovals = Object.values(t.findResources('AWS::SNS::Subscription')).filter(
        (r) => r.Properties.TopicArn?.Ref === approvalsTopic,
      );
      // Every subscription of the approvals topic is filtered: none receives everything.
      expect(onApprovals.length).toBeGreaterThan(2);
      for (const subscription of onApprovals) expect(subscription.Properties.FilterPolicy).toBeDefined();
    });
  });
});
