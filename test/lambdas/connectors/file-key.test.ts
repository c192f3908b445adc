import fc from 'fast-check';
import {
  MAX_FILE_KEY_LENGTH,
  validateFileKey,
  validateFilePrefix,
} from '../../../lambdas/connectors/file-store/file-key';
import { refusal } from '../support/refusal';
import { TRAVERSAL_CORPUS } from './traversal-corpus';

describe('Function: validateFileKey', () => {
  it.each(TRAVERSAL_CORPUS.map((key) => [JSON.stringify(key), key]))(
    'refuses %s: the key must stay inside the folder',
    (_label, key) => {
      // Act
      const error = refusal(() => validateFileKey(key, 'receipts'));

      // Assess
      expect(error.code).toBe('forbidden');
      expect(error.message).toContain('the key must stay inside the receipts folder');
    },
  );

  it('refuses a key that is still encoded after several rounds of decoding, even a harmless one', () => {
    // Prepare: decodes to "receiptA.txt" only after five rounds
    const key = 'receipt%2525252541.txt';

    // Act
    const error = refusal(() => validateFileKey(key, 'receipts'));

    // Assess
    expect(error.code).toBe('forbidden');
  });

  it('refuses any key with a ".." segment, wherever it sits', () => {
    // Prepare
    const segment = fc.stringMatching(/^[a-z0-9 _-]{1,12}$/);
    const keys = fc
      .tuple(fc.array(segment, { maxLength: 4 }), fc.array(segment, { minLength: 1, maxLength: 4 }))
      .map(([before, after]) => [...before, '..', ...after].join('/'));

    // Act / Assess
    fc.assert(
      fc.property(keys, (key) => refusal(() => validateFileKey(key, 'receipts')).code === 'forbidden'),
    );
  });

  it('refuses an over-long or empty key as a bad request', () => {
    // Act
    const long = refusal(() => validateFileKey('a'.repeat(MAX_FILE_KEY_LENGTH + 1), 'receipts'));
    const empty = refusal(() => validateFileKey('', 'receipts'));
    const notText = refusal(() => validateFileKey(42, 'receipts'));

    // Assess
    expect(long.code).toBe('invalid_request');
    expect(long.message).toContain(`the limit is ${MAX_FILE_KEY_LENGTH}`);
    expect(empty.code).toBe('invalid_request');
    expect(notText.code).toBe('invalid_request');
  });

  it.each([
    ['2026-q3/2026-08-21-team-lunch-trattoria.txt'],
    ['receipt with spaces & (brackets).pdf'],
    ['..hidden-but-harmless.txt'],
    ['2026-q3/caf\u00e9-receipt.txt'],
  ])('accepts %s unchanged', (key) => {
    // Act / Assess
    expect(validateFileKey(key, 'receipts')).toBe(key);
  });
});

describe('Function: validateFilePrefix', () => {
  it('accepts an empty prefix and a folder prefix ending with /', () => {
    // Act / Assess
    expect(validateFilePrefix('', 'receipts')).toBe('');
    expect(validateFilePrefix('2026-q3/', 'receipts')).toBe('2026-q3/');
    expect(validateFilePrefix('2026-q', 'receipts')).toBe('2026-q');
  });

  it.each([['../'], ['/'], ['2026-q3/../../'], ['%2e%2e/'], ['//']])('refuses %s', (prefix) => {
    // Act / Assess
    expect(refusal(() => validateFilePrefix(prefix, 'receipts')).code).toBe('forbidden');
  });
});
