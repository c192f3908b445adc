/**
 * The configured connectors by name. Handlers build one registry at module scope (AWS: S3 file
 * stores and Secrets Manager; local pilot: folders and secret files) and look connectors up per call.
 */
import type { AirlockConfig, ConnectorConfig } from '../../lib/config/schema';
import { AirlockError } from '../core/errors';
import { type Clock, type SecretSource, systemClock } from '../core/ports';
import type { Connector } from './connector';
import type { AnyConnectorKind } from './connector-kind';
import { connectorKindOf } from './connector-kind-lookup';
import { CONNECTOR_KINDS } from './connector-kinds';

/** What the connectors of a target are built over. */
export interface ConnectorDependencies {
  /**
   * The kind-specific adapters of one connector on this target: `kind.aws.adapters(...)` in AWS,
   * `kind.local.adapters(...)` in the local pilot.
   */
  readonly adaptersFor: (kind: AnyConnectorKind, name: string, config: ConnectorConfig) => unknown;
  /** Upstream credentials. */
  readonly secretSource: SecretSource;
  /**
   * PEM of the CA(s) HTTP upstreams are verified with instead of the system's roots (the local pilot).
   * @default - the system's root CAs
   */
  readonly ca?: string;
  /** @default the system clock */
  readonly clock?: Clock;
  /**
   * The connectors to build (a function that serves some workflows only holds their connectors'
   * grants, and builds no other). @default - every connector of the config
   */
  readonly only?: readonly string[];
}

/** Connectors by name. */
export class ConnectorRegistry {
  constructor(private readonly connectors: ReadonlyMap<string, Connector>) {}

  /** Connector names, in config order. */
  get names(): readonly string[] {
    return [...this.connectors.keys()];
  }

  /** @throws AirlockError `not_found` naming the connectors that exist */
  get(name: string): Connector {
    const connector = this.connectors.get(name);
    if (!connector) {
      throw new AirlockError(
        'not_found',
        `There is no connector "${name}"; expected one of: ${this.names.join(', ')}.`,
      );
    }
    return connector;
  }

  /** Closes what the connectors keep open (kept-alive upstream connections). */
  close(): void {
    for (const connector of this.connectors.values()) connector.close?.();
  }
}

/**
 * Builds the connectors of the pilot config (those `deps.only` names, if it does), each by its kind.
 * @throws ConfigError when an operation's declaration cannot be enforced
 */
export function createConnectors(
  config: AirlockConfig,
  deps: ConnectorDependencies,
  kinds: readonly AnyConnectorKind[] = CONNECTOR_KINDS,
): ConnectorRegistry {
  const connectors = new Map<string, Connector>();
  for (const [name, connector] of Object.entries(config.connectors)) {
    if (deps.only !== undefined && !deps.only.includes(name)) continue;
    const kind = connectorKindOf(connector.kind, kinds);
    connectors.set(
      name,
      kind.createConnector(name, connector, {
        adapters: deps.adaptersFor(kind, name, connector),
        secretSource: deps.secretSource,
        ca: deps.ca,
        clock: deps.clock ?? systemClock,
      }),
    );
  }
  return new ConnectorRegistry(connectors);
}
