import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { type AirlockTestApp, exampleConfig, synthesizeAirlock } from './airlock-test-app';
import { fromFoundation, fromFoundationMatch } from './foundation-reference';
import { permissionsOf } from './role-permissions';

/** A value the Api stack reads from the Foundation stack's output whose name contains `fragment`. */
const imported = fromFoundation;

/** Services the anchor may touch at all. */
const KNOWN = new Set(['dynamodb', 'kms', 'logs', 's3', 'sqs', 'ssm', 'xray']);

/** The `kms:ViaService` condition of a data-key grant through `service`. */
const viaService = (service: string) => ({
  StringEquals: {
    'kms:ViaService': { 'Fn::Join': ['', [`${service}.`, { Ref: 'AWS::Region' }, '.amazonaws.com']] },
  },
});

/** The example ledger's read-only database user's secret (config/airlock.config.yaml). */
const LEDGER_SECRET_ARN =
  'arn:aws:secretsmanager:eu-west-1:111111111111:secret:airlock/pilot/ledger-readonly-AbCdEf';

describe('Class: ApiStack', () => {
  let airlock: AirlockTestApp;
  let t: Template;
  const roleOf = (fn: { role: { node: { defaultChild?: unknown } } }) =>
    airlock.api.getLogicalId(fn.role.node.defaultChild as never);
  const functionId = (fn: { function: { node: { defaultChild?: unknown } } }) =>
    airlock.api.getLogicalId(fn.function.node.defaultChild as never);

  beforeAll(() => {
    airlock = synthesizeAirlock();
    t = airlock.apiTemplate;
  });

  describe('Method: constructor', () => {
    it('runs the approvals function every 15 minutes to remind approver groups before expiry', () => {
      // Assess
      const rule = Object.values(t.findResources('AWS::Events::Rule')).find(
        (r) =>
          r.Properties.ScheduleExpression === 'rate(15 minutes)' &&
          JSON.stringify(r.Properties.Targets).includes('Approvals'),
      );
      expect(rule?.Properties.Targets[0].RetryPolicy).toEqual({ MaximumRetryAttempts: 2 });
    });

    it('matches the snapshot', () => {
      // Assess
      expect(t.toJSON()).toMatchSnapshot();
    });

    it('serves only a regional mTLS custom domain with TLS 1.2, the execute-api endpoint disabled', () => {
      // Assess
      t.hasResourceProperties('AWS::ApiGateway::RestApi', {
        DisableExecuteApiEndpoint: true,
        EndpointConfiguration: { Types: ['REGIONAL'] },
      });
      t.hasResourceProperties('AWS::ApiGateway::DomainName', {
        DomainName: 'airlock.example.com',
        SecurityPolicy: 'TLS_1_2',
        EndpointConfiguration: { Types: ['REGIONAL'] },
        RegionalCertificateArn: exampleConfig().domain.certificateArn,
        MutualTlsAuthentication: { TruststoreUri: { 'Fn::Join': ['', Match.arrayWith(['s3://'])] } },
      });
    });

    it('protects the stage with WAF: per-IP rate rule and the AWS common rule set, and logs WAF decisions', () => {
      // Assess
      t.hasResourceProperties('AWS::WAFv2::WebACL', {
        Scope: 'REGIONAL',
        Rules: Match.arrayWith([
          Match.objectLike({
            Statement: { RateBasedStatement: { Limit: 2000, AggregateKeyType: 'IP' } },
            Action: { Block: {} },
          }),
          Match.objectLike({
            Statement: {
              ManagedRuleGroupStatement: Match.objectLike({
                VendorName: 'AWS',
                Name: 'AWSManagedRulesCommonRuleSet',
              }),
            },
          }),
        ]),
      });
      t.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
        ResourceArn: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
        WebACLArn: Match.objectLike({ 'Fn::GetAtt': Match.arrayWith(['Arn']) }),
      });
      t.resourceCountIs('AWS::WAFv2::LoggingConfiguration', 1);
    });

    it('throttles, traces and access-logs the stage to a CMK-encrypted log group', () => {
      // Assess
      t.hasResourceProperties('AWS::ApiGateway::Stage', {
        TracingEnabled: true,
        AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
        MethodSettings: Match.arrayWith([
          Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 }),
        ]),
      });
      const logGroups = t.findResources('AWS::Logs::LogGroup');
      for (const group of Object.values(logGroups)) {
        expect(group.Properties.KmsKeyId).toBeDefined();
        expect(group.Properties.RetentionInDays).toBe(365);
      }
      expect(Object.keys(logGroups)).toHaveLength(6); // four functions, access logs, WAF
    });

    it('routes every contract path to its function', () => {
      // Assess
      const methods = Object.values(t.findResources('AWS::ApiGateway::Method'));
      const routes = methods.map((m) => {
        const uri = JSON.stringify(m.Properties.Integration.Uri);
        const target = ['Broker', 'Connector', 'Approvals'].find((name) =>
          uri.includes(functionId(airlock.api[name.toLowerCase() as 'broker'])),
        );
        return `${m.Properties.HttpMethod} ${target}`;
      });
      expect(routes.sort()).toEqual(
        [
          'GET Approvals',
          'GET Approvals',
          'GET Broker',
          // GET and DELETE /v1/mcp: the function answers 405 with Allow: POST.
          'GET Connector',
          'DELETE Connector',
          'POST Approvals',
          'POST Broker',
          'POST Connector',
          'POST Connector',
          'POST Connector',
        ].sort(),
      );
      for (const method of methods) {
        expect(method.Properties.RequestValidatorId).toBeDefined();
      }
    });

    it('answers gateway errors with the error contract', () => {
      // Assess
      t.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'THROTTLED',
        StatusCode: '429',
        ResponseTemplates: {
          'application/json': Match.stringLikeRegexp(
            '"code":"rate_limited".*"requestId":"\\$context.requestId"',
          ),
        },
      });
      t.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'DEFAULT_5XX',
        ResponseTemplates: {
          'application/json': Match.stringLikeRegexp('^\\{"error":\\{"code":"unavailable"'),
        },
      });
    });

    it('runs every function on Node.js 24, ARM, traced, reserving no concurrency a new account could not grant', () => {
      // Assess: the example config reserves nothing, so an account whose quota is 10 can deploy it
      expect(exampleConfig().functions.reservedConcurrency).toEqual({});
      for (const name of ['broker', 'connector', 'approvals', 'anchor'] as const) {
        t.hasResourceProperties('AWS::Lambda::Function', {
          FunctionName: Match.absent(),
          Description: `Airlock ${name}`,
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          TracingConfig: { Mode: 'Active' },
          ReservedConcurrentExecutions: Match.absent(),
          LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
          Environment: {
            Variables: Match.objectLike({
              AIRLOCK_STAGE: 'pilot',
              // Every function reads the switch: the approvals function decides nothing for a sealed workflow.
              AIRLOCK_KILL_SWITCH_PREFIX: '/airlock/pilot/kill-switch',
              AIRLOCK_AUDIT_TABLE: Match.anyValue(),
              POWERTOOLS_METRICS_NAMESPACE: 'Airlock',
              POWERTOOLS_SERVICE_NAME: `airlock-${name}`,
            }),
          },
        });
      }
    });

    it('creates the kill-switch parameters with the initial state and the workflow tag', () => {
      // Assess
      t.hasResourceProperties('AWS::SSM::Parameter', {
        Name: '/airlock/pilot/kill-switch',
        Type: 'String',
        Value: JSON.stringify({
          engaged: false,
          reason: 'initial deployment',
          changedBy: 'cdk',
          changedAt: '2026-01-01T00:00:00.000Z',
          revokeIssuedBefore: null,
        }),
      });
      t.hasResourceProperties('AWS::SSM::Parameter', {
        Name: '/airlock/pilot/kill-switch/expense-summary',
        Tags: Match.objectLike({ 'airlock:workflow': 'expense-summary', 'airlock:stage': 'pilot' }),
      });
    });

    it('sends kill-switch changes to the alerts topic and the anchor, and runs the anchor on schedule', () => {
      // Assess
      t.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.ssm'],
          'detail-type': ['Parameter Store Change'],
          detail: {
            name: [
              '/airlock/pilot/kill-switch',
              '/airlock/pilot/kill-switch/expense-summary',
              '/airlock/pilot/kill-switch/customer-follow-up',
              '/airlock/pilot/kill-switch/onboarding-checklist',
            ],
          },
        },
        Targets: Match.arrayWith([
          Match.objectLike({
            Arn: fromFoundationMatch('AlertsTopic'),
          }),
          Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId(airlock.api.anchor), 'Arn'] } }),
        ]),
      });
      t.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(15 minutes)',
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [functionId(airlock.api.anchor), 'Arn'] },
            DeadLetterConfig: Match.anyValue(),
          }),
        ],
      });
    });

    it('gives the connector exactly its permissions and nothing else', () => {
      // Act
      const rows = permissionsOf(t, roleOf(airlock.api.connector));
      const actions = [...new Set(rows.map((r) => r.action))].sort();

      // Assess
      expect(actions).toEqual(
        [
          'bedrock:Retrieve',
          // The spend cap reads the token counts Bedrock measured for the workflows' inference profiles.
          'cloudwatch:GetMetricData',
          'dynamodb:BatchGetItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
          'kms:Decrypt',
          'kms:DescribeKey',
          'kms:Encrypt',
          'kms:GenerateDataKey',
          'kms:GetPublicKey',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'rds-data:BeginTransaction',
          'rds-data:ExecuteStatement',
          'rds-data:RollbackTransaction',
          's3:GetObject',
          's3:ListBucket',
          'secretsmanager:GetSecretValue',
          'sns:Publish',
          'ssm:GetParameters',
          'xray:PutTelemetryRecords',
          'xray:PutTraceSegments',
        ].sort(),
      );
      const s3 = rows.filter((r) => r.action.startsWith('s3:'));
      // Each file store's objects below its prefix, and a listing of that prefix only.
      const stores = [
        ['receipts', 'ConnectorDatareceipts'],
        ['support-logs', 'ConnectorDatasupportlogs'],
      ] as const;
      expect(s3.filter((r) => r.action === 's3:GetObject')).toEqual([
        {
          action: 's3:GetObject',
          resource: expect.arrayContaining(
            stores.map(([prefix, bucket]) => ({ 'Fn::Join': ['', [imported(bucket), `/${prefix}/*`]] })),
          ),
        },
      ]);
      expect(s3.find((r) => r.action === 's3:GetObject')?.resource).toHaveLength(stores.length);
      expect(s3.filter((r) => r.action === 's3:ListBucket')).toEqual(
        expect.arrayContaining(
          stores.map(([prefix, bucket]) => ({
            action: 's3:ListBucket',
            resource: imported(bucket),
            condition: { StringLike: { 's3:prefix': [`${prefix}/*`] } },
          })),
        ),
      );
      expect(s3).toHaveLength(1 + stores.length);
      // Each HTTP API's client secret, and nothing else.
      const secrets = rows.filter((r) => r.action.startsWith('secretsmanager:'));
      expect(secrets.flatMap((r) => r.resource)).toEqual([
        // The ledger's read-only database user (the Data API reads it with the caller's permissions).
        LEDGER_SECRET_ARN,
        ...['crm', 'erp', 'hr', 'mail'].map((name) => imported(`ConnectorSecrets${name}`)),
      ]);
      // The database and the knowledge bases: their one cluster and their two knowledge bases (the
      // finance handbook, the new-hire handbook), read-only calls only.
      const knowledgeBase = (id: string) => ({
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':bedrock:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            `:knowledge-base/${id}`,
          ],
        ],
      });
      expect(rows.filter((r) => /^(rds-data|bedrock):/.test(r.action))).toEqual([
        {
          action: 'bedrock:Retrieve',
          resource: [knowledgeBase('ABCDEFGHIJ'), knowledgeBase('NEWHIREDOC')],
        },
        ...['BeginTransaction', 'ExecuteStatement', 'RollbackTransaction'].map((action) => ({
          action: `rds-data:${action}`,
          resource: 'arn:aws:rds:eu-west-1:111111111111:cluster:ledger-replica',
        })),
      ]);
      const signing = rows.filter((r) => JSON.stringify(r.resource).includes('TokenSigningKey'));
      expect(signing.map((r) => r.action)).toEqual(['kms:GetPublicKey']);
    });

    it('lets the broker sign and the approvals function touch no key but the data key', () => {
      // Act
      const broker = permissionsOf(t, roleOf(airlock.api.broker));
      const approvals = permissionsOf(t, roleOf(airlock.api.approvals));

      // Assess
      const brokerSigning = broker.filter((r) => JSON.stringify(r.resource).includes('TokenSigningKey'));
      expect(brokerSigning.map((r) => r.action).sort()).toEqual(['kms:GetPublicKey', 'kms:Sign']);
      expect(approvals.some((r) => JSON.stringify(r.resource).includes('TokenSigningKey'))).toBe(false);
      const ledger = (rows: typeof broker) =>
        rows.filter(
          (r) =>
            JSON.stringify(r.resource).includes('AuditLedger') &&
            !JSON.stringify(r.resource).includes('Digest'),
        );
      expect(ledger(broker).map((r) => r.action)).toEqual(['dynamodb:PutItem']);
      expect(ledger(approvals).map((r) => r.action)).toEqual(['dynamodb:PutItem']);
    });

    it('lets the anchor list and read the digests below digests/, put new ones there, and list the chain heads', () => {
      // Act
      const anchor = permissionsOf(t, roleOf(airlock.api.anchor));

      // Assess: exactly what S3DigestStore calls (ListObjectsV2, GetObject, PutObject) with SSE-KMS.
      const digestBucket = imported('DigestBucket');
      const digests = { 'Fn::Join': ['', [digestBucket, '/digests/*']] };
      const dataKey = imported('Keys6E9E5904Arn');
      const dynamodb = viaService('dynamodb');
      const s3 = viaService('s3');
      expect(anchor.filter((r) => /^(s3|kms):/.test(r.action))).toEqual([
        { action: 'kms:Decrypt', resource: dataKey, condition: dynamodb },
        { action: 'kms:Decrypt', resource: dataKey, condition: s3 },
        { action: 'kms:DescribeKey', resource: dataKey, condition: dynamodb },
        { action: 'kms:DescribeKey', resource: dataKey, condition: s3 },
        { action: 'kms:Encrypt', resource: dataKey, condition: dynamodb },
        { action: 'kms:Encrypt', resource: dataKey, condition: s3 },
        { action: 'kms:GenerateDataKey', resource: dataKey, condition: dynamodb },
        { action: 'kms:GenerateDataKey', resource: dataKey, condition: s3 },
        { action: 'kms:GetPublicKey', resource: imported('DigestSigningKey') },
        { action: 'kms:Sign', resource: imported('DigestSigningKey') },
        { action: 's3:GetObject', resource: digests },
        {
          action: 's3:ListBucket',
          resource: digestBucket,
          condition: { StringLike: { 's3:prefix': ['digests/*'] } },
        },
        { action: 's3:PutObject', resource: digests },
      ]);
      const dynamo = anchor.filter((r) => r.action.startsWith('dynamodb:'));
      expect(dynamo).toEqual(
        ['dynamodb:PutItem', 'dynamodb:Scan'].map((action) => ({
          action,
          resource: imported('AuditLedger54A6CC82Arn'),
        })),
      );
      expect(anchor.map((r) => r.action.split(':')[0]).filter((service) => !KNOWN.has(service))).toEqual([]);
    });

    it('gives the auditor role exactly what audit verify/export, cost report and doctor read, with MFA', () => {
      // Act
      const rows = permissionsOf(t, roleOf({ role: airlock.api.auditorRole.role }));

      // Assess
      const digestBucket = imported('DigestBucket');
      const dataKey = imported('Keys6E9E5904Arn');
      const ledger = imported('AuditLedger54A6CC82Arn');
      const arn = (service: string, rest: string) => ({
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            `:${service}:`,
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            rest,
          ],
        ],
      });
      const stack = (name: string) => arn('cloudformation', `:stack/Airlock-pilot-${name}/*`);
      expect(rows).toEqual([
        // airlock doctor: the stage's stacks by name, the Monitoring stack's alarms, the topics' subscriptions.
        { action: 'cloudformation:DescribeStacks', resource: stack('Api') },
        {
          action: 'cloudformation:ListStackResources',
          resource: [stack('Api'), stack('Foundation'), stack('Monitoring')],
        },
        {
          action: 'cloudwatch:DescribeAlarms',
          resource: arn('cloudwatch', ':alarm:Airlock-pilot-Monitoring-*'),
        },
        { action: 'cloudwatch:GetMetricData', resource: '*' },
        { action: 'dynamodb:Query', resource: ledger },
        { action: 'dynamodb:Scan', resource: ledger },
        { action: 'kms:Decrypt', resource: dataKey, condition: viaService('dynamodb') },
        { action: 'kms:Decrypt', resource: dataKey, condition: viaService('s3') },
        { action: 'kms:DescribeKey', resource: dataKey, condition: viaService('dynamodb') },
        { action: 'kms:DescribeKey', resource: dataKey, condition: viaService('s3') },
        { action: 'kms:GetPublicKey', resource: [imported('DigestSigningKey'), imported('TokenSigningKey')] },
        { action: 'lambda:GetAccountSettings', resource: '*' },
        { action: 's3:GetObject', resource: { 'Fn::Join': ['', [digestBucket, '/digests/*']] } },
        {
          action: 's3:ListBucket',
          resource: digestBucket,
          condition: { StringLike: { 's3:prefix': ['digests/*'] } },
        },
        {
          action: 'sns:ListSubscriptionsByTopic',
          resource: [imported('AlertsTopic'), imported('ApprovalsTopic'), imported('CostReportsTopic')],
        },
      ]);
      const role = t.toJSON().Resources[roleOf({ role: airlock.api.auditorRole.role })];
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        expect.objectContaining({
          Action: 'sts:AssumeRole',
          Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } },
          Principal: { AWS: expect.objectContaining({ 'Fn::Join': expect.anything() }) },
        }),
      ]);
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.Policies).toBeUndefined();
    });

    it('outputs the auditor role and every name the operator CLI reads from its environment', () => {
      // Act
      const outputs = t.toJSON().Outputs as Record<string, { Value: unknown; Description: string }>;

      // Assess
      expect(outputs.AuditorRoleArn.Value).toEqual({
        'Fn::GetAtt': [roleOf({ role: airlock.api.auditorRole.role }), 'Arn'],
      });
      const cli: Record<string, [string, unknown]> = {
        AuditTableName: ['AIRLOCK_AUDIT_TABLE', imported('PublishOutputRefAuditLedger')],
        DigestBucketName: ['AIRLOCK_DIGEST_BUCKET', imported('PublishOutputRefAuditLedgerDigestBucket')],
        // audit verify checks digests with the key that signed them: the digest key, not the token key.
        DigestSigningKeyId: ['AIRLOCK_SIGNING_KEY_ID', imported('DigestSigningKey01A59566Arn')],
        RevocationsTableName: ['AIRLOCK_REVOCATIONS_TABLE', imported('PublishOutputRefRevocations')],
        BrokerFunctionName: ['AIRLOCK_BROKER_FUNCTION', { Ref: functionId(airlock.api.broker) }],
        ConnectorFunctionName: ['AIRLOCK_CONNECTOR_FUNCTION', { Ref: functionId(airlock.api.connector) }],
      };
      for (const [id, [variable, value]] of Object.entries(cli)) {
        expect({ id, value: outputs[id]?.Value }).toEqual({ id, value });
        expect(outputs[id].Description).toContain(variable);
      }
      expect(Object.keys(outputs).some((id) => id.startsWith('OAuth'))).toBe(false);
      expect(outputs.TokenSigningKeyId.Value).toEqual(imported('TokenSigningKeyA3E51176Arn'));
    });

    it('gives the operator role only the kill switch, the concurrency of broker and connector and the revocation list, with MFA', () => {
      // Act
      const rows = permissionsOf(t, roleOf({ role: airlock.api.operatorRole.role }));

      // Assess
      // CDK merges the statements' resources in logical-id order.
      const parameters = airlock.api.killSwitch.parameters
        .map((p) => ({ Ref: airlock.api.getLogicalId(p.node.defaultChild as never) }))
        .sort((a, b) => a.Ref.localeCompare(b.Ref));
      const ssmArns = parameters.map((ref) => ({
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':ssm:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':parameter',
            ref,
          ],
        ],
      }));
      const lambdaArns = [airlock.api.broker, airlock.api.connector].map((fn) => ({
        'Fn::GetAtt': [functionId(fn), 'Arn'],
      }));
      const revocations = imported('RevocationsEFDFC5BEArn');
      const ledger = imported('AuditLedger54A6CC82Arn');
      const dataKey = imported('Keys6E9E5904Arn');
      const byActionAndTable = (row: { action: string; resource: unknown }) =>
        `${row.action} ${JSON.stringify(row.resource)}`;
      expect([...rows].sort((a, b) => byActionAndTable(a).localeCompare(byActionAndTable(b)))).toEqual([
        // The kill switch's copies (read before a change, and by status) and the revocation check.
        { action: 'dynamodb:BatchGetItem', resource: revocations },
        // The record of each change.
        { action: 'dynamodb:PutItem', resource: ledger },
        // Revocations, blocks, suspensions and the kill switch's copies.
        { action: 'dynamodb:PutItem', resource: revocations },
        // `revoke` checks its target against the ledger's credential records; `revoke list`.
        { action: 'dynamodb:Scan', resource: [ledger, revocations] },
        // A principal's revocation kept longer; a block lifted.
        { action: 'dynamodb:UpdateItem', resource: revocations },
        // The data key only through DynamoDB, which holds both tables.
        { action: 'kms:Decrypt', resource: dataKey, condition: viaService('dynamodb') },
        { action: 'kms:DescribeKey', resource: dataKey, condition: viaService('dynamodb') },
        { action: 'kms:Encrypt', resource: dataKey, condition: viaService('dynamodb') },
        { action: 'kms:GenerateDataKey', resource: dataKey, condition: viaService('dynamodb') },
        // Release removes the reservation of 0 of a function that has none configured (the default).
        { action: 'lambda:DeleteFunctionConcurrency', resource: lambdaArns },
        { action: 'lambda:GetFunctionConcurrency', resource: lambdaArns },
        { action: 'lambda:PutFunctionConcurrency', resource: lambdaArns },
        { action: 'ssm:GetParameters', resource: ssmArns },
        { action: 'ssm:PutParameter', resource: ssmArns },
      ]);
      t.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          Statement: [
            Match.objectLike({
              Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } },
              Principal: {
                AWS: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([':root'])]) }),
              },
            }),
          ],
        },
        ManagedPolicyArns: Match.absent(),
        Policies: Match.absent(),
      });
    });
  });
});
