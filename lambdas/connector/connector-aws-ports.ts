/**
 * The AWS ports the connector function's composition reads (compose-connector.ts): the token key's
 * public half, the kill switch, the revocation list, the audit ledger, the approvals and their notices,
 * the shared counters (daily spend cap and amounts), Bedrock's measured token counts (spend cap), the usage metrics and the connector kinds' adapters. Its Lambda entry hands these to AwsPorts; the
 * permission proof composes the function over the same list.
 */
import type { AwsPortBuilders } from '../adapters/aws/aws-ports';
import { connectorAdapters } from '../adapters/aws/connector-ports';
import {
  approvalStore,
  auditStore,
  counterStore,
  revocations,
  runReadLog,
} from '../adapters/aws/dynamodb-ports';
import { tokenVerificationKey } from '../adapters/aws/kms-ports';
import { llmUsageSource, metricsSink } from '../adapters/aws/metrics-ports';
import { approvalNotifier } from '../adapters/aws/sns-ports';
import { killSwitchSource } from '../adapters/aws/ssm-ports';

export const CONNECTOR_AWS_PORTS: AwsPortBuilders = {
  tokenVerificationKey,
  killSwitchSource,
  revocations,
  auditStore,
  approvalStore,
  runReadLog,
  approvalNotifier,
  counterStore,
  metricsSink,
  llmUsageSource,
  connectorAdapters,
};
