// Reference for test/lambdas/core/dlp/redaction-equivalence.test.ts: lambdas/core/dlp/pii-detectors.ts as it was
// before the allocation pass of issue #23 (P2e), kept verbatim but for import paths. Not shipped.

/**
 * Personal-data detectors: broad candidate patterns, each candidate confirmed by a validator made for
 * the job (Node's IDNA for e-mail domains, ibantools for IBANs, Luhn and the card networks' prefixes
 * for card numbers, libphonenumber-js for phone numbers). The patterns are deliberately loose about
 * spelling (case, separators, international prefixes, Unicode digits after {@link foldText}); the
 * validators keep amounts, dates, order numbers and GL codes out.
 */
import { domainToASCII } from 'node:url';
import { countrySpecs, isValidIBAN } from 'ibantools';
import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';

export type PiiKind = 'email' | 'iban' | 'card' | 'national-id' | 'phone';

/** A detection in the (folded) text: `[start, end)`. */
export interface PiiMatch {
  readonly kind: PiiKind;
  readonly start: number;
  readonly end: number;
}

export interface DetectionOptions {
  /**
   * Regions (ISO 3166-1 alpha-2) whose national spelling of a phone number, e.g. `089/12345678` in
   * Germany, is recognised without a country code. Numbers with `+` or `00` need none.
   */
  readonly phoneRegions: readonly string[];
}

/** Regions whose national phone spellings are recognised when the config names none. */
export const DEFAULT_PHONE_REGIONS: readonly string[] = [
  'GB',
  'IE',
  'DE',
  'AT',
  'CH',
  'FR',
  'BE',
  'NL',
  'LU',
  'IT',
  'ES',
  'PT',
  'DK',
  'SE',
  'NO',
  'FI',
  'PL',
  'CZ',
  'US',
  'CA',
  'AU',
  'NZ',
  'IN',
  'JP',
  'BR',
  'ZA',
];

// ---------------------------------------------------------------------------------------------- e-mail

/** Top-level "domains" that are file extensions, not TLDs: `logo@2x.png` is an image, not an address. */
const FILE_EXTENSIONS = new Set([
  'png',
  'jpg',
  'jpeg',
  'gif',
  'svg',
  'webp',
  'pdf',
  'txt',
  'csv',
  'json',
  'eml',
  'msg',
]);

const AT = String.raw`(?:@|%40|\s?[\[(]\s?[aA][tT]\s?[\])]\s?)`;
const DOT = String.raw`(?:\.|\s?[\[(]\s?[dD][oO][tT]\s?[\])]\s?)`;
const LABEL = String.raw`[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}-]{0,61}[\p{L}\p{M}\p{N}])?`;
const EMAIL = new RegExp(
  String.raw`(?<![\p{L}\p{M}\p{N}_.%+-])(?:"[^"\r\n@]{1,64}"|[\p{L}\p{N}_](?:[\p{L}\p{M}\p{N}_.%+-]{0,63}))${AT}((?:${LABEL}${DOT})+(?:xn--[a-zA-Z0-9-]{1,59}|\p{L}[\p{L}\p{M}]{1,62}))(?![\p{L}\p{M}\p{N}_-])`,
  'gu',
);

/** The length of the address's domain to redact: all of it, less a trailing file extension, or 0 when it is no domain. */
function measureEmailDomain(domain: string): number {
  const plain = domain.replace(new RegExp(DOT, 'g'), '.');
  const lastDot = plain.lastIndexOf('.');
  if (FILE_EXTENSIONS.has(plain.slice(lastDot + 1).toLowerCase())) {
    // `alice@example.com.pdf` is an address in a file name; `logo@2x.png` is no address at all.
    const rest = plain.slice(0, lastDot);
    return rest.includes('.') && /\p{L}$/u.test(rest) && domainToASCII(rest) !== ''
      ? domain.length - (plain.length - lastDot)
      : 0;
  }
  return plain.length <= 253 && domainToASCII(plain) !== '' ? domain.length : 0;
}

function findEmails(text: string, found: PiiMatch[]): void {
  if (!/@|%40|[[(]\s?at\s?[\])]/i.test(text)) return;
  for (const match of text.matchAll(EMAIL)) {
    const domain = match[1]!;
    const length = measureEmailDomain(domain);
    if (length > 0) {
      const end = match.index + match[0].length - (domain.length - length);
      found.push({ kind: 'email', start: match.index, end });
    }
  }
}

// ------------------------------------------------------------------------------------------------ IBAN

/**
 * Two letters, two check digits (optionally set apart), then 11 to 30 letters and digits with single
 * spaces, dashes or dots between them: compact, printed in groups, lower-case or dashed.
 */
const IBAN_CANDIDATE = /(?<![\p{L}\p{N}])[A-Za-z]{2}[ -]?\d{2}(?:[ .-]?[A-Za-z0-9]){11,30}/gu;

const ALPHANUMERIC = /[A-Za-z0-9]/;

/** The candidate's leading IBAN, exactly as long as its country's IBANs are, or 0. */
function measureIban(text: string, start: number, end: number): number {
  const country = text.slice(start, start + 2).toUpperCase();
  const length = countrySpecs[country]?.chars;
  if (!length) return 0;
  let compact = '';
  let position = start;
  while (position < end && compact.length < length) {
    const char = text[position]!;
    if (ALPHANUMERIC.test(char)) compact += char.toUpperCase();
    position++;
  }
  if (compact.length < length || !isValidIBAN(compact)) return 0;
  // A longer run of letters and digits is a different code that merely starts like an IBAN.
  if (position < text.length && ALPHANUMERIC.test(text[position]!)) return 0;
  return position - start;
}

function findIbans(text: string, found: PiiMatch[]): void {
  for (const match of text.matchAll(IBAN_CANDIDATE)) {
    const length = measureIban(text, match.index, match.index + match[0].length);
    if (length > 0) found.push({ kind: 'iban', start: match.index, end: match.index + length });
  }
}

// ------------------------------------------------------------------------------------------------ card

/** 13 to 19 digits, compact or with one kind of single separator; never part of a longer number or a decimal. */
const CARD_CANDIDATE = /(?<!\d|\d[.,])\d(?:[ .-]?\d){12,40}(?!\d|[.,]\d)/g;

/** Visa, Mastercard (51-55, 2221-2720), Amex, Diners, JCB, Discover, UnionPay, Maestro. */
const CARD_NETWORK = /^(?:4|5[0-9]|2[2-7]|3[0-9]|6)/;

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

function isCardNumber(digits: string): boolean {
  return digits.length >= 13 && digits.length <= 19 && CARD_NETWORK.test(digits) && luhnIsValid(digits);
}

/** Card numbers among the candidate's groups: the whole run, or the longest run of whole groups that checks. */
function findCardsIn(start: number, candidate: string, found: PiiMatch[]): void {
  const separators = new Set(candidate.replace(/\d/g, ''));
  // Mixed separators (`2026-01-01 2026-03-31`) are dates or references, not a printed card number.
  if (separators.size > 1) return;
  const groups = [...candidate.matchAll(/\d+/g)].map((g) => ({ start: g.index, end: g.index + g[0].length }));
  let first = 0;
  while (first < groups.length) {
    let taken = false;
    for (let last = groups.length - 1; last >= first; last--) {
      const span = candidate.slice(groups[first]!.start, groups[last]!.end);
      if (isCardNumber(span.replace(/\D/g, ''))) {
        found.push({ kind: 'card', start: start + groups[first]!.start, end: start + groups[last]!.end });
        first = last + 1;
        taken = true;
        break;
      }
    }
    if (!taken) first++;
  }
}

function findCards(text: string, found: PiiMatch[]): void {
  for (const match of text.matchAll(CARD_CANDIDATE)) findCardsIn(match.index, match[0], found);
}

// ----------------------------------------------------------------------------------------- national id

const NATIONAL_IDS: readonly RegExp[] = [
  // US SSN, dashed only: nine bare digits are more often an order or account number.
  /(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])/g,
  // UK National Insurance number, with or without spaces; prefixes HMRC never issues are excluded.
  /(?<![\w-])(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![\w-])/g,
];

function findNationalIds(text: string, found: PiiMatch[]): void {
  for (const pattern of NATIONAL_IDS) {
    for (const match of text.matchAll(pattern)) {
      found.push({ kind: 'national-id', start: match.index, end: match.index + match[0].length });
    }
  }
}

// ----------------------------------------------------------------------------------------------- phone

/**
 * A phone-number-shaped run: an optional `+` or `(`, then 7 to 17 digits with up to three of
 * ` .-/()` between them. Not inside a word or a longer number, and not followed by a decimal part,
 * a time or a date's next field.
 */
const PHONE_CANDIDATE =
  /(?<![\p{L}\p{N}_+]|\d[.,:/-])(?:\+|\(\+?)?\d(?:[ .\-/()]{0,3}\d){6,16}\)?(?![\p{N}]|[.,:/-]\d)/gu;

/** A word before the number that says it is one: `Tel.`, `Phone:`, `Handy`, `mobile`, `☎`. */
const PHONE_LABEL =
  /(?:\b(?:tel|tél|tele?phone|téléphone|telefon|telefono|teléfono|phone|ph|mob|mobile?|mobil|cell|cellular|handy|fax|gsm|portable|móvil|movil|celular|whatsapp|call|ruf|rufnummer|contact)\b|\b[TMFtmf]\b|☎|📞)[^\n\d]{0,6}$/iu;

/** 01-02-2026, 15.03.2026, 03/15/2026: dates, whatever the locale. */
const DATE_LIKE = /^\d{1,2}[-. /]\d{1,2}[-. /]\d{2,4}$/;

/** North American 415-555-2671, 415.555.2671, (415) 555-2671. */
const NANP = /^(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}$/;

function hasLabel(text: string, start: number): boolean {
  return PHONE_LABEL.test(text.slice(Math.max(0, start - 24), start));
}

function phoneIsValid(candidate: string, region: string | undefined, labelled: boolean): boolean {
  let number: ReturnType<typeof parsePhoneNumberFromString>;
  try {
    number = parsePhoneNumberFromString(candidate, region as CountryCode | undefined);
  } catch {
    return false;
  }
  // A labelled number need only be possible: reserved ranges such as the UK's 07700 900xxx are
  // "invalid" yet are exactly what test and sample data use.
  return number !== undefined && (number.isValid() || (labelled && number.isPossible()));
}

/** 2026-09-14, 2026/09/14, 20260914: ISO dates, never phone numbers. */
const ISO_DATE = /^(?:19|20)\d{2}([-/.]?)(?:0[1-9]|1[0-2])\1(?:0[1-9]|[12]\d|3[01])$/;

function isPhoneNumber(text: string, start: number, candidate: string, regions: readonly string[]): boolean {
  const digits = candidate.replace(/\D/g, '');
  if (digits.length < 7 || digits.length > 17) return false;
  // The label is looked for only when the spelling alone does not decide.
  const labelled = () => hasLabel(text, start);
  const trimmed = candidate.replace(/^\((?=\+)|\)$/g, '');
  if (trimmed.startsWith('+') || trimmed.startsWith('(+'))
    return phoneIsValid(trimmed, undefined, labelled());
  if (digits.startsWith('00')) return phoneIsValid(`+${digits.slice(2)}`, undefined, labelled());
  if (DATE_LIKE.test(candidate) || ISO_DATE.test(candidate)) return false;
  const isLabelled = labelled();
  if (NANP.test(candidate) && phoneIsValid(candidate, 'US', isLabelled)) return true;
  // A national number needs its trunk prefix 0, or a label: bare digit runs are mostly amounts and ids.
  if (!digits.startsWith('0') && !isLabelled) return false;
  return regions.some((region) => phoneIsValid(candidate, region, isLabelled));
}

function findPhones(text: string, found: PiiMatch[], regions: readonly string[]): void {
  for (const match of text.matchAll(PHONE_CANDIDATE)) {
    if (isPhoneNumber(text, match.index, match[0], regions)) {
      found.push({ kind: 'phone', start: match.index, end: match.index + match[0].length });
    }
  }
}

// -------------------------------------------------------------------------------------------- together

/** Every detector needs a digit or something that spells `@`. */
const MAY_HOLD_PII = /[\d@]|%40|[[(]\s?at\s?[\])]/i;

/**
 * Finds personal data in folded text. The kinds are tried most specific first (e-mail, IBAN, card,
 * national id, phone); a later kind's match that overlaps an earlier one is dropped, so a card number
 * is never also counted as a phone number.
 */
export function findPii(text: string, options: DetectionOptions): PiiMatch[] {
  if (!MAY_HOLD_PII.test(text)) return [];
  const accepted: PiiMatch[] = [];
  const stages: Array<(found: PiiMatch[]) => void> = [
    (found) => findEmails(text, found),
    (found) => findIbans(text, found),
    (found) => findCards(text, found),
    (found) => findNationalIds(text, found),
    (found) => findPhones(text, found, options.phoneRegions),
  ];
  for (const stage of stages) {
    const found: PiiMatch[] = [];
    stage(found);
    for (const match of found) {
      if (!accepted.some((a) => match.start < a.end && a.start < match.end)) accepted.push(match);
    }
  }
  return accepted.sort((a, b) => a.start - b.start);
}

/** True when a JSON number is a card number (the only kind that is plausibly stored as a number). */
export function isCardNumberValue(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0 && isCardNumber(String(value));
}
