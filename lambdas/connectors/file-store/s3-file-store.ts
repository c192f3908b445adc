/**
 * The file-store port over one S3 bucket prefix (the connector's `aws.prefix`). The function's role
 * is granted that prefix only; this adapter also never builds a key outside it.
 */
import type { GetObjectCommandOutput, ListObjectsV2CommandOutput, S3Client } from '@aws-sdk/client-s3';
import {
  type AwsScope,
  type DeclaresIamPermissions,
  type IamActions,
  type IamPermission,
  permissionsOf,
  s3Arn,
} from '../../adapters/aws/iam-permissions';
import { type ClientSource, clientOf, onDemand } from '../../adapters/aws/on-demand';
import { AirlockError } from '../../core/errors';
import { contentTypeOf } from '../content-type';
import { validateFileKey, validateFilePrefix } from './file-key';
import type { FileStore, FileStoreItem, FileStoreObject } from './file-store';

type FileStoreMethod = keyof FileStore;

/** The S3 client package, loaded on a file store's first call (lambdas/adapters/aws/on-demand.ts). */
export const loadS3Sdk = onDemand(() => import('@aws-sdk/client-s3'));

/**
 * The IAM actions each method sends: the listing (a bucket action whose request carries the
 * prefix as `s3:prefix`) and reading objects below the prefix.
 */
export const S3_FILE_STORE_ACTIONS = {
  list: ['s3:ListBucket'],
  read: ['s3:GetObject'],
} as const satisfies IamActions<FileStoreMethod>;

export interface S3FileStoreProps {
  /** Created once per function and injected (tests pass a mocked client), or on the first call. */
  readonly client: ClientSource<S3Client>;
  readonly bucket: string;
  /** Key prefix of the store, ending with `/` (e.g. `receipts/`). */
  readonly prefix: string;
  /**
   * Largest object returned, in bytes.
   * @default 5 MiB
   */
  readonly maxBytes?: number;
  /**
   * Most objects one listing returns; a listing with more is refused.
   * @default 1000
   */
  readonly maxItems?: number;
}

const LABEL = 'file store';

/** Bounds the number of ListObjectsV2 calls even if S3 were to answer with tiny pages. */
const MAX_LIST_PAGES = 50;

/** S3's limit on an object key, in UTF-8 bytes; the store's prefix counts. */
const MAX_S3_KEY_BYTES = 1024;

/** A UTF-16 surrogate not in a pair: it has no UTF-8 form, and the SDK throws URIError building the URL. */
const LONE_SURROGATE = /\p{Surrogate}/u;

function errorName(error: unknown): string {
  return (error as { name?: string } | undefined)?.name ?? 'unknown error';
}

/** S3 bucket prefix as a read-only file store. */
export class S3FileStore implements FileStore, DeclaresIamPermissions<FileStoreMethod> {
  private readonly client: ClientSource<S3Client>;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly maxBytes: number;
  private readonly maxItems: number;

  constructor(props: S3FileStoreProps) {
    if (props.prefix !== '' && (!props.prefix.endsWith('/') || props.prefix.startsWith('/'))) {
      throw new Error(
        `S3FileStore prefix ${JSON.stringify(props.prefix)} must be relative and end with "/" (e.g. receipts/).`,
      );
    }
    this.client = props.client;
    this.bucket = props.bucket;
    this.prefix = props.prefix;
    this.maxBytes = props.maxBytes ?? 5 * 1024 * 1024;
    this.maxItems = props.maxItems ?? 1000;
  }

  iamPermissions(methods: readonly FileStoreMethod[], scope: AwsScope): IamPermission[] {
    return permissionsOf('S3FileStore', S3_FILE_STORE_ACTIONS, methods, (action) => [
      action === 's3:ListBucket'
        ? { resource: s3Arn(scope, this.bucket), context: { 's3:prefix': this.prefix } }
        : { resource: s3Arn(scope, this.bucket, `${this.prefix}*`) },
    ]);
  }

  async list(prefix: string): Promise<FileStoreItem[]> {
    validateFilePrefix(prefix, LABEL);
    this.checkSendable('prefix', prefix);
    const items: FileStoreItem[] = [];
    let continuationToken: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      let output: ListObjectsV2CommandOutput;
      try {
        const [{ ListObjectsV2Command }, client] = await Promise.all([loadS3Sdk(), clientOf(this.client)]);
        output = await client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            ContinuationToken: continuationToken,
            // One more than the limit is enough to know the limit is exceeded.
            MaxKeys: Math.min(1000, this.maxItems + 1 - items.length),
          }),
        );
      } catch (error) {
        throw this.failure(error);
      }
      for (const object of output.Contents ?? []) {
        if (!object.Key?.startsWith(this.prefix)) continue;
        const key = object.Key.slice(this.prefix.length);
        // Folder markers (`2026-q3/`) are not files.
        if (key === '' || key.endsWith('/')) continue;
        items.push({
          key,
          size: object.Size ?? 0,
          modified: (object.LastModified ?? new Date(0)).toISOString(),
        });
      }
      if (items.length > this.maxItems) {
        throw new AirlockError(
          'payload_too_large',
          `More than ${this.maxItems} files match the prefix ${JSON.stringify(prefix)}; list a narrower prefix.`,
        );
      }
      if (!output.IsTruncated || !output.NextContinuationToken) {
        return items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      }
      continuationToken = output.NextContinuationToken;
    }
    throw new AirlockError(
      'upstream_error',
      `The ${LABEL} listing did not finish within ${MAX_LIST_PAGES} pages; list a narrower prefix.`,
    );
  }

  async read(key: string): Promise<FileStoreObject> {
    validateFileKey(key, LABEL);
    this.checkSendable('key', key);
    let output: GetObjectCommandOutput;
    try {
      const [{ GetObjectCommand }, client] = await Promise.all([loadS3Sdk(), clientOf(this.client)]);
      output = await client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
    } catch (error) {
      throw this.failure(error, key);
    }
    if (output.ContentLength !== undefined && output.ContentLength > this.maxBytes) {
      (output.Body as { destroy?: () => void } | undefined)?.destroy?.();
      throw this.tooLarge(key);
    }
    const content = await this.readBody(output.Body, key);
    return { key, contentType: contentTypeOf(key, output.ContentType), content };
  }

  /** Reads the body stream, stopping as soon as it passes the size limit (ContentLength may be absent). */
  private async readBody(body: unknown, key: string): Promise<Buffer> {
    if (body === undefined || body === null) return Buffer.alloc(0);
    if (typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] !== 'function') {
      throw new AirlockError(
        'upstream_error',
        `The ${LABEL} returned an unreadable body for ${JSON.stringify(key)}.`,
      );
    }
    const chunks: Buffer[] = [];
    let length = 0;
    try {
      for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
        length += bytes.length;
        // Leaving the loop destroys the stream, so the rest is never downloaded.
        if (length > this.maxBytes) throw this.tooLarge(key);
        chunks.push(bytes);
      }
    } catch (error) {
      throw this.failure(error, key);
    }
    return Buffer.concat(chunks, length);
  }

  /** Refuses, as the caller's mistake (400), what S3 or the SDK would otherwise fail on (a 502). */
  private checkSendable(kind: 'key' | 'prefix', value: string): void {
    if (LONE_SURROGATE.test(value)) {
      throw new AirlockError(
        'invalid_request',
        `The ${kind} contains an unpaired UTF-16 surrogate, which no S3 key can hold; send the ${kind} as list returns it.`,
      );
    }
    const allowed = MAX_S3_KEY_BYTES - Buffer.byteLength(this.prefix, 'utf8');
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > allowed) {
      throw new AirlockError(
        'invalid_request',
        `The ${kind} is ${bytes} bytes in UTF-8; this file store allows ${allowed} (S3 keys are at most ${MAX_S3_KEY_BYTES} bytes, the store's prefix included).`,
      );
    }
  }

  private tooLarge(key: string): AirlockError {
    return new AirlockError(
      'payload_too_large',
      `The file ${JSON.stringify(key)} is larger than the ${this.maxBytes} bytes a connector may return.`,
    );
  }

  private failure(error: unknown, key?: string): AirlockError {
    if (error instanceof AirlockError) return error;
    const name = errorName(error);
    if (key !== undefined && (name === 'NoSuchKey' || name === 'NotFound')) {
      return new AirlockError('not_found', `No file ${JSON.stringify(key)} in the ${LABEL}.`);
    }
    if (name === 'KeyTooLongError') {
      return new AirlockError(
        'invalid_request',
        `The ${key === undefined ? 'prefix' : 'key'} is longer than S3 allows (${MAX_S3_KEY_BYTES} bytes in UTF-8, the store's prefix included).`,
      );
    }
    if (name === 'AccessDenied') {
      return new AirlockError(
        'upstream_error',
        `The ${LABEL} refused access (AccessDenied); check the connector function's S3 permissions.`,
      );
    }
    return new AirlockError('upstream_error', `The ${LABEL} could not be read (${name}).`);
  }
}
