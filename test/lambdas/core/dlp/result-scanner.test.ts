import { createHash, randomBytes } from 'node:crypto';
import { SCANNED_TEXT_CONTENT_TYPE, scanConnectorResult } from '../../../../lambdas/core/dlp/result-scanner';
import { tinyPdf } from '../../support/tiny-pdf';

/** A file as the file-store connector returns a type it does not send as text: base64 content. */
function fileResult(key: string, contentType: string, bytes: Buffer) {
  return {
    key,
    contentType,
    content: bytes.toString('base64'),
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

const PERSONAL = 'Guest: Alice Martin, alice.martin@example.com, +44 20 7946 0958';
const NO_ADDRESS = /[\w.+-]+@[\w-]+\.\w+/;

function utf16(text: string, littleEndian: boolean, bom: boolean): Buffer {
  const le = Buffer.from(text, 'utf16le');
  const body = littleEndian ? le : Buffer.from(le).swap16();
  return bom ? Buffer.concat([Buffer.from(littleEndian ? [0xff, 0xfe] : [0xfe, 0xff]), body]) : body;
}

function utf32le(text: string): Buffer {
  const codePoints = [0xfeff, ...[...text].map((c) => c.codePointAt(0)!)];
  const buffer = Buffer.alloc(codePoints.length * 4);
  codePoints.forEach((cp, i) => {
    buffer.writeUInt32LE(cp, i * 4);
  });
  return buffer;
}

function crlf(lines: string[]): string {
  return `${lines.join('\r\n')}\r\n`;
}

describe('Function: scanConnectorResult', () => {
  describe('attack: personal data in a file that is not UTF-8 text comes back as base64, unscanned', () => {
    it.each([
      [
        'a PDF receipt',
        'receipts/hotel.pdf',
        'application/pdf',
        tinyPdf({
          pages: [['HARBOUR VIEW HOTEL', PERSONAL, 'IBAN DE89 3704 0044 0532 0130 00', 'TOTAL GBP 365.00']],
        }),
        'PDF',
        ['HARBOUR VIEW HOTEL', 'TOTAL GBP 365.00'],
      ],
      [
        'a PDF whose author field holds an address',
        'receipts/meta.pdf',
        'application/pdf',
        tinyPdf({
          pages: [['Receipt 0042']],
          info: { Author: 'alice.martin@example.com', Title: 'Receipt' },
        }),
        'PDF',
        ['Receipt 0042', 'Title: Receipt'],
      ],
      [
        'a PDF with a mailto link',
        'receipts/link.pdf',
        'application/pdf',
        tinyPdf({ pages: [['Contact us']], links: ['mailto:alice.martin@example.com'] }),
        'PDF',
        ['Contact us', 'mailto:[redacted:email]'],
      ],
      [
        'a Latin-1 text file',
        'receipts/cafe.txt',
        'application/octet-stream',
        Buffer.from(
          `Café Müller, Straße 5\nGast: jörg.müller@example.de\nTél: 01 23 45 67 89\nSumme 12,50 €`.replace(
            '€',
            'EUR',
          ),
          'latin1',
        ),
        'text (windows-1252)',
        ['Café Müller, Straße 5', 'Summe 12,50 EUR'],
      ],
      [
        'a Windows-1252 text with a euro sign and curly quotes',
        'receipts/cp1252.txt',
        'application/octet-stream',
        Buffer.concat([
          Buffer.from('Betrag 12,50 ', 'latin1'),
          Buffer.from([0x80, 0x20, 0x93]),
          Buffer.from('Bewirtung', 'latin1'),
          Buffer.from([0x94, 0x0a]),
          Buffer.from('IBAN de89 3704 0044 0532 0130 00', 'latin1'),
        ]),
        'text (windows-1252)',
        ['Betrag 12,50 € “Bewirtung”', 'IBAN [redacted:iban]'],
      ],
      [
        'a UTF-16LE text with a byte-order mark',
        'receipts/utf16le.txt',
        'application/octet-stream',
        utf16(`Beleg\n${PERSONAL}`, true, true),
        'text (utf-16le)',
        ['Beleg'],
      ],
      [
        'a UTF-16BE text with a byte-order mark',
        'receipts/utf16be.txt',
        'application/octet-stream',
        utf16(`Beleg\n${PERSONAL}`, false, true),
        'text (utf-16be)',
        ['Beleg'],
      ],
      [
        'a UTF-16LE text without a byte-order mark',
        'receipts/utf16-nobom.txt',
        'application/octet-stream',
        utf16(`Beleg\n${PERSONAL}`, true, false),
        'text (utf-16le)',
        ['Beleg'],
      ],
      [
        'a UTF-32LE text with a byte-order mark',
        'receipts/utf32.txt',
        'application/octet-stream',
        utf32le(`Beleg\n${PERSONAL}`),
        'text (utf-32le)',
        ['Beleg'],
      ],
      [
        'a UTF-8 text with a byte-order mark and an unknown type',
        'receipts/bom.dat',
        'application/octet-stream',
        Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`Beleg\n${PERSONAL}`)]),
        'text (utf-8)',
        ['Beleg'],
      ],
      [
        'an e-mail with a quoted-printable Latin-1 body and encoded-word headers',
        'mail/invoice.eml',
        'message/rfc822',
        Buffer.from(
          crlf([
            'From: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <jorg.muller@example.de>',
            'To: "Alice" <alice.martin@example.com>',
            'Subject: =?UTF-8?B?UmVjaG51bmcgZsO8ciBhbGljZUBleGFtcGxlLmNvbQ==?=',
            'MIME-Version: 1.0',
            'Content-Type: text/plain; charset=iso-8859-1',
            'Content-Transfer-Encoding: quoted-printable',
            '',
            'Gr=FC=DFe, bitte r=FCckrufen: +49 89 1234=',
            ' 5678. Karte 4111=A01111=A01111=A01111',
          ]),
          'latin1',
        ),
        'e-mail message',
        [
          'From: Jörg Müller <[redacted:email]>',
          'Subject: Rechnung für [redacted:email]',
          'Grüße, bitte rückrufen',
        ],
      ],
      [
        'an e-mail with a base64 body',
        'mail/b64.eml',
        'application/octet-stream',
        Buffer.from(
          crlf([
            'From: billing@example.org',
            'Subject: Receipt',
            'Content-Type: text/plain; charset=utf-8',
            'Content-Transfer-Encoding: base64',
            '',
            Buffer.from(PERSONAL).toString('base64'),
          ]),
        ),
        'e-mail message',
        ['Subject: Receipt', 'Guest: Alice Martin'],
      ],
      [
        'an HTML e-mail with an entity-encoded address and a mailto link',
        'mail/html.eml',
        'message/rfc822',
        Buffer.from(
          crlf([
            'From: hotel@example.org',
            'Subject: Your stay',
            'MIME-Version: 1.0',
            'Content-Type: text/html; charset=utf-8',
            '',
            '<html><body><p>Guest: alice&#64;example.com</p><a href="mailto:bob@example.com">write</a><p>Tel&nbsp;+44&nbsp;20&nbsp;7946&nbsp;0958</p></body></html>',
          ]),
        ),
        'e-mail message',
        ['Guest: [redacted:email]', 'write'],
      ],
    ])('%s comes back as redacted text', async (_label, key, contentType, bytes, source, kept) => {
      // Prepare
      const file = fileResult(key, contentType, bytes);

      // Act
      const result = await scanConnectorResult(file);

      // Assess
      const scanned = result.value as Record<string, string>;
      expect(scanned['contentType']).toBe(SCANNED_TEXT_CONTENT_TYPE);
      expect(scanned['extractedFrom']).toBe(`${contentType} (${source})`);
      expect(scanned['sha256']).toBe(file.sha256);
      expect(scanned['content']).toContain('[redacted:');
      expect(scanned['content']).not.toMatch(NO_ADDRESS);
      expect(scanned['content']).not.toMatch(/7946|4111|0532 0130|1234.?5678|45 67 89/);
      for (const text of kept) expect(scanned['content']).toContain(text);
      expect(result.redactions).toBeGreaterThan(0);
      expect(result.withheld).toBe(0);
    });

    it('reads a PDF attached to an e-mail, and withholds an attached image with a note', async () => {
      // Prepare
      const pdf = tinyPdf({ pages: [['Invoice', 'IBAN DE89 3704 0044 0532 0130 00']] });
      const png = Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        randomBytes(64),
      ]);
      const eml = crlf([
        'From: ap@example.org',
        'Subject: Invoice',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'See attached.',
        '--b1',
        'Content-Type: application/pdf; name="invoice.pdf"',
        'Content-Disposition: attachment; filename="invoice.pdf"',
        'Content-Transfer-Encoding: base64',
        '',
        pdf.toString('base64'),
        '--b1',
        'Content-Type: image/png; name="scan.png"',
        'Content-Disposition: attachment; filename="scan.png"',
        'Content-Transfer-Encoding: base64',
        '',
        png.toString('base64'),
        '--b1--',
      ]);

      // Act
      const result = await scanConnectorResult(fileResult('mail/ap.eml', 'message/rfc822', Buffer.from(eml)));

      // Assess
      const content = (result.value as Record<string, string>)['content'];
      expect(content).toContain('--- attachment: invoice.pdf (application/pdf) ---');
      expect(content).toContain('IBAN [redacted:iban]');
      expect(content).toContain('--- attachment: scan.png (image/png) ---');
      expect(content).toMatch(/\[withheld: it is a PNG image/);
      expect(content).toContain('From: [redacted:email]');
      expect(result.kinds).toEqual({ email: 1, iban: 1 });
    });
  });

  describe('fails closed: what cannot be scanned is withheld, with the reason', () => {
    it.each([
      [
        'a PNG image',
        'image/png',
        Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), randomBytes(200)]),
        /PNG image/,
      ],
      [
        'an Excel workbook (ZIP)',
        'application/octet-stream',
        Buffer.concat([Buffer.from('PK\x03\x04'), randomBytes(200)]),
        /ZIP archive/,
      ],
      [
        'random binary data',
        'application/octet-stream',
        randomBytes(512),
        /binary data in no format the scanner reads/,
      ],
      ['a PDF without a text layer (a scan)', 'application/pdf', tinyPdf({ pages: [[]] }), /no text layer/],
      [
        'a damaged PDF',
        'application/pdf',
        Buffer.from('%PDF-1.7\nthis is not really a PDF\n'),
        /cannot be read/,
      ],
    ])('%s', async (_label, contentType, bytes, reason) => {
      // Prepare
      const file = fileResult('receipts/x', contentType, bytes);

      // Act
      const result = await scanConnectorResult(file);

      // Assess
      const scanned = result.value as Record<string, unknown>;
      expect(scanned).not.toHaveProperty('content');
      expect(scanned['contentType']).toBe(contentType);
      expect(scanned['withheld']).toMatch(reason);
      expect(scanned['withheld']).toMatch(/not cleared for pii/);
      expect(result.withheld).toBe(1);
    });

    it('withholds a PDF with more pages than it scans', async () => {
      // Act
      const result = await scanConnectorResult(
        fileResult('big.pdf', 'application/pdf', tinyPdf({ pages: [['one'], ['two'], ['three']] })),
        { limits: { maxPdfPages: 2 } },
      );

      // Assess
      expect((result.value as Record<string, unknown>)['withheld']).toMatch(/has 3 pages; at most 2/);
    });
  });

  describe('base64 outside a file', () => {
    it('attack: withholds base64 text that holds personal data', async () => {
      // Act
      const result = await scanConnectorResult({
        attachment: Buffer.from(`Customer record\n${PERSONAL}`).toString('base64'),
      });

      // Assess
      expect(result.value).toEqual({ attachment: '[withheld: encoded text (utf-8) holding personal data]' });
      expect(result.withheld).toBe(1);
      expect(result.kinds).toEqual({ email: 1, phone: 1 });
    });

    it('withholds a PDF in a data: URL', async () => {
      // Prepare
      const url = `data:application/pdf;base64,${tinyPdf({ pages: [['hello']] }).toString('base64')}`;

      // Act
      const result = await scanConnectorResult({ preview: url });

      // Assess
      expect((result.value as { preview: string }).preview).toMatch(/^\[withheld: encoded PDF/);
    });

    it('keeps base64 text without personal data, hashes and opaque tokens as they are', async () => {
      // Prepare
      const input = {
        note: Buffer.from('Quarterly summary: 12 receipts, GBP 1,234.56 in total.').toString('base64'),
        sha256: createHash('sha256').update('x').digest('hex'),
        cursor: randomBytes(48).toString('base64url'),
      };

      // Act
      const result = await scanConnectorResult(input);

      // Assess
      expect(result.value).toEqual(input);
      expect(result.withheld).toBe(0);
    });
  });

  describe('text results', () => {
    it('scans a text file in place and leaves the input unchanged', async () => {
      // Prepare
      const file = {
        key: 'a.txt',
        contentType: 'text/plain; charset=utf-8',
        content: PERSONAL,
        sha256: 'ab',
      };

      // Act
      const result = await scanConnectorResult(file);

      // Assess
      expect(result.value).toEqual({
        ...file,
        content: 'Guest: Alice Martin, [redacted:email], [redacted:phone]',
      });
      expect(file.content).toBe(PERSONAL);
    });

    it('redacts keys and values of a listing', async () => {
      // Act
      const result = await scanConnectorResult({
        items: [{ key: 'inbox/alice.martin@example.com.eml', size: 10 }],
        byOwner: { 'bob@example.com': 2 },
      });

      // Assess
      expect(result.value).toEqual({
        items: [{ key: 'inbox/[redacted:email].eml', size: 10 }],
        byOwner: { '[redacted:email]': 2 },
      });
    });

    it('refuses a value nested too deeply to walk', async () => {
      // Prepare
      let deep: unknown = 'alice@example.com';
      for (let i = 0; i < 100; i++) deep = { next: deep };

      // Act & Assess
      await expect(scanConnectorResult(deep)).rejects.toThrow(/nested deeper than 64 levels/);
    });
  });
});
