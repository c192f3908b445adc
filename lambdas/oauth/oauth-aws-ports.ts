/**
 * The AWS ports the OAuth function's composition reads (compose-oauth.ts): the connector pipeline's
 * (without the token key's public half: its own server verifies the tokens it signs) and the
 * authorization server's (the token signer, its store, the corporate IdP, the client metadata
 * fetcher). Its Lambda entry hands these to AwsPorts; the permission proof composes the function
 * over the same list.
 */
import type { AwsPortBuilders } from '../adapters/aws/aws-ports';
import { connectorAdapters } from '../adapters/aws/connector-ports';
import {
  approvalStore,
  auditStore,
  counterStore,
  oauthStore,
  revocations,
  runReadLog,
} from '../adapters/aws/dynamodb-ports';
import { tokenSigner } from '../adapters/aws/kms-ports';
import { llmUsageSource, metricsSink } from '../adapters/aws/metrics-ports';
import { fetchClientMetadata, identityProvider } from '../adapters/aws/oauth-ports';
import { approvalNotifier } from '../adapters/aws/sns-ports';
import { killSwitchSource } from '../adapters/aws/ssm-ports';

export const OAUTH_AWS_PORTS: AwsPortBuilders = {
  tokenSigner,
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
  oauthStore,
  identityProvider,
  fetchClientMetadata,
};
