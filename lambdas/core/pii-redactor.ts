/**
 * Data-loss prevention for connector results: personal data in any string of a JSON value is
 * replaced by `[redacted:<kind>]` before it reaches the agent (unless the caller is cleared for it).
 * Patterns are compiled once; numbers that only look like personal data (amounts, dates, GL codes,
 * order numbers) are left alone, and IBANs and card numbers must pass their check digits.
 */

export type PiiKind = 'email' | 'iban' | 'card' | 'national-id' | 'phone';

export interface RedactionResult<T = unknown> {
  /** A copy of the input with personal data replaced; the input is not changed. */
  readonly value: T;
  /** How many values were redacted in all. */
  readonly redactions: number;
  /** Redactions per kind; kinds that did not occur are absent. */
  readonly kinds: Partial<Record<PiiKind, number>>;
}

interface Detector {
  readonly kind: PiiKind;
  readonly pattern: RegExp;
  /** Length of the leading part of the match that is personal data; 0 to leave the match alone. */
  readonly measure?: (match: string) => number;
}

/** ISO 7064 mod 97-10, computed piecewise so that 34-character IBANs never exceed a safe integer. */
function ibanIsValid(compact: string): boolean {
  if (compact.length < 15 || compact.length > 34) return false;
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    const code = char.charCodeAt(0);
    const digits = code >= 65 ? String(code - 55) : char;
    for (const digit of digits) remainder = (remainder * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return remainder === 1;
}

/** A spaced IBAN can run into a following word of up to four capitals; drop trailing groups until it checks. */
function measureIban(match: string): number {
  const groups = match.split(' ');
  for (let count = groups.length; count >= 1; count--) {
    const candidate = groups.slice(0, count).join(' ');
    if (ibanIsValid(candidate.replaceAll(' ', ''))) return candidate.length;
  }
  return 0;
}

function luhnIsValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

function measureCard(match: string): number {
  const digits = match.replace(/\D/g, '');
  return digits.length >= 13 && digits.length <= 19 && luhnIsValid(digits) ? match.length : 0;
}

/** A phone number has 8 to 15 digits (E.164); fewer is more likely a reference number. */
function measureInternationalPhone(match: string): number {
  const digits = match.replace(/\D/g, '').length;
  // "+1 234 567.89" is a signed amount: one dot, two decimals at the end.
  if (/^[^.]*\.\d{2}$/.test(match)) return 0;
  return digits >= 8 && digits <= 15 ? match.length : 0;
}

/** Trunk-prefixed national numbers have 9 to 11 digits; a date such as 01-02-2026 is not one. */
function measureNationalPhone(match: string): number {
  const digits = match.replace(/\D/g, '').length;
  if (/^\d{1,2}[- ]\d{1,2}[- ]\d{2,4}$/.test(match)) return 0;
  return digits >= 9 && digits <= 11 ? match.length : 0;
}

/**
 * Order matters: e-mail first (local parts may hold digits), then the check-digit kinds, then
 * national ids, and phone numbers last as the loosest. Every replacement is digit-free, so later
 * patterns never match inside it.
 */
const DETECTORS: readonly Detector[] = [
  {
    kind: 'email',
    pattern:
      /(?<![\w.%+-])[A-Za-z0-9][\w.%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w-])/g,
  },
  {
    // Compact (DE89370400440532013000) or printed in groups of four (DE89 3704 0044 0532 0130 00).
    kind: 'iban',
    pattern: /(?<![\w-])[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?![\w-])/g,
    measure: measureIban,
  },
  {
    // Major networks start with 2-6. Compact, 4-4-4-4(-3) with one separator, or Amex 4-6-5. A
    // date range such as 2026-01-01 2026-03-31 is neither.
    kind: 'card',
    pattern:
      /(?<![\w+.,-])(?:[2-6]\d{12,18}|[2-6]\d{3}([ -])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?|3[47]\d{2}([ -])\d{6}\2\d{5})(?![\w-]|[.,]\d)/g,
    measure: measureCard,
  },
  {
    // US SSN, dashed only: nine bare digits are more often an order or account number.
    kind: 'national-id',
    pattern: /(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])/g,
  },
  {
    // UK National Insurance number, with or without spaces; prefixes HMRC never issues are excluded.
    kind: 'national-id',
    pattern:
      /(?<![\w-])(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![\w-])/g,
  },
  {
    // International: +44 20 7946 0958, +1 (415) 555-2671, +33.1.23.45.67.89.
    kind: 'phone',
    pattern: /(?<![\w+])\+[1-9](?:[ .()-]{0,2}\d){7,14}(?![\w/:-]|[.,]\d)/g,
    measure: measureInternationalPhone,
  },
  {
    // North American: 415-555-2671, 415.555.2671, (415) 555-2671.
    kind: 'phone',
    pattern: /(?<![\w+/.,-]|\d:)(?:\(\d{3}\) ?\d{3}[-. ]|\d{3}([-.])\d{3}\1)\d{4}(?![\w/:-]|[.,]\d)/g,
  },
  {
    // Trunk-prefixed national: 020 7946 0958, 07700 900123, 030 12345678, 01 23 45 67 89. Dates,
    // times and amounts do not start with 0[1-9] followed by these groups.
    kind: 'phone',
    pattern: /(?<![\w+/.,-]|\d:)0[1-9]\d{0,3}(?:[ -]?\d{2,4}){1,4}(?![\w/:-]|[.,]\d)/g,
    measure: measureNationalPhone,
  },
];

/** Every detector needs a digit or an `@`; most strings have neither and skip the patterns. */
const MAY_HOLD_PII = /[\d@]/;

const MAX_DEPTH = 64;

class Redactor {
  redactions = 0;
  readonly kinds: Partial<Record<PiiKind, number>> = {};

  redactString(text: string): string {
    if (!MAY_HOLD_PII.test(text)) return text;
    let result = text;
    for (const detector of DETECTORS) {
      detector.pattern.lastIndex = 0;
      result = result.replace(detector.pattern, (match) => {
        const length = detector.measure ? detector.measure(match) : match.length;
        if (length === 0) return match;
        this.redactions += 1;
        this.kinds[detector.kind] = (this.kinds[detector.kind] ?? 0) + 1;
        return `[redacted:${detector.kind}]${match.slice(length)}`;
      });
    }
    return result;
  }

  redact(value: unknown, depth: number): unknown {
    if (typeof value === 'string') return this.redactString(value);
    if (value === null || typeof value !== 'object') return value;
    // Refuse rather than pass through what cannot be walked (fail closed).
    if (depth > MAX_DEPTH)
      throw new RangeError(`value is nested deeper than ${MAX_DEPTH} levels; not redacted`);
    if (Array.isArray(value)) return value.map((item) => this.redact(item, depth + 1));
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = this.redact(item, depth + 1);
    return copy;
  }
}

/**
 * Redacts e-mail addresses, phone numbers, IBANs (mod-97 checked), card numbers (Luhn checked)
 * and national ids (US SSN, UK NINO) in every string of a JSON value, returning a redacted copy
 * and counts per kind. Object keys, numbers and booleans are kept as they are.
 * @throws RangeError when the value is nested deeper than 64 levels (the caller refuses it).
 */
export function redactPii<T>(value: T): RedactionResult<T> {
  const redactor = new Redactor();
  const redacted = redactor.redact(value, 0) as T;
  return { value: redacted, redactions: redactor.redactions, kinds: redactor.kinds };
}
