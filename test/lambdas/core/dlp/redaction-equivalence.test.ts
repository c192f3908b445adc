import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { DEFAULT_PHONE_REGIONS, findPii } from '../../../../lambdas/core/dlp/pii-detectors';
import { scanConnectorResult } from '../../../../lambdas/core/dlp/result-scanner';
import { redactPii } from '../../../../lambdas/core/pii-redactor';
import { SAMPLE_RECEIPTS } from '../../../../local/sample-receipts';
import { findPii as findPiiBefore } from './reference/pii-detectors-before';
import { redactPii as redactPiiBefore } from './reference/pii-redactor-before';
import { scanConnectorResult as scanConnectorResultBefore } from './reference/result-scanner-before';

/**
 * The detectors and the result scanner were rewritten to allocate less (no match iterators, no
 * closures or arrays per stage, no promise per scanned string). What they find, redact, count and
 * withhold must be exactly what the code before did: the reference copies in ./reference are that code.
 * They guard the rewrite only: a change meant to detect something else (a new detector, another rule)
 * removes this test and ./reference with it, and is proved by the redaction tests instead.
 */

/** Every string literal of the redaction tests: the cases someone wrote down on purpose. */
function literalsOf(file: string): string[] {
  const source = readFileSync(join(__dirname, file), 'utf8');
  const found: string[] = [];
  for (const [literal] of source.matchAll(/'(?:[^'\\\n]|\\.)*'/g)) {
    const body = literal.slice(1, -1).replace(/\\'/g, "'").replace(/"/g, '\\"');
    try {
      found.push(JSON.parse(`"${body}"`));
    } catch {
      // An escape JSON does not know (\x41): that literal is left out.
    }
  }
  return found;
}

const CORPUS = [
  ...literalsOf('../pii-redactor.test.ts'),
  ...literalsOf('result-scanner.test.ts'),
  ...Object.values(SAMPLE_RECEIPTS),
  `HOTEL\nGuest: Alice Martin\nE-mail: alice.martin@example.com\nPhone: +44 20 7946 0958\n${'Room 412 GBP 165.00\n'.repeat(30)}`,
];

/** Pieces that are, or nearly are, personal data of each kind, and the separators around them. */
const FRAGMENTS = [
  'alice@example.com',
  'bob.smith+receipts@mail.example.co.uk',
  'logo@2x.png',
  'alice@example.com.pdf',
  'alice [at] example [dot] com',
  'alice%40example.com',
  'DE89 3704 0044 0532 0130 00',
  'GB82WEST12345698765432',
  'GB82 WEST 1234 5698 7654 32X',
  '4111 1111 1111 1111',
  '4111-1111-1111-1111',
  '5500005555555559',
  '2026-01-01 2026-03-31',
  '123-45-6789',
  'QQ 12 34 56 C',
  '+44 20 7946 0958',
  '0044 20 7946 0958',
  '(+44) 20 7946 0958',
  '415-555-2671',
  '(415) 555-2671',
  '089/12345678',
  '020 7946 0958',
  '07700 900123',
  'Tel.',
  'Phone:',
  'mobile',
  '☎',
  '12 500,00',
  '1,234.56',
  '15.03.2026',
  '20260914',
  '٠١٢٣٤٥٦٧٨٩',
  '\u00a0',
  '\u200b',
  '&#64;',
  '＠',
  '１２３',
];
const SEPARATORS = [' ', '', '\n', ', ', '-', '.', ': ', 'x', '0', '9'];

const text = fc
  .array(
    fc.oneof(fc.constantFrom(...FRAGMENTS), fc.constantFrom(...SEPARATORS), fc.string({ maxLength: 4 })),
    {
      maxLength: 12,
    },
  )
  .map((parts) => parts.join(''));

const REGIONS = [DEFAULT_PHONE_REGIONS, ['DE'], ['US', 'GB'], []] as const;

describe('Function: findPii, against the detectors before the allocation pass', () => {
  it('finds the same detections in every string of the redaction tests and the sample receipts', () => {
    for (const regions of REGIONS) {
      for (const sample of CORPUS) {
        expect(findPii(sample, { phoneRegions: regions })).toEqual(
          findPiiBefore(sample, { phoneRegions: regions }),
        );
      }
    }
  });

  it('finds the same detections in random mixes of personal data and near misses', () => {
    fc.assert(
      fc.property(text, fc.constantFrom(...REGIONS), (sample, regions) => {
        expect(findPii(sample, { phoneRegions: regions })).toEqual(
          findPiiBefore(sample, { phoneRegions: regions }),
        );
      }),
      { numRuns: 3000 },
    );
  });

  it('is unaffected by a previous search that ended early', () => {
    // Prepare: the patterns are shared, and each search starts them at the beginning.
    const first = 'alice@example.com +44 20 7946 0958';
    findPii(first, { phoneRegions: DEFAULT_PHONE_REGIONS });

    // Act & Assess
    expect(findPii('bob@example.org', { phoneRegions: DEFAULT_PHONE_REGIONS })).toEqual([
      { kind: 'email', start: 0, end: 15 },
    ]);
  });
});

describe('Function: scanConnectorResult, against the scanner before the allocation pass', () => {
  const base64Text = text.map((t) => Buffer.from(t).toString('base64'));
  const { value: result } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      text,
      base64Text,
      base64Text.map((b) => `data:text/plain;base64,${b}`),
      fc.constantFrom(4111111111111111, 12.5, 0, null, true, undefined),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(text, tie('value'), { maxKeys: 4 }),
      fc.record({
        key: text,
        contentType: fc.constantFrom('text/plain', 'application/octet-stream', 'application/json'),
        content: fc.oneof(text, base64Text),
      }),
    ),
  }));

  it('returns the same value, counts and withheld files for random results', async () => {
    await fc.assert(
      fc.asyncProperty(result, async (value) => {
        expect(await scanConnectorResult(value)).toEqual(await scanConnectorResultBefore(value));
      }),
      { numRuns: 1000 },
    );
  });

  it('redacts the sample receipts as a file-store result exactly as before', async () => {
    for (const [key, content] of Object.entries(SAMPLE_RECEIPTS)) {
      const value = { key, contentType: 'text/plain', content, sha256: 'ab'.repeat(32) };
      const now = await scanConnectorResult(value);
      const before = await scanConnectorResultBefore(value);
      expect(JSON.stringify(now)).toBe(JSON.stringify(before));
      expect(Object.keys(now.kinds)).toEqual(Object.keys(before.kinds));
    }
  });

  it('refuses a value nested too deeply, as before', async () => {
    // Prepare
    let deep: unknown = 'x';
    for (let i = 0; i < 70; i++) deep = [deep];

    // Act & Assess
    await expect(scanConnectorResult(deep)).rejects.toThrow(RangeError);
    await expect(scanConnectorResultBefore(deep)).rejects.toThrow(RangeError);
  });
});

describe('Function: redactPii, against the redactor before the allocation pass', () => {
  it('redacts random JSON values exactly as before', () => {
    fc.assert(
      fc.property(fc.dictionary(text, fc.oneof(text, fc.array(text, { maxLength: 3 }))), (value) => {
        expect(JSON.stringify(redactPii(value))).toBe(JSON.stringify(redactPiiBefore(value)));
      }),
      { numRuns: 1000 },
    );
  });
});
