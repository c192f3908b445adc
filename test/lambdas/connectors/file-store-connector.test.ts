import { createHash } from 'node:crypto';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileStore } from '../../../lambdas/connectors/file-store/file-store';
import { FileStoreConnector } from '../../../lambdas/connectors/file-store/file-store-connector';
import { FolderFileStore } from '../../../lambdas/connectors/file-store/folder-file-store';
import { loadConfig } from '../../../lib/config/load-config';
import type { FileStoreConnectorConfig } from '../../../lib/config/schema';
import {
  SAMPLE_RECEIPT_WITH_PERSONAL_DATA,
  SAMPLE_RECEIPTS,
  seedSampleReceipts,
} from '../../../local/sample-receipts';
import { refusalAsync } from '../support/refusal';
import { TRAVERSAL_CORPUS } from './traversal-corpus';

const config = loadConfig(join(__dirname, '../../../config/airlock.config.yaml'));
const receiptsConfig = config.connectors['receipts'] as FileStoreConnectorConfig;
const OUTSIDE_SECRET = 'outside the receipts folder: must never be returned';

/** Records every call that reaches the store, to prove refusals happen before any I/O. */
class RecordingFileStore implements FileStore {
  readonly calls: string[] = [];
  constructor(private readonly inner: FileStore) {}
  list(prefix: string) {
    this.calls.push(`list ${prefix}`);
    return this.inner.list(prefix);
  }
  read(key: string) {
    this.calls.push(`read ${key}`);
    return this.inner.read(key);
  }
}

describe('Class: FileStoreConnector', () => {
  let home: string;
  let store: RecordingFileStore;
  let connector: FileStoreConnector;

  beforeEach(async () => {
    // Prepare: the sample receipts, a file outside the folder, and a symlink to it from inside
    home = await mkdtemp(join(tmpdir(), 'airlock-receipts-'));
    const folder = join(home, 'receipts');
    await seedSampleReceipts(folder);
    await writeFile(join(home, 'secret.txt'), OUTSIDE_SECRET);
    await symlink(join(home, 'secret.txt'), join(folder, 'escape.txt'));
    store = new RecordingFileStore(new FolderFileStore(folder));
    connector = new FileStoreConnector('receipts', receiptsConfig, store);
  });

  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  describe('Method: invoke', () => {
    it('lists the receipts of a quarter', async () => {
      // Act
      const { result, documents, bytesOut } = await connector.invoke(
        'list',
        { prefix: '2026-q3/' },
        { requestId: 'r-1' },
      );

      // Assess
      const items = (result as { items: { key: string; size: number; modified: string }[] }).items;
      expect(items.map((item) => item.key)).toEqual(
        Object.keys(SAMPLE_RECEIPTS)
          .filter((key) => key.startsWith('2026-q3/'))
          .sort(),
      );
      expect(items.every((item) => item.size > 0 && !Number.isNaN(Date.parse(item.modified)))).toBe(true);
      expect(documents).toHaveLength(1);
      expect(bytesOut).toBe(Buffer.byteLength(JSON.stringify(items)));
    });

    it('reads a receipt as text with the hash of its bytes', async () => {
      // Prepare
      const key = '2026-q3/2026-09-10-conference-ticket-cloudsummit.txt';
      const bytes = Buffer.from(SAMPLE_RECEIPTS[key]);

      // Act
      const { result, documents, bytesOut } = await connector.invoke('read', { key }, { requestId: 'r-2' });

      // Assess
      expect(result).toEqual({
        key,
        contentType: 'text/plain; charset=utf-8',
        content: SAMPLE_RECEIPTS[key],
        sha256: createHash('sha256').update(bytes).digest('hex'),
      });
      expect(documents).toEqual([{ id: key, bytes }]);
      expect(bytesOut).toBe(bytes.length);
    });

    it('returns binary files as base64', async () => {
      // Prepare
      const pdf = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0xfe]);
      await writeFile(join(home, 'receipts', 'scan.pdf'), pdf);

      // Act
      const { result } = await connector.invoke('read', { key: 'scan.pdf' }, { requestId: 'r-3' });

      // Assess
      expect(result).toMatchObject({ contentType: 'application/pdf', content: pdf.toString('base64') });
    });

    it('returns a .txt file that is not UTF-8 as binary rather than mangled text', async () => {
      // Prepare
      const latin1 = Buffer.from('Caf\xe9 total 12,00', 'latin1');
      await writeFile(join(home, 'receipts', 'latin1.txt'), latin1);

      // Act
      const { result } = await connector.invoke('read', { key: 'latin1.txt' }, { requestId: 'r-4' });

      // Assess
      expect(result).toMatchObject({
        contentType: 'application/octet-stream',
        content: latin1.toString('base64'),
      });
    });

    it.each(TRAVERSAL_CORPUS.map((key) => [JSON.stringify(key), key]))(
      'refuses to read %s before the store is touched',
      async (_label, key) => {
        // Act
        const error = await refusalAsync(() => connector.invoke('read', { key }, { requestId: 'r-5' }));

        // Assess
        expect(error.code).toBe('forbidden');
        expect(error.message).toContain('the key must stay inside the receipts folder');
        expect(store.calls).toEqual([]);
      },
    );

    it('refuses to list above the folder before the store is touched', async () => {
      // Act
      const error = await refusalAsync(() =>
        connector.invoke('list', { prefix: '../' }, { requestId: 'r-6' }),
      );

      // Assess
      expect(error.code).toBe('forbidden');
      expect(store.calls).toEqual([]);
    });

    it('refuses a symlink that leads outside the folder and returns nothing from there', async () => {
      // Act
      const error = await refusalAsync(() =>
        connector.invoke('read', { key: 'escape.txt' }, { requestId: 'r-7' }),
      );

      // Assess
      expect(error.code).toBe('forbidden');
      expect(JSON.stringify(error)).not.toContain(OUTSIDE_SECRET);
      expect(error.message).not.toContain(OUTSIDE_SECRET);
    });

    it('refuses an over-long key as a bad request', async () => {
      // Act
      const error = await refusalAsync(() =>
        connector.invoke('read', { key: 'a'.repeat(600) }, { requestId: 'r-8' }),
      );

      // Assess
      expect(error.code).toBe('invalid_request');
      expect(store.calls).toEqual([]);
    });

    it('does not touch the store for a call already cancelled', async () => {
      // Prepare
      const controller = new AbortController();
      controller.abort();

      // Act
      const error = await refusalAsync(() =>
        connector.invoke('list', {}, { requestId: 'r-c', signal: controller.signal }),
      );

      // Assess
      expect(error.code).toBe('upstream_error');
      expect(store.calls).toEqual([]);
    });

    it('answers not_found for an unknown operation and a missing receipt', async () => {
      // Act
      const operation = await refusalAsync(() =>
        connector.invoke('delete', { key: 'a.txt' }, { requestId: 'r-9' }),
      );
      const missing = await refusalAsync(() =>
        connector.invoke('read', { key: '2026-q3/none.txt' }, { requestId: 'r-10' }),
      );

      // Assess
      expect(operation.code).toBe('not_found');
      expect(operation.message).toContain('expected one of: list, read');
      expect(missing.code).toBe('not_found');
    });
  });

  describe('Method: describe', () => {
    it('previews the read without touching the store', () => {
      // Act
      const call = connector.describe('read', { key: SAMPLE_RECEIPT_WITH_PERSONAL_DATA });

      // Assess
      expect(call).toEqual({ method: 'READ', path: SAMPLE_RECEIPT_WITH_PERSONAL_DATA });
      expect(store.calls).toEqual([]);
    });
  });

  describe('Method: inputSchema', () => {
    it('advertises the key parameter as required', () => {
      // Act / Assess
      expect(connector.inputSchema('read')).toMatchObject({ required: ['key'], additionalProperties: false });
    });
  });

  it('refuses a config whose read operation declares no key parameter', () => {
    // Prepare
    const broken: FileStoreConnectorConfig = {
      ...receiptsConfig,
      operations: { read: { ...receiptsConfig.operations['read'], parameters: {} } },
    };

    // Act / Assess
    expect(() => new FileStoreConnector('receipts', broken, store)).toThrow(
      'must declare a required string parameter "key"',
    );
  });
});

describe('Function: seedSampleReceipts', () => {
  it('writes the receipts once and leaves edited ones alone', async () => {
    // Prepare
    const folder = await mkdtemp(join(tmpdir(), 'airlock-seed-'));
    try {
      const first = await seedSampleReceipts(folder);
      await writeFile(join(folder, SAMPLE_RECEIPT_WITH_PERSONAL_DATA), 'edited by the pilot');

      // Act
      const second = await seedSampleReceipts(folder);
      const kept = await new FolderFileStore(folder).read(SAMPLE_RECEIPT_WITH_PERSONAL_DATA);

      // Assess
      expect([...first].sort()).toEqual(Object.keys(SAMPLE_RECEIPTS).sort());
      expect(second).toEqual([]);
      expect(kept.content.toString()).toBe('edited by the pilot');
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('has exactly one receipt with an e-mail address and a phone number', () => {
    // Prepare
    const email = /[\w.+-]+@[\w-]+\.[\w.]+/;
    const phone = /\+\d{1,3}[\d ]{8,}/;

    // Act
    const withPersonalData = Object.entries(SAMPLE_RECEIPTS)
      .filter(([, text]) => email.test(text) || phone.test(text))
      .map(([key]) => key);

    // Assess
    expect(withPersonalData).toEqual([SAMPLE_RECEIPT_WITH_PERSONAL_DATA]);
    expect(SAMPLE_RECEIPTS[SAMPLE_RECEIPT_WITH_PERSONAL_DATA]).toMatch(email);
    expect(SAMPLE_RECEIPTS[SAMPLE_RECEIPT_WITH_PERSONAL_DATA]).toMatch(phone);
  });
});
