/**
 * The in-memory ports and config of the in-process benches (the pipeline's own overhead, the warm
 * routes): nothing leaves the process, nothing is slower than memory, so what is measured is
 * Airlock's own work.
 */
import { EmfMetricsSink } from '../lambdas/adapters/aws/emf-metrics-sink';
import type { LocalTokenSigner } from '../lambdas/adapters/local/local-token-signer';
import { MemoryCounterStore } from '../lambdas/adapters/local/memory-counter-store';
import type { AirlockPorts } from '../lambdas/composition/airlock-ports';
import type { FileStore } from '../lambdas/connectors/file-store/file-store';
import { AuditConflictError, type AuditStore } from '../lambdas/core/audit-ledger';
import { systemClock } from '../lambdas/core/ports';
import { loadConfig } from '../lib/config/load-config';
import type { AirlockConfig } from '../lib/config/schema';

/** The example config with rate limits out of the way (the bench measures cost, not the limiter's refusals). */
export function benchConfig(): AirlockConfig {
  const config = loadConfig();
  for (const workflow of Object.values(config.workflows)) {
    workflow.rateLimits = { perTokenPerMinute: 10_000_000, perWorkflowPerMinute: 10_000_000 };
    workflow.dailySpendCapUsd = 1e9;
  }
  return config;
}

/**
 * A conditional in-memory store: the audit ledger's own work without a database round trip. It keeps
 * each record's hash, not the record: like a database, the records leave the process, so holding
 * thousands of them would add old-generation GC that the pipeline does not have.
 */
export function memoryAuditStore(): AuditStore {
  const hashes = new Map<string, string>();
  return {
    async append(record) {
      const key = `${record.chainId}#${record.seq}`;
      const existingHash = hashes.get(key);
      if (existingHash !== undefined)
        throw new AuditConflictError(record.chainId, record.seq, { existingHash });
      hashes.set(key, record.hash);
    },
    async listChainHeads() {
      return [];
    },
    async *readChain() {},
  };
}

/** Ports of the own-overhead bench: nothing leaves the process, nothing is slower than memory. */
export function benchPorts(options: {
  signer: LocalTokenSigner;
  killSwitchValues: Record<string, string>;
  fileStore: FileStore;
}): AirlockPorts {
  const unused = (port: string) => () => {
    throw new Error(`the pipeline bench does not use ${port}`);
  };
  return {
    clock: systemClock,
    tokenSigner: options.signer,
    tokenVerificationKey: options.signer,
    digestSigner: options.signer,
    killSwitchSource: { read: async () => options.killSwitchValues },
    revocations: { readEntries: async () => ({ killSwitch: {} }) },
    auditStore: memoryAuditStore(),
    get auditChainHeads(): never {
      return unused('the audit chain heads')();
    },
    get sessionMacKey(): never {
      return unused('the approvals page’s MAC key')();
    },
    approvalStore: {
      create: async () => undefined,
      get: async () => undefined,
      listByStatus: async () => [],
      transition: async () => false,
    },
    approvalNotifier: { notify: async () => undefined },
    counterStore: new MemoryCounterStore(),
    metricsSink: new EmfMetricsSink({ emit: () => undefined }),
    connectorAdapters: {
      // The receipts connector reads the in-memory folder; the ERP is never called.
      adaptersFor: (kind) => (kind.kind === 'file-store' ? options.fileStore : undefined),
      secretSource: { getJson: unused('secrets') as never },
    },
    get digestStore(): never {
      return unused('a digest store')();
    },
    get oauthStore(): never {
      return unused('an OAuth store')();
    },
    get identityProvider(): never {
      return unused('an identity provider')();
    },
    get fetchClientMetadata(): never {
      return unused('client metadata')();
    },
  };
}
