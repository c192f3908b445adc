/**
 * The broker function: `POST /v1/credentials` and `GET /v1/health`. It signs tokens (the token key),
 * asks the revocation guard (the kill switch, blocked certificates, suspended principals), decides
 * with Cedar, and records every decision.
 */
import { type ApiHandler, createBrokerHandler } from '../broker/broker-handler';
import { CredentialBroker } from '../core/credential-broker';
import { sharedPolicyEngine } from './shared-policy-engine';
import type { SharedServices } from './shared-services';

export interface BrokerComposition {
  readonly broker: CredentialBroker;
  readonly handler: ApiHandler;
}

export function composeBroker(services: SharedServices): BrokerComposition {
  const { config, settings } = services;
  const broker = new CredentialBroker({
    config,
    signer: services.bounded('signer', () => services.ports.tokenSigner),
    policy: sharedPolicyEngine(services),
    guard: services.revocationGuard,
    ledger: services.ledger,
    clock: services.clock,
    ...settings.tokens,
    meter: services.meter,
  });
  const handler = createBrokerHandler({
    broker,
    killSwitch: services.revocationGuard,
    workflows: config.workflows,
    maxBodyBytes: config.api.maxBodyBytes,
    logUnexpected: settings.log.unexpected,
  });
  return { broker, handler };
}
