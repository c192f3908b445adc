/**
 * The file-store port: the read-only primitives the file-store connector needs. AWS: an S3 bucket
 * prefix (`S3FileStore`); local pilot: a folder (`FolderFileStore`). Keys are relative to the store's
 * root and already validated by the connector; adapters still refuse anything that leaves the root.
 */
export interface FileStoreItem {
  /** Key relative to the store's root, `/`-separated. */
  readonly key: string;
  readonly size: number;
  /** Last modification, ISO 8601. */
  readonly modified: string;
}

export interface FileStoreObject {
  readonly key: string;
  readonly contentType: string;
  readonly content: Buffer;
}

export interface FileStore {
  /**
   * Files whose key starts with `prefix` (`''` lists everything), sorted by key. Bounded by the
   * adapter's item limit: a listing that would exceed it is refused (`payload_too_large`) rather
   * than silently cut, since a summary built from a partial listing would look complete.
   */
  list(prefix: string): Promise<FileStoreItem[]>;
  /**
   * One file. Throws `not_found` when missing, `payload_too_large` when larger than the adapter's
   * limit, `forbidden` when it resolves outside the store, `upstream_error` when the store fails.
   */
  read(key: string): Promise<FileStoreObject>;
}
