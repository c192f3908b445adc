import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  detectStrategy,
  openBeneath,
  openBeneathDirectory,
} from '../../../lambdas/connectors/file-store/open-beneath';

describe('Function: openBeneath', () => {
  let root: string;
  let outside: string;
  beforeEach(async () => {
    // Prepare: <root>/real/file.txt, <root>/link -> <outside>, <root>/real/file-link -> file.txt
    const home = await mkdtemp(join(tmpdir(), 'airlock-open-beneath-test-'));
    root = join(home, 'root');
    outside = join(home, 'outside');
    await mkdir(join(root, 'real'), { recursive: true });
    await mkdir(outside);
    await writeFile(join(root, 'real', 'file.txt'), 'inside');
    await writeFile(join(outside, 'file.txt'), 'outside');
    await symlink(outside, join(root, 'link'));
    await symlink('file.txt', join(root, 'real', 'file-link'));
  });
  afterEach(async () => {
    await rm(join(root, '..'), { recursive: true, force: true });
  });

  it('opens a file below the root, one real directory after another', async () => {
    // Act
    const handle = await openBeneath(root, ['real', 'file.txt']);

    // Assess
    try {
      expect(await handle.readFile('utf8')).toBe('inside');
    } finally {
      await handle.close();
    }
  });

  it.each([
    ['a link in the middle of the path', ['link', 'file.txt']],
    ['a link as the last name', ['real', 'file-link']],
  ])('refuses %s instead of following it', async (_label, segments) => {
    // Act
    const error = await openBeneath(root, segments).then(
      () => undefined,
      (refusal: NodeJS.ErrnoException) => refusal,
    );

    // Assess: ELOOP, or ENOTDIR where a link stands for a directory (O_DIRECTORY | O_NOFOLLOW on Linux)
    expect(['ELOOP', 'ENOTDIR']).toContain(error?.code);
  });

  it('refuses a file where a directory is expected (ENOTDIR) and a missing name (ENOENT)', async () => {
    // Act / Assess
    await expect(openBeneath(root, ['real', 'file.txt', 'more'])).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(openBeneath(root, ['real', 'missing.txt'])).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.each([[['..', 'outside']], [['real/file.txt']], [['']], [['.']]])(
    'refuses %j: only single names below the root',
    async (segments) => {
      // Act / Assess
      await expect(openBeneath(root, segments)).rejects.toThrow(/is not a single path segment/);
    },
  );
});

describe('Function: openBeneathDirectory', () => {
  let root: string;
  beforeEach(async () => {
    // Prepare: <root>/real/file.txt and <root>/real/file-link -> file.txt
    root = await mkdtemp(join(tmpdir(), 'airlock-open-beneath-directory-'));
    await mkdir(join(root, 'real'));
    await writeFile(join(root, 'real', 'file.txt'), 'inside');
    await symlink('file.txt', join(root, 'real', 'file-link'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('lists a directory it holds and reads a link in it as a link, never as its target', async () => {
    // Prepare
    const directory = await openBeneathDirectory(root, ['real']);

    try {
      // Act
      const names = (await directory.entries()).map((entry) => entry.name).sort();
      const file = await directory.statEntry('file.txt');
      const link = await directory.statEntry('file-link').then(
        (stats) => stats,
        (error: NodeJS.ErrnoException) => error,
      );

      // Assess
      expect(names).toEqual(['file-link', 'file.txt']);
      expect(file.isFile()).toBe(true);
      // Linux reads the link itself (lstat); macOS refuses to open it (ELOOP): either way, not the file.
      const seen = link instanceof Error ? link.code : link.isSymbolicLink() ? 'the link' : 'its target';
      expect(['the link', 'ELOOP']).toContain(seen);
    } finally {
      await directory.close();
    }
  });

  it('keeps reading the directory it opened after the path to it was turned into a link', async () => {
    // Prepare: hold real/, then move it away and put a link to elsewhere in its place
    const directory = await openBeneathDirectory(root, ['real']);
    await rename(join(root, 'real'), join(root, 'moved'));
    await mkdir(join(root, 'elsewhere'));
    await writeFile(join(root, 'elsewhere', 'file.txt'), 'elsewhere');
    await symlink(join(root, 'elsewhere'), join(root, 'real'));

    try {
      // Act
      const handle = await directory.openFile('file.txt');
      const text = await handle.readFile('utf8').finally(() => handle.close());

      // Assess: the directory that was opened, never what its old name points to now
      expect(text).toBe('inside');
    } finally {
      await directory.close();
    }
  });
});

describe('Function: detectStrategy', () => {
  it('uses /proc/self/fd on Linux, after checking that it follows the open directory, not its old path', async () => {
    // Act / Assess
    expect(await detectStrategy('linux')).toBe('proc-fd');
  });

  it('refuses O_NOFOLLOW_ANY where the kernel ignores it (here: Linux posing as macOS), so nothing is opened unsafely', async () => {
    // Act / Assess
    expect(await detectStrategy('darwin')).toBe('none');
  });

  it('has no mechanism for other platforms', async () => {
    // Act / Assess
    expect(await detectStrategy('freebsd')).toBe('none');
    expect(await detectStrategy('win32')).toBe('none');
  });
});
