/**
 * Folds the many ways a character can be written into the one the detectors look for, keeping a map
 * back to the original text so a match found in the folded text is redacted in the original.
 *
 * Why: `4111 1111 1111 1111` with non-breaking spaces, `alice＠example.com` with a full-width at sign,
 * `+44 20 7946 0958` in Arabic-Indic digits, `alice&#64;example.com` in HTML, or a card number with
 * zero-width spaces between its digits are the same personal data to a reader, and must be to the
 * scanner too.
 */

/** Text as the detectors see it, with each folded code unit's span in the original. */
export interface FoldedText {
  readonly text: string;
  /** Original start of each folded code unit; `undefined` when the text folded to itself. */
  readonly starts?: readonly number[];
  /** Original end (exclusive) of each folded code unit. */
  readonly ends?: readonly number[];
}

/** Invisible characters that may sit inside a number or an address without a reader seeing them. */
const INVISIBLE = new Set([0x00ad, 0x180e, 0x200b, 0x200c, 0x200d, 0x2060, 0x2061, 0x2062, 0x2063, 0xfeff]);

const DASHES = new Set([0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0xfe58, 0xfe63, 0xff0d]);

const FULL_STOPS = new Set([0x3002, 0xff0e, 0xff61]);

const AT_SIGNS = new Set([0xfe6b, 0xff20]);

/** Zero code points of decimal digit runs that NFKC leaves alone (Arabic-Indic, Persian, Devanagari, Bengali, Thai). */
const DIGIT_ZEROS = [0x0660, 0x06f0, 0x0966, 0x09e6, 0x0e50];

/** Named HTML entities that spell a character the detectors need. */
const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  nbsp: ' ',
  commat: '@',
  period: '.',
  plus: '+',
  hyphen: '-',
  dash: '-',
  minus: '-',
  lpar: '(',
  rpar: ')',
  sol: '/',
  num: '#',
  amp: '&',
};

const ENTITY = /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]{2,8}));/y;

/** Plain printable ASCII (and line breaks) without `&`: nothing to fold. */
const PLAIN = /^[\t\n\r\x20-\x25\x27-\x7e]*$/;

/** The characters that may fold: everything else is kept as it is. */
const FOLDABLE = /[^\t\n\r\x20-\x25\x27-\x7e]/g;

/** True when no character of `text` folds (e.g. `·`, `é` or `€` in otherwise plain text). */
function foldsToItself(text: string): boolean {
  FOLDABLE.lastIndex = 0;
  for (let match = FOLDABLE.exec(text); match; match = FOLDABLE.exec(text)) {
    const i = match.index;
    if (text.charCodeAt(i) === 0x26) {
      ENTITY.lastIndex = i;
      const entity = ENTITY.exec(text);
      if (entity && decodeEntity(entity) !== undefined) return false;
      continue;
    }
    const cp = text.codePointAt(i)!;
    if (foldCodePoint(cp) !== null) return false;
    if (cp > 0xffff) FOLDABLE.lastIndex = i + 2;
  }
  return true;
}

const cache = new Map<number, string | null>();

/** The folded form of one code point: one ASCII character, '' to drop it, or null to keep it as it is. */
function foldCodePoint(cp: number): string | null {
  if (cp < 0x80) return null;
  const cached = cache.get(cp);
  if (cached !== undefined) return cached;
  let folded: string | null = null;
  if (INVISIBLE.has(cp)) folded = '';
  else if (DASHES.has(cp)) folded = '-';
  else if (FULL_STOPS.has(cp)) folded = '.';
  else if (AT_SIGNS.has(cp)) folded = '@';
  else if (cp === 0x2028 || cp === 0x2029 || cp === 0x85) folded = '\n';
  else {
    const zero = DIGIT_ZEROS.find((z) => cp >= z && cp <= z + 9);
    if (zero !== undefined) folded = String(cp - zero);
    else {
      const char = String.fromCodePoint(cp);
      if (/^\s$/u.test(char)) folded = ' ';
      else {
        // NFKC maps full-width forms, mathematical digits and most compatibility spaces to ASCII.
        const nfkc = char.normalize('NFKC');
        if (nfkc.length === 1 && nfkc.charCodeAt(0) < 0x80 && nfkc.charCodeAt(0) >= 0x20) folded = nfkc;
      }
    }
  }
  if (cache.size < 4096) cache.set(cp, folded);
  return folded;
}

function decodeEntity(match: RegExpExecArray): string | undefined {
  if (match[3] !== undefined) return NAMED_ENTITIES[match[3].toLowerCase()];
  const cp = match[1] !== undefined ? Number(match[1]) : Number.parseInt(match[2]!, 16);
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
  const folded = foldCodePoint(cp);
  return folded ?? String.fromCodePoint(cp);
}

/** Folds `text` for detection. Plain ASCII text folds to itself at no cost. */
export function foldText(text: string): FoldedText {
  if (PLAIN.test(text) || foldsToItself(text)) return { text };
  let out = '';
  const starts: number[] = [];
  const ends: number[] = [];
  const push = (chars: string, start: number, end: number) => {
    for (let k = 0; k < chars.length; k++) {
      starts.push(start);
      ends.push(end);
    }
    out += chars;
  };
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === 0x26) {
      ENTITY.lastIndex = i;
      const match = ENTITY.exec(text);
      const decoded = match ? decodeEntity(match) : undefined;
      if (match && decoded !== undefined) {
        push(decoded, i, i + match[0].length);
        i += match[0].length;
        continue;
      }
    }
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const folded = foldCodePoint(cp);
    push(folded ?? text.slice(i, i + width), i, i + width);
    i += width;
  }
  return { text: out, starts, ends };
}

/** The span of the original text that the folded span `[start, end)` came from. */
export function originalSpan(folded: FoldedText, start: number, end: number): [number, number] {
  if (!folded.starts || !folded.ends) return [start, end];
  return [folded.starts[start]!, folded.ends[end - 1]!];
}
