import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { S3DigestStore } from '../../../lambdas/adapters/aws/s3-digest-store';
import { type Digest, DigestConflictError } from '../../../lambdas/core/audit-anchor';
import { storedDigest } from '../support/audit-fixtures';

const s3 = mockClient(S3Client);

/** A bucket that behaves like S3 with Object Lock and conditional writes. */
function fakeBucket() {
  const objects = new Map<string, string>();
  s3.on(PutObjectCommand).callsFake(async (input) => {
    if (input.IfNoneMatch === '*' && objects.has(input.Key)) {
      throw new S3ServiceException({
        name: 'PreconditionFailed',
        $fault: 'client',
        $metadata: { httpStatusCode: 412 },
        message: 'At least one of the pre-conditions you specified did not hold',
      });
    }
    objects.set(input.Key, input.Body as string);
    return { ETag: '"etag"' };
  });
  s3.on(ListObjectsV2Command).callsFake(async (input) => {
    const keys = [...objects.keys()].filter((key) => key.startsWith(input.Prefix ?? '')).sort();
    // Pages of two, so pagination is exercised.
    const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
    const page = keys.slice(start, start + 2);
    const more = start + 2 < keys.length;
    return {
      Contents: page.map((Key) => ({ Key })),
      IsTruncated: more,
      NextContinuationToken: more ? String(start + 2) : undefined,
    };
  });
  s3.on(GetObjectCommand).callsFake(async (input) => {
    if (!objects.has(input.Key))
      throw new S3ServiceException({
        name: 'NoSuchKey',
        $fault: 'client',
        $metadata: { httpStatusCode: 404 },
      });
    // The SDK's streaming body; the store reads it with transformToString.
    return { Body: { transformToString: async () => objects.get(input.Key) } };
  });
  return objects;
}

function digest(chainId: string, seq: number): Digest {
  return storedDigest(chainId, seq, 'arn:aws:kms:eu-west-1:111122223333:key/test');
}

beforeEach(() => s3.reset());

describe('Class: S3DigestStore', () => {
  describe('Method: put', () => {
    it('writes the digest as canonical JSON under digests/<chainId>/<seq>.json, only if absent', async () => {
      // Prepare
      const objects = fakeBucket();
      const store = new S3DigestStore({ client: new S3Client({}), bucket: 'airlock-digests' });

      // Act
      await store.put(digest('broker-a', 7));

      // Assess
      expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
        Bucket: 'airlock-digests',
        Key: 'digests/broker-a/000000000007.json',
        IfNoneMatch: '*',
        ChecksumAlgorithm: 'SHA256',
        ContentType: 'application/json',
      });
      expect(JSON.parse(objects.get('digests/broker-a/000000000007.json')!)).toEqual(digest('broker-a', 7));
    });

    it('maps the If-None-Match refusal to a DigestConflictError naming the object', async () => {
      // Prepare
      const objects = fakeBucket();
      const store = new S3DigestStore({ client: new S3Client({}), bucket: 'airlock-digests' });
      await store.put(digest('broker-a', 7));

      // Act
      const again = store.put({ ...digest('broker-a', 7), hash: 'b'.repeat(64) });

      // Assess
      await expect(again).rejects.toThrow(DigestConflictError);
      await expect(again).rejects.toThrow(
        'digest broker-a/000000000007 already exists at s3://airlock-digests/digests/broker-a/000000000007.json; digests are never overwritten',
      );
      expect(JSON.parse(objects.get('digests/broker-a/000000000007.json')!).hash).toBe('a'.repeat(64));
    });

    it('passes other S3 failures through unchanged', async () => {
      // Prepare
      s3.on(PutObjectCommand).rejects(new Error('AccessDenied'));
      const store = new S3DigestStore({ client: new S3Client({}), bucket: 'airlock-digests' });

      // Act & Assess
      await expect(store.put(digest('broker-a', 1))).rejects.toThrow('AccessDenied');
    });
  });

  describe('Method: list', () => {
    it('reads every digest across pages, in (chainId, seq) order', async () => {
      // Prepare
      fakeBucket();
      const store = new S3DigestStore({ client: new S3Client({}), bucket: 'airlock-digests' });
      for (const [chainId, seq] of [
        ['b', 3],
        ['a', 12],
        ['a', 2],
        ['b', 1],
        ['a', 5],
      ] as const)
        await store.put(digest(chainId, seq));

      // Act
      const listed = await store.list();

      // Assess
      expect(listed.map((d) => d.digestId)).toEqual([
        'a/000000000002',
        'a/000000000005',
        'a/000000000012',
        'b/000000000001',
        'b/000000000003',
      ]);
      expect(s3).toHaveReceivedCommandTimes(ListObjectsV2Command, 3);
    });

    it('names a damaged digest object', async () => {
      // Prepare
      const objects = fakeBucket();
      objects.set('digests/a/000000000001.json', '{not json');
      const store = new S3DigestStore({ client: new S3Client({}), bucket: 'airlock-digests' });

      // Act & Assess
      await expect(store.list()).rejects.toThrow(
        'digest s3://airlock-digests/digests/a/000000000001.json is not JSON; it was damaged or is not a digest',
      );
    });
  });
});
