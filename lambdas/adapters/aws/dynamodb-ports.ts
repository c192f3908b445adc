/**
 * The ports over DynamoDB: the revocation list, the audit ledger (append; chain heads for the anchor),
 * the approvals, the shared counters and the OAuth server's state, all through one document client per function.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { FUNCTION_ENV } from '../../../lib/contracts/environment';
import type { AwsPortBuilder, AwsPortContext } from './aws-ports';
import { DynamoDbApprovalStore } from './dynamodb-approval-store';
import { DynamoDbAuditStore } from './dynamodb-audit-store';
import { DynamoDbCounterStore } from './dynamodb-counter-store';
import { DynamoDbOAuthStore } from './dynamodb-oauth-store';
import { DynamoDbRevocationStore } from './dynamodb-revocation-store';
import { DynamoDbRunReadLog } from './dynamodb-run-read-log';

function documents(context: AwsPortContext): DynamoDBDocumentClient {
  return context.client('dynamodb', () =>
    DynamoDBDocumentClient.from(new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true },
    }),
  );
}

/** The audit table's adapter: each port gets its own view (and its own entry in `wiredAdapters`). */
function auditTable(context: AwsPortContext): DynamoDbAuditStore {
  return new DynamoDbAuditStore({
    client: documents(context),
    tableName: context.required(FUNCTION_ENV.auditTable),
  });
}

export const revocations: AwsPortBuilder<'revocations'> = (context) =>
  context.expose(
    'revocations',
    'DynamoDbRevocationStore',
    new DynamoDbRevocationStore({
      client: documents(context),
      tableName: context.required(FUNCTION_ENV.revocationsTable),
    }),
  );

export const auditStore: AwsPortBuilder<'auditStore'> = (context) =>
  context.expose('auditStore', 'DynamoDbAuditStore', auditTable(context));

export const auditChainHeads: AwsPortBuilder<'auditChainHeads'> = (context) =>
  context.expose('auditChainHeads', 'DynamoDbAuditStore', auditTable(context));

export const approvalStore: AwsPortBuilder<'approvalStore'> = (context) =>
  context.expose(
    'approvalStore',
    'DynamoDbApprovalStore',
    new DynamoDbApprovalStore({
      client: documents(context),
      tableName: context.required(FUNCTION_ENV.approvalsTable),
    }),
  );

export const runReadLog: AwsPortBuilder<'runReadLog'> = (context) =>
  context.expose(
    'runReadLog',
    'DynamoDbRunReadLog',
    new DynamoDbRunReadLog({
      client: documents(context),
      tableName: context.required(FUNCTION_ENV.approvalsTable),
    }),
  );

export const oauthStore: AwsPortBuilder<'oauthStore'> = (context) =>
  context.expose(
    'oauthStore',
    'DynamoDbOAuthStore',
    new DynamoDbOAuthStore({
      client: documents(context),
      tableName: context.required(FUNCTION_ENV.oauthTable),
    }),
  );

export const counterStore: AwsPortBuilder<'counterStore'> = (context) =>
  context.expose(
    'counterStore',
    'DynamoDbCounterStore',
    new DynamoDbCounterStore({
      client: documents(context),
      tableName: context.required(FUNCTION_ENV.countersTable),
    }),
  );
