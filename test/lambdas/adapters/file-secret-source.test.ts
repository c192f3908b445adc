import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSecretSource, secretFileName } from '../../../lambdas/adapters/local/file-secret-source';
import { DependencyError } from '../../../lambdas/core/errors';

const NAME = 'airlock/pilot/erp-client';

describe('Class: FileSecretSource', () => {
  let home: string;

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-secrets-'));
  });

  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  describe('Method: getJson', () => {
    it('reads what put stored, from an owner-only file', async () => {
      // Prepare
      const source = new FileSecretSource(home);
      await source.put(NAME, { clientId: 'airlock-pilot', clientSecret: 'local-secret' });

      // Act
      const value = await source.getJson(NAME);

      // Assess
      expect(value).toEqual({ clientId: 'airlock-pilot', clientSecret: 'local-secret' });
      const file = await stat(join(home, 'secrets', 'airlock_pilot_erp-client.json'));
      expect(file.mode & 0o777).toBe(0o600);
    });

    it('names a missing secret and the file to create', async () => {
      // Act
      const error = await new FileSecretSource(home).getJson(NAME).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect((error as Error).message).toContain('create secrets/airlock_pilot_erp-client.json');
      expect((error as Error).message).not.toContain(home);
    });

    it('refuses malformed JSON without quoting it', async () => {
      // Prepare
      const source = new FileSecretSource(home);
      await source.put(NAME, {});
      await writeFile(join(home, 'secrets', secretFileName(NAME)), 'clientSecret=do-not-echo');

      // Act
      const error = await source.getJson(NAME).catch((e: unknown) => e);

      // Assess
      expect((error as Error).message).toContain('is not valid JSON');
      expect((error as Error).message).not.toContain('do-not-echo');
    });
  });
});

describe('Function: secretFileName', () => {
  it.each([
    ['airlock/pilot/erp-client', 'airlock_pilot_erp-client.json'],
    ['pilot/../../etc/passwd', 'pilot_.._.._etc_passwd.json'],
  ])('maps %s to a file name inside the secrets folder', (name, expected) => {
    // Act / Assess
    expect(secretFileName(name)).toBe(expected);
  });

  it.each([['../../etc/passwd'], ['.hidden'], ['']])(
    'refuses %j, which would start with a dot or be empty',
    (name) => {
      // Act / Assess
      expect(() => secretFileName(name)).toThrow(DependencyError);
    },
  );
});
