/**
 * The part of a connector call's Cedar context that data protection decides on: the amount (exact,
 * in cents), its currency and that currency's approval threshold from the config, the export format
 * (normalised) and the destination host. One pure function, called once per decision, whatever the
 * connector kind: the kind says which of its parameters are the amount, the currency and the format;
 * this module says what they mean to a policy.
 */
import type { WorkflowConfig } from '../../../lib/config/schema';
import { AirlockError } from '../errors';
import { AmountFormatError, amountInCents, MAX_CENTS } from './exact-amount';
import { normalizeExportFormat } from './export-format';

/** What a call carries, as its connector read it from the parameters. */
export interface DataPolicyInput {
  /** The amount the call moves, as sent (a JSON number or a decimal string). @default - none */
  readonly amount?: unknown;
  /** Its currency (ISO 4217, any case). @default - none */
  readonly currency?: unknown;
  /** The format data leaves in (`csv`, `text/csv`, ...). @default - none */
  readonly format?: unknown;
  /** The host the call reaches (HTTP connectors). @default - none (a file store reaches none) */
  readonly destinationHost?: string;
  /**
   * Amounts this principal already moved today in the same currency, in cents. Fed by a shared
   * counter store (not part of this module); when given, `dailyAmountCents` is this plus the call's
   * amount, and the policies hold a split entry once the day's total passes the threshold.
   * @default - no daily total in the context
   */
  readonly amountEarlierTodayCents?: bigint;
}

/** Context fields for `policies/airlock.cedarschema`'s RequestContext. */
export interface DataPolicyContext {
  /** Magnitude of the amount in cents, rounded up (a credit of -5000 is as large as a debit of 5000). */
  readonly amountCents?: number;
  /** Upper-case ISO 4217 code. */
  readonly currency?: string;
  /**
   * The workflow's threshold for this currency in cents: `approvalAmountAboveByCurrency[currency]`,
   * else `approvalAmountAbove` when the workflow lists no currencies. Absent when the workflow lists
   * currencies and this is not one of them: the policies then hold every amount.
   */
  readonly approvalThresholdCents?: number;
  /** The principal's total today in this currency, this call included. */
  readonly dailyAmountCents?: number;
  /** Normalised export format (see {@link normalizeExportFormat}). */
  readonly format?: string;
  /** Lower-case destination host. */
  readonly destinationHost?: string;
  /** Kinds of personal data in what a write or an export sends (see outgoing-scan.ts); absent when none. */
  readonly requestPersonalData?: readonly string[];
}

const CURRENCY = /^[A-Za-z]{3}$/;

function invalid(field: string, message: string): AirlockError {
  return new AirlockError('invalid_request', `${field}: ${message}.`);
}

function thresholdCents(
  workflow: Pick<WorkflowConfig, 'approvalAmountAbove' | 'approvalAmountAboveByCurrency'>,
  currency: string | undefined,
): bigint {
  const byCurrency = workflow.approvalAmountAboveByCurrency;
  if (byCurrency === undefined) return amountInCents(workflow.approvalAmountAbove, 'down').cents;
  if (currency === undefined || !Object.hasOwn(byCurrency, currency)) return 0n;
  return amountInCents(byCurrency[currency], 'down').cents;
}

/**
 * Derives the data-protection fields of a call's Cedar context.
 * @throws AirlockError `invalid_request` naming the parameter when the amount is not an exact decimal
 *   number, the currency not a three-letter code, or the format not a string (undecidable is refused)
 */
export function deriveDataPolicyContext(
  input: DataPolicyInput,
  workflow: Pick<WorkflowConfig, 'approvalAmountAbove' | 'approvalAmountAboveByCurrency'>,
): DataPolicyContext {
  const context: {
    -readonly [K in keyof DataPolicyContext]: DataPolicyContext[K];
  } = {};
  let currency: string | undefined;
  if (input.currency !== undefined) {
    if (typeof input.currency !== 'string' || !CURRENCY.test(input.currency.trim())) {
      throw invalid('currency', 'expected a three-letter ISO 4217 code such as EUR');
    }
    currency = input.currency.trim().toUpperCase();
    context.currency = currency;
  }
  if (input.amount !== undefined) {
    let cents: bigint;
    try {
      cents = amountInCents(input.amount, 'up').cents;
    } catch (error) {
      if (error instanceof AmountFormatError) throw invalid('amount', error.message);
      throw error;
    }
    context.amountCents = Number(cents);
    context.approvalThresholdCents = Number(thresholdCents(workflow, currency));
    if (input.amountEarlierTodayCents !== undefined) {
      const total = input.amountEarlierTodayCents + cents;
      context.dailyAmountCents = Math.min(Number(total), Number(MAX_CENTS));
    }
  }
  if (input.format !== undefined) {
    if (typeof input.format !== 'string') throw invalid('format', 'expected a format name such as pdf');
    const format = normalizeExportFormat(input.format);
    if (format !== undefined) context.format = format;
  }
  if (input.destinationHost !== undefined) context.destinationHost = input.destinationHost.toLowerCase();
  return context;
}
