import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  type GetObjectCommandInput,
  ListObjectsV2Command,
  type ListObjectsV2CommandInput,
  NoSuchKey,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { S3FileStore } from '../../../lambdas/connectors/file-store/s3-file-store';
import { TRAVERSAL_CORPUS } from '../connectors/traversal-corpus';
import { refusalAsync } from '../support/refusal';

const s3 = mockClient(S3Client);
const BUCKET = 'pilot-receipts';
const MODIFIED = new Date('2026-09-30T12:00:00.000Z');

/** The bucket's objects; `hr/` lies outside the connector's prefix. */
let objects: Map<string, { body: Buffer; contentType?: string }>;

/**
 * What happens to a key before S3 answers: the SDK puts it in the URL (encodeURIComponent throws
 * URIError on a lone surrogate), and S3 refuses a key longer than 1,024 UTF-8 bytes.
 */
function sendAsTheSdkWould(key: string): void {
  encodeURIComponent(key);
  if (Buffer.byteLength(key, 'utf8') > 1024) {
    throw new S3ServiceException({
      name: 'KeyTooLongError',
      message: 'Your key is too long',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
  }
}

/** ListObjectsV2 as S3 answers it: sorted keys, Prefix, MaxKeys, continuation tokens. */
function listObjects(input: ListObjectsV2CommandInput) {
  sendAsTheSdkWould(input.Prefix ?? '');
  const keys = [...objects.keys()].filter((key) => key.startsWith(input.Prefix ?? '')).sort();
  const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
  const maxKeys = Math.min(input.MaxKeys ?? 1000, 1000);
  const page = keys.slice(start, start + maxKeys);
  const truncated = start + maxKeys < keys.length;
  return {
    Contents: page.map((Key) => ({ Key, Size: objects.get(Key)?.body.length, LastModified: MODIFIED })),
    KeyCount: page.length,
    IsTruncated: truncated,
    ...(truncated && { NextContinuationToken: String(start + maxKeys) }),
  };
}

/** GetObject as S3 answers it to a role granted `receipts/*` only. */
function getObject(input: GetObjectCommandInput) {
  sendAsTheSdkWould(input.Key ?? '');
  if (!input.Key?.startsWith('receipts/')) {
    throw new S3ServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
    });
  }
  const object = objects.get(input.Key);
  if (!object) throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });
  return {
    Body: Readable.from([object.body.subarray(0, 10), object.body.subarray(10)]) as never,
    ContentLength: object.body.length,
    ContentType: object.contentType,
  };
}

function store(options: { maxBytes?: number; maxItems?: number } = {}): S3FileStore {
  return new S3FileStore({ client: new S3Client({}), bucket: BUCKET, prefix: 'receipts/', ...options });
}

describe('Class: S3FileStore', () => {
  beforeEach(() => {
    s3.reset();
    objects = new Map([
      ['receipts/2026-q3/', { body: Buffer.alloc(0) }],
      [
        'receipts/2026-q3/taxi.txt',
        { body: Buffer.from('CITY CABS  TOTAL EUR 38.50'), contentType: 'binary/octet-stream' },
      ],
      ['receipts/2026-q3/hotel.pdf', { body: Buffer.from('%PDF-1.7 hotel'), contentType: 'application/pdf' }],
      ['receipts/2026-q2/taxi.txt', { body: Buffer.from('CITY CABS  TOTAL EUR 52.00') }],
      ['hr/salaries.csv', { body: Buffer.from('name,salary') }],
    ]);
    s3.on(ListObjectsV2Command).callsFake(listObjects);
    s3.on(GetObjectCommand).callsFake(getObject);
  });

  describe('Method: list', () => {
    it('answers 400, not 502, for a prefix with a lone surrogate', async () => {
      // Act
      const error = await refusalAsync(() => store().list('2026-q3/\udc00'));

      // Assess
      expect(error.code).toBe('invalid_request');
      expect(error.message).toContain('unpaired UTF-16 surrogate');
    });

    it('lists files below the prefix, relative to it, without folder markers', async () => {
      // Act
      const items = await store().list('2026-q3/');

      // Assess
      expect(items).toEqual([
        { key: '2026-q3/hotel.pdf', size: 14, modified: MODIFIED.toISOString() },
        { key: '2026-q3/taxi.txt', size: 26, modified: MODIFIED.toISOString() },
      ]);
      expect(s3).toHaveReceivedCommandWith(ListObjectsV2Command, {
        Bucket: BUCKET,
        Prefix: 'receipts/2026-q3/',
      });
    });

    it('follows continuation tokens across pages', async () => {
      // Prepare
      for (let i = 0; i < 1500; i++)
        objects.set(`receipts/bulk/${String(i).padStart(4, '0')}.txt`, { body: Buffer.from('x') });

      // Act
      const items = await store({ maxItems: 2000 }).list('bulk/');

      // Assess
      expect(items).toHaveLength(1500);
      expect(s3).toHaveReceivedCommandTimes(ListObjectsV2Command, 2);
    });

    it('refuses a listing beyond its limit, after reading no more than limit + 1 keys', async () => {
      // Prepare
      for (let i = 0; i < 50; i++) objects.set(`receipts/bulk/${i}.txt`, { body: Buffer.from('x') });

      // Act
      const error = await refusalAsync(() => store({ maxItems: 10 }).list(''));

      // Assess
      expect(error.code).toBe('payload_too_large');
      expect(s3).toHaveReceivedCommandWith(ListObjectsV2Command, { MaxKeys: 11 });
    });

    it('never lists outside the connector prefix', async () => {
      // Act
      const items = await store().list('');

      // Assess
      expect(items.map((item) => item.key)).not.toContain('hr/salaries.csv');
      expect(items.every((item) => !item.key.startsWith('receipts/'))).toBe(true);
    });
  });

  describe('Method: read', () => {
    it.each([
      ['a lone surrogate', '2026-q3/\ud800.txt', 'unpaired UTF-16 surrogate'],
      [
        'more bytes than an S3 key may have',
        `2026-q3/${'\u4e00'.repeat(400)}.txt`,
        'bytes in UTF-8; this file store allows 1015',
      ],
    ])('answers 400, not 502, for a key with %s', async (_label, key, message) => {
      // Act
      const error = await refusalAsync(() => store().read(key));

      // Assess
      expect(error.code).toBe('invalid_request');
      expect(error.message).toContain(message);
    });

    it('answers 400 when S3 itself says the key is too long (KeyTooLongError)', async () => {
      // Prepare: S3 counts what this store cannot see in advance, e.g. a prefix given in another normal form
      s3.on(GetObjectCommand).rejects(
        new S3ServiceException({
          name: 'KeyTooLongError',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        }),
      );

      // Act
      const error = await refusalAsync(() => store().read('2026-q3/taxi.txt'));

      // Assess
      expect(error.code).toBe('invalid_request');
      expect(error.message).toContain('longer than S3 allows');
    });

    it('reads an object below the prefix, typed by its extension', async () => {
      // Act
      const object = await store().read('2026-q3/taxi.txt');

      // Assess
      expect(object).toEqual({
        key: '2026-q3/taxi.txt',
        contentType: 'text/plain; charset=utf-8',
        content: Buffer.from('CITY CABS  TOTAL EUR 38.50'),
      });
      expect(s3).toHaveReceivedCommandWith(GetObjectCommand, {
        Bucket: BUCKET,
        Key: 'receipts/2026-q3/taxi.txt',
      });
    });

    it('answers not_found for a missing object', async () => {
      // Act
      const error = await refusalAsync(() => store().read('2026-q3/missing.txt'));

      // Assess
      expect(error.code).toBe('not_found');
      expect(error.message).toContain('2026-q3/missing.txt');
    });

    it.each(TRAVERSAL_CORPUS.map((key) => [JSON.stringify(key), key]))(
      'refuses %s without calling S3',
      async (_label, key) => {
        // Act
        const error = await refusalAsync(() => store().read(key));

        // Assess
        expect(error.code).toBe('forbidden');
        expect(s3).not.toHaveReceivedCommand(GetObjectCommand);
      },
    );

    it('refuses an object larger than its limit', async () => {
      // Prepare
      objects.set('receipts/big.pdf', { body: Buffer.alloc(4096) });

      // Act
      const error = await refusalAsync(() => store({ maxBytes: 1024 }).read('big.pdf'));

      // Assess
      expect(error.code).toBe('payload_too_large');
    });

    it('stops reading a body that passes the limit when S3 sent no length', async () => {
      // Prepare
      s3.on(GetObjectCommand).callsFake(() => ({
        Body: Readable.from(
          (function* () {
            for (let i = 0; i < 100; i++) yield Buffer.alloc(512);
          })(),
        ) as never,
      }));

      // Act
      const error = await refusalAsync(() => store({ maxBytes: 1024 }).read('stream.bin'));

      // Assess
      expect(error.code).toBe('payload_too_large');
    });

    it('reports an access denial as an upstream failure naming the fix', async () => {
      // Prepare
      s3.on(GetObjectCommand).rejects(
        new S3ServiceException({
          name: 'AccessDenied',
          $fault: 'client',
          $metadata: { httpStatusCode: 403 },
        }),
      );

      // Act
      const error = await refusalAsync(() => store().read('2026-q3/taxi.txt'));

      // Assess
      expect(error.code).toBe('upstream_error');
      expect(error.message).toContain("check the connector function's S3 permissions");
    });
  });

  it('refuses a store prefix that is absolute or does not end with /', () => {
    // Act / Assess
    expect(() => new S3FileStore({ client: new S3Client({}), bucket: BUCKET, prefix: 'receipts' })).toThrow(
      /must be relative and end with "\/"/,
    );
    expect(() => new S3FileStore({ client: new S3Client({}), bucket: BUCKET, prefix: '/receipts/' })).toThrow(
      /must be relative/,
    );
  });
});
