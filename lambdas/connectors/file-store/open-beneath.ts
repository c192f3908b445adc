/**
 * Opening a path below a trusted directory without following a symbolic link at any step, so a
 * directory swapped for a link between a check and the open cannot lead outside (the race that
 * `realpath` then `open(O_NOFOLLOW)` leaves open: O_NOFOLLOW guards only the last component).
 *
 * Node has no `openat(2)`, and `openat2(RESOLVE_BENEATH)` is out of reach, so each platform gets the
 * sound mechanism it has, and this module checks once per process that the mechanism behaves as
 * promised before trusting it:
 * - Linux: walk one component at a time, each opened through `/proc/self/fd/<fd of the directory
 *   opened before>/<name>` with O_NOFOLLOW. The kernel resolves `/proc/self/fd/N` to the open
 *   directory itself, not to a path, so this is `openat(fd, name, O_NOFOLLOW)`: what the names
 *   point to now is irrelevant once a directory is open.
 * - macOS 11 and later: one `open` with O_NOFOLLOW_ANY, which refuses a link anywhere in the path.
 * - anything else, or a mechanism that fails its check: nothing is opened (fail closed).
 */
import { constants, type Dirent, type Stats } from 'node:fs';
import {
  type FileHandle,
  lstat,
  mkdir,
  mkdtemp,
  open,
  opendir,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How {@link openBeneath} avoids links on this platform, or `none`. */
export type BeneathStrategy = 'proc-fd' | 'nofollow-any' | 'none';

/** `O_NOFOLLOW_ANY` of macOS 11+ (sys/fcntl.h); Node does not export it. */
const O_NOFOLLOW_ANY = 0x20000000;

const FILE_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const DIRECTORY_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** The platform cannot open a path without following links: nothing is opened. */
export class NoSafeOpenError extends Error {
  public readonly name = 'NoSafeOpenError';
}

/**
 * A directory reached from the root without following links. Names opened in it are opened relative to
 * it, never by re-reading the path that led there.
 */
export interface BeneathDirectory {
  /**
   * Opens the file `name` in this directory, O_RDONLY | O_NOFOLLOW | O_NONBLOCK (a FIFO must not hang).
   * @throws the file system's error: `ELOOP` for a link, `ENOENT`, ...
   */
  openFile(name: string): Promise<FileHandle>;
  /**
   * What the file system says of `name` in this directory, without following it if it is a link (a link
   * reads as a link, never as what it points to).
   * @throws the file system's error: `ENOENT`, ...
   */
  statEntry(name: string): Promise<Stats>;
  /**
   * Opens the directory `name` in this directory.
   * @throws the file system's error: `ENOTDIR` or `ELOOP` for a link or a file, `ENOENT`, ...
   */
  openDirectory(name: string): Promise<BeneathDirectory>;
  /** What this directory holds (on macOS read by path: open what it names with {@link openFile}). */
  entries(): Promise<Dirent[]>;
  close(): Promise<void>;
}

/**
 * Opens `segments` (names, none empty, `.` or `..`, none containing `/`) below `root` without following
 * a link in any of them. `root` itself is opened by its path: it must be a real path (no links) whose
 * parents the attacker does not control.
 * @throws the file system's error (`ELOOP` or `ENOTDIR` when a segment is a link, `ENOENT`, `EISDIR`
 *   for no segment at all, ...) or {@link NoSafeOpenError} when the platform has no sound mechanism
 */
export async function openBeneath(root: string, segments: readonly string[]): Promise<FileHandle> {
  if (segments.length === 0) {
    // The root itself is no file to read.
    throw Object.assign(new Error(`${root} is a directory`), { code: 'EISDIR' });
  }
  const directory = await openBeneathDirectory(root, segments.slice(0, -1));
  try {
    return await directory.openFile(segments[segments.length - 1]);
  } finally {
    await directory.close();
  }
}

/**
 * Opens the directory `segments` below `root` the way {@link openBeneath} opens a file.
 * @throws as {@link openBeneath}
 */
export async function openBeneathDirectory(
  root: string,
  segments: readonly string[],
): Promise<BeneathDirectory> {
  for (const segment of segments) checkName(segment);
  detected ??= detectStrategy(process.platform).catch((error: unknown) => {
    // The scratch directory could not be made: ask again next time rather than refuse forever.
    detected = undefined;
    throw error;
  });
  const strategy = await detected;
  let current: BeneathDirectory;
  switch (strategy) {
    case 'proc-fd':
      current = new ProcFdDirectory(await open(root, DIRECTORY_FLAGS));
      break;
    case 'nofollow-any':
      await (await open(root, DIRECTORY_FLAGS | O_NOFOLLOW_ANY)).close();
      current = new NoFollowAnyDirectory(root);
      break;
    default:
      throw new NoSafeOpenError(
        `cannot open files without following links on ${process.platform}: Airlock's folder store needs Linux (/proc) or macOS 11 or later`,
      );
  }
  try {
    for (const segment of segments) {
      const next = await current.openDirectory(segment);
      await current.close();
      current = next;
    }
    return current;
  } catch (error) {
    await current.close();
    throw error;
  }
}

let detected: Promise<BeneathStrategy> | undefined;

function checkName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/')) {
    throw new TypeError(`openBeneath: ${JSON.stringify(name)} is not a single path segment`);
  }
}

async function entriesAt(path: string): Promise<Dirent[]> {
  const entries: Dirent[] = [];
  for await (const entry of await opendir(path)) entries.push(entry);
  return entries;
}

/**
 * Linux: `/proc/self/fd/<fd>/<name>` resolves `<name>` in the directory the descriptor holds open, as
 * `openat(fd, name)` does, whatever has become of the path that led to it.
 */
class ProcFdDirectory implements BeneathDirectory {
  constructor(private readonly handle: FileHandle) {}

  openFile(name: string): Promise<FileHandle> {
    checkName(name);
    return open(`/proc/self/fd/${this.handle.fd}/${name}`, FILE_FLAGS);
  }

  statEntry(name: string): Promise<Stats> {
    checkName(name);
    // lstat does not follow the last name; the magic link before it is the held directory.
    return lstat(`/proc/self/fd/${this.handle.fd}/${name}`);
  }

  async openDirectory(name: string): Promise<BeneathDirectory> {
    checkName(name);
    return new ProcFdDirectory(await open(`/proc/self/fd/${this.handle.fd}/${name}`, DIRECTORY_FLAGS));
  }

  entries(): Promise<Dirent[]> {
    return entriesAt(`/proc/self/fd/${this.handle.fd}`);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** macOS: every open names the whole path and O_NOFOLLOW_ANY refuses a link anywhere in it. */
class NoFollowAnyDirectory implements BeneathDirectory {
  constructor(private readonly path: string) {}

  openFile(name: string): Promise<FileHandle> {
    checkName(name);
    return open(join(this.path, name), FILE_FLAGS | O_NOFOLLOW_ANY);
  }

  async statEntry(name: string): Promise<Stats> {
    // Node has no fstatat(AT_SYMLINK_NOFOLLOW_ANY): open (which refuses a link) and ask the descriptor.
    const handle = await this.openFile(name);
    try {
      return await handle.stat();
    } finally {
      await handle.close();
    }
  }

  async openDirectory(name: string): Promise<BeneathDirectory> {
    checkName(name);
    const path = join(this.path, name);
    await (await open(path, DIRECTORY_FLAGS | O_NOFOLLOW_ANY)).close();
    return new NoFollowAnyDirectory(path);
  }

  entries(): Promise<Dirent[]> {
    return entriesAt(this.path);
  }

  async close(): Promise<void> {}
}

/**
 * The mechanism {@link openBeneath} would use on `platform`, after checking in a scratch directory that
 * it behaves as promised here (a sandbox can emulate /proc with plain links; an old macOS ignores
 * O_NOFOLLOW_ANY): `none` when it does not.
 * @throws the file system's error when the scratch directory cannot be made
 */
export async function detectStrategy(platform: NodeJS.Platform): Promise<BeneathStrategy> {
  const candidate: BeneathStrategy =
    platform === 'linux' ? 'proc-fd' : platform === 'darwin' ? 'nofollow-any' : 'none';
  if (candidate === 'none') return 'none';
  const scratch = await mkdtemp(join(tmpdir(), 'airlock-open-beneath-'));
  try {
    return (await (candidate === 'proc-fd' ? procFdHolds(scratch) : noFollowAnyHolds(scratch)))
      ? candidate
      : 'none';
  } catch {
    return 'none';
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** `/proc/self/fd/N/name` must reach the open directory after it was renamed, not whatever its old path names. */
async function procFdHolds(scratch: string): Promise<boolean> {
  await mkdir(join(scratch, 'opened'));
  await writeFile(join(scratch, 'opened', 'file'), 'opened');
  const directory = await open(join(scratch, 'opened'), constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await rename(join(scratch, 'opened'), join(scratch, 'moved'));
    await mkdir(join(scratch, 'opened'));
    await writeFile(join(scratch, 'opened', 'file'), 'path');
    const file = await open(`/proc/self/fd/${directory.fd}/file`, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return (await file.readFile('utf8')) === 'opened';
    } finally {
      await file.close();
    }
  } finally {
    await directory.close();
  }
}

/** A link in the middle of the path must be refused, and the same path without it opened. */
async function noFollowAnyHolds(scratch: string): Promise<boolean> {
  await mkdir(join(scratch, 'real'));
  await writeFile(join(scratch, 'real', 'file'), 'real');
  await symlink('real', join(scratch, 'link'));
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | O_NOFOLLOW_ANY;
  try {
    await (await open(join(scratch, 'link', 'file'), flags)).close();
    return false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOOP') return false;
  }
  await (await open(join(scratch, 'real', 'file'), flags)).close();
  return true;
}
