/**
 * The AWS ports the approvals function's composition reads (compose-approvals.ts): the approvals, the
 * audit ledger, and the kill switch with its copies in the revocations table (nothing is decided for a
 * sealed workflow), and for the approvals page the corporate IdP and the HMAC key of its cookies. Its Lambda entry hands these to AwsPorts; the permission proof composes the
 * function over the same list.
 */
import type { AwsPortBuilders } from '../adapters/aws/aws-ports';
import { approvalStore, auditStore, revocations } from '../adapters/aws/dynamodb-ports';
import { sessionMacKey } from '../adapters/aws/kms-ports';
import { identityProvider } from '../adapters/aws/oauth-ports';
import { approvalNotifier } from '../adapters/aws/sns-ports';
import { killSwitchSource } from '../adapters/aws/ssm-ports';

export const APPROVALS_AWS_PORTS: AwsPortBuilders = {
  approvalStore,
  auditStore,
  killSwitchSource,
  revocations,
  // The requester is told of the decision (the approvals topic).
  approvalNotifier,
  // The approvals page (with an `oauth` section): sign-in at the corporate IdP, sealed session cookies.
  identityProvider,
  sessionMacKey,
};
