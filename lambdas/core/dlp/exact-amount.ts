/**
 * Exact decimal amounts for policy decisions. A JSON number is read through its shortest decimal
 * spelling (what `JSON.stringify` sends upstream), never multiplied as a float: `1000.004` is
 * 100000.4 cents, which rounds up to 100001 and so stays above a 1000.00 threshold instead of
 * rounding down onto it.
 */

/** A decimal as an integer and a power-of-ten scale: `value = sign × digits / 10^scale`. */
interface Decimal {
  readonly negative: boolean;
  readonly digits: bigint;
  readonly scale: number;
}

const DECIMAL = /^([+-])?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d{1,4}))?$/;

/** Larger amounts are not amounts; the bound also keeps the arithmetic below small. */
const MAX_EXPONENT = 30;
const MAX_SCALE = 1000;

/** The largest count of cents that is exact as a JSON number (and so within Cedar's Long). */
export const MAX_CENTS = BigInt(Number.MAX_SAFE_INTEGER);

/** The amount could not be read as an exact decimal number. */
export class AmountFormatError extends Error {
  public readonly name = 'AmountFormatError';
}

function parseDecimal(value: unknown): Decimal {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new AmountFormatError('expected a finite number');
    text = String(value);
  } else if (typeof value === 'string') {
    text = value.trim();
  } else {
    throw new AmountFormatError('expected a number or a decimal string such as "1000.00"');
  }
  const match = DECIMAL.exec(text);
  if (!match)
    throw new AmountFormatError(
      `expected a decimal number such as 1000.00, got ${JSON.stringify(text.slice(0, 40))}`,
    );
  const [, sign, whole, fraction = '', exponentText] = match;
  const exponent = exponentText === undefined ? 0 : Number(exponentText);
  let digits = BigInt(whole! + fraction);
  let scale = fraction.length - exponent;
  if (digits !== 0n && whole!.replace(/^0+/, '').length + exponent > MAX_EXPONENT) {
    throw new AmountFormatError('the amount is too large');
  }
  if (scale > MAX_SCALE) throw new AmountFormatError('the amount has too many decimal places');
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { negative: sign === '-' && digits !== 0n, digits, scale };
}

/**
 * The magnitude of an amount in hundredths (cents for most currencies), exactly.
 * @param rounding `up` for an amount compared against a threshold (a fraction of a cent can never
 *   slip under it), `down` for a threshold itself
 * @throws AmountFormatError when the value is not a finite decimal number of at most {@link MAX_CENTS} cents
 */
export function amountInCents(value: unknown, rounding: 'up' | 'down'): { cents: bigint; negative: boolean } {
  const { negative, digits, scale } = parseDecimal(value);
  let cents: bigint;
  if (scale <= 2) {
    cents = digits * 10n ** BigInt(2 - scale);
  } else {
    const divisor = 10n ** BigInt(scale - 2);
    cents = digits / divisor;
    if (rounding === 'up' && digits % divisor !== 0n) cents += 1n;
  }
  if (cents > MAX_CENTS) throw new AmountFormatError('the amount is too large');
  return { cents, negative };
}
