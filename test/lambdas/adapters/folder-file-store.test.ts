import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderFileStore } from '../../../lambdas/connectors/file-store/folder-file-store';
import { AirlockError } from '../../../lambdas/core/errors';
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

    it.each([
      [
        'a name longer than the file system allows (ENAMETOOLONG)',
        `2026-q3/${'a'.repeat(300)}.txt`,
        'longer than the file system allows',
      ],
      [
        'a name of 86 four-byte characters (344 bytes: ENAMETOOLONG)',
        `${'\u{1F9FE}'.repeat(86)}.txt`,
        'longer than the file system allows',
      ],
      ['a lone surrogate', '2026-q3/\ud800.txt', 'unpaired UTF-16 surrogate'],
    ])('answers 400, not 502, for a key with %s', async (_label, key, message) => {
      // Act
      const error = await refusalAsync(() => new FolderFileStore(folder).read(key));

      // Assess
      expect(error.code).toBe('invalid_request');
      expect(error.message).toContain(message);
    });

    it('answers 400, not 502, for a prefix with a name too long or a lone surrogate', async () => {
      // Prepare
      const store = new FolderFileStore(folder);

      // Act
      const long = await refusalAsync(() => store.list(`${'a'.repeat(300)}/`));
      const surrogate = await refusalAsync(() => store.list('2026-q3/\udc00'));

      // Assess
      expect([long.code, surrogate.code]).toEqual(['invalid_request', 'invalid_request']);
    });

    it('refuses a lone surrogate that Node would open as the file named U+FFFD (one file, one spelling)', async () => {
      // Prepare: Node writes a lone surrogate in a path as U+FFFD, so "\ud800.txt" would open "\ufffd.txt"
      await writeFile(join(folder, '\ufffd.txt'), 'replacement character');
      const store = new FolderFileStore(folder);

      // Act
      const error = await refusalAsync(() => store.read('\ud800.txt'));
      const object = await store.read('\ufffd.txt');

      // Assess
      expect(error.code).toBe('invalid_request');
      expect(object.content.toString('utf8')).toBe('replacement character');
    });

    it('answers not_found for a key that goes through a file as if it were a folder (ENOTDIR)', async () => {
      // Act
      const error = await refusalAsync(() =>
        new FolderFileStore(folder).read('2026-q3/2026-07-14-taxi-client-visit.txt/more.txt'),
      );

      // Assess
      expect(error.code).toBe('not_found');
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

  describe('Race: a directory swapped for a link while the store reads it', () => {
    const INSIDE = 'inside receipt';
    let flipper: ChildProcess | undefined;

    beforeEach(async () => {
      // Prepare: receipts/race/receipt.txt inside; outside/receipt.txt and outside/outside-only.txt outside;
      // receipts/.link is a link to outside, ready to take race's place
      await mkdir(join(folder, 'race'));
      await writeFile(join(folder, 'race', 'receipt.txt'), INSIDE);
      await writeFile(join(home, 'outside', 'receipt.txt'), OUTSIDE_SECRET);
      await writeFile(join(home, 'outside', 'outside-only.txt'), OUTSIDE_SECRET);
      await symlink(join(home, 'outside'), join(folder, '.link'));
      // A second process swaps receipts/race between the real directory and the link, as fast as it can.
      const [race, aside, link] = ['race', '.aside', '.link'].map((name) => join(folder, name));
      flipper = spawn(
        process.execPath,
        [
          '-e',
          `const { renameSync } = require('node:fs');
           const [race, aside, link] = ${JSON.stringify([race, aside, link])};
           process.stdout.write('flipping\\n');
           for (;;) {
             try {
               renameSync(race, aside); renameSync(link, race);
               renameSync(race, link); renameSync(aside, race);
             } catch {}
           }`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await once(flipper.stdout!, 'data');
    });

    afterEach(async () => {
      if (flipper && flipper.exitCode === null) {
        const exited = once(flipper, 'exit');
        flipper.kill('SIGKILL');
        await exited;
      }
    });

    it('never returns the outside file, however often the directory becomes a link between check and open', async () => {
      // Act: read until both outcomes were seen many times (the race was run), at most 20,000 times
      const store = new FolderFileStore(folder);
      const seen = { inside: 0, refused: 0, leaked: 0, other: [] as string[] };
      for (let i = 0; i < 20_000 && (i < 2000 || seen.inside < 100 || seen.refused < 100); i++) {
        try {
          const text = (await store.read('race/receipt.txt')).content.toString('utf8');
          if (text === INSIDE) seen.inside++;
          else seen.leaked++;
        } catch (error) {
          if (error instanceof AirlockError && (error.code === 'forbidden' || error.code === 'not_found')) {
            seen.refused++;
          } else {
            seen.other.push(String(error));
          }
        }
      }

      // Assess
      expect(seen.leaked).toBe(0);
      expect(seen.other).toEqual([]);
      expect(seen.inside).toBeGreaterThanOrEqual(100);
      expect(seen.refused).toBeGreaterThanOrEqual(100);
    });

    it('never lists a file from outside, however often a listed directory becomes a link', async () => {
      // Act
      const store = new FolderFileStore(folder);
      const listed = new Set<string>();
      let raced = 0;
      // Until both sides of the race were seen (under load the swapper can win many listings in a row).
      for (let i = 0; i < 20_000 && (i < 300 || raced < 50 || !listed.has('race/receipt.txt')); i++) {
        try {
          const keys = (await store.list('race/')).map((item) => item.key);
          if (!keys.includes('race/receipt.txt')) raced++;
          for (const key of keys) listed.add(key);
        } catch (error) {
          // race/ resolved outside at that moment: refused, as it must be.
          if (!(error instanceof AirlockError && error.code === 'forbidden')) throw error;
          raced++;
        }
      }

      // Assess
      expect([...listed]).toEqual(['race/receipt.txt']);
      expect(raced).toBeGreaterThanOrEqual(50);
    });
  });
});
