import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderFileStore } from '../../../lambdas/adapters/local/folder-file-store';
import { SAMPLE_RECEIPTS, seedSampleReceipts } from '../../../local/sample-receipts';
import { TRAVERSAL_CORPUS } from '../connectors/traversal-corpus';
import { refusalAsync } from '../support/refusal';

const OUTSIDE_SECRET = 'outside the receipts folder: must never be returned';

describe('Class: FolderFileStore', () => {
  let home: string;
  let folder: string;

  beforeEach(async () => {
    // Prepare: <home>/receipts (the store) next to files and a folder outside it
    home = await mkdtemp(join(tmpdir(), 'airlock-folder-store-'));
    folder = join(home, 'receipts');
    await seedSampleReceipts(folder);
    await writeFile(join(home, 'secret.txt'), OUTSIDE_SECRET);
    await mkdir(join(home, 'outside'));
    await writeFile(join(home, 'outside', 'inside-outside.txt'), OUTSIDE_SECRET);
    await symlink(join(home, 'secret.txt'), join(folder, 'link-to-secret.txt'));
    await symlink(join(home, 'outside'), join(folder, 'link-to-outside'));
    await symlink('2026-q3/2026-07-14-taxi-client-visit.txt', join(folder, 'link-inside.txt'));
  });

  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  describe('Method: list', () => {
    it('lists every receipt with its size and modification time, sorted by key', async () => {
      // Prepare
      const store = new FolderFileStore(folder);

      // Act
      const items = await store.list('');

      // Assess
      const keys = items.map((item) => item.key);
      expect(keys).toEqual([...Object.keys(SAMPLE_RECEIPTS), 'link-inside.txt'].sort());
      const lunch = items.find((item) => item.key === '2026-q3/2026-08-21-team-lunch-trattoria.txt');
      expect(lunch?.size).toBe(
        Buffer.byteLength(SAMPLE_RECEIPTS['2026-q3/2026-08-21-team-lunch-trattoria.txt']),
      );
      expect(new Date(lunch?.modified ?? 0).getTime()).toBeGreaterThan(Date.now() - 60_000);
    });

    it('lists only below a prefix', async () => {
      // Prepare
      const store = new FolderFileStore(folder);

      // Act
      const items = await store.list('2026-q2/');

      // Assess
      expect(items.map((item) => item.key)).toEqual(['2026-q2/2026-06-18-taxi-airport.txt']);
    });

    it('never lists files reached through a symlink that points outside the folder', async () => {
      // Prepare
      const store = new FolderFileStore(folder);

      // Act
      const keys = (await store.list('')).map((item) => item.key);

      // Assess
      expect(keys).not.toContain('link-to-secret.txt');
      expect(keys.some((key) => key.startsWith('link-to-outside'))).toBe(false);
    });

    it('answers an empty list for a prefix that does not exist', async () => {
      // Act / Assess
      expect(await new FolderFileStore(folder).list('2019-q1/')).toEqual([]);
    });

    it('refuses a listing larger than its limit instead of cutting it short', async () => {
      // Prepare
      const store = new FolderFileStore(folder, { maxItems: 2 });

      // Act
      const error = await refusalAsync(() => store.list(''));

      // Assess
      expect(error.code).toBe('payload_too_large');
      expect(error.message).toContain('list a narrower prefix');
    });
  });

  describe('Method: read', () => {
    it('reads a receipt with a text content type', async () => {
      // Prepare
      const store = new FolderFileStore(folder);
      const key = '2026-q3/2026-08-21-team-lunch-trattoria.txt';

      // Act
      const object = await store.read(key);

      // Assess
      expect(object.contentType).toBe('text/plain; charset=utf-8');
      expect(object.content.toString('utf8')).toBe(SAMPLE_RECEIPTS[key]);
    });

    it('follows a symlink that stays inside the folder', async () => {
      // Act
      const object = await new FolderFileStore(folder).read('link-inside.txt');

      // Assess
      expect(object.content.toString('utf8')).toBe(
        SAMPLE_RECEIPTS['2026-q3/2026-07-14-taxi-client-visit.txt'],
      );
    });

    it.each([['link-to-secret.txt'], ['link-to-outside/inside-outside.txt']])(
      'refuses %s, a symlink pointing outside the folder',
      async (key) => {
        // Act
        const error = await refusalAsync(() => new FolderFileStore(folder).read(key));

        // Assess
        expect(error.code).toBe('forbidden');
        expect(error.message).toContain('the key must stay inside');
        expect(error.message).not.toContain(OUTSIDE_SECRET);
      },
    );

    it.each(TRAVERSAL_CORPUS.map((key) => [JSON.stringify(key), key]))(
      'refuses %s even when called directly, bypassing the connector',
      async (_label, key) => {
        // Act
        const error = await refusalAsync(() => new FolderFileStore(folder).read(key));

        // Assess
        expect(error.code).toBe('forbidden');
      },
    );

    it('answers not_found for a receipt that does not exist', async () => {
      // Act
      const error = await refusalAsync(() => new FolderFileStore(folder).read('2026-q3/missing.txt'));

      // Assess
      expect(error.code).toBe('not_found');
      expect(error.message).not.toContain(home);
    });

    it('refuses a folder and a named pipe: only regular files are read', async () => {
      // Prepare
      execFileSync('mkfifo', [join(folder, 'pipe.txt')]);
      const store = new FolderFileStore(folder);

      // Act
      const directory = await refusalAsync(() => store.read('2026-q3'));
      const pipe = await refusalAsync(() => store.read('pipe.txt'));

      // Assess
      expect(directory.code).toBe('invalid_request');
      expect(pipe.code).toBe('invalid_request');
      expect(pipe.message).toContain('not a regular file');
    });

    it('refuses a file larger than its limit', async () => {
      // Prepare
      await writeFile(join(folder, 'big.txt'), 'x'.repeat(2048));
      const store = new FolderFileStore(folder, { maxBytes: 1024 });

      // Act
      const error = await refusalAsync(() => store.read('big.txt'));

      // Assess
      expect(error.code).toBe('payload_too_large');
      expect(error.message).toContain('1024 bytes');
    });

    it('reports a missing folder as an upstream failure without its path', async () => {
      // Act
      const error = await refusalAsync(() => new FolderFileStore(join(home, 'nope')).read('a.txt'));

      // Assess
      expect(error.code).toBe('upstream_error');
      expect(error.message).not.toContain(home);
    });
  });
});
