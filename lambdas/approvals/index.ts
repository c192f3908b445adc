/** Lambda entry of the approvals API: list and decide pending approvals. */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { DynamoDbApprovalStore } from '../adapters/aws/dynamodb-approval-store';
import {
  createDocumentClient,
  createLedger,
  loadBundledConfig,
  logUnexpected,
  requiredEnv,
} from '../adapters/aws/lambda-runtime';
import { ApprovalDesk } from '../core/approval-desk';
import { withDependencyDeadlines } from '../core/dependency-deadline';
import { systemClock } from '../core/ports';
import { createApprovalsHandler } from './approvals-handler';

const config = loadBundledConfig();
const doc = createDocumentClient();
const desk = new ApprovalDesk({
  store: withDependencyDeadlines({
    approvalStore: new DynamoDbApprovalStore({
      client: doc,
      tableName: requiredEnv('AIRLOCK_APPROVALS_TABLE'),
    }),
  }).approvalStore,
  // Deciding notifies nobody; creating (the connector) notifies the approver group.
  notifier: { notify: async () => undefined },
  config,
  clock: systemClock,
});
const route = createApprovalsHandler({
  desk,
  ledger: createLedger(doc),
  config,
  maxBodyBytes: config.api.maxBodyBytes,
  logUnexpected,
});

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return route(event);
}
