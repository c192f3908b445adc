import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectStrategy, openBeneath } from '../../../lambdas/adapters/local/open-beneath';

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
