/**
 * The AWS ports the approvals function's composition reads (compose-approvals.ts): the approvals and
 * the audit ledger. Its Lambda entry hands these to AwsPorts; the permission proof composes the
 * function over the same list.
 */
import type { AwsPortBuilders } from '../adapters/aws/aws-ports';
import { approvalStore, auditStore } from '../adapters/aws/dynamodb-ports';

export const APPROVALS_AWS_PORTS: AwsPortBuilders = { approvalStore, auditStore };
