import {
  GetSecretValueCommand,
  type GetSecretValueCommandInput,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { SecretsManagerSecretSource } from '../../../lambdas/adapters/aws/secrets-manager-secret-source';
import { DependencyError } from '../../../lambdas/core/errors';
import type { Clock } from '../../../lambdas/core/ports';

const secretsManager = mockClient(SecretsManagerClient);
const NAME = 'airlock/pilot/erp-client';
const ARN = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:airlock/pilot/erp-client-AbCdEf';
const CLIENT_SECRET = 'test-only-client-secret-value';

/** The stored secrets, by id (name or ARN), as Secrets Manager holds them. */
let stored: Map<string, string | undefined>;

function getSecretValue(input: GetSecretValueCommandInput) {
  if (!stored.has(input.SecretId ?? '')) {
    throw new ResourceNotFoundException({
      message: "Secrets Manager can't find the specified secret.",
      $metadata: { httpStatusCode: 400 },
    });
  }
  const value = stored.get(input.SecretId ?? '');
  return value === undefined
    ? { ARN, Name: NAME, SecretBinary: new Uint8Array([1, 2, 3]) }
    : { ARN, Name: NAME, SecretString: value, VersionId: 'v1' };
}

class MovableClock implements Clock {
  constructor(private time = Date.parse('2026-10-01T09:00:00Z')) {}
  now(): Date {
    return new Date(this.time);
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

async function failure(act: () => Promise<unknown>): Promise<DependencyError> {
  try {
    await act();
  } catch (error) {
    if (error instanceof DependencyError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('Class: SecretsManagerSecretSource', () => {
  beforeEach(() => {
    secretsManager.reset();
    stored = new Map([[NAME, JSON.stringify({ clientId: 'airlock-pilot', clientSecret: CLIENT_SECRET })]]);
    secretsManager.on(GetSecretValueCommand).callsFake(getSecretValue);
  });

  describe('Method: getJson', () => {
    it('returns the parsed secret', async () => {
      // Prepare
      const source = new SecretsManagerSecretSource({ client: new SecretsManagerClient({}) });

      // Act
      const value = await source.getJson(NAME);

      // Assess
      expect(value).toEqual({ clientId: 'airlock-pilot', clientSecret: CLIENT_SECRET });
      expect(secretsManager).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: NAME });
    });

    it('reads the ARN the stack mapped the name to', async () => {
      // Prepare
      stored.set(ARN, stored.get(NAME));
      stored.delete(NAME);
      const source = new SecretsManagerSecretSource({
        client: new SecretsManagerClient({}),
        secretIds: { [NAME]: ARN },
      });

      // Act
      const value = await source.getJson(NAME);

      // Assess
      expect(value.clientId).toBe('airlock-pilot');
      expect(secretsManager).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: ARN });
    });

    it('reuses the value within its time to live and reads it again after', async () => {
      // Prepare
      const clock = new MovableClock();
      const source = new SecretsManagerSecretSource({
        client: new SecretsManagerClient({}),
        ttlMs: 60_000,
        clock,
      });

      // Act
      await Promise.all([source.getJson(NAME), source.getJson(NAME)]);
      clock.advance(59_000);
      await source.getJson(NAME);
      const callsWithinTtl = secretsManager.commandCalls(GetSecretValueCommand).length;
      stored.set(NAME, JSON.stringify({ clientId: 'rotated', clientSecret: 'rotated-secret' }));
      clock.advance(2_000);
      const afterTtl = await source.getJson(NAME);

      // Assess
      expect(callsWithinTtl).toBe(1);
      expect(afterTtl.clientId).toBe('rotated');
      expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    });

    it('does not cache a failure', async () => {
      // Prepare
      const source = new SecretsManagerSecretSource({ client: new SecretsManagerClient({}) });
      stored.delete(NAME);
      await failure(() => source.getJson(NAME));
      stored.set(NAME, JSON.stringify({ clientId: 'created-later', clientSecret: 's' }));

      // Act
      const value = await source.getJson(NAME);

      // Assess
      expect(value.clientId).toBe('created-later');
    });

    it('names a missing secret and how to fix it', async () => {
      // Prepare
      stored.clear();
      const source = new SecretsManagerSecretSource({ client: new SecretsManagerClient({}) });

      // Act
      const error = await failure(() => source.getJson(NAME));

      // Assess
      expect(error.dependency).toBe('secrets-manager');
      expect(error.message).toBe(
        `The secret "${NAME}" cannot be read: it does not exist; create it with the upstream credentials.`,
      );
    });

    it.each([
      ['not JSON', `clientSecret=${CLIENT_SECRET}`],
      ['a JSON array', JSON.stringify([CLIENT_SECRET])],
      [
        'JSON with a non-string field',
        JSON.stringify({ clientId: 'airlock-pilot', clientSecret: CLIENT_SECRET, port: 443 }),
      ],
    ])('refuses a value that is %s without quoting the value', async (_case, value) => {
      // Prepare
      stored.set(NAME, value);
      const source = new SecretsManagerSecretSource({ client: new SecretsManagerClient({}) });

      // Act
      const error = await failure(() => source.getJson(NAME));

      // Assess
      expect(error.message).toContain(`The secret "${NAME}"`);
      expect(error.message).not.toContain(CLIENT_SECRET);
      expect(JSON.stringify(error.cause ?? null)).not.toContain(CLIENT_SECRET);
      expect(String(error.stack)).not.toContain(CLIENT_SECRET);
    });

    it('refuses a binary secret', async () => {
      // Prepare
      stored.set(NAME, undefined);
      const source = new SecretsManagerSecretSource({ client: new SecretsManagerClient({}) });

      // Act
      const error = await failure(() => source.getJson(NAME));

      // Assess
      expect(error.message).toContain('has no string value');
    });
  });
});
