/**
 * The local pilot (`npm start`): the whole Airlock in one Node process, no AWS account needed.
 *
 * The same handlers and core as in Lambda, wired to local adapters: a local CA and real mutual TLS,
 * a P-256 signing key instead of KMS, kill-switch parameters as files, DynamoDB tables served by
 * dynalite (the same DynamoDB adapters as in AWS), a folder of sample receipts, and a sample ERP with
 * OAuth2 client credentials on loopback. State lives under AIRLOCK_HOME (`.airlock/`).
 */

import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbRevocationStore } from '../lambdas/adapters/aws/dynamodb-revocation-store';
import { EmfMetricsSink } from '../lambdas/adapters/aws/emf-metrics-sink';
import { FileKillSwitchParameters } from '../lambdas/adapters/local/file-kill-switch-parameters';
import { FileSecretSource, secretFileName } from '../lambdas/adapters/local/file-secret-source';
import { LocalMacKey } from '../lambdas/adapters/local/local-mac-key';
import { LocalTokenSigner } from '../lambdas/adapters/local/local-token-signer';
import { localInferenceProfiles } from '../lambdas/adapters/local/provider-metrics-usage-source';
import { readPolicyFiles } from '../lambdas/adapters/policy-files';
import type { AirlockSettings } from '../lambdas/composition/airlock-ports';
import { composeAnchor } from '../lambdas/composition/compose-anchor';
import { composeApprovals } from '../lambdas/composition/compose-approvals';
import { composeBroker } from '../lambdas/composition/compose-broker';
import { composeConnector } from '../lambdas/composition/compose-connector';
import { composeOAuth } from '../lambdas/composition/compose-oauth';
import { SharedServices } from '../lambdas/composition/shared-services';
import type { LocalUpstreams } from '../lambdas/connectors/connector-kind';
import { connectorKindOf } from '../lambdas/connectors/connector-kind-lookup';
import { LOCAL_DATABASE_SNAPSHOTS } from '../lambdas/connectors/database/pglite-database';
import { newChainId } from '../lambdas/core/audit-ledger';
import type { DependencyName } from '../lambdas/core/dependency-deadline';
import {
  killSwitchParameterName,
  killSwitchPrefix,
  releasedKillSwitchValue,
} from '../lambdas/core/kill-switch';
import type { CorporateIdentityProvider } from '../lambdas/core/oauth/authorization-server';
import { clientSecretHashOf } from '../lambdas/core/oauth/oauth-client';
import { type Clock, type RevocationListEditor, systemClock } from '../lambdas/core/ports';
import { loadConfig } from '../lib/config/load-config';
import type { AirlockConfig } from '../lib/config/schema';
import { APPROVAL_REMINDER_MINUTES } from '../lib/contracts/limits';
import { MTLS_ROUTES, type RouteFunction } from '../lib/contracts/routes';
import { LocalBedrockStandIn } from './bedrock-stand-in';
import {
  createLocalDynamoClient,
  ensureTables,
  type LocalDynamoEndpoint,
  startDynalite,
} from './dynalite-server';
import { type LocalApiHandler, startLocalApiServer } from './local-api-server';
import { LocalCertificateAuthority } from './local-certificate-authority';
import type { LocalIdentityProvider } from './local-identity-provider';
import { startLocalMcpUpstreams } from './local-mcp-upstreams';
import { createLocalPorts, type LocalPilotPorts } from './local-ports';
import { LOCAL_TABLES, removePilotState, writePilotState } from './local-state';
import { startOAuthListener } from './oauth-listener';
import { type SampleErp, startSampleErp } from './sample-erp';
import { seedSampleKnowledgeBase } from './sample-knowledge-base';
import { SAMPLE_LEDGER_SQL } from './sample-ledger';
import { seedSampleReceipts } from './sample-receipts';
import { type SampleWorkplaceApis, startSampleWorkplaceApis } from './sample-workplace-apis';
import {
  SAMPLE_NEW_HIRE_PAGES,
  SAMPLE_SUPPORT_LOGS,
  seedSampleDocuments,
} from './sample-workplace-documents';

/** Sample documents by connector name; every other file store gets the sample receipts. */
const SAMPLE_DOCUMENTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'support-logs': SAMPLE_SUPPORT_LOGS,
};

/** Sample knowledge-base pages by connector name; every other knowledge base gets the finance handbook. */
const SAMPLE_KNOWLEDGE_BASES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'new-hire-docs': SAMPLE_NEW_HIRE_PAGES,
};

export interface LocalPilotOptions {
  /** State folder (AIRLOCK_HOME). */
  readonly home: string;
  /** @default 8443; 0 picks a free port */
  readonly port?: number;
  /** @default config/airlock.config.yaml */
  readonly configPath?: string;
  /** An already validated config (tests); wins over `configPath`. */
  readonly config?: AirlockConfig;
  /** Policy folder. @default policies */
  readonly policyDirectory?: string;
  /** Access log and notices. @default - silent */
  readonly log?: (line: string) => void;
  readonly clock?: Clock;
  /**
   * Replaces or decorates the pilot's ports before anything uses them (fault-injection tests,
   * dependency deadlines).
   * @default - the ports as built
   */
  readonly wrapPorts?: (ports: LocalPilotPorts) => LocalPilotPorts;
  /** Port of the OAuth entry point (only with an `oauth` config section); 0 picks a free port. @default 8444 */
  readonly oauthPort?: number;
  /**
   * The corporate IdP of the OAuth entry point. @default a local OIDC provider on loopback (port 8445,
   * or a free one when `oauthPort` is 0) whose users are the config's principals
   */
  readonly identityProvider?: CorporateIdentityProvider;
  /** Time budget per dependency call, in ms. @default DEFAULT_DEADLINES */
  readonly deadlines?: Partial<Record<DependencyName, number>>;
  /**
   * Start the connectors' embedded databases with the pilot and resolve once they answer, as
   * `airlock local` does: a first query then does not wait seconds for PostgreSQL to start (which
   * `airlock doctor`'s request timeout would not allow on a slow machine). @default false: on first use
   */
  readonly startDatabases?: boolean;
}

export interface LocalPilot {
  /** e.g. https://127.0.0.1:8443 */
  readonly url: string;
  readonly port: number;
  readonly home: string;
  /** The config as the pilot runs it (the ERP connector points at the local sample ERP). */
  readonly config: AirlockConfig;
  readonly ca: LocalCertificateAuthority;
  readonly sampleErp: SampleErp;
  /** The sample CRM, HR and mail APIs; the mail API writes each message to `<home>/outbox/<id>.eml`. */
  readonly sampleWorkplace: SampleWorkplaceApis;
  /** The OAuth entry point's URL, when the config has an `oauth` section. */
  readonly oauthUrl?: string;
  /** The local IdP standing in for the corporate one (with its Enterprise-Managed Authorization client). */
  readonly localIdentityProvider?: LocalIdentityProvider;
  /**
   * That client as registered at Airlock, a confidential client (the JWT bearer grant is refused to
   * public ones): the secret it authenticates with at Airlock's token endpoint, not the one it uses at
   * the IdP.
   */
  readonly enterpriseMcpClient?: { readonly clientId: string; readonly clientSecret: string };
  /** The local DynamoDB (dynalite): its endpoint and the id of the process that serves it. */
  readonly dynamodb: { readonly endpoint: LocalDynamoEndpoint; readonly pid: number };
  /** Paths a client needs: CA and each principal's certificate and key. */
  readonly certificates: { readonly ca: string; client(principal: string): { cert: string; key: string } };
  /**
   * The local stand-in for Amazon Bedrock behind each workflow's inference profile (`llm` in the
   * config): a model call through it is counted by the "provider", as Bedrock counts it in AWS.
   */
  readonly bedrock: LocalBedrockStandIn;
  /** Signs every chain head now (the anchor function's job in AWS). */
  anchor(): Promise<number>;
  close(): Promise<void>;
}

/** Audit chains the local pilot appends to in parallel. */
const LOCAL_AUDIT_CHAINS = 8;

/** Local requests are priced as the deployed functions run them (the house function's default memory). */
export const LOCAL_FUNCTION_MEMORY_MB = 512;

/** The issuer and audience of local tokens. */
export const LOCAL_ISSUER = 'https://localhost';
export const LOCAL_AUDIENCE = 'https://localhost/v1';

/** Starts the local pilot. Resolves once it accepts connections. */
export async function startLocalPilot(options: LocalPilotOptions): Promise<LocalPilot> {
  const { home } = options;
  const log = options.log ?? (() => undefined);
  const clock = options.clock ?? systemClock;
  const closers: Array<() => Promise<void> | void> = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch {
        // Keep closing the rest.
      }
    }
  };
  try {
    await mkdir(home, { recursive: true, mode: 0o700 });
    const baseConfig = options.config ?? loadConfig(options.configPath);
    const policies = readPolicyFiles(options.policyDirectory);

    // State: dynalite on a LevelDB folder, with the same tables as in AWS. Its process starts (~0.2 s)
    // while the certificates and the sample ERP are prepared; it is closed on every path.
    const dynaliteStarting = startDynalite({ path: join(home, 'dynamodb') });
    // Its failure is reported where it is awaited; until then it must not count as unhandled.
    dynaliteStarting.catch(() => undefined);
    closers.push(async () => {
      const started = await dynaliteStarting.catch(() => undefined);
      await started?.close();
    });

    // Identity: the local CA, the server certificate and one device certificate per principal.
    const ca = await LocalCertificateAuthority.loadOrCreate(home);
    const certs = await ca.ensureClientCertificates(Object.keys(baseConfig.principals));
    if (certs.issued.length > 0) log(`Issued device certificates for: ${certs.issued.join(', ')}`);

    // Upstream MCP servers the config points at that the pilot runs itself (server-everything from
    // npm, in a process of its own): started now, awaited before the connectors are prepared.
    const mcpStarting = startLocalMcpUpstreams(baseConfig);
    mcpStarting.catch(() => undefined);
    closers.push(async () => {
      const started = await mcpStarting.catch(() => undefined);
      await started?.close();
    });

    // Upstreams: sample receipts in a folder, and a sample ERP with its own OAuth2 client secret.
    const erpClient = await ensureSampleErpSecrets(home, baseConfig);
    const sampleErp = await startSampleErp({ tls: ca.serverTls(), port: 0, ...erpClient });
    closers.push(() => sampleErp.close());
    const sampleWorkplace = await startSampleWorkplaceApis({
      tls: ca.serverTls(),
      port: 0,
      ...erpClient,
      outbox: join(home, 'outbox'),
    });
    closers.push(() => sampleWorkplace.close());
    const mcpUpstreams = await mcpStarting;
    const connectorsReady = await prepareLocalConnectors(baseConfig, home, {
      sampleErpUrl: sampleErp.url,
      sampleApis: sampleWorkplace.urls,
      mcpServers: mcpUpstreams.urls,
      seedDocuments: async (folder, connector) => {
        const documents = Object.hasOwn(SAMPLE_DOCUMENTS, connector)
          ? SAMPLE_DOCUMENTS[connector]
          : undefined;
        if (documents) await seedSampleDocuments(folder, documents);
        else await seedSampleReceipts(folder);
      },
      sampleLedgerSql: SAMPLE_LEDGER_SQL,
      seedKnowledgeBase: (folder, connector) =>
        seedSampleKnowledgeBase(
          folder,
          Object.hasOwn(SAMPLE_KNOWLEDGE_BASES, connector) ? SAMPLE_KNOWLEDGE_BASES[connector] : undefined,
        ),
    });

    // The certificate-less entry point, when the config has an oauth section: a second listener of the
    // same local API server (no client certificate asked), and a local OIDC provider standing in for
    // the corporate IdP. Its handler is composed below, with everything else.
    const maxBodyBytes = baseConfig.api.maxBodyBytes;
    const starting: LocalApiHandler = async () => ({
      statusCode: 503,
      body: JSON.stringify({ error: 'temporarily_unavailable', error_description: 'Airlock is starting.' }),
    });
    let oauthHandler = starting;
    // The approvals page shares the certificate-less listener, served by the approvals function.
    let approvalsPageHandler = starting;
    const oauthEntry = baseConfig.oauth
      ? await startOAuthListener(baseConfig, {
          tls: ca.serverTls(),
          port: options.oauthPort ?? 8444,
          identityProviderPort: options.oauthPort === 0 ? 0 : 8445,
          identityProvider: options.identityProvider,
          maxBodyBytes,
          log,
          handlers: {
            oauth: (event) => oauthHandler(event),
            approvals: (event) => approvalsPageHandler(event),
          },
        })
      : undefined;
    if (oauthEntry) closers.push(() => oauthEntry.close());
    const config: AirlockConfig = oauthEntry
      ? { ...connectorsReady, oauth: oauthEntry.oauth }
      : connectorsReady;

    const dynalite = await dynaliteStarting;
    const dynamo = createLocalDynamoClient(dynalite.endpoint);
    closers.push(() => dynamo.destroy());
    await ensureTables(dynamo, LOCAL_TABLES);
    const doc = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });

    const killSwitchParameters = new FileKillSwitchParameters(home);
    const prefix = killSwitchPrefix(config.stage);
    await ensureKillSwitchParameters(
      killSwitchParameters,
      new DynamoDbRevocationStore({ client: doc, tableName: LOCAL_TABLES.revocations, clock }),
      prefix,
      config,
      clock,
    );
    const metricsLog = createWriteStream(join(home, 'metrics.log'), { flags: 'a', mode: 0o600 });
    closers.push(() => new Promise<void>((resolve) => metricsLog.end(resolve)));
    // The approval notices (held calls, decisions), as e-mail would carry them: on the console and here.
    const noticesLog = createWriteStream(join(home, 'notices.log'), { flags: 'a', mode: 0o600 });
    closers.push(() => new Promise<void>((resolve) => noticesLog.end(resolve)));
    // With approvals.chat: what the approvers' channel would show, one chat-integration message a line.
    const chatLog = config.approvals.chat
      ? createWriteStream(join(home, 'chat-notices.jsonl'), { flags: 'a', mode: 0o600 })
      : undefined;
    if (chatLog) closers.push(() => new Promise<void>((resolve) => chatLog.end(resolve)));

    const logUnexpected = (message: string, error: unknown) =>
      log(`${message}: ${(error as Error)?.name ?? 'Error'}: ${(error as Error)?.message ?? String(error)}`);
    const settings: AirlockSettings = {
      config,
      policies,
      tokens: { issuer: LOCAL_ISSUER, audience: LOCAL_AUDIENCE },
      // One process serving many requests at once: a few chains, so audit appends run in parallel
      // (each chain stays strictly sequential; a request's records share one chain).
      auditChainIds: Array.from({ length: LOCAL_AUDIT_CHAINS }, () =>
        newChainId('local-pilot', randomUUID()),
      ),
      functionMemoryMb: LOCAL_FUNCTION_MEMORY_MB,
      killSwitchPrefix: prefix,
      // The names a local client reaches the pilot by; the MCP endpoint refuses any other Host or Origin.
      publicHosts: ['127.0.0.1', 'localhost', '[::1]'],
      deadlines: options.deadlines,
      log: { warn: (message, error) => logUnexpected(message, error), unexpected: logUnexpected },
    };
    const databasesStarting: Promise<void>[] = [];
    const ports = createLocalPorts({
      home,
      config,
      doc,
      signer: await LocalTokenSigner.loadOrCreate(home),
      sessionMacKey: await LocalMacKey.loadOrCreate(home),
      killSwitchSource: killSwitchParameters,
      metrics: new EmfMetricsSink({ emit: (line) => metricsLog.write(`${line}\n`) }),
      ca: ca.caCertificatePem,
      clock,
      notice: (text) => {
        log(text);
        noticesLog.write(`${text}\n${'-'.repeat(72)}\n`);
      },
      ...(chatLog && { chatNotice: (json: string) => chatLog.write(`${json}\n`) }),
      wrapPorts: options.wrapPorts,
      identityProvider: oauthEntry?.identityProvider,
      ...(options.startDatabases ? { startWithPilot: (started) => databasesStarting.push(started) } : {}),
    });
    const services = new SharedServices(settings, ports);
    const connector = composeConnector(services);
    // A database that does not start is reported; its queries then say why, and the rest runs.
    if (databasesStarting.length > 0) {
      log(
        `Starting ${databasesStarting.length} local database(s) (PGlite): the first start seeds them, a few seconds; later starts load the seeded copy kept in ${join(home, LOCAL_DATABASE_SNAPSHOTS)}`,
      );
    }
    for (const result of await Promise.allSettled(databasesStarting)) {
      if (result.status === 'rejected')
        log(`A local database did not start: ${(result.reason as Error).message}`);
    }
    closers.push(() => connector.close());
    const approvals = composeApprovals(services);
    // Reminders before expiry, as the approvals function's schedule sends them in AWS.
    const reminderTimer = setInterval(() => {
      approvals.remind().catch((error) => log(`approval reminders failed: ${(error as Error).message}`));
    }, APPROVAL_REMINDER_MINUTES * 60_000);
    reminderTimer.unref();
    closers.push(() => clearInterval(reminderTimer));
    const handlers: Record<Exclude<RouteFunction, 'oauth'>, LocalApiHandler> = {
      broker: composeBroker(services).handler,
      connector: connector.handler,
      approvals: approvals.handler,
    };
    let enterpriseMcpClient: LocalPilot['enterpriseMcpClient'];
    if (oauthEntry) {
      const mcpClient = oauthEntry.localIdentityProvider?.mcpClient;
      if (mcpClient) {
        // Enterprise-Managed Authorization: the MCP client the local IdP issues ID-JAGs to is registered
        // at Airlock under the same id, as a confidential client with a secret of its own: a public
        // client_id proves nothing, so whoever copied an ID-JAG could redeem it.
        enterpriseMcpClient = {
          clientId: mcpClient.clientId,
          clientSecret: randomBytes(24).toString('base64url'),
        };
        await ports.oauthStore.putClient({
          clientId: mcpClient.clientId,
          source: 'registration',
          clientName: 'Local MCP client (Enterprise-Managed Authorization)',
          redirectUris: [],
          tokenEndpointAuthMethod: 'client_secret_basic',
          clientSecretHash: clientSecretHashOf(enterpriseMcpClient.clientSecret),
          createdAt: clock.now().toISOString(),
        });
      }
      oauthHandler = composeOAuth(services).handler;
      approvalsPageHandler = handlers.approvals;
    }
    const server = await startLocalApiServer({
      tls: ca.serverTls(),
      port: options.port ?? 8443,
      routes: MTLS_ROUTES.map((route) => ({ ...route, handler: handlers[route.function] })),
      maxBodyBytes,
      log,
    });
    closers.push(() => server.close());

    const { anchor } = composeAnchor(services, {
      info: () => undefined,
      warn: (message) => log(message),
    });
    const anchorTimer = setInterval(() => {
      anchor().catch((error) => log(`anchoring failed: ${(error as Error).message}`));
    }, config.audit.anchorEveryMinutes * 60_000);
    anchorTimer.unref();
    // Anchor what this run wrote before the state is closed, so `audit verify` covers it.
    closers.push(async () => {
      clearInterval(anchorTimer);
      await anchor();
    });
    await writePilotState(home, {
      pid: process.pid,
      url: server.url,
      dynamodbEndpoint: dynalite.endpoint,
      startedAt: clock.now().toISOString(),
    });
    closers.push(() => removePilotState(home));

    let closed: Promise<void> | undefined;
    return {
      url: server.url,
      port: server.port,
      home,
      config,
      ca,
      sampleErp,
      sampleWorkplace,
      bedrock: new LocalBedrockStandIn(
        home,
        new Set(Object.values(localInferenceProfiles(config)).map((p) => p.profileArn)),
      ),
      oauthUrl: oauthEntry?.url,
      localIdentityProvider: oauthEntry?.localIdentityProvider,
      ...(enterpriseMcpClient ? { enterpriseMcpClient } : {}),
      dynamodb: { endpoint: dynalite.endpoint, pid: dynalite.pid },
      certificates: { ca: ca.paths.ca, client: (principal) => ca.paths.client(principal) },
      anchor,
      close: () => {
        closed ??= closeAll();
        return closed;
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * The config as the local pilot runs it: each connector prepared by its kind (sample documents seeded,
 * HTTP connectors pointed at the local sample ERP on loopback and allowed only it), so the seed's
 * workflow runs end to end without any real system.
 */
export async function prepareLocalConnectors(
  config: AirlockConfig,
  home: string,
  upstreams: LocalUpstreams,
): Promise<AirlockConfig> {
  // Keep the config's prototype-less maps: requests name connectors, and `__proto__` must name none.
  const connectors: AirlockConfig['connectors'] = Object.create(null);
  for (const [name, connector] of Object.entries(config.connectors)) {
    const kind = connectorKindOf(connector.kind);
    connectors[name] = kind.local.prepare
      ? await kind.local.prepare({ name, config: connector, home }, upstreams)
      : connector;
  }
  return { ...config, connectors };
}

/** The sample ERP's client credentials, kept where the connector's local secret source reads them. */
async function ensureSampleErpSecrets(
  home: string,
  config: AirlockConfig,
): Promise<{ clientId: string; clientSecret: string }> {
  const dir = join(home, 'secrets');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const secrets = new FileSecretSource(home);
  const clientId = 'airlock-local-pilot';
  let clientSecret: string | undefined;
  for (const connector of Object.values(config.connectors)) {
    if (connector.kind !== 'http-api') continue;
    const file = join(dir, secretFileName(connector.auth.secretName));
    if (existsSync(file)) {
      clientSecret ??= (await secrets.getJson(connector.auth.secretName)).clientSecret;
      continue;
    }
    clientSecret ??= randomBytes(24).toString('base64url');
    await writeFile(file, JSON.stringify({ clientId, clientSecret }), { mode: 0o600, flag: 'wx' });
  }
  return { clientId, clientSecret: clientSecret ?? randomBytes(24).toString('base64url') };
}

/**
 * Creates the kill-switch parameters that do not exist yet (released), and each parameter's copy in
 * the revocations table that does not exist yet (as the parameter is), so requests read the switch
 * with their revocation read. Never overwrites: a restart must not release an engaged switch.
 */
async function ensureKillSwitchParameters(
  parameters: FileKillSwitchParameters,
  copies: Pick<RevocationListEditor, 'readKillSwitchCopies' | 'writeKillSwitchCopy'>,
  prefix: string,
  config: AirlockConfig,
  clock: Clock,
): Promise<void> {
  const names = [prefix, ...Object.keys(config.workflows).map((w) => killSwitchParameterName(prefix, w))];
  const current = await parameters.read(names);
  const copied = await copies.readKillSwitchCopies(names);
  for (const name of names) {
    let value = current[name];
    if (value === undefined) {
      value = releasedKillSwitchValue('local-pilot', clock.now());
      await parameters.write(name, value);
    }
    if (copied[name] === undefined) await copies.writeKillSwitchCopy(name, value);
  }
}
