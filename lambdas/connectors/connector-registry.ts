/**
 * The configured connectors by name. Handlers build one registry at module scope (AWS: S3 file
 * stores and Secrets Manager; local pilot: folders and secret files) and look connectors up per call.
 */
import type { AirlockConfig, FileStoreConnectorConfig } from '../../lib/config/schema';
import { AirlockError } from '../core/errors';
import type { Clock, SecretSource } from '../core/ports';
import type { Connector } from './connector';
import type { FileStore } from './file-store';
import { FileStoreConnector } from './file-store-connector';
import { HttpApiConnector } from './http-api-connector';

export interface ConnectorDependencies {
  /**
   * The store behind a file-store connector: `new S3FileStore({client, bucket, prefix: config.aws.prefix})`
   * in AWS, `new FolderFileStore(join(home, config.local.folder))` locally.
   */
  readonly fileStore: (name: string, config: FileStoreConnectorConfig) => FileStore;
  /** Upstream credentials of HTTP connectors. */
  readonly secretSource: SecretSource;
  /**
   * PEM of the CA(s) HTTP connectors trust instead of the system's roots (the local sample ERP).
   * @default - the system's root CAs
   */
  readonly ca?: string;
  /** @default the system clock */
  readonly clock?: Clock;
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

  /** Closes kept-alive upstream connections. */
  close(): void {
    for (const connector of this.connectors.values()) {
      if (connector instanceof HttpApiConnector) connector.close();
    }
  }
}

/**
 * Builds every connector of the pilot config.
 * @throws ConfigError when an operation's declaration cannot be enforced
 */
export function createConnectors(config: AirlockConfig, deps: ConnectorDependencies): ConnectorRegistry {
  const connectors = new Map<string, Connector>();
  for (const [name, connector] of Object.entries(config.connectors)) {
    switch (connector.kind) {
      case 'file-store':
        connectors.set(name, new FileStoreConnector(name, connector, deps.fileStore(name, connector)));
        break;
      case 'http-api':
        connectors.set(
          name,
          new HttpApiConnector(name, connector, {
            secretSource: deps.secretSource,
            ca: deps.ca,
            clock: deps.clock,
          }),
        );
        break;
    }
  }
  return new ConnectorRegistry(connectors);
}
