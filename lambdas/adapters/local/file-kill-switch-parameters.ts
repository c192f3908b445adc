/**
 * Kill-switch parameters of the local pilot: one JSON file per parameter under `<AIRLOCK_HOME>/kill-switch/`,
 * e.g. `/airlock/pilot/kill-switch/expense-summary` → `airlock.pilot.kill-switch.expense-summary.json`.
 * Writes go to a temporary file that is renamed over the old one, so a reader sees the old value or the
 * new one, never half of it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DependencyError } from '../../core/errors';
import type { KillSwitchParameterSource, KillSwitchParameterWriter } from '../../core/ports';

/**
 * Only kill-switch parameter names are accepted: their segments hold no dots or slashes, so joining
 * them with dots gives one file name per parameter that cannot leave the folder.
 */
const PARAMETER_NAME = /^\/airlock\/([a-z][a-z0-9-]{0,62})\/kill-switch(?:\/([a-z][a-z0-9-]{0,62}))?$/;

export class FileKillSwitchParameters implements KillSwitchParameterSource, KillSwitchParameterWriter {
  /** The folder holding the parameter files. */
  public readonly directory: string;

  /** @param home the local pilot's state folder (`AIRLOCK_HOME`, default `.airlock/`) */
  constructor(home: string) {
    this.directory = join(home, 'kill-switch');
  }

  /** The file that holds `name`; throws for a name that is not a kill-switch parameter. */
  fileOf(name: string): string {
    if (!PARAMETER_NAME.test(name)) {
      throw new DependencyError(
        'kill switch parameters',
        `"${name}" is not a kill switch parameter name: expected /airlock/<stage>/kill-switch or /airlock/<stage>/kill-switch/<workflow>`,
      );
    }
    return join(this.directory, `${name.slice(1).replaceAll('/', '.')}.json`);
  }

  /** Values by name; a missing file maps to `undefined`. */
  async read(names: readonly string[]): Promise<Record<string, string | undefined>> {
    const entries = await Promise.all(
      names.map(async (name): Promise<[string, string | undefined]> => {
        const file = this.fileOf(name);
        try {
          return [name, await readFile(file, 'utf8')];
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [name, undefined];
          throw new DependencyError(
            'kill switch parameters',
            `cannot read ${file}: ${(error as Error).message}`,
            { cause: error },
          );
        }
      }),
    );
    return Object.fromEntries(entries);
  }

  /** Replaces the file atomically (temporary file in the same folder, flushed, then renamed). */
  async write(name: string, value: string): Promise<void> {
    const file = this.fileOf(name);
    const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await mkdir(this.directory, { recursive: true, mode: 0o700 });
      const handle = await open(temporary, 'wx', 0o600);
      try {
        await handle.writeFile(value, 'utf8');
        // Flushed before the rename, so a crash cannot leave an empty file under the real name.
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, file);
    } catch (error) {
      await rm(temporary, { force: true });
      throw new DependencyError(
        'kill switch parameters',
        `cannot write ${file}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}
