/**
 * What every Airlock function reads once per execution environment: its environment variables (set by
 * the CDK construct together with their grants), the pilot config and the Cedar policies bundled next
 * to the handler, and the adapters shared by the broker and the connector.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseConfig } from '../../../lib/config/load-config';
import type { AirlockConfig } from '../../../lib/config/schema';
import { AuditLedger, newChainId } from '../../core/audit-ledger';
import { withDependencyDeadlines } from '../../core/dependency-deadline';
import { KillSwitch, killSwitchPrefix } from '../../core/kill-switch';
import { PolicyEngine } from '../../core/policy-engine';
import { buildEntities } from '../../core/policy-entities';
import { systemClock } from '../../core/ports';
import { readPolicyFiles } from '../policy-files';
import { DynamoDbAuditStore } from './dynamodb-audit-store';
import { SsmKillSwitchParameters } from './ssm-kill-switch-parameters';

/** A required environment variable; a missing one is a deployment bug, reported by name at init. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`environment variable ${name} is not set; the CDK construct sets it with its grant`);
  return value;
}

/** Where the bundle keeps `airlock.config.json` and `policies/` (copied by the house function construct). */
function bundleDirectory(): string {
  return process.env.AIRLOCK_BUNDLE_DIR ?? __dirname;
}

/** The validated pilot config bundled with the function. */
export function loadBundledConfig(): AirlockConfig {
  const file = process.env.AIRLOCK_CONFIG_FILE ?? join(bundleDirectory(), 'airlock.config.json');
  return parseConfig(JSON.parse(readFileSync(file, 'utf8')), file);
}

/** The Cedar policies bundled with the function, validated and preparsed once. */
export function loadBundledPolicyEngine(config: AirlockConfig): PolicyEngine {
  const directory = process.env.AIRLOCK_POLICY_DIR ?? join(bundleDirectory(), 'policies');
  return PolicyEngine.create({ ...readPolicyFiles(directory), entities: buildEntities(config) });
}

export const logger = new Logger({ serviceName: 'airlock' });

/** Logs an unexpected error without the request (which may carry a token). */
export function logUnexpected(message: string, error: unknown): void {
  logger.error(message, error as Error);
}

export function createDocumentClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** The kill switch over SSM, with the config's cache and staleness bound. */
export function createKillSwitch(config: AirlockConfig): KillSwitch {
  return new KillSwitch({
    source: withDependencyDeadlines({
      killSwitchSource: new SsmKillSwitchParameters({ client: new SSMClient({}) }),
    }).killSwitchSource,
    prefix: process.env.AIRLOCK_KILL_SWITCH_PREFIX ?? killSwitchPrefix(config.stage),
    cacheMs: config.killSwitch.cacheSeconds * 1000,
    stalenessMs: config.killSwitch.stalenessSeconds * 1000,
  });
}

/** This execution environment's audit chain. */
export function createLedger(doc: DynamoDBDocumentClient): AuditLedger {
  return new AuditLedger({
    store: withDependencyDeadlines({
      auditStore: new DynamoDbAuditStore({ client: doc, tableName: requiredEnv('AIRLOCK_AUDIT_TABLE') }),
    }).auditStore,
    chainId: newChainId(process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'airlock', randomUUID()),
    clock: systemClock,
  });
}

/** `iss` and `aud` of the deployment's tokens. */
export function tokenIdentifiers(config: AirlockConfig): { issuer: string; audience: string } {
  const issuer = `https://${config.domain.name}`;
  return { issuer, audience: `${issuer}/v1` };
}

/** A JSON object environment variable (e.g. connector name → bucket). */
export function jsonEnv(name: string): Record<string, string> {
  const raw = process.env[name];
  if (!raw) return {};
  const parsed = JSON.parse(raw) as unknown;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`environment variable ${name} must be a JSON object`);
  }
  return parsed as Record<string, string>;
}
