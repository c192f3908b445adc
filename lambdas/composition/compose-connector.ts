/**
 * The connector pipeline, and the connector function around it: `POST /v1/connectors/{c}/{o}`,
 * `POST /v1/mcp` and `POST /v1/usage`, callers proven by their device certificate and a token bound
 * to it. The OAuth function serves the same pipeline to callers of its own entry point.
 */

import { connectorsOfWorkflows } from '../../lib/config/workflow-connectors';
import type { ApiHandler } from '../broker/broker-handler';
import { createConnectorHandler } from '../connector/connector-handler';
import { createMcpHandlerOnDemand } from '../connector/mcp-endpoint-on-demand';
import { createConnectors } from '../connectors/connector-registry';
import { createAccessTokenVerifier } from '../core/access-token';
import { ApprovalDesk } from '../core/approval-desk';
import { ConnectorProxy } from '../core/connector-proxy';
import { DailyAmounts } from '../core/daily-amounts';
import { DeviceTokenAuthenticator } from '../core/device-token-authenticator';
import type { RunReadLog } from '../core/run-read-log';
import { UsageReporter } from '../core/usage-reporter';
import { sharedPolicyEngine } from './shared-policy-engine';
import type { SharedServices } from './shared-services';

export interface ConnectorPipeline {
  readonly proxy: ConnectorProxy;
  readonly approvals: ApprovalDesk;
  /** The workflows whose connectors it holds. @default - every workflow */
  readonly workflows?: readonly string[];
  /** Closes what the connectors keep open (kept-alive upstream connections). */
  close(): void;
}

export interface ConnectorComposition extends ConnectorPipeline {
  readonly authenticator: DeviceTokenAuthenticator;
  readonly handler: ApiHandler;
}

/**
 * The connector pipeline: connectors, approvals, rate limits, the spend cap and daily amounts over the
 * shared counters, Cedar, audit, metering. `workflows` narrows it to the connectors of those workflows
 * (the OAuth function, deployed with their grants only); a process that serves every route (the local
 * pilot) builds it once, for every workflow, and serves both from it.
 */
export function composeConnectorPipeline(
  services: SharedServices,
  workflows?: readonly string[],
): ConnectorPipeline {
  const pipeline = services.once('connectorPipeline', () => {
    const { config, ports, settings } = services;
    const adapters = ports.connectorAdapters;
    const registry = createConnectors(config, {
      ...adapters,
      secretSource: services.bounded('secretSource', () => adapters.secretSource),
      clock: services.clock,
      ...(workflows === undefined ? {} : { only: connectorsOfWorkflows(config, workflows) }),
    });
    const approvals = new ApprovalDesk({
      store: services.bounded('approvalStore', () => ports.approvalStore),
      notifier: ports.approvalNotifier,
      config,
      clock: services.clock,
      onNotifyError: (error) => settings.log.warn('approval notification failed', error),
    });
    const proxy = new ConnectorProxy({
      config,
      connectors: new Map(registry.names.map((name) => [name, registry.get(name)])),
      policy: sharedPolicyEngine(services),
      ledger: services.ledger,
      approvals,
      rateLimiter: services.rateLimiter,
      meter: services.meter,
      spendCap: services.spendCap,
      dailyAmounts: new DailyAmounts({ counters: services.counters, clock: services.clock }),
      ...(ports.runReadLog
        ? {
            runReads: services.bounded('runReadLog', () => ports.runReadLog as RunReadLog),
            onRunReadsError: (error: unknown) => settings.log.warn('run read log failed', error),
          }
        : {}),
      clock: services.clock,
    });
    return { proxy, approvals, workflows, close: () => registry.close() };
  });
  const missing = (workflows ?? Object.keys(services.config.workflows)).filter(
    (workflow) => pipeline.workflows !== undefined && !pipeline.workflows.includes(workflow),
  );
  if (missing.length > 0) {
    // A composition error, not a request's: the pipeline was first built for fewer workflows.
    throw new Error(`the connector pipeline was built without the connectors of ${missing.join(', ')}`);
  }
  return pipeline;
}

/** The connector function: the pipeline behind the device channel. */
export function composeConnector(services: SharedServices): ConnectorComposition {
  const { config, ports, settings } = services;
  const pipeline = composeConnectorPipeline(services);
  const verificationKey = services.bounded('signer', () => ports.tokenVerificationKey, 'verificationKey');
  const authenticator = new DeviceTokenAuthenticator({
    // Verification needs only the public key, fetched once per environment: never a KMS call per request.
    verifier: createAccessTokenVerifier({
      ...settings.tokens,
      clockSkewSeconds: config.tokens.clockSkewSeconds,
      clock: services.clock,
      keys: async (kid) => (kid === verificationKey.keyId ? verificationKey.getPublicKey() : undefined),
    }),
    guard: services.revocationGuard,
    ledger: services.ledger,
  });
  const handler = createConnectorHandler({
    authenticator,
    proxy: pipeline.proxy,
    usage: new UsageReporter({
      config,
      ledger: services.ledger,
      meter: services.meter,
      spendCap: services.spendCap,
      counters: services.counters,
      rateLimiter: services.rateLimiter,
      clock: services.clock,
    }),
    maxBodyBytes: config.api.maxBodyBytes,
    mcp: createMcpHandlerOnDemand({
      authenticator,
      proxy: pipeline.proxy,
      config,
      maxBodyBytes: config.api.maxBodyBytes,
      allowedHosts: settings.publicHosts ?? [config.domain.name],
      logUnexpected: settings.log.unexpected,
    }),
    logUnexpected: settings.log.unexpected,
  });
  return { ...pipeline, authenticator, handler };
}
