/**
 * The operator ports of a deployment: the AWS adapters over the resources the target names (from the
 * stack outputs the operator exported, or flags), with the operator's own credentials and the region
 * of `--region` or of the SDK's chain. One SDK client per service, created on first use and destroyed
 * by {@link AwsOperatorPorts.close}.
 *
 * The audit trail's calls are wrapped so a refusal names the IAM action and resource the operator's
 * role lacks; the other adapters already phrase their AWS errors that way.
 */

import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type AwsCall, describeAwsError } from '../lambdas/adapters/aws/aws-permission-error';
import { BedrockUsageSource, inferenceProfilesOf } from '../lambdas/adapters/aws/bedrock-usage-source';
import { CloudWatchCostSource } from '../lambdas/adapters/aws/cloudwatch-cost-source';
import { DynamoDbAuditStore } from '../lambdas/adapters/aws/dynamodb-audit-store';
import { DynamoDbRevocationStore } from '../lambdas/adapters/aws/dynamodb-revocation-store';
import { KmsTokenSigner } from '../lambdas/adapters/aws/kms-token-signer';
import { LambdaConcurrencyController } from '../lambdas/adapters/aws/lambda-concurrency-controller';
import { S3DigestStore } from '../lambdas/adapters/aws/s3-digest-store';
import { SecretsManagerSecretSource } from '../lambdas/adapters/aws/secrets-manager-secret-source';
import { SsmKillSwitchParameters } from '../lambdas/adapters/aws/ssm-kill-switch-parameters';
import { DigestConflictError, type DigestStore } from '../lambdas/core/audit-anchor';
import { AuditConflictError, type AuditLedger, type AuditStore } from '../lambdas/core/audit-ledger';
import { withMeasuredLlm } from '../lambdas/core/cost-report';
import type { CredentialRecords } from '../lambdas/core/credential-records';
import { DependencyError } from '../lambdas/core/errors';
import type { KillSwitchCopyStore } from '../lambdas/core/kill-switch-operator';
import { type SecretSource, systemClock, type TokenSigner } from '../lambdas/core/ports';
import type { AirlockConfig } from '../lib/config/schema';
import { CLI_ENV } from '../lib/contracts/environment';
import { DIGEST_PREFIX } from '../lib/contracts/storage';
import { CliError, EXIT } from './cli-context';
import type { AwsTarget } from './cli-target';
import { DEPLOYMENT_NAMES, type DeploymentNameKey, flagOf } from './deployment-names';
import { killSwitchCopiesOf } from './kill-switch-copies';
import { operatorLedger } from './operator-audit';
import type {
  AuditTrail,
  AuditTrailNeeds,
  ConcurrencyController,
  CostSourcePort,
  KillSwitchParameters,
  OperatorPorts,
  RevocationTable,
} from './operator-ports';

/** A client of one service: what {@link AwsOperatorPorts.close} destroys. */
interface Destroyable {
  destroy(): void;
}

/** {@link OperatorPorts} over a deployment in AWS. */
export class AwsOperatorPorts implements OperatorPorts {
  public readonly mode = 'aws';
  private readonly clients = new Map<string, Destroyable>();

  constructor(private readonly target: AwsTarget) {}

  async openAuditTrail(needs: AuditTrailNeeds): Promise<AuditTrail> {
    const table = this.name('auditTable');
    const inner = new DynamoDbAuditStore({ client: this.documents, tableName: table });
    const store: AuditStore = {
      append: (record) =>
        awsCall({ action: 'dynamodb:PutItem', resource: table }, () => inner.append(record)),
      listChainHeads: () =>
        awsCall({ action: 'dynamodb:Scan', resource: table }, () => inner.listChainHeads()),
      readChain: (chainId, readOptions) =>
        awsStream({ action: 'dynamodb:Query', resource: table }, () => inner.readChain(chainId, readOptions)),
    };
    if (!needs.digests) {
      return {
        store,
        digests: noDigests,
        where: `DynamoDB table ${table}`,
        digestsWhere: '(none)',
        digestKey: () => Promise.reject(new Error('this command reads no digests')),
        signer: () => Promise.reject(new Error('this command signs no digests')),
      };
    }

    const bucket = this.name('digestBucket');
    const keyArn = this.name('signingKey');
    let kms: KmsTokenSigner;
    try {
      kms = new KmsTokenSigner({
        client: this.client('kms', () => new KMSClient(this.config)),
        keyId: keyArn,
      });
    } catch (error) {
      const name = DEPLOYMENT_NAMES.signingKey;
      throw new CliError(`${flagOf(name)} / ${name.variable}: ${(error as Error).message}`, EXIT.usage);
    }
    const innerDigests = new S3DigestStore({
      client: this.client('s3', () => new S3Client(this.config)),
      bucket,
      prefix: DIGEST_PREFIX,
    });
    const digestResource = `s3://${bucket}/${DIGEST_PREFIX}`;
    const signer: TokenSigner = {
      keyId: kms.keyId,
      sign: (data) => awsCall({ action: 'kms:Sign', resource: keyArn }, () => kms.sign(data)),
      getPublicKey: () => awsCall({ action: 'kms:GetPublicKey', resource: keyArn }, () => kms.getPublicKey()),
    };
    return {
      store,
      digests: {
        put: (digest) =>
          awsCall({ action: 's3:PutObject', resource: digestResource }, () => innerDigests.put(digest)),
        list: () =>
          awsCall({ action: 's3:ListBucket and s3:GetObject', resource: digestResource }, () =>
            innerDigests.list(),
          ),
      },
      where: `DynamoDB table ${table}`,
      digestsWhere: digestResource,
      digestKey: async () => {
        const key = await signer.getPublicKey();
        return (id: string) => (id === signer.keyId ? key : undefined);
      },
      signer: async () => signer,
    };
  }

  async openAuditLedger(): Promise<AuditLedger | undefined> {
    const table = this.target.names.auditTable;
    if (table === undefined) return undefined;
    return operatorLedger(new DynamoDbAuditStore({ client: this.documents, tableName: table }));
  }

  async openCredentialRecords(): Promise<CredentialRecords | undefined> {
    const table = this.target.names.auditTable;
    if (table === undefined) return undefined;
    const inner = new DynamoDbAuditStore({ client: this.documents, tableName: table });
    return {
      findCredentialRecords: (query) =>
        awsCall({ action: 'dynamodb:Scan', resource: table }, () => inner.findCredentialRecords(query)),
    };
  }

  async openRevocations(): Promise<RevocationTable> {
    const table = this.name('revocationsTable');
    return {
      store: new DynamoDbRevocationStore({ client: this.documents, tableName: table, clock: systemClock }),
      table,
    };
  }

  async openKillSwitchCopies(): Promise<KillSwitchCopyStore | undefined> {
    if (this.target.names.revocationsTable === undefined) return undefined;
    return killSwitchCopiesOf((await this.openRevocations()).store);
  }

  killSwitchParameters(): KillSwitchParameters {
    return {
      parameters: new SsmKillSwitchParameters({
        client: this.client('ssm', () => new SSMClient(this.config)),
      }),
    };
  }

  concurrencyController(): ConcurrencyController {
    return new LambdaConcurrencyController({
      client: this.client('lambda', () => new LambdaClient(this.config)),
    });
  }

  costSource(config: AirlockConfig): CostSourcePort {
    const region = this.target.region;
    const client = this.client('cloudwatch', () => new CloudWatchClient(this.config));
    const profiles = inferenceProfilesOf(process.env[CLI_ENV.inferenceProfiles], config.workflows);
    const airlock = new CloudWatchCostSource({ client, config });
    return {
      source:
        Object.keys(profiles).length > 0
          ? withMeasuredLlm(airlock, new BedrockUsageSource({ client, profiles }))
          : airlock,
      label: `CloudWatch${region ? ` (${region})` : ''}`,
    };
  }

  async close(): Promise<void> {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }

  /** The SDK client configuration: the target's region, else the SDK's chain decides. */
  upstreamSecrets(): SecretSource {
    return new SecretsManagerSecretSource({
      client: this.client('secretsmanager', () => new SecretsManagerClient(this.config)),
    });
  }

  private get config(): { region?: string } {
    return this.target.region ? { region: this.target.region } : {};
  }

  private get documents(): DynamoDBDocumentClient {
    return this.client('dynamodb', () =>
      DynamoDBDocumentClient.from(new DynamoDBClient(this.config), {
        marshallOptions: { removeUndefinedValues: true },
      }),
    );
  }

  private client<T extends Destroyable>(service: string, build: () => T): T {
    let client = this.clients.get(service);
    if (!client) {
      client = build();
      this.clients.set(service, client);
    }
    return client as T;
  }

  /** A name the command resolved with its target; its absence is a bug in the command, not the operator's. */
  private name(key: DeploymentNameKey): string {
    const value = this.target.names[key];
    if (value === undefined)
      throw new Error(
        `${DEPLOYMENT_NAMES[key].what} was not resolved with the target; the command must require it`,
      );
    return value;
  }
}

/** The digest store of a command that reads none (`audit export`). */
const noDigests: DigestStore = {
  put: () => Promise.reject(new Error('this command writes no digests')),
  list: () => Promise.reject(new Error('this command reads no digests')),
};

/** Runs one AWS call; a failure becomes one sentence naming the IAM action (conflicts pass through). */
async function awsCall<T>(call: AwsCall, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw describedAwsError(error, call);
  }
}

async function* awsStream<T>(call: AwsCall, source: () => AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* source();
  } catch (error) {
    throw describedAwsError(error, call);
  }
}

function describedAwsError(error: unknown, call: AwsCall): unknown {
  // The ledger and the anchor rely on these: they are answers, not failures.
  if (error instanceof AuditConflictError || error instanceof DigestConflictError) return error;
  // The KMS signer wraps the SDK's error; the SDK's own names the missing permission.
  const sdkError = error instanceof DependencyError && error.cause !== undefined ? error.cause : error;
  return new CliError(describeAwsError(sdkError, call), EXIT.failed, { cause: error });
}
