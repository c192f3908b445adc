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
import { constants } from 'node:fs';
import { type FileHandle, mkdir, mkdtemp, open, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How {@link openBeneath} avoids links on this platform, or `none`. */
export type BeneathStrategy = 'proc-fd' | 'nofollow-any' | 'none';

/** `O_NOFOLLOW_ANY` of macOS 11+ (sys/fcntl.h); Node does not export it. */
const O_NOFOLLOW_ANY = 0x20000000;

/** The platform cannot open a path without following links: nothing is opened. */
export class NoSafeOpenError extends Error {
  public readonly name = 'NoSafeOpenError';
}

export interface OpenBeneathOptions {
  /** Open a directory (O_DIRECTORY) instead of a file. @default false */
  readonly directory?: boolean;
}

/**
 * Opens `segments` (names, none empty, `.` or `..`, none containing `/`) below `root` without following
 * a link in any of them. `root` itself is opened by its path: it must be a real path (no links) whose
 * parents the attacker does not control. A file is opened O_RDONLY | O_NONBLOCK (a FIFO must not hang).
 * @throws the file system's error (`ELOOP` when a segment is a link, `ENOTDIR`, `ENOENT`, ...) or
 *   {@link NoSafeOpenError} when the platform has no sound mechanism
 */
export async function openBeneath(
  root: string,
  segments: readonly string[],
  options: OpenBeneathOptions = {},
): Promise<FileHandle> {
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..' || segment.includes('/')) {
      throw new TypeError(`openBeneath: ${JSON.stringify(segment)} is not a single path segment`);
    }
  }
  const last = options.directory
    ? constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW
    : constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  detected ??= detectStrategy(process.platform).catch((error: unknown) => {
    // The scratch directory could not be made: ask again next time rather than refuse forever.
    detected = undefined;
    throw error;
  });
  const strategy = await detected;
  switch (strategy) {
    case 'proc-fd':
      return openThroughProcFd(root, segments, last);
    case 'nofollow-any':
      return open(join(root, ...segments), last | O_NOFOLLOW_ANY);
    default:
      throw new NoSafeOpenError(
        `cannot open files without following links on ${process.platform}: Airlock's folder store needs Linux (/proc) or macOS 11 or later`,
      );
  }
}

let detected: Promise<BeneathStrategy> | undefined;

async function openThroughProcFd(
  root: string,
  segments: readonly string[],
  last: number,
): Promise<FileHandle> {
  let current = await open(root, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    for (let i = 0; i < segments.length; i++) {
      const flags =
        i === segments.length - 1 ? last : constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
      const next = await open(`/proc/self/fd/${current.fd}/${segments[i]}`, flags);
      await current.close();
      current = next;
    }
    return current;
  } catch (error) {
    await current.close();
    throw error;
  }
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
