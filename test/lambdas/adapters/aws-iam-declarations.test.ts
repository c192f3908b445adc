/**
 * Keeps the adapters' IAM declarations honest: every method of every AWS adapter is driven against
 * SDK-boundary fakes (each path that sends a different command), the commands actually sent are
 * turned into the IAM actions and resources AWS authorizes them as, and each must be declared for
 * that method; a declared action that no path sends fails too. The permission proof
 * (test/infra/permission-proof.test.ts) trusts these declarations, so this is what ties it to the code.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { Readable } from 'node:stream';
import { BedrockAgentRuntimeClient } from '@aws-sdk/client-bedrock-agent-runtime';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import {
  CloudFormationStackReader,
  cloudFormationStackArn,
} from '../../../lambdas/adapters/aws/cloudformation-stack-reader';
import {
  CloudWatchAlarmReader,
  cloudWatchAlarmArn,
} from '../../../lambdas/adapters/aws/cloudwatch-alarm-reader';
import { CloudWatchCostSource } from '../../../lambdas/adapters/aws/cloudwatch-cost-source';
import { DynamoDbApprovalStore } from '../../../lambdas/adapters/aws/dynamodb-approval-store';
import { DynamoDbAuditStore } from '../../../lambdas/adapters/aws/dynamodb-audit-store';
import { DynamoDbCounterStore } from '../../../lambdas/adapters/aws/dynamodb-counter-store';
import { DynamoDbOAuthStore } from '../../../lambdas/adapters/aws/dynamodb-oauth-store';
import { DynamoDbRevocationStore } from '../../../lambdas/adapters/aws/dynamodb-revocation-store';
import { DynamoDbRunReadLog } from '../../../lambdas/adapters/aws/dynamodb-run-read-log';
import { EmfMetricsSink } from '../../../lambdas/adapters/aws/emf-metrics-sink';
import {
  type AwsScope,
  type DeclaresIamPermissions,
  dynamoDbTableArn,
  kmsKeyArn,
  lambdaFunctionArn,
  s3Arn,
  ssmParameterArn,
} from '../../../lambdas/adapters/aws/iam-permissions';
import { KmsMacKey } from '../../../lambdas/adapters/aws/kms-mac-key';
import { KmsTokenSigner } from '../../../lambdas/adapters/aws/kms-token-signer';
import { LambdaAccountReader } from '../../../lambdas/adapters/aws/lambda-account-reader';
import { LambdaConcurrencyController } from '../../../lambdas/adapters/aws/lambda-concurrency-controller';
import { S3DigestStore } from '../../../lambdas/adapters/aws/s3-digest-store';
import { SecretsManagerSecretSource } from '../../../lambdas/adapters/aws/secrets-manager-secret-source';
import { SnsApprovalNotifier } from '../../../lambdas/adapters/aws/sns-approval-notifier';
import { SnsSubscriptionReader } from '../../../lambdas/adapters/aws/sns-subscription-reader';
import { SsmKillSwitchParameters } from '../../../lambdas/adapters/aws/ssm-kill-switch-parameters';
import { RdsDataDatabase } from '../../../lambdas/connectors/database/rds-data-database';
import { S3FileStore } from '../../../lambdas/connectors/file-store/s3-file-store';
import { BedrockKnowledgeBase } from '../../../lambdas/connectors/knowledge-base/bedrock-knowledge-base';
import { KmsSubjectAssertionSigner } from '../../../lambdas/connectors/mcp-server/kms-subject-assertion-signer';
import type { ApprovalRecord } from '../../../lambdas/core/approval-desk';
import type { Digest } from '../../../lambdas/core/audit-anchor';
import type { AuditRecord } from '../../../lambdas/core/audit-record';
import type { UsagePoint } from '../../../lambdas/core/usage-meter';
import { exampleConfig } from '../../infra/airlock-test-app';

const SCOPE: AwsScope = { partition: 'aws', region: 'eu-west-1', account: '111122223333' };
const REGION = { region: SCOPE.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

/** IAM action names of lib-dynamodb's document commands (they drop `Item`, IAM does not). */
const DOCUMENT_COMMAND_ACTIONS: Record<string, string> = {
  Get: 'GetItem',
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  TransactGet: 'TransactGetItems',
  TransactWrite: 'TransactWriteItems',
};

/** S3 operations IAM authorizes under another action's name. */
const S3_COMMAND_ACTIONS: Record<string, string> = {
  ListObjectsV2: 'ListBucket',
  ListObjects: 'ListBucket',
  HeadObject: 'GetObject',
  HeadBucket: 'ListBucket',
};

interface SentCall {
  readonly action: string;
  readonly resources: readonly string[];
}

type Input = Record<string, unknown>;

/**
 * The IAM action and resource(s) AWS authorizes a sent command as: `<prefix>:<command name without
 * "Command">`, with lib-dynamodb's and S3's renamed operations mapped to their IAM names.
 */
function iamCallOf(
  prefix: string,
  command: { constructor: { name: string }; input: unknown },
): SentCall | SentCall[] {
  const name = command.constructor.name.replace(/Command$/, '');
  const input = command.input as Input;
  switch (prefix) {
    case 'rds-data':
      // Authorized on the cluster; the Data API then reads the database user's secret with the
      // caller's permissions (GetSecretValue on that secret), so each call needs both.
      return [
        { action: `rds-data:${name}`, resources: [String(input.resourceArn)] },
        { action: 'secretsmanager:GetSecretValue', resources: [String(input.secretArn)] },
      ];
    case 'bedrock-agent-runtime':
      // Bedrock Agent Runtime's actions are in the `bedrock` IAM namespace, on the knowledge base.
      return {
        action: `bedrock:${name}`,
        resources: [
          `arn:${SCOPE.partition}:bedrock:${SCOPE.region}:${SCOPE.account}:knowledge-base/${String(input.knowledgeBaseId)}`,
        ],
      };
    case 'dynamodb': {
      const action = `dynamodb:${DOCUMENT_COMMAND_ACTIONS[name] ?? name}`;
      const tables = input.RequestItems
        ? Object.keys(input.RequestItems as Input)
        : [String(input.TableName)];
      return {
        action,
        resources: tables.map((table) =>
          input.IndexName
            ? `${dynamoDbTableArn(SCOPE, table)}/index/${String(input.IndexName)}`
            : dynamoDbTableArn(SCOPE, table),
        ),
      };
    }
    case 'kms':
      return { action: `kms:${name}`, resources: [kmsKeyArn(SCOPE, String(input.KeyId))] };
    case 'ssm': {
      const names = (input.Names as string[] | undefined) ?? [String(input.Name)];
      return { action: `ssm:${name}`, resources: names.map((n) => ssmParameterArn(SCOPE, n)) };
    }
    case 's3': {
      const action = `s3:${S3_COMMAND_ACTIONS[name] ?? name}`;
      const bucket = String(input.Bucket);
      return {
        action,
        resources: [
          action === 's3:ListBucket' ? s3Arn(SCOPE, bucket) : s3Arn(SCOPE, bucket, String(input.Key)),
        ],
      };
    }
    case 'secretsmanager':
      return { action: `secretsmanager:${name}`, resources: [String(input.SecretId)] };
    case 'sns':
      return { action: `sns:${name}`, resources: [String(input.TopicArn)] };
    case 'lambda':
      // Account-level calls (GetAccountSettings) name no function: IAM authorizes them on "*".
      return {
        action: `lambda:${name}`,
        resources: [
          input.FunctionName === undefined ? '*' : lambdaFunctionArn(SCOPE, String(input.FunctionName)),
        ],
      };
    case 'cloudwatch':
      // DescribeAlarms is authorized per alarm; GetMetricData has no resource-level permissions ("*").
      return {
        action: `cloudwatch:${name}`,
        resources: input.AlarmNames
          ? (input.AlarmNames as string[]).map((alarm) => cloudWatchAlarmArn(SCOPE, alarm))
          : ['*'],
      };
    case 'cloudformation':
      return {
        action: `cloudformation:${name}`,
        // A stack's ARN ends in its id, which the caller does not know: any id of that name.
        resources: [cloudFormationStackArn(SCOPE, String(input.StackName)).replace(/\*$/, 'a1b2c3d4')],
      };
    default:
      throw new Error(`no IAM mapping for service ${prefix}`);
  }
}

/** A declared resource matches a sent one exactly, or as a prefix when it ends with `*`. */
function covers(declared: string, sent: string): boolean {
  return declared.endsWith('*') && declared !== '*'
    ? sent.startsWith(declared.slice(0, -1))
    : declared === sent;
}

// biome-ignore lint/suspicious/noExplicitAny: the stubs of different clients share no useful type here
type AnyStub = AwsClientStub<any>;

const stubs: Record<string, AnyStub> = {
  dynamodb: mockClient(DynamoDBDocumentClient),
  kms: mockClient(KMSClient),
  ssm: mockClient(SSMClient),
  s3: mockClient(S3Client),
  secretsmanager: mockClient(SecretsManagerClient),
  sns: mockClient(SNSClient),
  lambda: mockClient(LambdaClient),
  cloudwatch: mockClient(CloudWatchClient),
  cloudformation: mockClient(CloudFormationClient),
  // Typed against an older @smithy/types than the other clients (the newest release of this client).
  'rds-data': mockClient(RDSDataClient) as unknown as AnyStub,
  'bedrock-agent-runtime': mockClient(BedrockAgentRuntimeClient),
};

beforeEach(() => {
  for (const stub of Object.values(stubs)) stub.reset();
});

/** Every command sent to any stubbed client since the last reset, as IAM sees it. */
function sentCalls(): SentCall[] {
  return Object.entries(stubs).flatMap(([prefix, stub]) =>
    stub.calls().flatMap((call) => iamCallOf(prefix, call.args[0] as never)),
  );
}

/** Every command sent to `stub` answers `output`. */
function answer(stub: AnyStub, output: object): void {
  stub.onAnyCommand().resolves(output as never);
}

function conditionalCheckFailed(): Error {
  return Object.assign(new Error('The conditional request failed'), {
    name: 'ConditionalCheckFailedException',
  });
}

/**
 * Runs each path of `method` (every path resets the fakes first), then checks the commands sent against
 * the adapter's declaration for that method: each sent action on its resource is declared, and each
 * declared action is sent by some path.
 */
async function expectDeclarationsHonest<M extends string>(
  adapter: DeclaresIamPermissions<M>,
  method: M,
  paths: readonly (() => Promise<unknown>)[],
): Promise<void> {
  const declared = adapter.iamPermissions([method], SCOPE);
  const sent: SentCall[] = [];
  for (const path of paths) {
    for (const stub of Object.values(stubs)) stub.resetHistory();
    await path();
    sent.push(...sentCalls());
  }
  const undeclared = sent.flatMap(({ action, resources }) =>
    resources
      .filter((resource) => !declared.some((p) => p.action === action && covers(p.resource, resource)))
      .map((resource) => `${action} on ${resource}`),
  );
  expect({ method, undeclared }).toEqual({ method, undeclared: [] });
  const neverSent = [...new Set(declared.map((p) => p.action))].filter(
    (action) => !sent.some((call) => call.action === action),
  );
  expect({ method, neverSent }).toEqual({ method, neverSent: [] });
}

const documents = () => DynamoDBDocumentClient.from(new DynamoDBClient(REGION));

describe('IAM declarations of the AWS adapters', () => {
  describe('DynamoDbRevocationStore', () => {
    const store = () => new DynamoDbRevocationStore({ client: documents(), tableName: 'revocations' });
    const dynamo = stubs.dynamodb;

    it('readEntries sends exactly what it declares (BatchGetItem, never GetItem)', async () => {
      const s = store();
      await expectDeclarationsHonest(s, 'readEntries', [
        async () => {
          answer(dynamo, { Responses: { revocations: [] } });
          await s.readEntries({
            jti: 'j1',
            principal: 'alice',
            certificate: { thumbprint: 't', serialNumber: '1A' },
            killSwitch: ['/airlock/pilot/kill-switch'],
          });
        },
      ]);
    });

    it('block sends exactly what it declares', async () => {
      const s = store();
      await expectDeclarationsHonest(s, 'block', [
        async () => {
          answer(dynamo, {});
          await s.block(
            { kind: 'certificate', thumbprint: 't' },
            { by: 'ops', reason: 'stolen', at: new Date() },
          );
        },
      ]);
    });

    it('lift sends exactly what it declares, nothing to lift included', async () => {
      const s = store();
      const change = { by: 'ops', reason: 'found', at: new Date() };
      await expectDeclarationsHonest(s, 'lift', [
        async () => {
          answer(dynamo, {});
          await s.lift({ kind: 'suspension', principal: 'alice' }, change, new Date(Date.now() + 60_000));
        },
        async () => {
          dynamo.reset();
          dynamo.onAnyCommand().rejects(conditionalCheckFailed());
          await s.lift({ kind: 'suspension', principal: 'alice' }, change, new Date(Date.now() + 60_000));
        },
      ]);
    });

    it('listEntries sends exactly what it declares (one Scan, paged)', async () => {
      const s = store();
      await expectDeclarationsHonest(s, 'listEntries', [
        async () => {
          answer(dynamo, { Items: [] });
          await s.listEntries();
        },
      ]);
    });

    it('readKillSwitchCopies and writeKillSwitchCopy send exactly what they declare', async () => {
      const s = store();
      await expectDeclarationsHonest(s, 'readKillSwitchCopies', [
        async () => {
          answer(dynamo, { Responses: { revocations: [] } });
          await s.readKillSwitchCopies(['/airlock/pilot/kill-switch']);
        },
      ]);
      await expectDeclarationsHonest(s, 'writeKillSwitchCopy', [
        async () => {
          answer(dynamo, {});
          await s.writeKillSwitchCopy('/airlock/pilot/kill-switch', '{}');
        },
      ]);
    });

    it('revokeToken sends exactly what it declares', async () => {
      const s = store();
      await expectDeclarationsHonest(s, 'revokeToken', [
        async () => {
          answer(dynamo, {});
          await s.revokeToken('j1', new Date(Date.now() + 60_000), 'ops');
        },
      ]);
    });

    it('revokePrincipal sends exactly what it declares, the update path included', async () => {
      const s = store();
      const later = new Date(Date.now() + 60_000);
      await expectDeclarationsHonest(s, 'revokePrincipal', [
        async () => {
          answer(dynamo, {});
          await s.revokePrincipal('alice', new Date(), later, 'ops');
        },
        async () => {
          dynamo.reset();
          dynamo.on(PutCommand).rejects(conditionalCheckFailed());
          dynamo.on(UpdateCommand).resolves({});
          await s.revokePrincipal('alice', new Date(0), later, 'ops');
        },
      ]);
    });
  });

  describe('DynamoDbAuditStore', () => {
    const s = () => new DynamoDbAuditStore({ client: documents(), tableName: 'audit' });
    const dynamo = stubs.dynamodb;
    const record = { chainId: 'c', seq: 1, hash: 'h' } as unknown as AuditRecord;

    it('append sends exactly what it declares, a refused write included', async () => {
      const store = s();
      await expectDeclarationsHonest(store, 'append', [
        async () => {
          answer(dynamo, {});
          await store.append(record);
        },
        async () => {
          dynamo.reset();
          dynamo.onAnyCommand().rejects(conditionalCheckFailed());
          await expect(store.append(record)).rejects.toThrow();
        },
      ]);
    });

    it.each([
      ['readRecord', (store: DynamoDbAuditStore) => store.readRecord('c', 1)],
      ['listChainHeads', (store: DynamoDbAuditStore) => store.listChainHeads()],
      [
        'readChain',
        async (store: DynamoDbAuditStore) => {
          for await (const _ of store.readChain('c')) {
            // Reads every page.
          }
        },
      ],
    ] as const)('%s sends exactly what it declares', async (method, call) => {
      const store = s();
      await expectDeclarationsHonest(store, method, [
        async () => {
          answer(dynamo, { Items: [{ chainId: 'c', seq: 1, hash: 'h', ts: 't' }] });
          await call(store);
        },
      ]);
    });
  });

  describe('DynamoDbApprovalStore', () => {
    const dynamo = stubs.dynamodb;
    const record: ApprovalRecord = {
      id: 'apr_1',
      status: 'pending',
      principal: 'alice',
      workflow: 'expense-summary',
      connector: 'erp',
      operation: 'createJournalEntry',
      argumentsHash: 'a'.repeat(64),
      policyVersion: 'v1',
      approverGroup: 'managers',
      preview: { call: { method: 'POST', path: '/x' } as never, sha256: 'b'.repeat(64) },
      reasons: ['r'],
      requestId: 'req',
      createdAt: '2026-11-02T09:00:00.000Z',
      expiresAt: '2026-11-03T09:00:00.000Z',
    };

    it.each([
      ['create', (store: DynamoDbApprovalStore) => store.create(record)],
      ['get', (store: DynamoDbApprovalStore) => store.get('apr_1')],
      ['listByStatus', (store: DynamoDbApprovalStore) => store.listByStatus('pending', 10)],
      [
        'transition',
        (store: DynamoDbApprovalStore) => store.transition('apr_1', 'pending', { status: 'approved' }),
      ],
    ] as const)('%s sends exactly what it declares (a listing on the status index)', async (method, call) => {
      const store = new DynamoDbApprovalStore({ client: documents(), tableName: 'approvals' });
      await expectDeclarationsHonest(store, method, [
        async () => {
          answer(dynamo, { Item: record, Items: [record] });
          await call(store);
        },
      ]);
    });
  });

  describe('DynamoDbRunReadLog', () => {
    const dynamo = stubs.dynamodb;
    const doc = {
      connector: 'receipts',
      operation: 'read',
      id: 'q3/r1.txt',
      sha256: 'c'.repeat(64),
      readAt: '2026-11-02T09:00:00.000Z',
    };

    it.each([
      ['append', (log: DynamoDbRunReadLog) => log.append('jti-1', [doc], new Date(Date.now() + 3_600_000))],
      ['list', (log: DynamoDbRunReadLog) => log.list('jti-1')],
    ] as const)('%s sends exactly what it declares', async (method, call) => {
      const log = new DynamoDbRunReadLog({ client: documents(), tableName: 'approvals' });
      await expectDeclarationsHonest(log, method, [
        async () => {
          answer(dynamo, { Item: { id: 'run#jti-1', documents: [doc] } });
          await call(log);
        },
      ]);
    });
  });

  describe('DynamoDbCounterStore', () => {
    const dynamo = stubs.dynamodb;

    it('add sends exactly what it declares (UpdateItem), a refused bound included', async () => {
      const store = new DynamoDbCounterStore({ client: documents(), tableName: 'counters' });
      const expiresAt = new Date(Date.now() + 86_400_000);
      await expectDeclarationsHonest(store, 'add', [
        async () => {
          answer(dynamo, { Attributes: { n: 3 } });
          await store.add('spend#w#2026-11-02', 3, { expiresAt });
        },
        async () => {
          dynamo.reset();
          dynamo.onAnyCommand().rejects(conditionalCheckFailed());
          await expect(
            store.add('usage#w#a#2026-11-02', 1, { expiresAt, atMost: 2 }),
          ).resolves.toBeUndefined();
        },
      ]);
    });
  });

  describe('DynamoDbOAuthStore', () => {
    const dynamo = stubs.dynamodb;
    const client = { clientId: 'c1' } as never;
    const calls = [
      ['putClient', (s: DynamoDbOAuthStore) => s.putClient(client)],
      ['getClient', (s: DynamoDbOAuthStore) => s.getClient('c1')],
      [
        'putPendingAuthorization',
        (s: DynamoDbOAuthStore) => s.putPendingAuthorization({ id: 'p', expiresAt: 1 } as never),
      ],
      ['takePendingAuthorization', (s: DynamoDbOAuthStore) => s.takePendingAuthorization('p')],
      ['putCode', (s: DynamoDbOAuthStore) => s.putCode({ codeHash: 'h', expiresAt: 1 } as never)],
      ['redeemCode', (s: DynamoDbOAuthStore) => s.redeemCode('h')],
      ['putFamily', (s: DynamoDbOAuthStore) => s.putFamily({ familyId: 'f', expiresAt: 1 } as never)],
      ['getFamily', (s: DynamoDbOAuthStore) => s.getFamily('f')],
      ['revokeFamily', (s: DynamoDbOAuthStore) => s.revokeFamily('f', 'reason', new Date())],
      [
        'putRefreshToken',
        (s: DynamoDbOAuthStore) => s.putRefreshToken({ tokenHash: 'r', expiresAt: 1 } as never),
      ],
      ['getRefreshToken', (s: DynamoDbOAuthStore) => s.getRefreshToken('r')],
      ['useRefreshToken', (s: DynamoDbOAuthStore) => s.useRefreshToken('r', new Date())],
      ['touchClient', (s: DynamoDbOAuthStore) => s.touchClient('c', 1)],
      ['increment', (s: DynamoDbOAuthStore) => s.increment(['registrations#1.2.3.4'], 1)],
      ['putConsentTicket', (s: DynamoDbOAuthStore) => s.putConsentTicket({ id: 't', expiresAt: 1 } as never)],
      ['takeConsentTicket', (s: DynamoDbOAuthStore) => s.takeConsentTicket('t')],
      [
        'putConsent',
        (s: DynamoDbOAuthStore) => s.putConsent({ principal: 'p', clientId: 'c', expiresAt: 1 } as never),
      ],
      ['getConsent', (s: DynamoDbOAuthStore) => s.getConsent('p', 'c')],
      ['setRefreshSuccessor', (s: DynamoDbOAuthStore) => s.setRefreshSuccessor('r', 's')],
      ['takeRefreshGrace', (s: DynamoDbOAuthStore) => s.takeRefreshGrace('r')],
    ] as const;

    it.each(calls)('%s sends exactly what it declares', async (method, call) => {
      const store = new DynamoDbOAuthStore({ client: documents(), tableName: 'oauth' });
      await expectDeclarationsHonest(store, method, [
        async () => {
          answer(dynamo, { Item: { pk: 'x', value: {} }, Attributes: { value: {} } });
          await call(store);
        },
      ]);
    });
  });

  describe('KmsTokenSigner', () => {
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyArn = 'arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555';
    const signer = () => new KmsTokenSigner({ client: new KMSClient(REGION), keyId: keyArn });

    it('sign sends exactly what it declares', async () => {
      const s = signer();
      await expectDeclarationsHonest(s, 'sign', [
        async () => {
          answer(stubs.kms, {
            Signature: new Uint8Array(
              sign('sha256', Buffer.from('x'), { key: keys.privateKey, dsaEncoding: 'der' }),
            ),
          });
          await s.sign(new Uint8Array([1]));
        },
      ]);
    });

    it('getPublicKey sends exactly what it declares', async () => {
      const s = signer();
      await expectDeclarationsHonest(s, 'getPublicKey', [
        async () => {
          answer(stubs.kms, {
            KeyId: keyArn,
            KeySpec: 'ECC_NIST_P256',
            KeyUsage: 'SIGN_VERIFY',
            PublicKey: new Uint8Array(keys.publicKey.export({ format: 'der', type: 'spki' })),
          });
          await s.getPublicKey();
        },
      ]);
    });
  });

  describe('KmsMacKey', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:111122223333:key/66666666-2222-3333-4444-555555555555';
    const key = () => new KmsMacKey({ client: new KMSClient(REGION), keyId: keyArn });

    it('generateMac sends exactly what it declares', async () => {
      const k = key();
      await expectDeclarationsHonest(k, 'generateMac', [
        async () => {
          answer(stubs.kms, { Mac: new Uint8Array(32) });
          await k.generateMac(new Uint8Array([1]));
        },
      ]);
    });

    it('verifyMac sends exactly what it declares', async () => {
      const k = key();
      await expectDeclarationsHonest(k, 'verifyMac', [
        async () => {
          answer(stubs.kms, { MacValid: true });
          await k.verifyMac(new Uint8Array([1]), new Uint8Array(32));
        },
      ]);
    });
  });

  describe('SsmKillSwitchParameters', () => {
    const names = ['/airlock/pilot/kill-switch', '/airlock/pilot/kill-switch/expense-summary'];
    const parameters = () =>
      new SsmKillSwitchParameters({ client: new SSMClient(REGION), parameterNames: names });

    it('read sends exactly what it declares (GetParameters, never GetParameter)', async () => {
      const p = parameters();
      await expectDeclarationsHonest(p, 'read', [
        async () => {
          answer(stubs.ssm, { Parameters: [{ Name: names[0], Value: '{}' }] });
          await p.read(names);
        },
      ]);
    });

    it('write sends exactly what it declares', async () => {
      const p = parameters();
      await expectDeclarationsHonest(p, 'write', [
        async () => {
          answer(stubs.ssm, {});
          await p.write(names[1], '{}');
        },
      ]);
    });
  });

  describe('S3DigestStore', () => {
    const digest = { digestId: 'chain/000000000001', chainId: 'chain', seq: 1 } as unknown as Digest;
    const store = () => new S3DigestStore({ client: new S3Client(REGION), bucket: 'digests-bucket' });

    it('put sends exactly what it declares', async () => {
      const s = store();
      await expectDeclarationsHonest(s, 'put', [
        async () => {
          answer(stubs.s3, {});
          await s.put(digest);
        },
      ]);
    });

    it('list sends exactly what it declares (the listing and each digest read)', async () => {
      const s = store();
      await expectDeclarationsHonest(s, 'list', [
        async () => {
          answer(stubs.s3, {
            Contents: [{ Key: 'digests/chain/000000000001.json' }],
            Body: { transformToString: async () => JSON.stringify(digest) },
          });
          await s.list();
        },
      ]);
    });
  });

  describe('S3FileStore', () => {
    const store = () =>
      new S3FileStore({ client: new S3Client(REGION), bucket: 'data', prefix: 'receipts/' });

    it('list sends exactly what it declares', async () => {
      const s = store();
      await expectDeclarationsHonest(s, 'list', [
        async () => {
          answer(stubs.s3, { Contents: [{ Key: 'receipts/a.txt', Size: 1 }], IsTruncated: false });
          await s.list('');
        },
      ]);
    });

    it('read sends exactly what it declares, only below its prefix', async () => {
      const s = store();
      await expectDeclarationsHonest(s, 'read', [
        async () => {
          answer(stubs.s3, { ContentLength: 2, Body: Readable.from([Buffer.from('hi')]) as never });
          await s.read('2026/a.txt');
        },
      ]);
    });
  });

  describe('SecretsManagerSecretSource', () => {
    it('getJson sends exactly what it declares, on the secret ARN the stack named', async () => {
      const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:airlock/erp-AbCdEf';
      const source = new SecretsManagerSecretSource({
        client: new SecretsManagerClient(REGION),
        secretIds: { 'airlock/erp': arn },
      });
      await expectDeclarationsHonest(source, 'getJson', [
        async () => {
          answer(stubs.secretsmanager, { SecretString: '{"clientId":"a","clientSecret":"b"}' });
          await source.getJson('airlock/erp');
        },
      ]);
    });
  });

  describe('RdsDataDatabase', () => {
    const clusterArn = 'arn:aws:rds:eu-west-1:111122223333:cluster:ledger-replica';
    const secretArn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:ledger-readonly-AbCdEf';
    const database = () =>
      new RdsDataDatabase({ client: new RDSDataClient(REGION), clusterArn, secretArn, database: 'ledger' });
    const query = {
      sql: 'SELECT vendor FROM ledger_entries WHERE vendor = :vendor',
      parameters: { vendor: 'x' },
      maxRows: 10,
      statementTimeoutMs: 1000,
      label: 'ledger/entriesByVendor',
    };

    it('query sends exactly what it declares, on its cluster and its secret, a refused write included', async () => {
      const d = database();
      await expectDeclarationsHonest(d, 'query', [
        async () => {
          answer(stubs['rds-data'], { transactionId: 't1', columnMetadata: [], records: [] });
          await d.query(query);
        },
        async () => {
          stubs['rds-data'].reset();
          stubs['rds-data']
            .onAnyCommand()
            .resolvesOnce({ transactionId: 't1' } as never)
            .rejects(
              new Error('ERROR: cannot execute nextval() in a read-only transaction; SQLState: 25006'),
            );
          await expect(d.query(query)).rejects.toThrow(/refused the query/);
        },
      ]);
    });
  });

  describe('KmsSubjectAssertionSigner', () => {
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyArn = 'arn:aws:kms:eu-west-1:111122223333:key/99999999-2222-3333-4444-555555555555';
    const signer = () => new KmsSubjectAssertionSigner({ client: new KMSClient(REGION), keyArn });

    it('sign sends exactly what it declares, on the connector’s own key', async () => {
      const s = signer();
      await expectDeclarationsHonest(s, 'sign', [
        async () => {
          answer(stubs.kms, {
            Signature: new Uint8Array(
              sign('sha256', Buffer.from('x'), { key: keys.privateKey, dsaEncoding: 'der' }),
            ),
          });
          await s.sign(new Uint8Array([1]));
        },
      ]);
    });

    it('keyId sends nothing and declares nothing (the kid is the key id of its ARN)', async () => {
      const s = signer();
      await expectDeclarationsHonest(s, 'keyId', [
        async () => {
          expect(await s.keyId()).toBe('99999999-2222-3333-4444-555555555555');
        },
      ]);
    });
  });

  describe('BedrockKnowledgeBase', () => {
    it('search sends exactly what it declares, on its knowledge base', async () => {
      const kb = new BedrockKnowledgeBase({
        client: new BedrockAgentRuntimeClient(REGION),
        knowledgeBaseId: 'ABCDEFGHIJ',
        classificationKey: 'classification',
      });
      await expectDeclarationsHonest(kb, 'search', [
        async () => {
          answer(stubs['bedrock-agent-runtime'], { retrievalResults: [] });
          await kb.search({
            text: 'hotel',
            maxResults: 5,
            classifications: ['public'],
            label: 'handbook/search',
          });
        },
      ]);
    });
  });

  describe('SnsApprovalNotifier', () => {
    it.each([
      ['the approvals topic', undefined],
      ['the approvals topic and the chat topic', 'arn:aws:sns:eu-west-1:111122223333:approvals-chat'],
    ])('notify to %s sends exactly what it declares', async (_label, chatTopicArn) => {
      const topicArn = 'arn:aws:sns:eu-west-1:111122223333:approvals';
      const notifier = new SnsApprovalNotifier({ client: new SNSClient(REGION), topicArn, chatTopicArn });
      await expectDeclarationsHonest(notifier, 'notify', [
        async () => {
          answer(stubs.sns, { MessageId: 'm' });
          await notifier.notify({
            id: 'apr_1',
            status: 'pending',
            principal: 'alice',
            workflow: 'expense-summary',
            connector: 'erp',
            operation: 'createJournalEntry',
            argumentsHash: 'a'.repeat(64),
            policyVersion: 'v1',
            approverGroup: 'managers',
            preview: {
              call: { method: 'POST', url: 'https://erp.example.com/x', body: {} } as never,
              sha256: 'b'.repeat(64),
            },
            reasons: ['r'],
            requestId: 'req',
            createdAt: '2026-11-02T09:00:00.000Z',
            expiresAt: '2026-11-03T09:00:00.000Z',
          });
        },
      ]);
    });
  });

  describe('LambdaConcurrencyController', () => {
    const controller = () =>
      new LambdaConcurrencyController({
        client: new LambdaClient(REGION),
        functionNames: ['airlock-broker', 'airlock-connector'],
      });

    it.each([
      ['freeze', (c: LambdaConcurrencyController) => c.freeze(['airlock-broker'])],
      [
        'restore',
        // One function with a configured reservation (Put) and one without (Delete).
        (c: LambdaConcurrencyController) => c.restore({ 'airlock-broker': 5, 'airlock-connector': null }),
      ],
    ] as const)('%s sends exactly what it declares', async (method, call) => {
      const c = controller();
      await expectDeclarationsHonest(c, method, [
        async () => {
          answer(stubs.lambda, { ReservedConcurrentExecutions: 5 });
          await call(c);
        },
      ]);
    });
  });

  describe('CloudWatchCostSource', () => {
    it('dailyTotals sends exactly what it declares', async () => {
      const source = new CloudWatchCostSource({
        client: new CloudWatchClient(REGION),
        config: exampleConfig(),
      });
      await expectDeclarationsHonest(source, 'dailyTotals', [
        async () => {
          answer(stubs.cloudwatch, { MetricDataResults: [] });
          await source.dailyTotals({ from: '2026-11-01', to: '2026-11-02' });
        },
      ]);
    });
  });

  describe('CloudFormationStackReader', () => {
    const reader = () =>
      new CloudFormationStackReader({
        client: new CloudFormationClient(REGION),
        stackNames: {
          describeStack: ['Airlock-pilot-Api'],
          listResources: ['Airlock-pilot-Api', 'Airlock-pilot-Monitoring'],
        },
      });

    it('describeStack sends exactly what it declares', async () => {
      const r = reader();
      await expectDeclarationsHonest(r, 'describeStack', [
        async () => {
          answer(stubs.cloudformation, {
            Stacks: [{ StackName: 'Airlock-pilot-Api', StackStatus: 'CREATE_COMPLETE', Outputs: [] }],
          });
          await r.describeStack('Airlock-pilot-Api');
        },
      ]);
    });

    it('listResources sends exactly what it declares, every page', async () => {
      const r = reader();
      await expectDeclarationsHonest(r, 'listResources', [
        async () => {
          stubs.cloudformation
            .onAnyCommand()
            .resolvesOnce({ StackResourceSummaries: [], NextToken: 'next' } as never)
            .resolves({ StackResourceSummaries: [] } as never);
          await r.listResources('Airlock-pilot-Monitoring');
        },
      ]);
    });

    it('refuses a stack it was not given for that method (its declaration would not cover it)', async () => {
      await expect(reader().listResources('Other-Stack')).rejects.toThrow(RangeError);
      await expect(reader().describeStack('Airlock-pilot-Monitoring')).rejects.toThrow(RangeError);
    });
  });

  describe('CloudWatchAlarmReader', () => {
    it('states sends exactly what it declares: the alarms below its prefix', async () => {
      const r = new CloudWatchAlarmReader({
        client: new CloudWatchClient(REGION),
        alarmNamePrefix: 'Airlock-pilot-Monitoring-',
      });
      await expectDeclarationsHonest(r, 'states', [
        async () => {
          answer(stubs.cloudwatch, { MetricAlarms: [], CompositeAlarms: [] });
          await r.states(['Airlock-pilot-Monitoring-SigningRateAlarm-ABC']);
        },
      ]);
      await expect(r.states(['Other-Alarm'])).rejects.toThrow(RangeError);
    });
  });

  describe('SnsSubscriptionReader', () => {
    it('subscriptions sends exactly what it declares, on the topic it was given', async () => {
      const topicArn = 'arn:aws:sns:eu-west-1:111122223333:Airlock-pilot-Foundation-AlertsTopic-ABC';
      const r = new SnsSubscriptionReader({ client: new SNSClient(REGION), topicArns: [topicArn] });
      await expectDeclarationsHonest(r, 'subscriptions', [
        async () => {
          answer(stubs.sns, { Subscriptions: [] });
          await r.subscriptions(topicArn);
        },
      ]);
    });
  });

  describe('LambdaAccountReader', () => {
    it('concurrency sends exactly what it declares', async () => {
      const r = new LambdaAccountReader({ client: new LambdaClient(REGION) });
      await expectDeclarationsHonest(r, 'concurrency', [
        async () => {
          answer(stubs.lambda, {
            AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 900 },
          });
          await r.concurrency();
        },
      ]);
    });
  });

  describe('EmfMetricsSink', () => {
    it('record sends no AWS request and declares none (the Lambda runtime ships the log line)', async () => {
      const lines: string[] = [];
      const sink = new EmfMetricsSink({ emit: (line) => lines.push(line) });
      await expectDeclarationsHonest(sink, 'record', [
        async () => {
          sink.record({ workflow: 'expense-summary', timestamp: new Date() } as unknown as UsagePoint);
        },
      ]);
      expect(sink.iamPermissions(['record'])).toEqual([]);
    });
  });

  it('fails a method that sends an action it does not declare (the check can fail)', async () => {
    const store = new DynamoDbRevocationStore({ client: documents(), tableName: 'revocations' });
    // As the revocation check was wired before: declared GetItem, but BatchGetItem is what it sends.
    const wrong: DeclaresIamPermissions<'readEntries'> = {
      iamPermissions: () => [
        { action: 'dynamodb:GetItem', resource: dynamoDbTableArn(SCOPE, 'revocations'), neededBy: 'x' },
      ],
    };
    await expect(
      expectDeclarationsHonest(wrong, 'readEntries', [
        async () => {
          answer(stubs.dynamodb, { Responses: { revocations: [] } });
          await store.readEntries({ jti: 'j1', principal: 'alice' });
        },
      ]),
    ).rejects.toThrow(/dynamodb:BatchGetItem on arn:aws:dynamodb:eu-west-1:111122223333:table\/revocations/);
  });
});
