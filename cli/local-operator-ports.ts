/**
 * The operator ports of the local pilot: its DynamoDB tables (through the running pilot's dynalite,
 * or opened for this run), its digest folder and signing key, its kill-switch parameter files and its
 * metrics log, all under `$AIRLOCK_HOME`.
 */

import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDbAuditStore } from '../lambdas/adapters/aws/dynamodb-audit-store';
import { DynamoDbRevocationStore } from '../lambdas/adapters/aws/dynamodb-revocation-store';
import { FileKillSwitchParameters } from '../lambdas/adapters/local/file-kill-switch-parameters';
import { FileSecretSource } from '../lambdas/adapters/local/file-secret-source';
import { FolderDigestStore } from '../lambdas/adapters/local/folder-digest-store';
import {
  jwkThumbprintOf,
  LocalTokenSigner,
  TOKEN_SIGNING_KEY_FILE,
} from '../lambdas/adapters/local/local-token-signer';
import { MetricsLogCostSource } from '../lambdas/adapters/local/metrics-log-cost-source';
import {
  localInferenceProfiles,
  PROVIDER_METRICS_LOG_FILE,
  ProviderMetricsLogUsageSource,
} from '../lambdas/adapters/local/provider-metrics-usage-source';
import type { AuditLedger } from '../lambdas/core/audit-ledger';
import { withMeasuredLlm } from '../lambdas/core/cost-report';
import type { CredentialRecords } from '../lambdas/core/credential-records';
import type { KillSwitchCopyStore } from '../lambdas/core/kill-switch-operator';
import { type SecretSource, systemClock } from '../lambdas/core/ports';
import type { AirlockConfig } from '../lib/config/schema';
import { LOCAL_TABLES, type LocalDynamo, openLocalDynamo } from '../local/local-state';
import { CliError, EXIT } from './cli-context';
import type { LocalTarget } from './cli-target';
import { killSwitchCopiesOf } from './kill-switch-copies';
import { operatorLedger } from './operator-audit';
import type {
  AuditTrail,
  AuditTrailNeeds,
  ConcurrencyController,
  CostSourcePort,
  KillSwitchParameters,
  OperatorPorts,
  RevocationTable,
} from './operator-ports';

/** The local pilot's metrics log, below its home (the pilot appends EMF lines to it). */
export const METRICS_LOG_FILE = 'metrics.log';

/** {@link OperatorPorts} over the local pilot's state. */
export class LocalOperatorPorts implements OperatorPorts {
  public readonly mode = 'local';
  private readonly home: string;
  private dynamo?: Promise<LocalDynamo>;

  constructor(target: LocalTarget) {
    this.home = target.home;
  }

  upstreamSecrets(): SecretSource {
    return new FileSecretSource(this.home);
  }

  async openAuditTrail(needs: AuditTrailNeeds): Promise<AuditTrail> {
    // Read the key before touching the tables, so a pilot that never ran leaves no state behind.
    const home = this.home;
    const localKey = needs.digests && needs.readKeyOnly ? await readLocalPublicKey(home) : undefined;
    let dynamo: LocalDynamo;
    try {
      dynamo = await this.openDynamo();
    } catch (error) {
      throw new CliError(
        `cannot open the local pilot's audit table: ${(error as Error).message}`,
        EXIT.failed,
        { cause: error },
      );
    }
    const digests = new FolderDigestStore(home);
    return {
      store: new DynamoDbAuditStore({ client: dynamo.doc, tableName: dynamo.tables.audit }),
      digests,
      where: `the local pilot at ${home}`,
      digestsWhere: digests.folder,
      digestKey: async () => {
        const key = localKey ?? (await (await LocalTokenSigner.loadOrCreate(home)).getPublicKey());
        const keyId = jwkThumbprintOf(key);
        return (id: string) => (id === keyId ? key : undefined);
      },
      signer: () => LocalTokenSigner.loadOrCreate(home),
    };
  }

  async openAuditLedger(): Promise<AuditLedger> {
    const dynamo = await this.openDynamo();
    return operatorLedger(new DynamoDbAuditStore({ client: dynamo.doc, tableName: LOCAL_TABLES.audit }));
  }

  async openCredentialRecords(): Promise<CredentialRecords> {
    const dynamo = await this.openDynamo();
    return new DynamoDbAuditStore({ client: dynamo.doc, tableName: LOCAL_TABLES.audit });
  }

  async openRevocations(): Promise<RevocationTable> {
    const dynamo = await this.openDynamo();
    return {
      store: new DynamoDbRevocationStore({
        client: dynamo.doc,
        tableName: LOCAL_TABLES.revocations,
        clock: systemClock,
      }),
      table: LOCAL_TABLES.revocations,
    };
  }

  async openKillSwitchCopies(): Promise<KillSwitchCopyStore> {
    return killSwitchCopiesOf((await this.openRevocations()).store);
  }

  killSwitchParameters(): KillSwitchParameters {
    const files = new FileKillSwitchParameters(this.home);
    return { parameters: files, fileOf: (parameter) => files.fileOf(parameter) };
  }

  concurrencyController(): ConcurrencyController {
    throw new CliError(
      'hard mode needs AWS: it sets the reserved concurrency of the deployed functions, and the local pilot has none; drop --hard (the switch alone seals the local pilot) or drop --local',
      EXIT.usage,
    );
  }

  costSource(config: AirlockConfig): CostSourcePort {
    const file = join(this.home, METRICS_LOG_FILE);
    // LLM usage as the local Bedrock stand-in counted it for each workflow's profile, not as agents reported it.
    const profiles = localInferenceProfiles(config);
    return {
      source: withMeasuredLlm(
        new MetricsLogCostSource(file),
        new ProviderMetricsLogUsageSource(join(this.home, PROVIDER_METRICS_LOG_FILE), profiles),
      ),
      label: `local pilot metrics log ${file}`,
    };
  }

  async close(): Promise<void> {
    const dynamo = this.dynamo;
    this.dynamo = undefined;
    await dynamo?.then(
      (opened) => opened.close(),
      () => undefined,
    );
  }

  /** The local tables, opened once per run (see {@link openLocalDynamo}). */
  private openDynamo(): Promise<LocalDynamo> {
    this.dynamo ??= openLocalDynamo(this.home);
    return this.dynamo;
  }
}

async function readLocalPublicKey(home: string): Promise<KeyObject> {
  const path = join(home, TOKEN_SIGNING_KEY_FILE);
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new CliError(
        `no local signing key at ${path}: the local pilot has not run yet (start it with "npm start"), so there is no audit trail to verify`,
        EXIT.failed,
      );
    throw new CliError(`cannot read the local signing key ${path}: ${(error as Error).message}`, EXIT.failed);
  }
  try {
    return createPublicKey(createPrivateKey(pem));
  } catch (error) {
    throw new CliError(`${path} is not a readable private key; it was damaged or replaced`, EXIT.failed, {
      cause: error,
    });
  }
}
