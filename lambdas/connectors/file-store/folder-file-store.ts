/**
 * The file-store port over a local folder (the local pilot's receipts under AIRLOCK_HOME).
 * Keys arrive already checked by the connector; this adapter checks again against the file system
 * itself: every path is resolved with realpath and must stay inside the folder's own real path, so a
 * symlink pointing outside is refused, and the resolved path is then opened without following any
 * link at any step ({@link openBeneath}), so a directory swapped for a link after the check cannot lead
 * outside either. Only regular files are read; a listing reports only files opened that way.
 */
import type { Stats } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { AirlockError } from '../../core/errors';
import { contentTypeOf } from '../content-type';
import { validateFileKey, validateFilePrefix } from './file-key';
import type { FileStore, FileStoreItem, FileStoreObject } from './file-store';
import { type BeneathDirectory, NoSafeOpenError, openBeneath, openBeneathDirectory } from './open-beneath';

export interface FolderFileStoreOptions {
  /**
   * Largest file returned, in bytes.
   * @default 5 MiB
   */
  readonly maxBytes?: number;
  /**
   * Most files one listing returns; a listing with more is refused.
   * @default 1000
   */
  readonly maxItems?: number;
  /**
   * Deepest folder nesting a listing walks.
   * @default 8
   */
  readonly maxDepth?: number;
}

const LABEL = 'file store';

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** A UTF-16 surrogate not in a pair: no file name (UTF-8 on disk) can hold it, Node would write U+FFFD. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/** What a failure concerns: the key read or the prefix listed. */
interface Subject {
  readonly kind: 'key' | 'prefix';
  readonly value: string;
}

function checkWellFormed({ kind, value }: Subject): void {
  if (LONE_SURROGATE.test(value)) {
    throw new AirlockError(
      'invalid_request',
      `The ${kind} contains an unpaired UTF-16 surrogate, which no file name can hold; send the ${kind} as list returns it.`,
    );
  }
}

function outsideFolder(key: string): AirlockError {
  return new AirlockError(
    'forbidden',
    `The key ${JSON.stringify(key)} is refused: the key must stay inside the ${LABEL} folder.`,
    { reasons: ['file-key-outside-folder'] },
  );
}

/** A folder of files, read-only. */
export class FolderFileStore implements FileStore {
  private readonly root: string;
  private readonly maxBytes: number;
  private readonly maxItems: number;
  private readonly maxDepth: number;
  private realRoot?: Promise<string>;

  /** @param root the folder; it must exist when the first call arrives */
  constructor(root: string, options: FolderFileStoreOptions = {}) {
    this.root = resolve(root);
    this.maxBytes = options.maxBytes ?? 5 * 1024 * 1024;
    this.maxItems = options.maxItems ?? 1000;
    this.maxDepth = options.maxDepth ?? 8;
  }

  async list(prefix: string): Promise<FileStoreItem[]> {
    validateFilePrefix(prefix, LABEL);
    const subject: Subject = { kind: 'prefix', value: prefix };
    checkWellFormed(subject);
    const root = await this.resolveRoot();
    const folderPart = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    let start: string;
    try {
      start = await realpath(resolve(root, folderPart));
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return [];
      throw this.failure(error, subject);
    }
    if (!this.isInside(root, start)) throw outsideFolder(prefix);

    // The walk holds each directory open and opens what it lists relative to it (openBeneath), so a
    // directory swapped for a link while it runs neither leads the walk outside nor names a file there.
    const items: FileStoreItem[] = [];
    const walk = async (directory: BeneathDirectory, folder: string, depth: number): Promise<void> => {
      for (const entry of await directory.entries()) {
        const path = join(folder, entry.name);
        const key = relative(root, path).split(sep).join('/');
        if (!key.startsWith(prefix) && !(entry.isDirectory() && prefix.startsWith(`${key}/`))) continue;
        if (entry.isDirectory()) {
          if (depth >= this.maxDepth) continue;
          const child = await whileThere(directory.openDirectory(entry.name));
          if (child === undefined) continue;
          try {
            await walk(child, path, depth + 1);
          } finally {
            await child.close();
          }
          continue;
        }
        // Symlinked folders are not walked (they could loop); only regular files are listed.
        let info: Stats | undefined;
        if (entry.isFile()) {
          info = await whileThere(directory.statEntry(entry.name));
        } else if (entry.isSymbolicLink()) {
          info = await this.statInside(root, path);
        }
        if (info === undefined || !info.isFile()) continue;
        items.push({ key, size: info.size, modified: info.mtime.toISOString() });
        if (items.length > this.maxItems) {
          throw new AirlockError(
            'payload_too_large',
            `More than ${this.maxItems} files match the prefix ${JSON.stringify(prefix)}; list a narrower prefix.`,
          );
        }
      }
    };
    try {
      const directory = await whileThere(openBeneathDirectory(root, segmentsOf(root, start)));
      if (directory === undefined) return [];
      try {
        await walk(directory, start, folderPart.split('/').length - 1);
      } finally {
        await directory.close();
      }
    } catch (error) {
      throw this.failure(error, subject);
    }
    return items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async read(key: string): Promise<FileStoreObject> {
    validateFileKey(key, LABEL);
    const subject: Subject = { kind: 'key', value: key };
    checkWellFormed(subject);
    const root = await this.resolveRoot();
    const candidate = resolve(root, key);
    if (!this.isInside(root, candidate)) throw outsideFolder(key);
    let real: string;
    try {
      real = await realpath(candidate);
    } catch (error) {
      throw this.failure(error, subject);
    }
    if (!this.isInside(root, real)) throw outsideFolder(key);

    let handle: Awaited<ReturnType<typeof openBeneath>> | undefined;
    try {
      // realpath resolved the links that stay inside; what it found is opened without following any
      // link, so a directory turned into a link since then fails (ELOOP, ENOTDIR) instead of leading outside.
      handle = await openBeneath(root, segmentsOf(root, real));
      const info = await handle.stat();
      if (!info.isFile()) {
        throw new AirlockError(
          'invalid_request',
          `The key ${JSON.stringify(key)} is not a regular file; use a key as returned by list.`,
        );
      }
      if (info.size > this.maxBytes) throw this.tooLarge(key);
      const buffer = Buffer.alloc(Math.min(info.size, this.maxBytes) + 1);
      let length = 0;
      while (length < buffer.length) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
        if (bytesRead === 0) break;
        length += bytesRead;
      }
      // The file grew between stat and read.
      if (length > this.maxBytes) throw this.tooLarge(key);
      return { key, contentType: contentTypeOf(key), content: buffer.subarray(0, length) };
    } catch (error) {
      throw this.failure(error, subject);
    } finally {
      await handle?.close();
    }
  }

  private tooLarge(key: string): AirlockError {
    return new AirlockError(
      'payload_too_large',
      `The file ${JSON.stringify(key)} is larger than the ${this.maxBytes} bytes a connector may return.`,
    );
  }

  private resolveRoot(): Promise<string> {
    this.realRoot ??= realpath(this.root).catch((error: unknown) => {
      this.realRoot = undefined;
      throw new AirlockError(
        'upstream_error',
        `The ${LABEL} folder cannot be opened (${errorCode(error) ?? 'unknown error'}).`,
      );
    });
    return this.realRoot;
  }

  private isInside(root: string, path: string): boolean {
    const rel = relative(root, path);
    return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
  }

  /**
   * What a listed entry is, when its real path stays inside the folder and opens there without
   * following a link; `undefined` otherwise (a link leading outside, a race, a file gone since).
   */
  private async statInside(root: string, path: string): Promise<Stats | undefined> {
    let handle: Awaited<ReturnType<typeof openBeneath>> | undefined;
    try {
      const real = await realpath(path);
      if (!this.isInside(root, real)) return undefined;
      handle = await openBeneath(root, segmentsOf(root, real));
      return await handle.stat();
    } catch (error) {
      if (error instanceof NoSafeOpenError) throw error;
      return undefined;
    } finally {
      await handle?.close();
    }
  }

  private failure(error: unknown, subject?: Subject): AirlockError {
    if (error instanceof AirlockError) return error;
    if (error instanceof NoSafeOpenError) {
      return new AirlockError('upstream_error', `The ${LABEL} cannot be read here: ${error.message}.`);
    }
    const code = errorCode(error);
    if (subject !== undefined && code === 'ENAMETOOLONG') {
      return new AirlockError(
        'invalid_request',
        `The ${subject.kind} ${JSON.stringify(subject.value.slice(0, 80))} has a name longer than the file system allows (255 bytes per folder or file name); use a key as returned by list.`,
      );
    }
    if (subject?.kind === 'key') {
      const key = subject.value;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        return new AirlockError('not_found', `No file ${JSON.stringify(key)} in the ${LABEL}.`);
      }
      // A link where realpath saw none: something changed the folder between the check and the open.
      if (code === 'ELOOP') return outsideFolder(key);
      if (code === 'EISDIR') {
        return new AirlockError(
          'invalid_request',
          `The key ${JSON.stringify(key)} is not a regular file; use a key as returned by list.`,
        );
      }
    }
    // Only the error code: a message could carry the machine's absolute paths.
    return new AirlockError('upstream_error', `The ${LABEL} could not be read (${code ?? 'unknown error'}).`);
  }
}

/**
 * What `opening` opens, or `undefined` when it is no longer there as listed: removed (ENOENT), or
 * replaced by a file or a link (ENOTDIR, ELOOP) since its directory was read.
 */
async function whileThere<T>(opening: Promise<T>): Promise<T | undefined> {
  try {
    return await opening;
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return undefined;
    throw error;
  }
}

/** The names from `root` down to `real` (a real path inside it); none when it is the root itself. */
function segmentsOf(root: string, real: string): string[] {
  const rel = relative(root, real);
  return rel === '' ? [] : rel.split(sep);
}
