// Reference for test/lambdas/core/dlp/redaction-equivalence.test.ts: lambdas/core/pii-redactor.ts as it was
// before the allocation pass of issue #23 (P2e), kept verbatim but for import paths. Not shipped.

import { foldText, originalSpan } from '../../../../../lambdas/core/dlp/text-fold';
/**
 * Data-loss prevention for connector results: personal data in any string of a JSON value, in its
 * object keys, and card numbers stored as numbers, are replaced by `[redacted:<kind>]` before they
 * reach the agent (unless the caller is cleared for it).
 *
 * Text is folded first ({@link foldText}: Unicode spaces and digits, full-width forms, HTML entities,
 * invisible characters), candidates are found by broad patterns and confirmed by validators
 * ({@link findPii}), and each match is redacted in the original text. Content that is not text
 * (PDFs, e-mails, other encodings, base64) is the business of `scanConnectorResult`, which extracts
 * text and then redacts it with this module.
 */
import {
  DEFAULT_PHONE_REGIONS,
  type DetectionOptions,
  findPii,
  isCardNumberValue,
  type PiiKind,
} from './pii-detectors-before';

export type { PiiKind } from './pii-detectors-before';

export interface RedactionResult<T = unknown> {
  /** A copy of the input with personal data replaced; the input is not changed. */
  readonly value: T;
  /** How many values were redacted in all. */
  readonly redactions: number;
  /** Redactions per kind; kinds that did not occur are absent. */
  readonly kinds: Partial<Record<PiiKind, number>>;
}

export interface RedactionOptions {
  /** @default DEFAULT_PHONE_REGIONS */
  readonly phoneRegions?: readonly string[];
}

const MAX_DEPTH = 64;

/** Counts what one scan redacted; shared by the JSON walk and the result scanner. */
export class RedactionTally {
  redactions = 0;
  readonly kinds: Partial<Record<PiiKind, number>> = {};
  private readonly detection: DetectionOptions;

  constructor(options: RedactionOptions = {}) {
    this.detection = { phoneRegions: options.phoneRegions ?? DEFAULT_PHONE_REGIONS };
  }

  count(kind: PiiKind): void {
    this.redactions += 1;
    this.kinds[kind] = (this.kinds[kind] ?? 0) + 1;
  }

  /** The text with every detection replaced by `[redacted:<kind>]`. */
  redactString(text: string): string {
    const folded = foldText(text);
    const matches = findPii(folded.text, this.detection);
    if (matches.length === 0) return text;
    let result = '';
    let cursor = 0;
    for (const match of matches) {
      const [start, end] = originalSpan(folded, match.start, match.end);
      if (start < cursor) continue;
      result += `${text.slice(cursor, start)}[redacted:${match.kind}]`;
      cursor = end;
      this.count(match.kind);
    }
    return result + text.slice(cursor);
  }

  /** Redacts a JSON value: strings, object keys, and card numbers stored as numbers. */
  redactValue(value: unknown, depth: number): unknown {
    if (typeof value === 'string') return this.redactString(value);
    if (typeof value === 'number') {
      if (!isCardNumberValue(value)) return value;
      this.count('card');
      return '[redacted:card]';
    }
    if (value === null || typeof value !== 'object') return value;
    // Refuse rather than pass through what cannot be walked (fail closed).
    if (depth > MAX_DEPTH)
      throw new RangeError(`value is nested deeper than ${MAX_DEPTH} levels; not redacted`);
    if (Array.isArray(value)) return value.map((item) => this.redactValue(item, depth + 1));
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      copy[this.redactKey(key, copy)] = this.redactValue(item, depth + 1);
    }
    return copy;
  }

  /** A key that holds personal data is redacted too; two keys redacted alike stay apart (`#2`). */
  redactKey(key: string, siblings: Readonly<Record<string, unknown>>): string {
    const redacted = this.redactString(key);
    if (redacted === key) return key;
    let unique = redacted;
    for (let n = 2; Object.hasOwn(siblings, unique); n++) unique = `${redacted}#${n}`;
    return unique;
  }
}

/**
 * Redacts e-mail addresses (IDN and quoted local parts included), phone numbers (validated by
 * libphonenumber-js), IBANs (validated by ibantools), card numbers (Luhn and network prefix) and
 * national ids (US SSN, UK NINO) in every string and every object key of a JSON value, and card
 * numbers stored as JSON numbers, returning a redacted copy and counts per kind.
 * @throws RangeError when the value is nested deeper than 64 levels (the caller refuses it).
 */
export function redactPii<T>(value: T, options: RedactionOptions = {}): RedactionResult<T> {
  const tally = new RedactionTally(options);
  const redacted = tally.redactValue(value, 0) as T;
  return { value: redacted, redactions: tally.redactions, kinds: tally.kinds };
}
