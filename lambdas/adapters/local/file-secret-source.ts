/**
 * The SecretSource port for the local pilot: each secret is a JSON file
 * `<AIRLOCK_HOME>/secrets/<safe name>.json`, readable by the owner only. Read on every call (no
 * cache), so replacing the file takes effect at once.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSecretJson } from '../../connectors/secret-json';
import { DependencyError } from '../../core/errors';
import type { SecretSource } from '../../core/ports';

const DEPENDENCY = 'secret-file';

/**
 * The file name a secret is stored under: every character outside `[A-Za-z0-9_.-]` becomes `_`,
 * so a name such as `airlock/pilot/erp-client` can never reach outside the secrets folder.
 */
export function secretFileName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_.-]/g, '_');
  if (safe.length === 0 || safe.startsWith('.')) {
    throw new DependencyError(DEPENDENCY, `The secret name ${JSON.stringify(name)} cannot be a file name.`);
  }
  return `${safe}.json`;
}

/** Secrets as files under the local pilot's home folder. */
export class FileSecretSource implements SecretSource {
  private readonly folder: string;

  /** @param home the local pilot's state folder (AIRLOCK_HOME) */
  constructor(home: string) {
    this.folder = join(home, 'secrets');
  }

  /**
   * The secret's JSON object.
   * @throws DependencyError when the file is missing or malformed; never quotes its content
   */
  async getJson(name: string): Promise<Record<string, string>> {
    const file = secretFileName(name);
    let text: string;
    try {
      text = await readFile(join(this.folder, file), 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
      throw new DependencyError(
        DEPENDENCY,
        code === 'ENOENT'
          ? `The secret "${name}" does not exist; create secrets/${file} in the local pilot's home folder.`
          : `The secret "${name}" cannot be read (${code}).`,
      );
    }
    return parseSecretJson(name, text, DEPENDENCY);
  }

  /** Stores a secret (the local pilot's setup writes the sample ERP's client credentials), owner-only. */
  async put(name: string, value: Readonly<Record<string, string>>): Promise<void> {
    await mkdir(this.folder, { recursive: true, mode: 0o700 });
    await writeFile(join(this.folder, secretFileName(name)), `${JSON.stringify(value, null, 2)}\n`, {
      mode: 0o600,
    });
  }
}
