/**
 * Digests of the local pilot as files under `<AIRLOCK_HOME>/audit-digests/<chainId>/<seq>.json`.
 * Each file is created with the exclusive flag (`wx`), so an existing digest is never replaced.
 * A local folder is not Object Lock: anyone with the account can delete it. Use it to try the
 * anchor and the verifier, not as evidence.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareDigests, type Digest, DigestConflictError, type DigestStore } from '../../core/audit-anchor';
import { canonicalJson } from '../../core/canonical-json';

/** {@link DigestStore} over a folder. */
export class FolderDigestStore implements DigestStore {
  /** The folder holding the digests: `<home>/audit-digests`. */
  public readonly folder: string;

  constructor(home: string) {
    this.folder = join(home, 'audit-digests');
  }

  async put(digest: Digest): Promise<void> {
    // digestId is `<chainId>/<seq>`; chain ids hold no `/` or leading `.`, so it stays in the folder.
    const file = join(this.folder, `${digest.digestId}.json`);
    await mkdir(join(this.folder, digest.chainId), { recursive: true });
    try {
      await writeFile(file, `${canonicalJson(digest)}\n`, { flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST')
        throw new DigestConflictError(digest.digestId, file, { cause: error });
      throw error;
    }
  }

  async list(): Promise<Digest[]> {
    let chains: string[];
    try {
      chains = await readdir(this.folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const digests: Digest[] = [];
    for (const chain of chains) {
      for (const name of await readdir(join(this.folder, chain))) {
        if (!name.endsWith('.json')) continue;
        const file = join(this.folder, chain, name);
        const text = await readFile(file, 'utf8');
        try {
          digests.push(JSON.parse(text) as Digest);
        } catch (error) {
          throw new Error(`digest file ${file} is not JSON; it was damaged or is not a digest`, {
            cause: error,
          });
        }
      }
    }
    return digests.sort(compareDigests);
  }
}
