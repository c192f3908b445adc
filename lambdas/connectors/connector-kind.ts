/**
 * A connector kind: everything Airlock knows about one kind of upstream (a file store, an HTTP API,
 * ...) in one module, listed in the one registry (connector-kinds.ts). The config schema and the
 * composition, the local pilot and the CDK app all reach a kind only through this interface, so adding
 * a kind is one folder and one registry line (docs/connector-kinds.md walks through it).
 */
import type * as z from 'zod';
import type { Clock, SecretSource } from '../core/ports';
import type { Connector } from './connector';
import type { ConnectorInfrastructure } from './connector-infrastructure';

/** What every kind's config has: its `kind` and its operations. */
export interface ConnectorConfigBase {
  readonly kind: string;
  readonly description: string;
  readonly operations: Readonly<Record<string, { readonly access: string; readonly classification: string }>>;
}

/** What a kind's connectors get from the target besides their own adapters. */
export interface ConnectorRuntime<A> {
  /** The kind-specific adapters of this connector on this target (see {@link ConnectorKind.aws}). */
  readonly adapters: A;
  /** Upstream credentials (Secrets Manager in AWS, files locally), under their dependency deadline. */
  readonly secretSource: SecretSource;
  /**
   * PEM of the CA(s) HTTP upstreams are verified with instead of the system's roots (the local pilot's
   * sample upstreams). @default - the system's root CAs
   */
  readonly ca?: string;
  readonly clock: Clock;
}

/** What a kind's AWS adapters are built from: the function's environment, read once. */
export interface AwsConnectorContext<C> {
  readonly name: string;
  readonly config: C;
  /**
   * The AWS resources the stack created or bound for this connector (bucket name, secret ARN, ...), as
   * the kind's infrastructure put them in the function's environment.
   */
  readonly resources: Readonly<Record<string, string>>;
  /** One SDK client per service for the whole function (the SDK keeps connections alive). */
  readonly client: <T>(service: string, create: () => T) => T;
}

/** What a kind's local adapters are built from. */
export interface LocalConnectorContext<C> {
  readonly name: string;
  readonly config: C;
  /** The local pilot's state folder (AIRLOCK_HOME). */
  readonly home: string;
  /**
   * Given when the pilot starts its stand-ins with it (`airlock local`): a kind hands it the start of
   * what a first call would otherwise wait for (an embedded database), and the pilot reports ready once
   * it is up. @default - started on first use
   */
  readonly startWithPilot?: (started: Promise<void>) => void;
}

/** Stand-ins the local pilot runs for upstreams, which a kind may point its connectors at. */
export interface LocalUpstreams {
  /** The sample ERP's base URL (HTTPS on loopback, certificate from the local CA). */
  readonly sampleErpUrl: string;
  /**
   * Other sample APIs' base URLs by the host the config names (`crm.example.com` → the local CRM).
   * An HTTP connector whose host is not here points at the sample ERP. @default - none
   */
  readonly sampleApis?: Readonly<Record<string, string>>;
  /** Writes the pilot's sample documents for `connector` into a folder, keeping what is there. */
  readonly seedDocuments: (folder: string, connector: string) => Promise<void>;
  /** The seed script (tables and rows) of the sample ledger, for an embedded database. */
  readonly sampleLedgerSql: string;
  /**
   * Writes the pilot's sample knowledge-base documents for `connector` (Markdown with a classification)
   * into a folder, keeping what is there.
   */
  readonly seedKnowledgeBase: (folder: string, connector: string) => Promise<void>;
  /**
   * Local MCP servers (streamable HTTP on loopback) by the host a connector's URL names
   * (`everything.mcp.example.com` → server-everything from npm). @default - none
   */
  readonly mcpServers?: Readonly<Record<string, string>>;
}

export interface ConnectorKind<C extends ConnectorConfigBase = ConnectorConfigBase, A = unknown> {
  /** The config's `kind` value. */
  readonly kind: C['kind'];
  /** The connector's config block (a strict object with `kind: z.literal(kind)`). */
  readonly configSchema: z.ZodType<C>;
  /** Checks across fields the schema cannot express; `report` names the field below the connector. */
  checkConfig?(config: C, report: (path: readonly (string | number)[], message: string) => void): void;
  /**
   * Reads what the config points at beside itself (the mcp-server kind's lock file of pinned tools)
   * into the connector's config; the config loader calls it with the config file's path.
   * @default - the config as written
   */
  withFiles?(config: C, context: { readonly name: string; readonly configPath: string }): C;
  /**
   * True when `withFiles` may add operations (the mcp-server kind's tool patterns, from its lock file):
   * a workflow's operation this connector does not declare yet is then checked once the files are read.
   * @default - never: every operation is in the config
   */
  operationsFromFiles?(config: C): boolean;
  /** Builds one configured connector over its adapters. Throws ConfigError when the config cannot be enforced. */
  createConnector(name: string, config: C, runtime: ConnectorRuntime<A>): Connector;
  /** The kind's adapters in AWS. Builds; makes no AWS call. */
  readonly aws: {
    adapters(context: AwsConnectorContext<C>): A;
    /**
     * The methods of that adapter the kind's connectors call: the AWS adapter declares the IAM actions
     * each needs (lambdas/adapters/aws/iam-permissions.ts), and the permission proof checks the
     * function's role allows them. @default - none (a kind without an AWS adapter of its own)
     */
    readonly adapterMethods?: readonly string[];
  };
  /** What the kind creates in AWS for a connector, and how a function is bound to it (the CDK half). */
  readonly infrastructure: ConnectorInfrastructure<C>;
  /** The kind's adapters, and what it needs prepared, in the local pilot. */
  readonly local: {
    adapters(context: LocalConnectorContext<C>): A;
    /**
     * Prepares the connector for the local pilot (seed sample data, point it at a local stand-in) and
     * returns its config as the pilot runs it. @default - the config as written
     */
    prepare?(context: LocalConnectorContext<C>, upstreams: LocalUpstreams): Promise<C>;
  };
}

/** Any kind, as the registry holds them. */
// biome-ignore lint/suspicious/noExplicitAny: each kind has its own config and adapter types.
export type AnyConnectorKind = ConnectorKind<any, any>;

/** The config type of a kind. */
export type ConfigOfKind<K> = K extends ConnectorKind<infer C, infer _A> ? C : never;
