/**
 * The SecretSource port over AWS Secrets Manager: upstream credentials such as the ERP's OAuth2
 * client, stored as JSON (`{"clientId": "...", "clientSecret": "..."}`) under a customer managed key.
 * Values are cached for a short time (cost and latency per call) and never appear in an error.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseSecretJson } from '../../connectors/secret-json';
import { DependencyError } from '../../core/errors';
import { type Clock, type SecretSource, systemClock } from '../../core/ports';
import {
  type AwsScope,
  type DeclaresIamPermissions,
  type IamActions,
  type IamPermission,
  permissionsOf,
  secretArn,
} from './iam-permissions';
import { type ClientSource, clientOf } from './on-demand';
import { loadSecretsManagerSdk } from './sdk-on-demand';

/** The IAM actions each method sends, on each secret the source is given. */
export const SECRETS_MANAGER_SOURCE_ACTIONS = {
  getJson: ['secretsmanager:GetSecretValue'],
} as const satisfies IamActions<keyof SecretSource>;

export interface SecretsManagerSecretSourceProps {
  /** Created once per function, or on the first read (sdk-on-demand.ts); tests pass a mocked client. */
  readonly client: ClientSource<SecretsManagerClient>;
  /**
   * How long a value is reused before it is read again, so a rotated secret takes effect.
   * @default 300000 (5 minutes)
   */
  readonly ttlMs?: number;
  /**
   * Secret name (as in the config) to the secret's ARN or id, when the stack knows the full ARN.
   * @default - the name is the secret id
   */
  readonly secretIds?: Readonly<Record<string, string>>;
  /** @default the system clock */
  readonly clock?: Clock;
}

interface CacheEntry {
  readonly value: Promise<Record<string, string>>;
  readonly expiresAt: number;
}

const DEPENDENCY = 'secrets-manager';

/** Secrets Manager as the source of upstream credentials. */
export class SecretsManagerSecretSource implements SecretSource, DeclaresIamPermissions<keyof SecretSource> {
  private readonly client: ClientSource<SecretsManagerClient>;
  private readonly ttlMs: number;
  private readonly secretIds: Readonly<Record<string, string>>;
  private readonly clock: Clock;
  private readonly cache = new Map<string, CacheEntry>();

  constructor(props: SecretsManagerSecretSourceProps) {
    this.client = props.client;
    this.ttlMs = props.ttlMs ?? 300_000;
    this.secretIds = props.secretIds ?? {};
    this.clock = props.clock ?? systemClock;
  }

  /** On the secrets of `secretIds` (the ones the stack names, by ARN). */
  iamPermissions(methods: readonly (keyof SecretSource)[], scope: AwsScope): IamPermission[] {
    return permissionsOf('SecretsManagerSecretSource', SECRETS_MANAGER_SOURCE_ACTIONS, methods, () =>
      Object.values(this.secretIds).map((id) => ({ resource: secretArn(scope, id) })),
    );
  }

  /**
   * The secret's JSON object (every value a string). Concurrent callers share one read.
   * @throws DependencyError when the secret cannot be read or is not a JSON object of strings;
   * the message names the secret, never its value
   */
  getJson(name: string): Promise<Record<string, string>> {
    const now = this.clock.now().getTime();
    const cached = this.cache.get(name);
    if (cached && now < cached.expiresAt) return cached.value;
    const value = this.fetch(name);
    this.cache.set(name, { value, expiresAt: now + this.ttlMs });
    // A failure is not cached: the next call tries again.
    value.catch(() => {
      if (this.cache.get(name)?.value === value) this.cache.delete(name);
    });
    return value;
  }

  private async fetch(name: string): Promise<Record<string, string>> {
    let secretString: string | undefined;
    try {
      const [{ GetSecretValueCommand }, client] = await Promise.all([
        loadSecretsManagerSdk(),
        clientOf(this.client),
      ]);
      const output = await client.send(new GetSecretValueCommand({ SecretId: this.secretIds[name] ?? name }));
      secretString = output.SecretString;
    } catch (error) {
      const errorName = (error as { name?: string } | undefined)?.name ?? 'unknown error';
      const hint =
        errorName === 'ResourceNotFoundException'
          ? 'it does not exist; create it with the upstream credentials'
          : errorName === 'AccessDeniedException'
            ? "access was denied; check the function's grant on the secret and its KMS key"
            : `Secrets Manager answered ${errorName}`;
      // The SDK error is not attached as cause: error objects can be logged whole.
      throw new DependencyError(DEPENDENCY, `The secret "${name}" cannot be read: ${hint}.`);
    }
    if (secretString === undefined) {
      throw new DependencyError(
        DEPENDENCY,
        `The secret "${name}" has no string value; store it as a JSON object such as {"clientId": "...", "clientSecret": "..."}.`,
      );
    }
    return parseSecretJson(name, secretString, DEPENDENCY);
  }
}
