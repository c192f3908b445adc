/**
 * Lambda entry of the broker: `POST /v1/credentials` and `GET /v1/health`.
 * Adapters are built once per execution environment; the handler wiring is in broker-handler.ts.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { EmfMetricsSink } from '../adapters/aws/emf-metrics-sink';
import { KmsTokenSigner } from '../adapters/aws/kms-token-signer';
import {
  createDocumentClient,
  createKillSwitch,
  createLedger,
  loadBundledConfig,
  loadBundledPolicyEngine,
  logger,
  logUnexpected,
  requiredEnv,
  tokenIdentifiers,
} from '../adapters/aws/lambda-runtime';
import { CredentialBroker } from '../core/credential-broker';
import { withDependencyDeadlines } from '../core/dependency-deadline';
import { systemClock } from '../core/ports';
import { UsageMeter } from '../core/usage-meter';
import { createBrokerHandler } from './broker-handler';

const config = loadBundledConfig();
const killSwitch = createKillSwitch(config);
const broker = new CredentialBroker({
  config,
  signer: withDependencyDeadlines({
    signer: new KmsTokenSigner({ client: new KMSClient({}), keyId: requiredEnv('AIRLOCK_SIGNING_KEY_ID') }),
  }).signer,
  policy: loadBundledPolicyEngine(config),
  killSwitch,
  ledger: createLedger(createDocumentClient()),
  clock: systemClock,
  ...tokenIdentifiers(config),
  meter: new UsageMeter(
    config.prices,
    new EmfMetricsSink({ onError: (error) => logger.warn('metrics not recorded', error as Error) }),
    Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? 512),
  ),
});
const route = createBrokerHandler({
  broker,
  killSwitch,
  workflows: config.workflows,
  maxBodyBytes: config.api.maxBodyBytes,
  logUnexpected,
});

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return route(event);
}
