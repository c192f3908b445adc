/**
 * Lambda entry for the anchor function: reads its configuration once and builds the AWS adapters
 * at module scope (reused across invocations), then hands every event to the anchor handler.
 * It needs no pilot config file: everything it touches is named by its environment.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbAuditStore } from '../adapters/aws/dynamodb-audit-store';
import { KmsTokenSigner } from '../adapters/aws/kms-token-signer';
import { S3DigestStore } from '../adapters/aws/s3-digest-store';
import { SsmKillSwitchParameters } from '../adapters/aws/ssm-kill-switch-parameters';
import { AuditLedger, newChainId } from '../core/audit-ledger';
import { systemClock } from '../core/ports';
import { type AnchorOutcome, createAnchorHandler } from './anchor-handler';

const logger = new Logger({ serviceName: 'airlock-anchor' });

/** A missing variable is a deployment bug: fail the cold start loudly rather than anchor nothing. */
function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`The anchor function needs the environment variable ${name} (set by the stack).`);
  return value;
}

const store = new DynamoDbAuditStore({
  client: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  tableName: requiredEnv('AIRLOCK_AUDIT_TABLE'),
});
const killSwitchPrefix = process.env.AIRLOCK_KILL_SWITCH_PREFIX || undefined;

const handleEvent = createAnchorHandler({
  store,
  digests: new S3DigestStore({ client: new S3Client({}), bucket: requiredEnv('AIRLOCK_DIGEST_BUCKET') }),
  signer: new KmsTokenSigner({ client: new KMSClient({}), keyId: requiredEnv('AIRLOCK_SIGNING_KEY_ID') }),
  // One chain per execution environment, so concurrent environments never race for a seq.
  ledger: new AuditLedger({
    store,
    chainId: newChainId(process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'anchor', randomUUID()),
    clock: systemClock,
  }),
  clock: systemClock,
  logger,
  killSwitchPrefix,
  killSwitchParameters: killSwitchPrefix
    ? new SsmKillSwitchParameters({ client: new SSMClient({}) })
    : undefined,
});

/** EventBridge target: the anchor schedule and kill-switch parameter changes. */
export async function handler(event: unknown): Promise<AnchorOutcome> {
  return handleEvent(event);
}
