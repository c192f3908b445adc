/**
 * What each operator command does in AWS, in one place: the Airlock role a person runs it under, the
 * AWS adapters it builds (as the command builds them, from the same environment variables: the
 * stack outputs) and the adapter methods it calls. With the adapters' IAM declarations this gives
 * each command's exact (action, resource) list; test/infra/permission-proof.test.ts proves each role
 * allows its commands' lists and nothing more, and the runbooks cite this table.
 *
 * Written by hand from cli/kill-switch-commands.ts, revoke-command.ts, audit-commands.ts,
 * cost-commands.ts, operator-audit.ts and cli/doctor/ (commands with `--local` touch no AWS); keep it in step with
 * them until the CLI gets a composition of its own, from which this list then follows.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BedrockUsageSource } from '../lambdas/adapters/aws/bedrock-usage-source';
import { CloudWatchCostSource } from '../lambdas/adapters/aws/cloudwatch-cost-source';
import { DynamoDbAuditStore } from '../lambdas/adapters/aws/dynamodb-audit-store';
import { DynamoDbRevocationStore } from '../lambdas/adapters/aws/dynamodb-revocation-store';
import type { AdapterMethod, AwsScope, IamPermission } from '../lambdas/adapters/aws/iam-permissions';
import { KmsTokenSigner } from '../lambdas/adapters/aws/kms-token-signer';
import { LambdaConcurrencyController } from '../lambdas/adapters/aws/lambda-concurrency-controller';
import { S3DigestStore } from '../lambdas/adapters/aws/s3-digest-store';
import { SsmKillSwitchParameters } from '../lambdas/adapters/aws/ssm-kill-switch-parameters';
import { killSwitchParameterName, killSwitchPrefix } from '../lambdas/core/kill-switch';
import type { AirlockConfig } from '../lib/config/schema';
import { CLI_ENV, FUNCTION_ENV } from '../lib/contracts/environment';
import { DIGEST_PREFIX } from '../lib/contracts/storage';
import {
  type DeployedAirlock,
  type DoctorAwsAdapters,
  doctorAwsAdapters,
} from './doctor/doctor-aws-adapters';

/** The roles the stack creates for people: the operator (IT) and the auditor (IT / security). */
export type CliRole = 'operator' | 'auditor';

/** The AWS adapters the operator commands build. */
export interface CliAwsAdapters {
  readonly killSwitchParameters: SsmKillSwitchParameters;
  readonly concurrency: LambdaConcurrencyController;
  readonly revocations: DynamoDbRevocationStore;
  readonly auditStore: DynamoDbAuditStore;
  readonly digestStore: S3DigestStore;
  readonly signingKey: KmsTokenSigner;
  readonly costSource: CloudWatchCostSource;
  /** cost report: Bedrock's token counts per workflow inference profile (measured LLM usage). */
  readonly llmUsage: BedrockUsageSource;
  /** doctor: the stage's stacks (outputs, resources). */
  readonly stacks: DoctorAwsAdapters['stacks'];
  /** doctor: the Monitoring stack's alarms. */
  readonly alarms: DoctorAwsAdapters['alarms'];
  /** doctor: the notification topics' subscriptions. */
  readonly topics: DoctorAwsAdapters['topics'];
  /** doctor: the token signing key's public half. */
  readonly tokenKey: NonNullable<DoctorAwsAdapters['tokenKey']>;
  /** doctor: the account's Lambda concurrency. */
  readonly lambdaAccount: DoctorAwsAdapters['lambdaAccount'];
}

type CliCalls = {
  readonly [A in keyof CliAwsAdapters]?: readonly Exclude<
    AdapterMethod<CliAwsAdapters[A]>,
    'iamPermissions'
  >[];
};

export interface CliAwsCommand {
  /** The role a person assumes to run it; `undefined` when no Airlock role is meant to (see `why`). */
  readonly role: CliRole | undefined;
  /** The adapter methods it calls. */
  readonly calls: CliCalls;
  /** Why it runs as it does, where that is not obvious. */
  readonly why?: string;
}

/** Every operator command that reaches AWS, by how it is typed. */
/** The switch: its parameters in SSM and their copies in the revocations table, read first and written copy first. */
const KILL_SWITCH_CHANGE = {
  killSwitchParameters: ['read', 'write'],
  revocations: ['readKillSwitchCopies', 'writeKillSwitchCopy'],
} as const;

export const CLI_AWS_COMMANDS = {
  'kill-switch status': {
    role: 'operator',
    calls: { killSwitchParameters: ['read'], revocations: ['readKillSwitchCopies'] },
  },
  // Engaging and releasing read the switch first (its state is reported and kept) and write it; the
  // audit record of the change is written by the anchor function (EventBridge on the parameter change).
  'kill-switch engage': { role: 'operator', calls: KILL_SWITCH_CHANGE },
  'kill-switch engage --hard': {
    role: 'operator',
    calls: { ...KILL_SWITCH_CHANGE, concurrency: ['freeze'] },
  },
  'kill-switch release': { role: 'operator', calls: KILL_SWITCH_CHANGE },
  'kill-switch release --hard': {
    role: 'operator',
    calls: { ...KILL_SWITCH_CHANGE, concurrency: ['restore'] },
  },
  revoke: {
    role: 'operator',
    calls: {
      revocations: ['revokeToken', 'revokePrincipal', 'block'],
      auditStore: ['append', 'findCredentialRecords'],
    },
    why: `Checks its target against the credential records of the audit ledger (a Scan; --force skips it for --jti), and records the change on a chain of its own (${FUNCTION_ENV.auditTable}). Append only: a refused write carries the existing item back, so the ledger never reads a record here.`,
  },
  'revoke list': { role: 'operator', calls: { revocations: ['listEntries'] } },
  'revoke lift': {
    role: 'operator',
    calls: { revocations: ['lift'], auditStore: ['append'] },
  },
  'audit verify': {
    role: 'auditor',
    calls: {
      auditStore: ['listChainHeads', 'readChain'],
      digestStore: ['list'],
      signingKey: ['getPublicKey'],
    },
  },
  'audit export': { role: 'auditor', calls: { auditStore: ['listChainHeads', 'readChain'] } },
  // Reads the audit trail's policy_shadowed records, as audit export reads every record.
  'policies report': { role: 'auditor', calls: { auditStore: ['listChainHeads', 'readChain'] } },
  'cost report': { role: 'auditor', calls: { costSource: ['dailyTotals'], llmUsage: ['dailyUsage'] } },
  // Read-only: the stacks, alarms, subscriptions, the token key's public half, the account's Lambda
  // concurrency, and audit verify's reads (doctor runs it with the names the stack outputs give).
  doctor: {
    role: 'auditor',
    calls: {
      stacks: ['describeStack', 'listResources'],
      alarms: ['states'],
      topics: ['subscriptions'],
      tokenKey: ['getPublicKey'],
      lambdaAccount: ['concurrency'],
      auditStore: ['listChainHeads', 'readChain'],
      digestStore: ['list'],
      signingKey: ['getPublicKey'],
    },
  },
  'doctor --kill-switch': {
    role: 'operator',
    calls: { killSwitchParameters: ['read', 'write'] },
    why: 'The round trip engages and releases the workflow’s switch (kill-switch engage|release --workflow). Under the operator role doctor skips the checks that read the deployment; run doctor without --kill-switch under the auditor role for those.',
  },
  'audit anchor': {
    role: undefined,
    calls: { auditStore: ['listChainHeads'], digestStore: ['put', 'list'], signingKey: ['sign'] },
    why: 'The anchor function signs the chain heads on its schedule. Neither role may sign with the key or write digests; run it by hand only under a role you grant these yourself (docs/runbooks/forensics.md).',
  },
} as const satisfies Record<string, CliAwsCommand>;

export type CliAwsCommandName = keyof typeof CLI_AWS_COMMANDS;

/** Where the commands' resources come from: the stack outputs exported as these variables. */
export type CliEnvironment = Readonly<Record<string, string | undefined>>;

/**
 * The adapters as the commands build them from `env` (the stack outputs) and the config, and as
 * doctor builds them from what it read of `deployment`; building makes no AWS call. The OAuth
 * function's name is optional (deployments without the entry point).
 * @throws Error naming a variable that is not set
 */
export function cliAwsAdapters(
  config: AirlockConfig,
  env: CliEnvironment,
  deployment: Pick<DeployedAirlock, 'outputs' | 'topics'>,
): CliAwsAdapters {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set: export it from the stack outputs`);
    return value;
  };
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const doctor = doctorAwsAdapters(
    config.stage,
    {
      cloudFormation: new CloudFormationClient({}),
      cloudWatch: new CloudWatchClient({}),
      sns: new SNSClient({}),
      kms: new KMSClient({}),
      lambda: new LambdaClient({}),
    },
    deployment,
  );
  if (!doctor.tokenKey) throw new Error('the Api stack has no TokenSigningKeyId output');
  const prefix = killSwitchPrefix(config.stage);
  const functionNames = [CLI_ENV.brokerFunction, CLI_ENV.connectorFunction, CLI_ENV.oauthFunction]
    .map((name) => env[name])
    .filter((name): name is string => Boolean(name));
  return {
    killSwitchParameters: new SsmKillSwitchParameters({
      client: new SSMClient({}),
      parameterNames: [
        killSwitchParameterName(prefix),
        ...Object.keys(config.workflows).map((workflow) => killSwitchParameterName(prefix, workflow)),
      ],
    }),
    concurrency: new LambdaConcurrencyController({ client: new LambdaClient({}), functionNames }),
    revocations: new DynamoDbRevocationStore({
      client: documents,
      tableName: required(FUNCTION_ENV.revocationsTable),
    }),
    auditStore: new DynamoDbAuditStore({ client: documents, tableName: required(FUNCTION_ENV.auditTable) }),
    // The prefix audit-commands.ts reads and the anchor writes.
    digestStore: new S3DigestStore({
      client: new S3Client({}),
      bucket: required(FUNCTION_ENV.digestBucket),
      prefix: DIGEST_PREFIX,
    }),
    signingKey: new KmsTokenSigner({
      client: new KMSClient({}),
      keyId: required(FUNCTION_ENV.signingKeyId),
    }),
    costSource: new CloudWatchCostSource({ client: new CloudWatchClient({}), config }),
    llmUsage: new BedrockUsageSource({ client: new CloudWatchClient({}), profiles: {} }),
    ...doctor,
    tokenKey: doctor.tokenKey,
  };
}

/** Every (action, resource) a command sends, from its adapters' declarations. */
export function cliCommandPermissions(
  command: CliAwsCommandName,
  adapters: CliAwsAdapters,
  scope: AwsScope,
): IamPermission[] {
  const calls: CliCalls = CLI_AWS_COMMANDS[command].calls;
  return (Object.entries(calls) as [keyof CliAwsAdapters, readonly string[]][]).flatMap(([name, methods]) =>
    (adapters[name].iamPermissions as (methods: readonly string[], scope: AwsScope) => IamPermission[])(
      methods,
      scope,
    ),
  );
}
