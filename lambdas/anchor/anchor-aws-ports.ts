/**
 * The AWS ports the anchor's composition reads (compose-anchor.ts): the audit chain heads and its own
 * chain, the digest signer and store, and the kill-switch parameters whose changes it records. Its
 * Lambda entry hands these to AwsPorts; the permission proof composes the function over the same list.
 */
import type { AwsPortBuilders } from '../adapters/aws/aws-ports';
import { auditChainHeads, auditStore } from '../adapters/aws/dynamodb-ports';
import { digestSigner } from '../adapters/aws/kms-ports';
import { digestStore } from '../adapters/aws/s3-ports';
import { killSwitchSource } from '../adapters/aws/ssm-ports';

export const ANCHOR_AWS_PORTS: AwsPortBuilders = {
  auditChainHeads,
  auditStore,
  digestSigner,
  digestStore,
  killSwitchSource,
};
