/**
 * Turns the bytes of a file into the text a person would read from it, so the personal-data scanner
 * sees what the agent would: PDF text (unpdf, a serverless build of PDF.js), e-mail messages
 * (postal-mime: MIME parts, quoted-printable and base64 bodies, encoded-word headers, attachments),
 * and text in UTF-8, UTF-16 and UTF-32 (with a byte-order mark or recognisably without), or a legacy
 * single-byte encoding (Windows-1252, a superset of Latin-1's printable characters).
 *
 * Anything else (images, archives, office files, encrypted or unreadable PDFs, binary data) is
 * reported as not scannable, with a reason; the caller withholds it.
 */
import type { Email, default as PostalMime, decodeWords as postalDecodeWords } from 'postal-mime';

/** What a file's bytes hold, as far as the scanner is concerned. */
export type ExtractedContent =
  | {
      readonly scannable: true;
      /** The text, as a person would read it. */
      readonly text: string;
      /** What the text was read from, e.g. `PDF`, `e-mail message`, `text (windows-1252)`. */
      readonly source: string;
      /** The format the bytes were recognised as. */
      readonly format: 'pdf' | 'email' | 'text';
    }
  | { readonly scannable: false; readonly reason: string };

export interface ExtractionLimits {
  /** PDFs with more pages are not read. @default 500 */
  readonly maxPdfPages: number;
  /** Extracted text longer than this is not scanned. @default 2_000_000 */
  readonly maxTextChars: number;
  /** A PDF or e-mail that takes longer to read is not scanned. @default 10_000 */
  readonly timeoutMs: number;
}

export const DEFAULT_EXTRACTION_LIMITS: ExtractionLimits = {
  maxPdfPages: 500,
  maxTextChars: 2_000_000,
  timeoutMs: 10_000,
};

/** E-mails inside e-mails (forwarded as attachments) are read this deep. */
const MAX_MESSAGE_DEPTH = 3;

/** How a byte sequence announces itself. `unknown` is none of the formats below. */
export type SniffedFormat =
  | { readonly kind: 'pdf' }
  | { readonly kind: 'email' }
  | { readonly kind: 'text'; readonly decoded: { readonly text: string; readonly encoding: string } }
  | { readonly kind: 'binary'; readonly name: string }
  | { readonly kind: 'unknown' };

const MAGIC: ReadonlyArray<{
  readonly name: string;
  readonly bytes: readonly number[];
  readonly at?: number;
}> = [
  { name: 'PNG image', bytes: [0x89, 0x50, 0x4e, 0x47] },
  { name: 'JPEG image', bytes: [0xff, 0xd8, 0xff] },
  { name: 'GIF image', bytes: [0x47, 0x49, 0x46, 0x38] },
  { name: 'TIFF image', bytes: [0x49, 0x49, 0x2a, 0x00] },
  { name: 'TIFF image', bytes: [0x4d, 0x4d, 0x00, 0x2a] },
  { name: 'WebP image', bytes: [0x57, 0x45, 0x42, 0x50], at: 8 },
  { name: 'HEIF image or video', bytes: [0x66, 0x74, 0x79, 0x70], at: 4 },
  { name: 'ZIP archive (or an Office document)', bytes: [0x50, 0x4b, 0x03, 0x04] },
  { name: 'gzip archive', bytes: [0x1f, 0x8b] },
  { name: '7-Zip archive', bytes: [0x37, 0x7a, 0xbc, 0xaf] },
  { name: 'legacy Office document or Outlook message', bytes: [0xd0, 0xcf, 0x11, 0xe0] },
  { name: 'RTF document', bytes: [0x7b, 0x5c, 0x72, 0x74, 0x66] },
];

function startsWith(bytes: Uint8Array, magic: readonly number[], at = 0): boolean {
  if (bytes.length < at + magic.length) return false;
  return magic.every((b, i) => bytes[at + i] === b);
}

function isPdf(bytes: Uint8Array): boolean {
  // PDF readers accept the header anywhere in the first 1 KB.
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
  return head.includes('%PDF-');
}

/** Header lines (`Name: value`, folded continuations) up to a blank line, naming at least one mail header. */
const MAIL_HEADERS = /^(?:[!-9;-~]+:[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*)+\r?\n/;
const MAIL_HEADER_NAMES =
  /^(?:from|to|cc|subject|date|message-id|mime-version|received|return-path|reply-to|sender):/im;

function looksLikeEmail(text: string): boolean {
  const head = text.slice(0, 64 * 1024);
  const headers = MAIL_HEADERS.exec(head);
  return headers !== null && MAIL_HEADER_NAMES.test(headers[0]);
}

// ---------------------------------------------------------------------------------------- text decoding

const WINDOWS_1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8d,
  0x017d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a,
  0x0153, 0x9d, 0x017e, 0x0178,
];

/** Windows-1252 as WHATWG defines it (what browsers do with "ISO-8859-1"), without relying on ICU. */
function decodeWindows1252(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    const chunk = bytes.subarray(i, i + 8192);
    const codes = Array.from(chunk, (b) => (b >= 0x80 && b <= 0x9f ? WINDOWS_1252_HIGH[b - 0x80]! : b));
    out += String.fromCharCode(...codes);
  }
  return out;
}

function decodeUtf16(bytes: Uint8Array, littleEndian: boolean): string {
  const even = bytes.subarray(0, bytes.length - (bytes.length % 2));
  const swapped = littleEndian ? Buffer.from(even) : Buffer.from(even).swap16();
  return new TextDecoder('utf-16le').decode(swapped);
}

function decodeUtf32(bytes: Uint8Array, littleEndian: boolean): string | undefined {
  if (bytes.length % 4 !== 0) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    const cp = view.getUint32(i, littleEndian);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
    out += String.fromCodePoint(cp);
  }
  return out;
}

/** UTF-16 without a byte-order mark: ASCII-range text has a zero in every other byte. */
function utf16WithoutBom(bytes: Uint8Array): boolean | undefined {
  if (bytes.length < 4 || bytes.length % 2 !== 0) return undefined;
  const sample = bytes.subarray(0, Math.min(bytes.length, 4096));
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < sample.length; i += 2) {
    if (sample[i] === 0) evenZeros++;
    if (sample[i + 1] === 0) oddZeros++;
  }
  const pairs = sample.length / 2;
  if (oddZeros > pairs * 0.4 && evenZeros < pairs * 0.05) return true;
  if (evenZeros > pairs * 0.4 && oddZeros < pairs * 0.05) return false;
  return undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes bytes as text, naming the encoding, or undefined when they are not text in any encoding read here. */
export function decodeText(bytes: Uint8Array): { text: string; encoding: string } | undefined {
  let decoded: { text: string; encoding: string } | undefined;
  if (startsWith(bytes, [0xef, 0xbb, 0xbf])) {
    try {
      decoded = { text: utf8.decode(bytes.subarray(3)), encoding: 'utf-8' };
    } catch {
      return undefined;
    }
  } else if (startsWith(bytes, [0xff, 0xfe, 0x00, 0x00]) || startsWith(bytes, [0x00, 0x00, 0xfe, 0xff])) {
    const littleEndian = bytes[0] === 0xff;
    const text = decodeUtf32(bytes.subarray(4), littleEndian);
    decoded = text === undefined ? undefined : { text, encoding: littleEndian ? 'utf-32le' : 'utf-32be' };
  } else if (startsWith(bytes, [0xff, 0xfe]) || startsWith(bytes, [0xfe, 0xff])) {
    const littleEndian = bytes[0] === 0xff;
    decoded = {
      text: decodeUtf16(bytes.subarray(2), littleEndian),
      encoding: littleEndian ? 'utf-16le' : 'utf-16be',
    };
  } else {
    const utf16 = utf16WithoutBom(bytes);
    if (utf16 !== undefined) {
      decoded = { text: decodeUtf16(bytes, utf16), encoding: utf16 ? 'utf-16le' : 'utf-16be' };
    } else {
      try {
        decoded = { text: utf8.decode(bytes), encoding: 'utf-8' };
      } catch {
        decoded = { text: decodeWindows1252(bytes), encoding: 'windows-1252' };
      }
    }
  }
  return decoded && isPlausibleText(decoded.text) ? decoded : undefined;
}

/** Text has almost no control characters; binary data read as text has many. */
function isPlausibleText(text: string): boolean {
  let controls = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (
      (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0c && c !== 0x0d) ||
      (c >= 0x7f && c <= 0x9f) ||
      c === 0xfffd
    ) {
      controls++;
    }
  }
  return controls <= Math.max(2, text.length * 0.01);
}

// ---------------------------------------------------------------------------------------------- sniffing

/** Recognises a byte sequence by its content, never by its name. */
export function sniffFormat(bytes: Uint8Array, declaredType = ''): SniffedFormat {
  if (isPdf(bytes)) return { kind: 'pdf' };
  for (const magic of MAGIC) {
    if (startsWith(bytes, magic.bytes, magic.at)) return { kind: 'binary', name: magic.name };
  }
  const decoded = decodeText(bytes);
  if (!decoded) return { kind: 'unknown' };
  if (mediaType(declaredType) === 'message/rfc822' || looksLikeEmail(decoded.text)) return { kind: 'email' };
  return { kind: 'text', decoded };
}

function mediaType(contentType: string): string {
  return contentType.split(';')[0]!.trim().toLowerCase();
}

// ------------------------------------------------------------------------------------------------- PDF

async function importUnpdf() {
  const unpdf = await import('unpdf');
  // unpdf's own lookup of its PDF.js build uses a dynamic import that bundlers and jest cannot see.
  await unpdf.definePDFJSModule(() => import('unpdf/pdfjs'));
  return unpdf;
}

let unpdfModule: ReturnType<typeof importUnpdf> | undefined;

/** PDF.js is ~1.6 MB of code: load it on the first PDF, not at cold start. */
function loadUnpdf(): ReturnType<typeof importUnpdf> {
  unpdfModule ??= importUnpdf();
  return unpdfModule;
}

type PdfDocument = Awaited<ReturnType<Awaited<ReturnType<typeof importUnpdf>>['getDocumentProxy']>>;

interface PdfAnnotation {
  readonly contentsObj?: { readonly str?: string };
  readonly fieldValue?: unknown;
  readonly url?: string;
  readonly titleObj?: { readonly str?: string };
  readonly alternativeText?: string;
}

function annotationText(annotation: PdfAnnotation): string[] {
  const parts = [
    annotation.titleObj?.str,
    annotation.contentsObj?.str,
    annotation.alternativeText,
    annotation.url,
    ...(Array.isArray(annotation.fieldValue) ? annotation.fieldValue : [annotation.fieldValue]),
  ];
  return parts.filter((p): p is string => typeof p === 'string' && p.trim() !== '');
}

async function extractPdf(
  bytes: Uint8Array,
  limits: ExtractionLimits,
  signal: AbortSignal,
): Promise<ExtractedContent> {
  const { getDocumentProxy } = await loadUnpdf();
  let document: PdfDocument;
  try {
    document = await getDocumentProxy(new Uint8Array(bytes), {
      // A font program is never compiled to JavaScript (CVE-2024-4367 was such a path).
      isEvalSupported: false,
      disableFontFace: true,
      useSystemFonts: false,
      enableXfa: false,
      verbosity: 0,
    });
  } catch (error) {
    const name = (error as { name?: string }).name;
    return {
      scannable: false,
      reason:
        name === 'PasswordException'
          ? 'the PDF is protected by a password, so its text cannot be read'
          : 'the PDF cannot be read (damaged or not a PDF)',
    };
  }
  signal.addEventListener('abort', () => void document.destroy(), { once: true });
  try {
    if (document.numPages > limits.maxPdfPages) {
      return {
        scannable: false,
        reason: `the PDF has ${document.numPages} pages; at most ${limits.maxPdfPages} are scanned`,
      };
    }
    const lines: string[] = [];
    const { info } = (await document.getMetadata()) as unknown as { info?: Record<string, unknown> };
    for (const field of ['Title', 'Author', 'Subject', 'Keywords', 'Creator', 'Producer']) {
      const value = info?.[field];
      if (typeof value === 'string' && value.trim() !== '') lines.push(`${field}: ${value}`);
    }
    let chars = 0;
    for (let number = 1; number <= document.numPages; number++) {
      if (signal.aborted) throw signal.reason;
      const page = await document.getPage(number);
      const content = await page.getTextContent();
      const text = content.items
        .map((item) => ('str' in item ? item.str + (item.hasEOL ? '\n' : '') : ''))
        .join('');
      const annotations = ((await page.getAnnotations()) as PdfAnnotation[]).flatMap(annotationText);
      const pageText = [text.trim(), ...annotations].filter(Boolean).join('\n');
      chars += pageText.length;
      if (chars > limits.maxTextChars) {
        return {
          scannable: false,
          reason: `the PDF holds more than ${limits.maxTextChars} characters of text`,
        };
      }
      if (pageText) lines.push(pageText);
      page.cleanup();
    }
    const text = lines.join('\n\n');
    if (text.trim() === '') {
      return {
        scannable: false,
        reason: 'the PDF has no text layer (a scanned image?), so there is no text to scan',
      };
    }
    return { scannable: true, text, source: 'PDF', format: 'pdf' };
  } finally {
    await document.destroy();
  }
}

// ---------------------------------------------------------------------------------------------- e-mail

const HTML_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
};

/** The readable text of an HTML body: no scripts, styles or tags, entities decoded. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(?:br|\/p|\/div|\/tr|\/li|\/h[1-6])\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]{2,8}));/g, (entity, dec, hex, name) => {
      if (name !== undefined) return HTML_ENTITIES[name.toLowerCase()] ?? entity;
      const cp = dec !== undefined ? Number(dec) : Number.parseInt(hex, 16);
      return cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : entity;
    })
    .replace(/[ \t]+/g, ' ')
    .replace(/\n\s*\n+/g, '\n\n')
    .trim();
}

interface MimeParser {
  readonly parse: (typeof PostalMime)['parse'];
  readonly decodeWords: typeof postalDecodeWords;
}

let mimeParser: Promise<MimeParser> | undefined;

/** The MIME parser (~90 KB) is loaded on the first e-mail a result holds, not at cold start. */
function loadMimeParser(): Promise<MimeParser> {
  mimeParser ??= import('postal-mime').then((module) => {
    const loaded = module as unknown as { default: typeof PostalMime; decodeWords: typeof postalDecodeWords };
    return {
      parse: (email, options) => loaded.default.parse(email, options),
      decodeWords: loaded.decodeWords,
    };
  });
  return mimeParser;
}

async function extractEmail(
  bytes: Uint8Array,
  limits: ExtractionLimits,
  signal: AbortSignal,
  depth: number,
): Promise<ExtractedContent> {
  const mime = await loadMimeParser();
  let email: Email;
  try {
    email = await mime.parse(new Uint8Array(bytes), { attachmentEncoding: 'arraybuffer' });
  } catch {
    return { scannable: false, reason: 'the e-mail message cannot be parsed' };
  }
  const lines = email.headers.map(
    (header) => `${header.originalKey ?? header.key}: ${mime.decodeWords(header.value)}`,
  );
  lines.push('');
  if (email.text?.trim()) lines.push(email.text.trim());
  else if (email.html) lines.push(htmlToText(email.html));
  for (const attachment of email.attachments) {
    const name = attachment.filename ?? 'unnamed';
    const type = attachment.mimeType || 'application/octet-stream';
    const content = attachment.content;
    const attachmentBytes =
      typeof content === 'string'
        ? new TextEncoder().encode(content)
        : new Uint8Array(content as ArrayBuffer);
    const inner =
      depth >= MAX_MESSAGE_DEPTH
        ? ({ scannable: false, reason: 'it is nested too deeply' } as const)
        : await extractWithin(attachmentBytes, type, limits, signal, depth + 1);
    lines.push('', `--- attachment: ${name} (${type}) ---`);
    lines.push(inner.scannable ? inner.text : `[withheld: ${inner.reason}]`);
  }
  return { scannable: true, text: lines.join('\n'), source: 'e-mail message', format: 'email' };
}

// ----------------------------------------------------------------------------------------------- entry

async function extractWithin(
  bytes: Uint8Array,
  declaredType: string,
  limits: ExtractionLimits,
  signal: AbortSignal,
  depth: number,
  sniffed?: SniffedFormat,
): Promise<ExtractedContent> {
  const format = sniffed ?? sniffFormat(bytes, declaredType);
  switch (format.kind) {
    case 'pdf':
      return extractPdf(bytes, limits, signal);
    case 'email':
      return extractEmail(bytes, limits, signal, depth);
    case 'text': {
      const { decoded } = format;
      if (decoded.text.length > limits.maxTextChars) {
        return { scannable: false, reason: `the text is longer than ${limits.maxTextChars} characters` };
      }
      const text = mediaType(declaredType) === 'text/html' ? htmlToText(decoded.text) : decoded.text;
      return { scannable: true, text, source: `text (${decoded.encoding})`, format: 'text' };
    }
    case 'binary':
      return { scannable: false, reason: `it is a ${format.name}; only text, PDF and e-mail can be scanned` };
    default:
      return {
        scannable: false,
        reason: 'it is binary data in no format the scanner reads (text, PDF, e-mail)',
      };
  }
}

/**
 * Extracts the text of a file's bytes for scanning, whatever the format and encoding; never throws.
 * @param declaredType the content type the store reported (a hint only: the bytes decide)
 * @param sniffed what {@link sniffFormat} already said about these bytes, to save a second look
 */
export async function extractContentText(
  bytes: Uint8Array,
  declaredType: string,
  limits: ExtractionLimits = DEFAULT_EXTRACTION_LIMITS,
  sniffed?: SniffedFormat,
): Promise<ExtractedContent> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ExtractedContent>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error('extraction timed out'));
      resolve({ scannable: false, reason: `reading it took longer than ${limits.timeoutMs} ms` });
    }, limits.timeoutMs);
  });
  try {
    return await Promise.race([
      extractWithin(bytes, declaredType, limits, controller.signal, 0, sniffed).catch(
        (): ExtractedContent => ({ scannable: false, reason: 'reading it failed' }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
