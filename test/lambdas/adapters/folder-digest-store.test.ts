import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderDigestStore } from '../../../lambdas/adapters/local/folder-digest-store';
import { type Digest, DigestConflictError } from '../../../lambdas/core/audit-anchor';
import { storedDigest } from '../support/audit-fixtures';

function digest(chainId: string, seq: number): Digest {
  return storedDigest(chainId, seq, 'local-key');
}

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'airlock-digests-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('Class: FolderDigestStore', () => {
  describe('Method: put', () => {
    it('writes <home>/audit-digests/<chainId>/<seq>.json', async () => {
      // Prepare
      const store = new FolderDigestStore(home);

      // Act
      await store.put(digest('local-1', 4));

      // Assess
      const text = await readFile(join(home, 'audit-digests', 'local-1', '000000000004.json'), 'utf8');
      expect(JSON.parse(text)).toEqual(digest('local-1', 4));
    });

    it('never replaces an existing digest', async () => {
      // Prepare
      const store = new FolderDigestStore(home);
      await store.put(digest('local-1', 4));

      // Act
      const again = store.put({ ...digest('local-1', 4), hash: 'b'.repeat(64) });

      // Assess
      await expect(again).rejects.toThrow(DigestConflictError);
      expect((await store.list())[0].hash).toBe('a'.repeat(64));
    });
  });

  describe('Method: list', () => {
    it('returns nothing before the first digest', async () => {
      // Act & Assess
      expect(await new FolderDigestStore(home).list()).toEqual([]);
    });

    it('reads every digest in (chainId, seq) order and names a damaged file', async () => {
      // Prepare
      const store = new FolderDigestStore(home);
      await store.put(digest('local-2', 1));
      await store.put(digest('local-1', 10));
      await store.put(digest('local-1', 9));

      // Act
      const listed = await store.list();
      await writeFile(join(home, 'audit-digests', 'local-2', '000000000002.json'), 'garbage');

      // Assess
      expect(listed.map((d) => d.digestId)).toEqual([
        'local-1/000000000009',
        'local-1/000000000010',
        'local-2/000000000001',
      ]);
      await expect(store.list()).rejects.toThrow(
        /000000000002\.json is not JSON; it was damaged or is not a digest/,
      );
    });
  });
});
