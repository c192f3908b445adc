/**
 * The anchor function: on its schedule it signs every audit chain head and stores the digest under
 * Object Lock; on a kill-switch parameter change it records the change in its own chain.
 */
import { type AnchorHandler, type AnchorLogger, createAnchorHandler } from '../anchor/anchor-handler';
import { anchorChains } from '../core/audit-anchor';
import type { SharedServices } from './shared-services';

export interface AnchorComposition {
  readonly handler: AnchorHandler;
  /** Signs every chain head now; resolves to the number of digests written. */
  anchor(): Promise<number>;
}

export function composeAnchor(services: SharedServices, logger: AnchorLogger): AnchorComposition {
  const { ports, settings } = services;
  const store = services.bounded('auditStore', () => ports.auditChainHeads, 'auditChainHeads');
  const digests = ports.digestStore;
  const signer = services.bounded('signer', () => ports.digestSigner, 'digestSigner');
  const killSwitchParameters = services.bounded('killSwitchSource', () => ports.killSwitchSource);
  const handler = createAnchorHandler({
    store,
    digests,
    signer,
    ledger: services.ledger,
    clock: services.clock,
    logger,
    killSwitchPrefix: settings.killSwitchPrefix,
    killSwitchParameters,
  });
  return {
    handler,
    anchor: async () =>
      (await anchorChains({ store, digests, signer, clock: services.clock })).anchored.length,
  };
}
