/**
 * The file-store port over a local folder (the local pilot's receipts under AIRLOCK_HOME).
 * Keys arrive already checked by the connector; this adapter checks again against the file system
 * itself: every path is resolved with realpath and must stay inside the folder's own real path,
 * so a symlink pointing outside is refused, and only regular files are read.
 */
import { constants, type Dirent } from 'node:fs';
import { open, opendir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { contentTypeOf } from '../../connectors/content-type';
import { validateFileKey, validateFilePrefix } from '../../connectors/file-store/file-key';
import type { FileStore, FileStoreItem, FileStoreObject } from '../../connectors/file-store/file-store';
import { AirlockError } from '../../core/errors';

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
    const root = await this.resolveRoot();
    const folderPart = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    let start: string;
    try {
      start = await realpath(resolve(root, folderPart));
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return [];
      throw this.failure(error);
    }
    if (!this.isInside(root, start)) throw outsideFolder(prefix);

    const items: FileStoreItem[] = [];
    const walk = async (folder: string, depth: number): Promise<void> => {
      const entries: Dirent[] = [];
      for await (const entry of await opendir(folder)) entries.push(entry);
      for (const entry of entries) {
        const path = join(folder, entry.name);
        const key = relative(root, path).split(sep).join('/');
        if (!key.startsWith(prefix) && !(entry.isDirectory() && prefix.startsWith(`${key}/`))) continue;
        if (entry.isDirectory()) {
          if (depth < this.maxDepth) await walk(path, depth + 1);
          continue;
        }
        const file = entry.isSymbolicLink() ? await this.followInside(root, path) : path;
        if (file === undefined || !(entry.isFile() || entry.isSymbolicLink())) continue;
        const info = await stat(file);
        // Symlinked folders are not walked (they could loop); only regular files are listed.
        if (!info.isFile()) continue;
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
      await walk(start, folderPart.split('/').length - 1);
    } catch (error) {
      throw this.failure(error);
    }
    return items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async read(key: string): Promise<FileStoreObject> {
    validateFileKey(key, LABEL);
    const root = await this.resolveRoot();
    const candidate = resolve(root, key);
    if (!this.isInside(root, candidate)) throw outsideFolder(key);
    let real: string;
    try {
      real = await realpath(candidate);
    } catch (error) {
      throw this.failure(error, key);
    }
    if (!this.isInside(root, real)) throw outsideFolder(key);

    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      // O_NOFOLLOW: the checked path must not be swapped for a symlink before it is opened;
      // O_NONBLOCK: opening a FIFO must not hang the function.
      handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
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
      throw this.failure(error, key);
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

  /** The target of a symlink found while listing, when it stays inside the folder. */
  private async followInside(root: string, link: string): Promise<string | undefined> {
    try {
      const target = await realpath(link);
      return this.isInside(root, target) ? target : undefined;
    } catch {
      return undefined;
    }
  }

  private failure(error: unknown, key?: string): AirlockError {
    if (error instanceof AirlockError) return error;
    const code = errorCode(error);
    if (key !== undefined && (code === 'ENOENT' || code === 'ENOTDIR')) {
      return new AirlockError('not_found', `No file ${JSON.stringify(key)} in the ${LABEL}.`);
    }
    if (key !== undefined && code === 'ELOOP') return outsideFolder(key);
    if (key !== undefined && code === 'EISDIR') {
      return new AirlockError(
        'invalid_request',
        `The key ${JSON.stringify(key)} is not a regular file; use a key as returned by list.`,
      );
    }
    // Only the error code: a message could carry the machine's absolute paths.
    return new AirlockError('upstream_error', `The ${LABEL} could not be read (${code ?? 'unknown error'}).`);
  }
}
