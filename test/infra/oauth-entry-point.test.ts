import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { OAUTH_TABLE } from '../../lambdas/adapters/aws/dynamodb-oauth-store';
import { ConfigError } from '../../lib/config/load-config';
import { AirlockKeys } from '../../lib/constructs/airlock-keys';
import { OAuthApi, type OAuthApiProps } from '../../lib/constructs/oauth-api';
import { FUNCTION_ENV } from '../../lib/contracts/environment';
import { OAUTH_PATHS } from '../../lib/contracts/routes';
import { createNagPacks } from '../../lib/nag/nag-packs';
import { type AirlockTestApp, oauthConfig, synthesizeAirlock, TEST_OAUTH_SECTION } from './airlock-test-app';
import { fromFoundationMatch, labelFoundationReferences } from './foundation-reference';
import { permissionsOf } from './role-permissions';

const importedMatch = fromFoundationMatch;

/**
 * A policy resource as a reviewer reads it: Foundation imports by construct name
 * (`Foundation:OAuthState`), kill-switch parameter ARNs as `Parameter:<logical id>`, `GetAtt` as `<id>.Arn`.
 */
function label(value: unknown): string {
  return labelFoundationReferences(JSON.stringify(value))
    .replace(
      /\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":ssm:",\{"Ref":"AWS::Region"\},":",\{"Ref":"AWS::AccountId"\},":parameter",\{"Ref":"(\w+)"\}\]\]\}/g,
      'Parameter:$1',
    )
    .replace(/\{"Fn::GetAtt":\["(\w+)","Arn"\]\}/g, '$1.Arn');
}

/** The `kms:ViaService` condition of a data-key grant through `service`, as `label` renders it. */
const via = (service: string) =>
  `{"StringEquals":{"kms:ViaService":{"Fn::Join":["",["${service}.",{"Ref":"AWS::Region"},".amazonaws.com"]]}}}`;

describe('Class: ApiStack (with the oauth section)', () => {
  let airlock: AirlockTestApp;
  let t: Template;
  const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
    airlock.api.getLogicalId(construct.node.defaultChild as never);

  beforeAll(() => {
    airlock = synthesizeAirlock(oauthConfig());
    t = airlock.apiTemplate;
  });

  describe('Method: constructor', () => {
    it('matches the snapshot of the OAuth entry point (function, API, WAF, table, IdP secret)', () => {
      // Prepare
      const pick = (template: Template, prefixes: string[]) =>
        Object.fromEntries(
          Object.entries(template.toJSON().Resources as Record<string, unknown>).filter(([id]) =>
            prefixes.some((prefix) => id.startsWith(prefix)),
          ),
        );

      // Assess
      expect({
        api: pick(t, ['OAuth']),
        foundation: pick(airlock.foundationTemplate, ['OAuthState', 'IdentityProviderSecret']),
      }).toMatchSnapshot();
    });

    it('serves the OAuth domain without mutual TLS, TLS 1.2, regional, with its own certificate', () => {
      // Assess
      t.hasResourceProperties('AWS::ApiGateway::DomainName', {
        DomainName: 'mcp.airlock.example.com',
        SecurityPolicy: 'TLS_1_2',
        EndpointConfiguration: { Types: ['REGIONAL'] },
        RegionalCertificateArn: TEST_OAUTH_SECTION.certificateArn,
        MutualTlsAuthentication: Match.absent(),
      });
      // The mTLS domain keeps its truststore.
      t.hasResourceProperties('AWS::ApiGateway::DomainName', {
        DomainName: 'airlock.example.com',
        MutualTlsAuthentication: Match.objectLike({ TruststoreUri: Match.anyValue() }),
      });
      t.hasResourceProperties('AWS::ApiGateway::BasePathMapping', {
        DomainName: { Ref: logicalId(airlock.api.oauthApi!.domain) },
        RestApiId: { Ref: logicalId(airlock.api.oauthApi!.api) },
      });
    });

    it('disables the execute-api endpoint of the OAuth API', () => {
      // Assess
      t.hasResourceProperties('AWS::ApiGateway::RestApi', {
        Name: 'Airlock-pilot-Api-oauth-api',
        DisableExecuteApiEndpoint: true,
        EndpointConfiguration: { Types: ['REGIONAL'] },
      });
    });

    it('routes exactly the OAuth routes and /v1/mcp to the OAuth function, and the approvals page to the approvals function', () => {
      // Prepare
      const api = airlock.api.oauthApi!;
      const pathOf = (resourceId: unknown): string => {
        const ref = (resourceId as { Ref?: string }).Ref;
        if (!ref) return '';
        const resource = t.toJSON().Resources[ref];
        return `${pathOf(resource.Properties.ParentId)}/${resource.Properties.PathPart}`;
      };

      // Act
      const methods = Object.values(t.findResources('AWS::ApiGateway::Method')).filter(
        (m) => m.Properties.RestApiId.Ref === logicalId(api.api),
      );
      const routes = methods.map((m) => `${m.Properties.HttpMethod} ${pathOf(m.Properties.ResourceId)}`);

      // Assess
      expect(routes.sort()).toEqual(
        [
          `GET ${OAUTH_PATHS.resourceMetadataRoot}`,
          `GET ${OAUTH_PATHS.resourceMetadata}`,
          `GET ${OAUTH_PATHS.authorizationServerMetadata}`,
          `POST ${OAUTH_PATHS.registration}`,
          `GET ${OAUTH_PATHS.authorization}`,
          `GET ${OAUTH_PATHS.idpCallback}`,
          `POST ${OAUTH_PATHS.consent}`,
          `GET ${OAUTH_PATHS.jwks}`,
          `POST ${OAUTH_PATHS.token}`,
          `POST ${OAUTH_PATHS.revocation}`,
          `POST ${OAUTH_PATHS.mcp}`,
          `GET ${OAUTH_PATHS.mcp}`,
          `DELETE ${OAUTH_PATHS.mcp}`,
          'GET /approvals',
          'GET /approvals/{id}',
          'POST /approvals/{id}',
          'GET /approvals/sign-in',
          'GET /approvals/callback',
          'POST /approvals/sign-out',
        ].sort(),
      );
      for (const method of methods) {
        const path = pathOf(method.Properties.ResourceId);
        const fn = path.startsWith('/approvals') ? airlock.api.approvals : airlock.api.oauth!;
        expect([path, JSON.stringify(method.Properties.Integration.Uri)]).toEqual([
          path,
          expect.stringContaining(logicalId(fn.function)),
        ]);
        expect(method.Properties.RequestValidatorId).toBeDefined();
      }
    });

    it('gives the approvals page a KMS HMAC key, MAC-only grants on it, and the IdP client secret', () => {
      // Prepare
      const keyId = logicalId(airlock.api.sessionMacKey!.key);
      const role = airlock.api.approvals.role;
      const policies = Object.values(t.findResources('AWS::IAM::Policy')).filter((p) =>
        JSON.stringify(p.Properties.Roles).includes(
          airlock.api.getLogicalId(role.node.defaultChild as never),
        ),
      );
      const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);

      // Assess
      t.hasResourceProperties('AWS::KMS::Key', { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
      expect(statements).toContainEqual(
        expect.objectContaining({
          Action: ['kms:GenerateMac', 'kms:VerifyMac'],
          Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
        }),
      );
      expect(JSON.stringify(statements)).toContain('secretsmanager:GetSecretValue');
      t.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            [FUNCTION_ENV.sessionMacKeyId]: { 'Fn::GetAtt': [keyId, 'Arn'] },
          }),
        },
      });
    });

    it('allowlists the vendor ranges on /v1/mcp, /oauth/token and /oauth/register only, with the rate rule', () => {
      // Prepare
      const [v4, v6] = airlock.api.oauthApi!.ipSets;

      // Assess
      t.hasResourceProperties('AWS::WAFv2::IPSet', {
        Scope: 'REGIONAL',
        IPAddressVersion: 'IPV4',
        Addresses: ['160.79.104.0/23'],
      });
      t.hasResourceProperties('AWS::WAFv2::IPSet', {
        Scope: 'REGIONAL',
        IPAddressVersion: 'IPV6',
        Addresses: ['2607:6bc0::/48'],
      });
      const acl = Object.values(t.findResources('AWS::WAFv2::WebACL')).find(
        (r) => r.Properties.VisibilityConfig.MetricName === 'Airlock-pilot-Api-oauth-waf',
      );
      const rules = acl?.Properties.Rules as { Name: string; Statement: unknown; Action: unknown }[];
      expect(rules.map((r) => r.Name)).toEqual(['RateLimitPerIp', 'BodyTooLarge', 'AllowlistedSourcesOnly']);
      expect(rules[0].Statement).toEqual({ RateBasedStatement: { Limit: 2000, AggregateKeyType: 'IP' } });
      expect(rules[2]).toMatchObject({
        Action: { Block: {} },
        Statement: {
          AndStatement: {
            Statements: [
              {
                RegexMatchStatement: {
                  FieldToMatch: { UriPath: {} },
                  RegexString: '^/(oauth/register|oauth/token|v1/mcp)/?$',
                },
              },
              {
                NotStatement: {
                  Statement: {
                    OrStatement: {
                      Statements: [
                        {
                          IPSetReferenceStatement: {
                            Arn: { 'Fn::GetAtt': [airlock.api.getLogicalId(v4), 'Arn'] },
                          },
                        },
                        {
                          IPSetReferenceStatement: {
                            Arn: { 'Fn::GetAtt': [airlock.api.getLogicalId(v6), 'Arn'] },
                          },
                        },
                      ],
                    },
                  },
                },
              },
            ],
          },
        },
      });
      const aclId = Object.entries(t.findResources('AWS::WAFv2::WebACL')).find(([, r]) => r === acl)?.[0];
      t.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
        ResourceArn: Match.objectLike({
          'Fn::Join': Match.arrayWith([Match.arrayWith([{ Ref: logicalId(airlock.api.oauthApi!.api) }])]),
        }),
        WebACLArn: { 'Fn::GetAtt': [aclId, 'Arn'] },
      });
      t.resourceCountIs('AWS::WAFv2::WebACLAssociation', 2);
      t.resourceCountIs('AWS::WAFv2::LoggingConfiguration', 2);
    });

    it('attack: a compromised OAuth entry point (no client certificates) read the CRM, mail, HR and support-log data of workflows it never serves', () => {
      // Act
      const rows = permissionsOf(t, logicalId(airlock.api.oauth!.role)).map(
        (r) => `${r.action} ${label(r.resource)}`,
      );

      // Assess: it serves expense-summary; nothing of customer-follow-up or onboarding-checklist.
      const others = ['crm', 'mail', 'hr', 'supportlogs', 'support-logs', 'NEWHIREDOC'];
      expect(rows.filter((row) => others.some((name) => row.includes(name)))).toEqual([]);
      const bound = JSON.stringify(
        Object.values(
          t.findResources('AWS::Lambda::Function', { Properties: { Description: 'Airlock oauth' } }),
        )[0].Properties.Environment.Variables.AIRLOCK_CONNECTORS,
      );
      // The variable is a JSON object inside a Fn::Join: its keys appear as \"name\":
      const keys = [...bound.matchAll(/\\"([a-z-]+)\\":\{/g)].map((match) => match[1]);
      expect(keys.sort()).toEqual(['erp', 'handbook', 'ledger', 'receipts']);
    });

    it('gives the OAuth function exactly its permissions and nothing else', () => {
      // Act
      const rows = permissionsOf(t, logicalId(airlock.api.oauth!.role)).map(
        (r) => `${r.action} ${label(r.resource)}${r.condition ? ` if ${label(r.condition)}` : ''}`,
      );

      // Assess
      // CDK merges the statements' resources in logical-id order.
      const parameters = `[${airlock.api.killSwitch.parameters
        .map((p) => `Parameter:${logicalId(p)}`)
        .sort()
        .join(',')}]`;
      const logGroup = `${logicalId(airlock.api.oauth!.logGroup)}.Arn`;
      expect(rows).toEqual([
        // Only the connectors of the workflow it serves (expense-summary): not onboarding's new-hire
        // documents, not customer follow-up's CRM, mail or support logs.
        'bedrock:Retrieve {"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":bedrock:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":knowledge-base/ABCDEFGHIJ"]]}',
        // Its connector pipeline's spend cap reads the tokens Bedrock measured (no resource-level permissions).
        'cloudwatch:GetMetricData "*"',
        'dynamodb:BatchGetItem Foundation:Revocations',
        'dynamodb:DeleteItem Foundation:OAuthState',
        'dynamodb:GetItem Foundation:OAuthState',
        'dynamodb:GetItem Foundation:Approvals',
        'dynamodb:PutItem Foundation:OAuthState',
        'dynamodb:PutItem Foundation:AuditLedger',
        'dynamodb:PutItem Foundation:Approvals',
        'dynamodb:Query {"Fn::Join":["",[Foundation:Approvals,"/index/byStatus"]]}',
        'dynamodb:UpdateItem Foundation:OAuthState',
        'dynamodb:UpdateItem Foundation:Approvals',
        'dynamodb:UpdateItem Foundation:Counters',
        // The data key only through the services that store the data, never directly.
        `kms:Decrypt Foundation:Keys if ${via('dynamodb')}`,
        `kms:Decrypt Foundation:Keys if ${via('secretsmanager')}`,
        `kms:Decrypt Foundation:Keys if ${via('sns')}`,
        `kms:Decrypt Foundation:Keys if ${via('s3')}`,
        `kms:DescribeKey Foundation:Keys if ${via('dynamodb')}`,
        `kms:DescribeKey Foundation:Keys if ${via('s3')}`,
        `kms:Encrypt Foundation:Keys if ${via('dynamodb')}`,
        `kms:GenerateDataKey Foundation:Keys if ${via('dynamodb')}`,
        `kms:GenerateDataKey Foundation:Keys if ${via('sns')}`,
        'kms:GetPublicKey Foundation:KeysTokenSigningKey',
        'kms:Sign Foundation:KeysTokenSigningKey',
        `logs:CreateLogStream ${logGroup}`,
        `logs:PutLogEvents ${logGroup}`,
        ...['BeginTransaction', 'ExecuteStatement', 'RollbackTransaction'].map(
          (action) => `rds-data:${action} "arn:aws:rds:eu-west-1:111111111111:cluster:ledger-replica"`,
        ),
        's3:GetObject {"Fn::Join":["",[Foundation:ConnectorDatareceipts,"/receipts/*"]]}',
        's3:ListBucket Foundation:ConnectorDatareceipts if {"StringLike":{"s3:prefix":["receipts/*"]}}',
        'secretsmanager:GetSecretValue ["arn:aws:secretsmanager:eu-west-1:111111111111:secret:airlock/pilot/ledger-readonly-AbCdEf",Foundation:ConnectorSecretserp,Foundation:IdentityProviderSecret]',
        'sns:Publish Foundation:ApprovalsTopic',
        `ssm:GetParameters ${parameters}`,
        'xray:PutTelemetryRecords "*"',
        'xray:PutTraceSegments "*"',
      ]);
    });

    it('sets the environment each binding pairs with its grant', () => {
      // Assess
      t.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'Airlock oauth',
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        ReservedConcurrentExecutions: Match.absent(),
        Timeout: 28,
        Environment: {
          Variables: Match.objectLike({
            AIRLOCK_OAUTH_TABLE: importedMatch('PublishOutputRefOAuthState'),
            AIRLOCK_IDP_CLIENT_SECRET_ARN: importedMatch('PublishOutputRefIdentityProviderSecret'),
            AIRLOCK_SIGNING_KEY_ID: importedMatch('TokenSigningKey.*Arn'),
            AIRLOCK_REVOCATIONS_TABLE: Match.anyValue(),
            AIRLOCK_AUDIT_TABLE: Match.anyValue(),
            AIRLOCK_APPROVALS_TABLE: Match.anyValue(),
            AIRLOCK_APPROVALS_TOPIC_ARN: Match.anyValue(),
            AIRLOCK_CONNECTORS: Match.anyValue(),
            AIRLOCK_KILL_SWITCH_PREFIX: '/airlock/pilot/kill-switch',
          }),
        },
      });
    });

    it('lets the operator role stop the OAuth function too, and outputs its URL and name', () => {
      // Act
      const operator = permissionsOf(t, logicalId(airlock.api.operatorRole.role));
      const outputs = t.toJSON().Outputs as Record<string, { Value: unknown }>;

      // Assess
      const put = operator.find((r) => r.action === 'lambda:PutFunctionConcurrency');
      expect(put?.resource).toContainEqual({ 'Fn::GetAtt': [logicalId(airlock.api.oauth!.function), 'Arn'] });
      expect(outputs.OAuthUrl.Value).toEqual({
        'Fn::Join': ['', ['https://', { Ref: logicalId(airlock.api.oauthApi!.domain) }]],
      });
      expect(outputs.OAuthFunctionName.Value).toEqual({ Ref: logicalId(airlock.api.oauth!.function) });
      expect(outputs.OAuthRegionalDomainName).toBeDefined();
    });

    it('creates the OAuth table with the adapter key schema, TTL, PITR, the CMK and deletion protection', () => {
      // Assess
      airlock.foundationTemplate.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [{ AttributeName: OAUTH_TABLE.partitionKey, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: OAUTH_TABLE.partitionKey, AttributeType: 'S' }],
        TimeToLiveSpecification: { AttributeName: OAUTH_TABLE.ttlAttribute, Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
        DeletionProtectionEnabled: true,
      });
      airlock.foundationTemplate.hasResourceProperties('AWS::SecretsManager::Secret', {
        Name: 'airlock/idp-client',
        KmsKeyId: Match.anyValue(),
        GenerateSecretString: Match.objectLike({ GenerateStringKey: 'clientSecret' }),
      });
    });

    it.each(['foundation', 'api', 'monitoring'] as const)(
      'leaves no unacknowledged cdk-nag finding in the %s stack',
      (name) => {
        // Act
        const stack = airlock[name];
        const findings = createNagPacks(stack).flatMap((pack) =>
          pack
            .validateScope(stack)
            .violations.flatMap((v) =>
              v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
            ),
        );

        // Assess
        expect(findings).toEqual([]);
      },
    );
  });
});

describe('Function: createAirlockStacks (oauth section)', () => {
  const build = (edit: (section: Record<string, unknown>) => Record<string, unknown>) => () =>
    synthesizeAirlock(oauthConfig(edit));

  it('creates no OAuth resources without the section', () => {
    // Act
    const airlock = synthesizeAirlock();

    // Assess
    expect(airlock.api.oauth).toBeUndefined();
    expect(airlock.foundation.oauthState).toBeUndefined();
    airlock.apiTemplate.resourceCountIs('AWS::ApiGateway::RestApi', 1);
  });

  it('asks for oauth.certificateArn when it is missing', () => {
    // Act
    const act = build(({ certificateArn: _omitted, ...rest }) => rest);

    // Assess
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(/oauth\.certificateArn: required .* for mcp\.airlock\.example\.com/);
  });

  it('refuses the mutual-TLS domain as the OAuth domain', () => {
    // Act
    const act = build((s) => ({ ...s, publicUrl: 'https://airlock.example.com' }));

    // Assess
    expect(act).toThrow(/oauth\.publicUrl: "airlock\.example\.com" is the mutual-TLS domain/);
  });

  it('refuses a loopback publicUrl meant for the local pilot', () => {
    // Act
    const act = build((s) => ({ ...s, publicUrl: 'http://127.0.0.1:8444' }));

    // Assess
    expect(act).toThrow(/oauth\.publicUrl: "http:\/\/127\.0\.0\.1:8444" is for the local pilot/);
  });

  it('refuses an IdP client secret name that a connector already uses', () => {
    // Act
    const act = build((s) => ({
      ...s,
      identityProvider: { ...(s.identityProvider as object), clientSecretName: 'airlock/pilot/erp-client' },
    }));

    // Assess
    expect(act).toThrow(/clientSecretName: "airlock\/pilot\/erp-client" is the secret of connector erp/);
  });

  it.each([
    ['a prefix beyond 32 bits', ['10.0.0.0/33'], /allowedSourceCidrs\[0\]: expected a CIDR/],
    ['an address that is not one', ['300.1.1.1/24'], /allowedSourceCidrs\[0\]: expected a CIDR/],
  ])('refuses %s in allowedSourceCidrs', (_name, cidrs, message) => {
    // Act
    const act = () => oauthConfig((s) => ({ ...s, allowedSourceCidrs: cidrs }));

    // Assess
    expect(act).toThrow(message);
  });

  it('refuses a certificateArn that is not an ACM ARN', () => {
    // Act
    const act = () => oauthConfig((s) => ({ ...s, certificateArn: 'arn:aws:iam::111111111111:role/x' }));

    // Assess
    expect(act).toThrow(/oauth\.certificateArn: expected an ACM certificate ARN/);
  });
});

describe('Class: OAuthApi', () => {
  const probe = (overrides: Partial<OAuthApiProps> = {}) => {
    const stack = new Stack(new App(), 'Probe');
    const handler = new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('export const handler = async () => ({});'),
    });
    const api = new OAuthApi(stack, 'OAuthApi', {
      domainName: 'mcp.example.com',
      certificateArn: 'arn:aws:acm:eu-west-1:111111111111:certificate/abc',
      handler,
      approvalsHandler: handler,
      encryptionKey: new AirlockKeys(stack, 'Keys', { stage: 'test' }).dataKey,
      ...overrides,
    });
    return { stack, api };
  };

  describe('Method: constructor', () => {
    it('has no allowlist rule and no IP set when no source ranges are given', () => {
      // Act
      const { stack, api } = probe();

      // Assess
      const t = Template.fromStack(stack);
      t.resourceCountIs('AWS::WAFv2::IPSet', 0);
      expect(api.ipSets).toEqual([]);
      const acl = Object.values(t.findResources('AWS::WAFv2::WebACL'))[0];
      expect(acl.Properties.Rules.map((r: { Name: string }) => r.Name)).toEqual([
        'RateLimitPerIp',
        'BodyTooLarge',
      ]);
    });

    it('references a single IP set directly when only one address family is given', () => {
      // Act
      const { stack, api } = probe({ allowedSourceCidrs: ['203.0.113.0/24'] });

      // Assess
      const acl = Object.values(Template.fromStack(stack).findResources('AWS::WAFv2::WebACL'))[0];
      const allowlist = acl.Properties.Rules.find(
        (r: { Name: string }) => r.Name === 'AllowlistedSourcesOnly',
      );
      expect(allowlist.Statement.AndStatement.Statements[1]).toEqual({
        NotStatement: {
          Statement: {
            IPSetReferenceStatement: { Arn: { 'Fn::GetAtt': [stack.getLogicalId(api.ipSets[0]), 'Arn'] } },
          },
        },
      });
    });

    it.each([
      [{ allowedSourceCidrs: ['203.0.113.0'] }, /allowedSourceCidrs entry "203\.0\.113\.0" is not a CIDR/],
      [
        { allowedSourceCidrs: ['2001:db8::/129'] },
        /allowedSourceCidrs entry "2001:db8::\/129" is not a CIDR/,
      ],
      [{ domainName: 'not a name' }, /domainName "not a name" is not a DNS name/],
      [{ certificateArn: 'nope' }, /certificateArn "nope" is not an ACM certificate ARN/],
      [{ wafRateLimitPer5Minutes: 5 }, /wafRateLimitPer5Minutes must be a whole number from 10/],
      [{ maxBodyBytes: 70_000 }, /maxBodyBytes must be from 1 to 65536/],
    ])('refuses %j', (overrides, message) => {
      // Act
      const act = () => probe(overrides as Partial<OAuthApiProps>);

      // Assess
      expect(act).toThrow(message);
    });
  });
});
