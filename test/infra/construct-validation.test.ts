import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { ConnectorConfig } from '../../lib/config/schema';
import { AccessLogsBucket } from '../../lib/constructs/access-logs-bucket';
import { AirlockFunction, retentionFor } from '../../lib/constructs/airlock-function';
import { AirlockKeys } from '../../lib/constructs/airlock-keys';
import { AuditLedger } from '../../lib/constructs/audit-ledger';
import { ConnectorResourceSet, connectorSecretNames } from '../../lib/constructs/connector-resources';
import { KillSwitch } from '../../lib/constructs/kill-switch';
import { MutualTlsApi, type MutualTlsApiProps } from '../../lib/constructs/mutual-tls-api';
import { NotificationTopic } from '../../lib/constructs/notification-topic';
import { OperatorRole } from '../../lib/constructs/operator-role';
import { connectorNag } from '../../lib/nag/acknowledgements';
import { exampleConfig, REPO_ROOT } from './airlock-test-app';

function newStack(): Stack {
  return new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Probe');
}

function apiProps(stack: Stack, overrides: Partial<MutualTlsApiProps> = {}): MutualTlsApiProps {
  const fn = new lambda.Function(stack, `Fn${stack.node.children.length}`, {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('export const handler = async () => ({});'),
  });
  return {
    domainName: 'airlock.example.com',
    certificateArn: 'arn:aws:acm:eu-west-1:111111111111:certificate/abc',
    truststore: { file: 'config/example-truststore.pem' },
    functions: { broker: fn, connector: fn, approvals: fn },
    encryptionKey: new AirlockKeys(stack, `Keys${stack.node.children.length}`, { stage: 'test' }).dataKey,
    ...overrides,
  };
}

describe('Class: MutualTlsApi', () => {
  describe('Method: constructor', () => {
    it.each([
      [{ wafRateLimitPer5Minutes: 5 }, /wafRateLimitPer5Minutes must be a whole number from 10/],
      [{ throttleRatePerSecond: 0 }, /throttleRatePerSecond must be greater than 0 \(got 0\)/],
      [{ throttleBurst: 1.5 }, /throttleBurst must be a whole number of 1 or more \(got 1.5\)/],
      [{ maxBodyBytes: 100_000 }, /maxBodyBytes must be from 1 to 65536/],
      [{ domainName: 'not a domain' }, /domainName "not a domain" is not a DNS name/],
      [
        { certificateArn: 'arn:aws:iam::1:role/x' },
        /certificateArn "arn:aws:iam::1:role\/x" is not an ACM certificate ARN/,
      ],
      [
        { truststore: { file: 'config/missing.pem' } },
        /truststore file "config\/missing.pem" does not exist/,
      ],
      [
        { truststore: { uri: 'https://bucket/key' } },
        /truststore uri "https:\/\/bucket\/key" is not of the form s3:\/\/bucket\/key/,
      ],
    ])('refuses %j', (overrides, message) => {
      // Prepare
      const stack = newStack();

      // Act & Assess
      expect(() => new MutualTlsApi(stack, 'Api', apiProps(stack, overrides))).toThrow(message);
    });
  });
});

describe('Class: MutualTlsApi (truststore file)', () => {
  describe('Method: constructor', () => {
    const examplePem = () => readFileSync(path.join(REPO_ROOT, 'config', 'example-truststore.pem'), 'utf8');
    let dir: string;

    beforeEach(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'airlock-truststore-'));
    });
    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    const apiWithTruststore = (pem: string) => {
      writeFileSync(path.join(dir, 'truststore.pem'), pem);
      const stack = newStack();
      return () =>
        new MutualTlsApi(
          stack,
          'Api',
          apiProps(stack, { truststore: { file: 'truststore.pem' }, baseDirectory: dir }),
        );
    };

    it('accepts the example truststore, which holds only a PEM certificate', () => {
      // Assess
      expect(examplePem().startsWith('-----BEGIN CERTIFICATE-----')).toBe(true);
      expect(apiWithTruststore(examplePem())).not.toThrow();
      expect(apiWithTruststore(`${examplePem()}\n${examplePem()}`)).not.toThrow();
    });

    it.each([
      ['text before the first certificate', (pem: string) => `Our device CAs\n${pem}`],
      ['text after the last certificate', (pem: string) => `${pem}# end\n`],
      ['no certificate at all', () => 'nothing here\n'],
    ])('refuses a truststore with %s', (_name, edit) => {
      // Act & Assess
      expect(apiWithTruststore(edit(examplePem()))).toThrow(
        /truststore file "truststore.pem" must hold only PEM certificates .* remove any other text/,
      );
    });

    it('refuses a PEM block that is not a certificate', () => {
      // Act & Assess
      expect(
        apiWithTruststore(
          `${examplePem()}-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n`,
        ),
      ).toThrow(/certificate 2 in truststore file "truststore.pem" is not a readable X.509 certificate/);
    });
  });
});

describe('Class: AirlockFunction', () => {
  describe('Method: constructor', () => {
    it.each([
      [{ reservedConcurrency: 0 }, /reservedConcurrency must be at least 1 \(got 0\)/],
      [{ memorySize: 64 }, /memorySize must be between 128 and 10240 MB \(got 64\)/],
    ])('refuses %j', (overrides, message) => {
      // Prepare
      const stack = newStack();
      const keys = new AirlockKeys(stack, 'Keys', { stage: 'test' });

      // Act & Assess
      expect(
        () =>
          new AirlockFunction(stack, 'Fn', {
            name: 'broker',
            config: exampleConfig(),
            encryptionKey: keys.dataKey,
            reservedConcurrency: 1,
            ...overrides,
          }),
      ).toThrow(message);
    });
  });

  describe('Function: retentionFor', () => {
    it('refuses a retention CloudWatch Logs does not offer', () => {
      // Act & Assess
      expect(() => retentionFor(100)).toThrow(
        /log retention of 100 days is not one CloudWatch Logs accepts; use one of 1, 3, 5/,
      );
    });
  });
});

describe('Class: AuditLedger', () => {
  describe('Method: constructor', () => {
    it('refuses an Object Lock retention of 0 days', () => {
      // Prepare
      const stack = newStack();
      const keys = new AirlockKeys(stack, 'Keys', { stage: 'test' });
      const logs = new AccessLogsBucket(stack, 'Logs');

      // Act & Assess
      expect(
        () =>
          new AuditLedger(stack, 'Ledger', {
            keys,
            objectLockRetentionDays: 0,
            accessLogsBucket: logs.bucket,
          }),
      ).toThrow(/objectLockRetentionDays must be a whole number of days from 1 to 36500 \(got 0\)/);
    });
  });
});

describe('Class: KillSwitch', () => {
  describe('Method: constructor', () => {
    it('refuses a repeated workflow', () => {
      // Act & Assess
      expect(
        () => new KillSwitch(newStack(), 'KillSwitch', { stage: 'test', workflows: ['a', 'a'] }),
      ).toThrow(/workflow names must be unique \(repeated: a\)/);
    });

    it('refuses a workflow name that cannot be part of a parameter name', () => {
      // Act & Assess
      expect(
        () => new KillSwitch(newStack(), 'KillSwitch', { stage: 'test', workflows: ['Bad Name'] }),
      ).toThrow(/workflow name "Bad Name" cannot be part of a parameter name/);
    });
  });
});

describe('Class: ConnectorResourceSet', () => {
  const httpConnector = exampleConfig().connectors.erp;

  describe('Function: connectorSecretNames', () => {
    it('refuses two connectors sharing one secret', () => {
      // Act & Assess
      expect(() => connectorSecretNames({ erp: httpConnector, erp2: httpConnector })).toThrow(
        /connectors.erp2.auth.secretName "airlock\/pilot\/erp-client" is used by another connector \(erp\)/,
      );
    });
  });

  describe('Method: constructor', () => {
    it('refuses a file-store prefix with a wildcard', () => {
      // Prepare
      const stack = newStack();
      const keys = new AirlockKeys(stack, 'Keys', { stage: 'test' });
      const receipts = exampleConfig().connectors.receipts as Extract<
        ConnectorConfig,
        { kind: 'file-store' }
      >;
      const connector = { ...receipts, aws: { prefix: 'receipts/*/' } };

      // Act & Assess
      expect(
        () =>
          new ConnectorResourceSet(stack, {
            connectors: { receipts: connector },
            keys,
            accessLogsBucket: new s3.Bucket(stack, 'Logs'),
            nag: connectorNag,
          }),
      ).toThrow(
        /connectors.receipts.aws.prefix "receipts\/\*\/" must be a relative key prefix ending with \/ and without \*/,
      );
    });

    it("creates each kind's resources under the kind's own construct, named by the connector", () => {
      // Prepare
      const stack = newStack();
      const keys = new AirlockKeys(stack, 'Keys', { stage: 'test' });

      // Act
      new ConnectorResourceSet(stack, {
        connectors: exampleConfig().connectors,
        keys,
        accessLogsBucket: new s3.Bucket(stack, 'Logs'),
        nag: connectorNag,
      });

      // Assess: the construct paths of the first version, so a deployed bucket and secret are kept
      expect(stack.node.tryFindChild('ConnectorData')?.node.tryFindChild('receipts')).toBeDefined();
      expect(stack.node.tryFindChild('ConnectorSecrets')?.node.tryFindChild('erp')).toBeDefined();
    });
  });
});

describe('Class: OperatorRole', () => {
  describe('Method: constructor', () => {
    it('refuses an empty list of functions', () => {
      // Prepare
      const stack = newStack();
      const killSwitch = new KillSwitch(stack, 'KillSwitch', { stage: 'test', workflows: [] });

      // Act & Assess
      expect(() => new OperatorRole(stack, 'Operator', { killSwitch, functions: [] })).toThrow(
        /give at least one function whose concurrency the kill switch controls/,
      );
    });
  });
});

describe('Class: NotificationTopic', () => {
  it('refuses one address subscribed twice with different filters (one of them would miss its messages)', () => {
    // Prepare
    const stack = newStack();
    const encryptionKey = new AirlockKeys(stack, 'Keys', { stage: 'test' }).dataKey;

    // Act / Assess
    expect(
      () =>
        new NotificationTopic(stack, 'Topic', {
          displayName: 'approvals',
          encryptionKey,
          subscriptions: [
            { email: 'alice@example.com', filter: { kind: ['pending'] } },
            { email: 'Alice@example.com', filter: { kind: ['decision'], requester: ['alice'] } },
          ],
        }),
    ).toThrow(/"Alice@example.com" is subscribed twice with different filters/);
  });
});
