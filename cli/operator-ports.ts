/**
 * The ports the operator commands act through, built in one place per target: the local pilot's
 * adapters over `$AIRLOCK_HOME`, or the AWS adapters over the deployment the target names. A command
 * resolves its target (cli-target.ts), asks these ports for what it reads and writes, and never
 * constructs an adapter or an SDK client itself. The approvals and bridge commands talk to an
 * Airlock API instead, through {@link airlockApiClient}.
 *
 * Ports are opened on first use and released by {@link OperatorPorts.close}: a command that only
 * reads the kill switch never starts the local DynamoDB, and one that fails early leaves nothing open.
 */
import type { ConcurrencyChange } from '../lambdas/adapters/aws/lambda-concurrency-controller';
import type { DigestStore } from '../lambdas/core/audit-anchor';
import type { AuditLedger, AuditStore } from '../lambdas/core/audit-ledger';
import type { DigestKey } from '../lambdas/core/audit-verifier';
import type { CostSource } from '../lambdas/core/cost-report';
import type { CredentialRecords } from '../lambdas/core/credential-records';
import type { KillSwitchCopyStore } from '../lambdas/core/kill-switch-operator';
import type {
  KillSwitchParameterSource,
  KillSwitchParameterWriter,
  RevocationListEditor,
  RevocationStore,
  SecretSource,
  TokenSigner,
} from '../lambdas/core/ports';
import type { AirlockConfig } from '../lib/config/schema';
import {
  type AirlockApiClient,
  type AirlockApiClientOptions,
  createAirlockApiClient,
} from './airlock-api-client';
import { AwsOperatorPorts } from './aws-operator-ports';
import type { AwsTarget, LocalTarget, ServerTarget } from './cli-target';
import { LocalOperatorPorts } from './local-operator-ports';

/** The ledger, digests and signing key of the audit trail, for `audit verify|export|anchor`. */
export interface AuditTrail {
  readonly store: AuditStore;
  readonly digests: DigestStore;
  /** For messages: where the records are. */
  readonly where: string;
  /** For messages: where the digests are. */
  readonly digestsWhere: string;
  /** The public key that verifies the digests. */
  digestKey(): Promise<DigestKey>;
  /** The key that signs new digests (`audit anchor`). */
  signer(): Promise<TokenSigner>;
}

/** What one audit command needs of the trail. */
export interface AuditTrailNeeds {
  /** Digests and their key (verify, anchor); export reads records only. */
  readonly digests: boolean;
  /** Verify and export never create a key: locally, a missing key means the pilot has not run. */
  readonly readKeyOnly: boolean;
}

/** The kill-switch parameters: SSM in AWS, files locally. */
export interface KillSwitchParameters {
  readonly parameters: KillSwitchParameterSource & KillSwitchParameterWriter;
  /** The file of a parameter (local only), for the operator to look at. */
  readonly fileOf?: (parameter: string) => string;
}

/** Reserved concurrency of the deployed functions: the kill switch's hard mode. */
export interface ConcurrencyController {
  freeze(functionNames: readonly string[]): Promise<ConcurrencyChange[]>;
  /** Restores each function's reservation; `null` removes it (the function then shares the unreserved pool). */
  restore(reserved: Readonly<Record<string, number | null>>): Promise<ConcurrencyChange[]>;
}

/** The revocations table every request reads (revocations, blocks, suspensions, the kill switch's copies). */
export interface RevocationTable {
  readonly store: RevocationStore & RevocationListEditor;
  /** Its name, for the operator. */
  readonly table: string;
}

/** Where the usage points are read for a cost report, and how the report names it. */
export interface CostSourcePort {
  readonly source: CostSource;
  readonly label: string;
}

/** The ports of one target, for one command run. */
export interface OperatorPorts {
  readonly mode: 'local' | 'aws';
  /**
   * The audit trail.
   * @throws CliError naming what to do when the local pilot's state cannot be opened.
   */
  openAuditTrail(needs: AuditTrailNeeds): Promise<AuditTrail>;
  /**
   * A ledger with a chain of its own for this run, to record an operator's change: the local pilot's
   * audit table, or in AWS the audit table when the target names one (else `undefined`).
   * @throws Error when the local pilot's tables cannot be opened (the command says what that means).
   */
  openAuditLedger(): Promise<AuditLedger | undefined>;
  /**
   * The credential records of the audit ledger, to check what `airlock revoke` is asked to revoke:
   * the local pilot's, or in AWS the audit table's when the target names it (else `undefined`).
   * @throws Error when the local pilot's tables cannot be opened.
   */
  openCredentialRecords(): Promise<CredentialRecords | undefined>;
  /** @throws Error when the local pilot's tables cannot be opened. */
  openRevocations(): Promise<RevocationTable>;
  /**
   * The kill switch's copies in the revocations table: the local pilot's, or in AWS the table's when
   * the target names it (else `undefined`).
   * @throws Error when the local pilot's tables cannot be opened.
   */
  openKillSwitchCopies(): Promise<KillSwitchCopyStore | undefined>;
  killSwitchParameters(): KillSwitchParameters;
  /** @throws CliError (usage) for the local pilot, which has no reserved concurrency. */
  concurrencyController(): ConcurrencyController;
  costSource(config: AirlockConfig): CostSourcePort;
  /**
   * Where upstream credentials are read (`airlock connectors pin`), as the connector function reads
   * them: Secrets Manager by the secret's name in AWS, the local secret store (`secrets/`) locally.
   */
  upstreamSecrets(): SecretSource;
  /** Releases what was opened (the local DynamoDB, SDK clients); safe to call more than once. */
  close(): Promise<void>;
}

/** The ports of the local pilot or of a deployment. */
export function operatorPorts(target: LocalTarget | AwsTarget): OperatorPorts {
  return target.kind === 'local' ? new LocalOperatorPorts(target) : new AwsOperatorPorts(target);
}

/** Runs `work` with the ports of `target` and always closes them. */
export async function withOperatorPorts<T>(
  target: LocalTarget | AwsTarget,
  work: (ports: OperatorPorts) => Promise<T>,
): Promise<T> {
  const ports = operatorPorts(target);
  try {
    return await work(ports);
  } finally {
    await ports.close();
  }
}

/** The Airlock API of a server target, over mutual TLS with its device certificate. */
export function airlockApiClient(
  target: ServerTarget,
  options: AirlockApiClientOptions = {},
): AirlockApiClient {
  return createAirlockApiClient(target, options);
}
