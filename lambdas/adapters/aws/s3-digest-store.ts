/**
 * Digests in an S3 bucket whose default retention is Object Lock COMPLIANCE: once written, no
 * one (root included) can change or delete a digest before retention ends. `IfNoneMatch: '*'`
 * makes S3 refuse a second object at the same key, so a digest is never replaced by a new version.
 */
import { GetObjectCommand, PutObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { DIGEST_PREFIX } from '../../../lib/contracts/storage';
import { compareDigests, type Digest, DigestConflictError, type DigestStore } from '../../core/audit-anchor';
import { canonicalJson } from '../../core/canonical-json';
import {
  type AwsScope,
  type DeclaresIamPermissions,
  type IamActions,
  type IamPermission,
  permissionsOf,
  s3Arn,
} from './iam-permissions';

type DigestStoreMethod = keyof DigestStore;

/**
 * The IAM actions each method sends: objects below the prefix, and the listing (a bucket action,
 * whose request carries the prefix as `s3:prefix`).
 */
export const S3_DIGEST_STORE_ACTIONS = {
  put: ['s3:PutObject'],
  list: ['s3:ListBucket', 's3:GetObject'],
} as const satisfies IamActions<DigestStoreMethod>;

export interface S3DigestStoreProps {
  readonly client: S3Client;
  readonly bucket: string;
  /** Key prefix. @default DIGEST_PREFIX (`digests/`) */
  readonly prefix?: string;
}

// Enough parallel GETs to list a pilot's digests quickly without tripping S3 request limits.
const READ_CONCURRENCY = 8;

/** {@link DigestStore} over S3: key `<prefix><chainId>/<seq, 12 digits>.json`. */
export class S3DigestStore implements DigestStore, DeclaresIamPermissions<DigestStoreMethod> {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(props: S3DigestStoreProps) {
    this.client = props.client;
    this.bucket = props.bucket;
    this.prefix = props.prefix ?? DIGEST_PREFIX;
  }

  iamPermissions(methods: readonly DigestStoreMethod[], scope: AwsScope): IamPermission[] {
    return permissionsOf('S3DigestStore', S3_DIGEST_STORE_ACTIONS, methods, (action) => [
      action === 's3:ListBucket'
        ? { resource: s3Arn(scope, this.bucket), context: { 's3:prefix': this.prefix } }
        : { resource: s3Arn(scope, this.bucket, `${this.prefix}*`) },
    ]);
  }

  /** The object key of a digest. */
  keyOf(digest: Pick<Digest, 'digestId'>): string {
    return `${this.prefix}${digest.digestId}.json`;
  }

  async put(digest: Digest): Promise<void> {
    const key = this.keyOf(digest);
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: canonicalJson(digest),
          ContentType: 'application/json',
          IfNoneMatch: '*',
          // Object Lock buckets refuse a PUT without an integrity checksum.
          ChecksumAlgorithm: 'SHA256',
        }),
      );
    } catch (error) {
      // 412: the key exists; 409: a concurrent conditional PUT to the same key won the race.
      const name = (error as Error)?.name;
      const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
      if (
        name === 'PreconditionFailed' ||
        name === 'ConditionalRequestConflict' ||
        status === 412 ||
        status === 409
      )
        throw new DigestConflictError(digest.digestId, `s3://${this.bucket}/${key}`, { cause: error });
      throw error;
    }
  }

  async list(): Promise<Digest[]> {
    const keys: string[] = [];
    for await (const page of paginateListObjectsV2(
      { client: this.client },
      { Bucket: this.bucket, Prefix: this.prefix },
    )) {
      for (const object of page.Contents ?? []) if (object.Key?.endsWith('.json')) keys.push(object.Key);
    }
    const digests: Digest[] = [];
    for (let start = 0; start < keys.length; start += READ_CONCURRENCY) {
      const batch = keys.slice(start, start + READ_CONCURRENCY);
      digests.push(...(await Promise.all(batch.map((key) => this.read(key)))));
    }
    return digests.sort(compareDigests);
  }

  private async read(key: string): Promise<Digest> {
    const output = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    const text = (await output.Body?.transformToString('utf-8')) ?? '';
    try {
      return JSON.parse(text) as Digest;
    } catch (error) {
      throw new Error(`digest s3://${this.bucket}/${key} is not JSON; it was damaged or is not a digest`, {
        cause: error,
      });
    }
  }
}
