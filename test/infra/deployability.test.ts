/**
 * What a first `cdk deploy` in a fresh account, and the deploys after it, need from the templates,
 * and what a reviewer checks in them. Each test is named after what it prevents.
 */
import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { parse as parseYaml } from 'yaml';
import { ConfigError, parseConfig } from '../../lib/config/load-config';
import type { AirlockConfig } from '../../lib/config/schema';
import { createAirlockStacks } from '../../lib/stacks/airlock-stacks';
import { type AirlockTestApp, REPO_ROOT, synthesizeAirlock, TEST_OAUTH_SECTION } from './airlock-test-app';
import { permissionsOf } from './role-permissions';

/** Templates and raw configs are untyped JSON; the assertions below check their shape. */
// biome-ignore lint/suspicious/noExplicitAny: walking JSON whose shape each assertion checks
type Json = any;
type RawConfig = Record<string, Json>;

/** The example config file as written, changed by `edit`, validated as `cdk synth` validates it. */
function configWith(edit: (raw: RawConfig) => void = () => {}): AirlockConfig {
  const raw = parseYaml(readFileSync(path.join(REPO_ROOT, 'config', 'airlock.config.yaml'), 'utf8'));
  edit(raw);
  return parseConfig(raw, 'test config');
}

/** The example without the erp connector (and the workflow's use of it). */
const withoutErp = (raw: RawConfig) => {
  delete raw.connectors.erp;
  delete raw.workflows['expense-summary'].connectors.erp;
};
const withOAuth = (raw: RawConfig) => {
  raw.oauth = structuredClone({ ...TEST_OAUTH_SECTION });
};

/** Every resource of every template, with its stack. */
function allResources(airlock: AirlockTestApp): [stack: string, id: string, resource: Json][] {
  return (
    [
      ['Foundation', airlock.foundationTemplate],
      ['Api', airlock.apiTemplate],
      ['Monitoring', airlock.monitoringTemplate],
    ] as [string, Template][]
  ).flatMap(([stack, t]) =>
    Object.entries(t.toJSON().Resources as Record<string, Json>).map(
      ([id, r]) => [stack, id, r] as [string, string, Json],
    ),
  );
}

/** The Foundation outputs a stack reads, by output name (`Fn::GetStackOutput`). */
function foundationOutputsReadBy(t: Template): string[] {
  const names = new Set<string>();
  JSON.stringify(t.toJSON(), (key, value) => {
    if (key === 'Fn::GetStackOutput') names.add(value.OutputName);
    return value;
  });
  return [...names].sort();
}

const functionLogicalId = (airlock: AirlockTestApp, fn: { function: { node: { defaultChild?: unknown } } }) =>
  airlock.api.getLogicalId(fn.function.node.defaultChild as never);
const roleLogicalId = (airlock: AirlockTestApp, role: { node: { defaultChild?: unknown } }) =>
  airlock.api.getLogicalId(role.node.defaultChild as never);

describe('Deploying to a fresh account', () => {
  let example: AirlockTestApp;

  beforeAll(() => {
    example = synthesizeAirlock();
  });

  describe('the account-wide API Gateway CloudWatch role', () => {
    it('is created (and kept when removed) when api.createCloudWatchRole asks, so the logging stages can be created', () => {
      // Act
      const airlock = synthesizeAirlock(
        configWith((raw) => {
          raw.api.createCloudWatchRole = true;
        }),
      );

      // Assess
      const t = airlock.foundationTemplate;
      const role = airlock.foundation.getLogicalId(
        airlock.foundation.apiGatewayAccountRole!.role.node.defaultChild as never,
      );
      t.hasResource('AWS::ApiGateway::Account', {
        Properties: { CloudWatchRoleArn: { 'Fn::GetAtt': [role, 'Arn'] } },
        DeletionPolicy: 'RetainExceptOnCreate',
        UpdateReplacePolicy: 'Retain',
      });
      t.hasResource('AWS::IAM::Role', {
        Properties: Match.objectLike({
          AssumeRolePolicyDocument: Match.objectLike({
            Statement: [Match.objectLike({ Principal: { Service: 'apigateway.amazonaws.com' } })],
          }),
          ManagedPolicyArns: [
            {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
                ],
              ],
            },
          ],
        }),
        DeletionPolicy: 'RetainExceptOnCreate',
      });
      // The Api stack (the stages) deploys after Foundation (the role).
      expect(airlock.api.dependencies).toContain(airlock.foundation);
    });

    it('is left alone by default: a shared account setting is not taken over', () => {
      // Assess
      example.foundationTemplate.resourceCountIs('AWS::ApiGateway::Account', 0);
      for (const [, t] of [['', example.apiTemplate]] as const) {
        t.hasResourceProperties('AWS::ApiGateway::RestApi', Match.anyValue());
        t.resourceCountIs('AWS::ApiGateway::Account', 0);
      }
    });

    it('lets the stage log errors (and only errors, never bodies) besides the access logs', () => {
      // Act
      const airlock = synthesizeAirlock(configWith(withOAuth));

      // Assess: both APIs
      const stages = airlock.apiTemplate.findResources('AWS::ApiGateway::Stage');
      expect(Object.keys(stages)).toHaveLength(2);
      for (const stage of Object.values(stages)) {
        expect(stage.Properties.AccessLogSetting).toBeDefined();
        expect(stage.Properties.MethodSettings).toEqual([
          expect.objectContaining({
            HttpMethod: '*',
            ResourcePath: '/*',
            LoggingLevel: 'ERROR',
            DataTraceEnabled: false,
          }),
        ]);
      }
    });
  });

  describe('a failed first create', () => {
    it('does not leave a named log group or secret behind that would make the retry fail with "already exists"', () => {
      // Act: every resource with a physical name fixed by the template
      const airlock = synthesizeAirlock(configWith(withOAuth));
      const named = allResources(airlock).filter(
        ([, , r]) =>
          (r.Type === 'AWS::Logs::LogGroup' && r.Properties?.LogGroupName !== undefined) ||
          (r.Type === 'AWS::SecretsManager::Secret' && r.Properties?.Name !== undefined),
      );

      // Assess: the WAF log groups of both APIs, the erp secret and the IdP secret; kept on delete, not on a failed create
      expect(
        named.map(([stack, , r]) => `${stack} ${r.Type} ${r.Properties.LogGroupName ?? r.Properties.Name}`),
      ).toEqual(
        expect.arrayContaining([
          'Api AWS::Logs::LogGroup aws-waf-logs-Airlock-pilot-Api',
          'Api AWS::Logs::LogGroup aws-waf-logs-Airlock-pilot-Api-oauth',
          'Foundation AWS::SecretsManager::Secret airlock/pilot/erp-client',
          'Foundation AWS::SecretsManager::Secret airlock/idp-client',
        ]),
      );
      for (const [stack, id, r] of named) {
        expect({ stack, id, DeletionPolicy: r.DeletionPolicy }).toEqual({
          stack,
          id,
          DeletionPolicy: 'RetainExceptOnCreate',
        });
      }
    });

    it('does not leave billed orphans: keys and function log groups are kept on delete only', () => {
      // Assess
      for (const [stack, id, r] of allResources(example)) {
        if (r.Type !== 'AWS::KMS::Key' && r.Type !== 'AWS::Logs::LogGroup') continue;
        expect({ stack, id, DeletionPolicy: r.DeletionPolicy }).toEqual({
          stack,
          id,
          DeletionPolicy: 'RetainExceptOnCreate',
        });
      }
    });
  });

  describe('reserved concurrency', () => {
    it('reserves nothing by default, so an account whose concurrency quota is 10 can deploy', () => {
      // Assess
      const functions = Object.values(example.apiTemplate.findResources('AWS::Lambda::Function'));
      expect(functions.length).toBeGreaterThanOrEqual(4);
      for (const fn of functions) expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    });

    it('applies a reservation configured per function, and only to that function', () => {
      // Act
      const airlock = synthesizeAirlock(
        configWith((raw) => {
          raw.functions = { reservedConcurrency: { connector: 50 }, accountConcurrencyQuota: 1000 };
        }),
      );

      // Assess
      const t = airlock.apiTemplate.toJSON().Resources;
      expect(
        t[functionLogicalId(airlock, airlock.api.connector)].Properties.ReservedConcurrentExecutions,
      ).toBe(50);
      expect(
        t[functionLogicalId(airlock, airlock.api.broker)].Properties.ReservedConcurrentExecutions,
      ).toBeUndefined();
    });

    it.each([
      [
        'a reservation on an account whose quota leaves nothing to reserve',
        { reservedConcurrency: { broker: 5 }, accountConcurrencyQuota: 10 },
        /functions\.reservedConcurrency\.broker: reserves 5 in total \(broker 5\), but with an account quota of 10 .* Lambda lets nothing be reserved/,
      ],
      [
        'reservations that together eat into the 100 Lambda keeps unreserved',
        { reservedConcurrency: { broker: 500, connector: 450 }, accountConcurrencyQuota: 1000 },
        /functions\.reservedConcurrency\.connector: reserves 950 in total \(broker 500, connector 450\), more than the 900 an account quota of 1000/,
      ],
      [
        'a reservation of 0, which is the kill switch’s job',
        { reservedConcurrency: { anchor: 0 } },
        /functions\.reservedConcurrency\.anchor: expected 1 or more/,
      ],
    ])('refuses %s at synth, naming the field', (_name, functions, message) => {
      // Act
      const act = () => configWith((raw) => Object.assign(raw, { functions }));

      // Assess
      expect(act).toThrow(ConfigError);
      expect(act).toThrow(message);
    });

    it('keeps the hard mode possible without a reservation: the operator role may set and remove reservations', () => {
      // Act
      const rows = permissionsOf(example.apiTemplate, roleLogicalId(example, example.api.operatorRole.role));

      // Assess
      const actions = rows.map((r) => r.action);
      expect(actions).toEqual(
        expect.arrayContaining(['lambda:PutFunctionConcurrency', 'lambda:DeleteFunctionConcurrency']),
      );
    });
  });

  describe('the certificate region', () => {
    it('is checked before CloudFormation creates anything: a rule refuses a stack in another region', () => {
      // Act
      const airlock = synthesizeAirlock(
        configWith((raw) => {
          withOAuth(raw);
          raw.domain.ownershipVerificationCertificateArn =
            'arn:aws:acm:eu-west-1:111111111111:certificate/22222222-2222-2222-2222-222222222222';
        }),
      );

      // Assess
      const rules = airlock.apiTemplate.toJSON().Rules as Record<string, { Assertions: unknown[] }>;
      const certificateRule = Object.entries(rules).find(([id]) => id.startsWith('CertificateRegion'));
      expect(certificateRule?.[1].Assertions).toEqual(
        ['domain.certificateArn', 'domain.ownershipVerificationCertificateArn', 'oauth.certificateArn'].map(
          (field) => ({
            Assert: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] },
            AssertDescription: expect.stringMatching(
              new RegExp(`^${field.replace('.', '\\.')} is an ACM certificate in eu-west-1`),
            ),
          }),
        ),
      );
    });

    it('refuses, at synth, a stack whose region is known and differs, naming the field', () => {
      // Prepare
      const cdkContext = (require('../../cdk.json') as { context: Record<string, unknown> }).context;
      const config = configWith();

      // Act
      const act = () =>
        createAirlockStacks(new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } }), config, {
          env: { account: '111111111111', region: 'us-east-1' },
        });

      // Assess
      expect(act).toThrow(ConfigError);
      expect(act).toThrow(
        /^domain\.certificateArn: the certificate is in eu-west-1 but the stack deploys to us-east-1/,
      );
    });

    it('refuses, at synth, certificates in two regions, which no single region can hold', () => {
      // Act
      const act = () =>
        configWith((raw) => {
          withOAuth(raw);
          raw.oauth.certificateArn =
            'arn:aws:acm:us-east-1:111111111111:certificate/33333333-3333-3333-3333-333333333333';
        });

      // Assess
      expect(act).toThrow(
        /oauth\.certificateArn: is in us-east-1 but domain\.certificateArn is in eu-west-1/,
      );
    });

    it('gives API Gateway the ownership verification certificate that mutual TLS with an imported or private CA certificate needs', () => {
      // Act
      const arn = 'arn:aws:acm:eu-west-1:111111111111:certificate/22222222-2222-2222-2222-222222222222';
      const airlock = synthesizeAirlock(
        configWith((raw) => {
          raw.domain.ownershipVerificationCertificateArn = arn;
        }),
      );

      // Assess
      airlock.apiTemplate.hasResourceProperties('AWS::ApiGateway::DomainName', {
        DomainName: 'airlock.example.com',
        MutualTlsAuthentication: Match.anyValue(),
        OwnershipVerificationCertificateArn: arn,
      });
      example.apiTemplate.hasResourceProperties('AWS::ApiGateway::DomainName', {
        OwnershipVerificationCertificateArn: Match.absent(),
      });
    });
  });

  describe('removing a connector or the oauth section', () => {
    it('cannot deadlock on exports: Foundation exports nothing, the Api stack imports nothing', () => {
      // Act
      const variants = [configWith(), configWith(withoutErp), configWith(withOAuth)].map((c) =>
        synthesizeAirlock(c),
      );

      // Assess
      for (const airlock of variants) {
        for (const [stack, t] of [
          ['Foundation', airlock.foundationTemplate],
          ['Api', airlock.apiTemplate],
          ['Monitoring', airlock.monitoringTemplate],
        ] as const) {
          const outputs = Object.values((t.toJSON().Outputs ?? {}) as Record<string, { Export?: unknown }>);
          expect({ stack, exports: outputs.filter((o) => o.Export) }).toEqual({ stack, exports: [] });
          expect({ stack, imports: JSON.stringify(t.toJSON()).includes('Fn::ImportValue') }).toEqual({
            stack,
            imports: false,
          });
        }
      }
    });

    it('drops what the Api stack reads of the removed connector and section, and reads only outputs Foundation has', () => {
      // Act
      const full = synthesizeAirlock(configWith(withOAuth));
      const without = synthesizeAirlock(configWith(withoutErp));
      const readBy = (a: AirlockTestApp) => foundationOutputsReadBy(a.apiTemplate);
      const published = (a: AirlockTestApp) => Object.keys(a.foundationTemplate.toJSON().Outputs ?? {});

      // Assess: with everything, the Api stack reads the erp secret, the OAuth table and the IdP secret
      expect(readBy(full).some((name) => name.includes('ConnectorSecretserp'))).toBe(true);
      expect(readBy(full).some((name) => name.includes('OAuthState'))).toBe(true);
      expect(readBy(full).some((name) => name.includes('IdentityProviderSecret'))).toBe(true);
      // Without them, it reads none of them, and every output it reads exists in that Foundation
      expect(
        readBy(without).filter((name) => /ConnectorSecretserp|OAuthState|IdentityProviderSecret/.test(name)),
      ).toEqual([]);
      for (const airlock of [full, without]) {
        expect(readBy(airlock).filter((name) => !published(airlock).includes(name))).toEqual([]);
        expect(
          foundationOutputsReadBy(airlock.monitoringTemplate).filter((n) => !published(airlock).includes(n)),
        ).toEqual([]);
      }
    });
  });
});

describe('What a reviewer checks in the templates', () => {
  let airlock: AirlockTestApp;

  beforeAll(() => {
    airlock = synthesizeAirlock(configWith(withOAuth));
  });

  it('the WAF logging configuration waits for its log group, which WAF needs to exist', () => {
    // Assess: both APIs
    const t = airlock.apiTemplate.toJSON().Resources as Record<string, Json>;
    const configurations = Object.entries(t).filter(([, r]) => r.Type === 'AWS::WAFv2::LoggingConfiguration');
    expect(configurations).toHaveLength(2);
    for (const api of [airlock.api.api, airlock.api.oauthApi!]) {
      const group = airlock.api.getLogicalId(api.wafLogGroup.node.defaultChild as never);
      const logging = configurations.find(([, r]) =>
        JSON.stringify(r.Properties.LogDestinationConfigs).includes(t[group].Properties.LogGroupName),
      );
      expect(logging?.[1].DependsOn).toContain(group);
    }
  });

  it('no AWS service may use the data key or publish to a topic on behalf of another account or resource', () => {
    // Act: every statement naming a service principal, in key and topic policies
    const statements = allResources(airlock).flatMap(([stack, id, r]) => {
      const document =
        r.Type === 'AWS::KMS::Key'
          ? r.Properties.KeyPolicy
          : r.Type === 'AWS::SNS::TopicPolicy'
            ? r.Properties.PolicyDocument
            : undefined;
      return ((document?.Statement ?? []) as Json[])
        .filter((s) => s.Effect === 'Allow' && s.Principal?.Service)
        .map((s) => ({ where: `${stack}/${id}`, service: s.Principal.Service, condition: s.Condition }));
    });

    // Assess
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      const keys = Object.values(statement.condition ?? {}).flatMap((c) => Object.keys(c as object));
      const bound =
        (keys.includes('aws:SourceAccount') && keys.includes('aws:SourceArn')) ||
        keys.includes('kms:EncryptionContext:aws:logs:arn');
      expect({ ...statement, bound }).toEqual({ ...statement, bound: true });
    }
  });

  it('EventBridge publishes kill-switch alerts only through a role that trusts that one rule of this account', () => {
    // Act
    const publisher = airlock.api.killSwitch.alertsPublisher!;
    const role = airlock.apiTemplate.toJSON().Resources[roleLogicalId(airlock, publisher)];
    const rule =
      airlock.apiTemplate.toJSON().Resources[
        airlock.api.getLogicalId(airlock.api.killSwitchChanges.node.defaultChild as never)
      ];

    // Assess
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'events.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnEquals: {
            'aws:SourceArn': {
              'Fn::Join': ['', expect.arrayContaining([`:rule/${rule.Properties.Name}`])],
            },
          },
        },
      }),
    ]);
    expect(rule.Targets ?? rule.Properties.Targets).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ RoleArn: { 'Fn::GetAtt': [roleLogicalId(airlock, publisher), 'Arn'] } }),
      ]),
    );
  });

  it('the anchor signs digests with a key of its own and cannot mint access tokens', () => {
    // Act
    const anchor = permissionsOf(airlock.apiTemplate, roleLogicalId(airlock, airlock.api.anchor.role));
    const signers = [airlock.api.broker, airlock.api.oauth!].map((fn) =>
      permissionsOf(airlock.apiTemplate, roleLogicalId(airlock, fn.role)),
    );
    const auditor = permissionsOf(airlock.apiTemplate, roleLogicalId(airlock, airlock.api.auditorRole.role));
    const on = (rows: typeof anchor, key: string) =>
      rows.filter((r) => JSON.stringify(r.resource).includes(key)).map((r) => r.action);

    // Assess
    expect(on(anchor, 'TokenSigningKey')).toEqual([]);
    expect(on(anchor, 'DigestSigningKey')).toEqual(['kms:GetPublicKey', 'kms:Sign']);
    for (const signer of signers) expect(on(signer, 'DigestSigningKey')).toEqual([]);
    expect(on(auditor, 'DigestSigningKey')).toEqual(['kms:GetPublicKey']);
    airlock.apiTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Airlock anchor',
      Environment: {
        Variables: Match.objectLike({
          AIRLOCK_SIGNING_KEY_ID: {
            'Fn::GetStackOutput': Match.objectLike({
              OutputName: Match.stringLikeRegexp('DigestSigningKey'),
            }),
          },
        }),
      },
    });
    airlock.foundationTemplate.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/airlock-pilot-audit-digest-signing',
    });
  });

  it('no function can use the data key directly, only through the service that stores its data', () => {
    // Act
    const dataKey = airlock.foundation.getLogicalId(
      airlock.foundation.keys.dataKey.node.defaultChild as never,
    );
    const roles = Object.keys(airlock.apiTemplate.findResources('AWS::IAM::Role'));
    const direct = roles.flatMap((role) =>
      permissionsOf(airlock.apiTemplate, role)
        .filter((r) => JSON.stringify(r.resource).includes(dataKey))
        .filter((r) => !JSON.stringify(r.condition ?? {}).includes('kms:ViaService'))
        .map((r) => `${role} ${r.action}`),
    );

    // Assess
    expect(direct).toEqual([]);
  });

  it('no stack output points at the disabled execute-api endpoint', () => {
    // Assess
    for (const t of [airlock.foundationTemplate, airlock.apiTemplate, airlock.monitoringTemplate]) {
      expect(JSON.stringify(t.toJSON().Outputs ?? {})).not.toContain('execute-api');
    }
  });
});

describe('The operator and auditor roles', () => {
  const trustOf = (a: AirlockTestApp, role: { node: { defaultChild?: unknown } }) =>
    a.apiTemplate.toJSON().Resources[roleLogicalId(a, role)].Properties.AssumeRolePolicyDocument.Statement;

  it('can be assumed from IAM Identity Center permission sets, whose sessions carry no MFA key', () => {
    // Act
    const airlock = synthesizeAirlock(
      configWith((raw) => {
        raw.roles = {
          operator: { permissionSets: ['AirlockOperator'] },
          auditor: {
            trustedPrincipalArns: ['arn:aws:iam::111111111111:role/SecurityAudit'],
            requireMfa: true,
          },
        };
      }),
    );

    // Assess: the operator role trusts the permission set's roles, without the MFA condition
    expect(trustOf(airlock, airlock.api.operatorRole.role)).toEqual([
      expect.objectContaining({
        Action: 'sts:AssumeRole',
        Condition: {
          ArnLike: {
            'aws:PrincipalArn': [
              {
                'Fn::Join': [
                  '',
                  [
                    'arn:',
                    { Ref: 'AWS::Partition' },
                    ':iam::',
                    { Ref: 'AWS::AccountId' },
                    ':role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_AirlockOperator_*',
                  ],
                ],
              },
            ],
          },
        },
      }),
    ]);
    // The auditor role trusts the named role only, with MFA
    expect(trustOf(airlock, airlock.api.auditorRole.role)).toEqual([
      expect.objectContaining({
        Condition: {
          ArnLike: { 'aws:PrincipalArn': ['arn:aws:iam::111111111111:role/SecurityAudit'] },
          Bool: { 'aws:MultiFactorAuthPresent': 'true' },
        },
      }),
    ]);
  });

  it('keep requiring MFA of any principal of the account by default', () => {
    // Act
    const airlock = synthesizeAirlock();

    // Assess
    for (const role of [airlock.api.operatorRole.role, airlock.api.auditorRole.role]) {
      expect(trustOf(airlock, role)).toEqual([
        expect.objectContaining({ Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } }),
      ]);
    }
  });

  it('refuses, at synth, MFA required of Identity Center sessions, which nobody could then assume', () => {
    // Act
    const act = () =>
      configWith((raw) => {
        raw.roles = { operator: { permissionSets: ['AirlockOperator'], requireMfa: true } };
      });

    // Assess
    expect(act).toThrow(
      /roles\.operator\.requireMfa: IAM Identity Center sessions carry no aws:MultiFactorAuthPresent/,
    );
  });
});

describe('Alerts and approval notices', () => {
  it('reach the e-mail addresses and HTTPS endpoints the config subscribes', () => {
    // Act
    const airlock = synthesizeAirlock(
      configWith((raw) => {
        raw.alerts = {
          subscriptions: [{ email: 'soc@example.com' }, { https: 'https://hooks.example.com/airlock' }],
        };
        raw.approvals.subscriptions = [{ email: 'finance-managers@example.com' }];
      }),
    );

    // Assess
    const t = airlock.foundationTemplate;
    const topic = (n: { topic: { node: { defaultChild?: unknown } } }) => ({
      Ref: airlock.foundation.getLogicalId(n.topic.node.defaultChild as never),
    });
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'soc@example.com',
      TopicArn: topic(airlock.foundation.alertsTopic),
    });
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'https',
      Endpoint: 'https://hooks.example.com/airlock',
      TopicArn: topic(airlock.foundation.alertsTopic),
    });
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'finance-managers@example.com',
      TopicArn: topic(airlock.foundation.approvalsTopic),
    });
  });

  it('are subscribed in the example config, so a pilot deployed from it tells someone', () => {
    // Act
    const config = configWith();

    // Assess
    expect(config.alerts.subscriptions.length + (config.alerts.email ? 1 : 0)).toBeGreaterThan(0);
    expect(config.approvals.subscriptions.length).toBeGreaterThan(0);
    expect(
      Object.keys(synthesizeAirlock(config).foundationTemplate.findResources('AWS::SNS::Subscription'))
        .length,
    ).toBeGreaterThanOrEqual(2);
  });

  it('refuses a plain-http endpoint, naming the field', () => {
    // Act
    const act = () =>
      configWith((raw) => {
        raw.alerts = { subscriptions: [{ https: 'http://hooks.example.com/airlock' }] };
      });

    // Assess
    expect(act).toThrow(/alerts\.subscriptions\[0\]/);
  });
});
