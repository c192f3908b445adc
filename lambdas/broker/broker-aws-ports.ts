/**
 * The AWS ports the broker's composition reads (compose-broker.ts): the token signer, the kill switch,
 * the revocation list (blocked certificates, suspensions, the switch's copies), the audit ledger and the usage metrics. Its Lambda entry hands these to AwsPorts, so its bundle
 * carries these adapters and their SDK clients and no others; the permission proof composes the
 * broker over the same list.
 */
import type { AwsPortBuilders } from '../adapters/aws/aws-ports';
import { auditStore, revocations } from '../adapters/aws/dynamodb-ports';
import { tokenSigner } from '../adapters/aws/kms-ports';
import { metricsSink } from '../adapters/aws/metrics-ports';
import { killSwitchSource } from '../adapters/aws/ssm-ports';

export const BROKER_AWS_PORTS: AwsPortBuilders = {
  tokenSigner,
  killSwitchSource,
  revocations,
  auditStore,
  metricsSink,
};
