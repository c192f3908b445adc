/**
 * Scans a connector's result for personal data whatever its encoding, for a caller not cleared for
 * `pii`. What the agent receives is only ever text that was scanned:
 *
 * - strings and object keys are redacted in place ({@link RedactionTally});
 * - a file (an object with `contentType` and `content`) whose content is base64 is decoded, its text
 *   extracted ({@link extractContentText}: PDF, e-mail, UTF-16, Windows-1252 ...) and returned as
 *   redacted UTF-8 text with `extractedFrom` naming what it was; a file whose text cannot be read is
 *   returned without `content` and with `withheld` saying why (fail closed);
 * - any other string that is base64 (or a `data:` URL) of something recognisable is decoded and
 *   scanned too: it is kept only when it is text without personal data, and otherwise replaced by
 *   `[withheld: ...]`. Base64 that decodes to nothing recognisable (ids, hashes, ciphertext) is kept.
 */
import { type RedactionOptions, type RedactionResult, RedactionTally } from '../pii-redactor';
import {
  DEFAULT_EXTRACTION_LIMITS,
  type ExtractionLimits,
  extractContentText,
  type SniffedFormat,
  sniffFormat,
} from './content-extractor';

export interface ScanOptions extends RedactionOptions {
  /** @default DEFAULT_EXTRACTION_LIMITS */
  readonly limits?: Partial<ExtractionLimits>;
}

export interface ScanResult<T = unknown> extends RedactionResult<T> {
  /** Files and values withheld because they could not be scanned or held personal data in a form that cannot be redacted. */
  readonly withheld: number;
}

/** The content type a scanned file is returned as. */
export const SCANNED_TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';

const MAX_DEPTH = 64;

/** Standard or URL-safe base64, optionally wrapped in lines (one character class: no backtracking). */
const BASE64 = /^[A-Za-z0-9+/_\-\r\n]+={0,2}$/;
const HEX = /^[0-9a-fA-F]+$/;
const DATA_URL = /^data:([^,;]*)(?:;[^,;]*)*;base64,/i;

/** Media types whose content the file-store connector returns as UTF-8 text rather than base64. */
function isTextContentType(contentType: string): boolean {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type === 'application/xml' ||
    type.endsWith('+json') ||
    type.endsWith('+xml')
  );
}

function strictBase64(value: string, minimum: number): Uint8Array | undefined {
  if (value.length < minimum || !BASE64.test(value) || HEX.test(value)) return undefined;
  const compact = value.replace(/[\r\n]/g, '');
  const urlSafe = /[-_]/.test(compact);
  if ((urlSafe && /[+/]/.test(compact)) || compact.replace(/=+$/, '').length % 4 === 1) return undefined;
  const bytes = Buffer.from(compact, urlSafe ? 'base64url' : 'base64');
  return bytes.length > 0 ? new Uint8Array(bytes) : undefined;
}

function isFile(value: Record<string, unknown>): value is Record<string, unknown> & {
  contentType: string;
  content: string;
} {
  return typeof value['contentType'] === 'string' && typeof value['content'] === 'string';
}

class ResultScanner {
  withheld = 0;
  private readonly limits: ExtractionLimits;

  constructor(
    readonly tally: RedactionTally,
    options: ScanOptions,
  ) {
    this.limits = { ...DEFAULT_EXTRACTION_LIMITS, ...options.limits };
  }

  /**
   * The scanned value, or a promise of it where something had to be decoded or an array or object
   * walked. Plain strings and other values are scanned synchronously: most of a result is such values,
   * and a promise and a turn of the microtask queue for each was most of a scan's allocations. The
   * order in which values are scanned and counted is the order of the value, as before.
   */
  scan(value: unknown, depth: number): unknown {
    if (typeof value === 'string') return this.scanString(value);
    if (value instanceof Uint8Array) return this.scanLooseBytes(value, '');
    if (value === null || typeof value !== 'object') return this.tally.redactValue(value, depth);
    if (depth > MAX_DEPTH)
      throw new RangeError(`value is nested deeper than ${MAX_DEPTH} levels; not redacted`);
    if (Array.isArray(value)) return this.scanArray(value, depth);
    const record = value as Record<string, unknown>;
    if (isFile(record) && !isTextContentType(record.contentType)) {
      const bytes = strictBase64(record.content, 1);
      if (bytes) return this.scanFile(record, bytes, depth);
    }
    return this.scanRecord(record, depth);
  }

  private async scanArray(value: readonly unknown[], depth: number): Promise<unknown[]> {
    const items: unknown[] = [];
    for (const item of value) {
      const scanned = this.scan(item, depth + 1);
      items.push(scanned instanceof Promise ? await scanned : scanned);
    }
    return items;
  }

  private async scanRecord(record: Record<string, unknown>, depth: number): Promise<Record<string, unknown>> {
    const copy: Record<string, unknown> = {};
    const keys = Object.keys(record);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      // The key is redacted before its value is scanned (counts and kinds keep the value's order).
      const name = this.tally.redactKey(key, copy);
      const scanned = this.scan(record[key], depth + 1);
      copy[name] = scanned instanceof Promise ? await scanned : scanned;
    }
    return copy;
  }

  /** A file of the file-store connector (or any object shaped like one) with base64 content. */
  private async scanFile(
    file: Record<string, unknown> & { contentType: string },
    bytes: Uint8Array,
    depth: number,
  ): Promise<Record<string, unknown>> {
    const extracted = await extractContentText(bytes, file.contentType, this.limits);
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(file)) {
      if (key === 'content' || key === 'contentType') continue;
      const name = this.tally.redactKey(key, copy);
      const scanned = this.scan(item, depth + 1);
      copy[name] = scanned instanceof Promise ? await scanned : scanned;
    }
    if (!extracted.scannable) {
      this.withheld += 1;
      return {
        ...copy,
        contentType: file.contentType,
        withheld: `The content is withheld: ${extracted.reason}, so it cannot be checked for personal data, and you are not cleared for pii.`,
      };
    }
    return {
      ...copy,
      contentType: SCANNED_TEXT_CONTENT_TYPE,
      content: this.tally.redactString(extracted.text),
      extractedFrom: `${file.contentType} (${extracted.source})`,
    };
  }

  private scanString(value: string): string | Promise<string> {
    const dataUrl = DATA_URL.exec(value);
    if (dataUrl) {
      const bytes = strictBase64(value.slice(dataUrl[0].length), 1);
      if (bytes) return this.scanLooseBytes(bytes, dataUrl[1] ?? '', value);
    }
    const bytes = strictBase64(value, 48);
    if (bytes) {
      const sniffed = sniffFormat(bytes);
      if (sniffed.kind !== 'unknown') return this.scanLooseBytes(bytes, '', value, sniffed);
    }
    return this.tally.redactString(value);
  }

  /**
   * Bytes with no place for extracted text: kept (as they came) only when they are text without
   * personal data; anything else is replaced by a `[withheld: ...]` note.
   */
  private async scanLooseBytes(
    bytes: Uint8Array,
    declaredType: string,
    original?: string,
    sniffed?: SniffedFormat,
  ): Promise<string> {
    const extracted = await extractContentText(bytes, declaredType, this.limits, sniffed);
    if (extracted.scannable && extracted.format !== 'pdf') {
      const before = this.tally.redactions;
      this.tally.redactString(extracted.text);
      if (this.tally.redactions === before && original !== undefined) return original;
      this.withheld += 1;
      return `[withheld: encoded ${extracted.source} holding personal data]`;
    }
    this.withheld += 1;
    const reason = extracted.scannable
      ? `encoded ${extracted.source}; its text is returned only where the result names it as a file`
      : `encoded content: ${extracted.reason}`;
    return `[withheld: ${reason}]`;
  }
}

/**
 * Scans and redacts a connector result for a caller not cleared for `pii` (see the module comment
 * for what is extracted, redacted and withheld). The input is not changed. Never rejects for the
 * content's sake: what cannot be read is withheld.
 * @throws RangeError when the value is nested deeper than 64 levels (the caller refuses it).
 */
export async function scanConnectorResult<T>(value: T, options: ScanOptions = {}): Promise<ScanResult<T>> {
  const tally = new RedactionTally(options);
  const scanner = new ResultScanner(tally, options);
  const scanned = (await scanner.scan(value, 0)) as T;
  return { value: scanned, redactions: tally.redactions, kinds: tally.kinds, withheld: scanner.withheld };
}
