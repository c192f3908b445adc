/**
 * An approval in words for a finance manager: who asks, in which workflow, the agent's stated intent,
 * the operation as the config describes it, its parameters (amounts formatted with their currency),
 * the policy that held it, when it expires, and the exact call as canonical JSON (the bytes `sha256`
 * covers). Pure, so the page, the e-mail and the CLI can say the same thing.
 */
import type { AirlockConfig } from '../../lib/config/schema';
import type { ApprovalRecord } from './approval-desk';
import { canonicalJson } from './canonical-json';

export interface ApprovalPreviewText {
  /** One line: "alice asks to create a journal entry of €2,500.00". */
  readonly headline: string;
  /** Term and value pairs, in reading order. */
  readonly facts: readonly (readonly [string, string])[];
  /** The exact call as canonical JSON. */
  readonly call: string;
  readonly backHref: string;
}

/** `2500` in `EUR` as `€2,500.00`; an unknown currency code is printed beside the number. */
export function formatAmount(amount: number, currency: string | undefined): string {
  if (currency && /^[A-Z]{3}$/.test(currency)) {
    try {
      return new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(amount);
    } catch {
      // falls through: a code Intl does not know
    }
  }
  return `${new Intl.NumberFormat('en-GB', { maximumFractionDigits: 2 }).format(amount)}${currency ? ` ${currency}` : ''}`;
}

function lowerFirst(text: string): string {
  return text.length > 0 ? text[0].toLowerCase() + text.slice(1) : text;
}

/** The approval in words. `backHref` is the list's address. */
export function approvalPreviewText(
  record: ApprovalRecord,
  config: Pick<AirlockConfig, 'connectors' | 'workflows'>,
  backHref: string,
): ApprovalPreviewText {
  const operation = config.connectors[record.connector]?.operations[record.operation];
  const workflow = config.workflows[record.workflow];
  const body = record.preview.call.body ?? {};
  const amount = typeof body.amount === 'number' ? body.amount : undefined;
  const currency = typeof body.currency === 'string' ? body.currency : undefined;
  const what = operation?.description
    ? lowerFirst(operation.description.split(/[;.]/)[0])
    : `run ${record.connector}/${record.operation}`;
  const headline = `${record.principal} asks to ${what}${amount !== undefined ? ` of ${formatAmount(amount, currency)}` : ''}`;
  const names = record.names ?? {};
  const parameters = Object.entries(body).map(([name, value]): [string, string] => [
    name === 'amount' && amount !== undefined ? 'Amount' : name,
    name === 'amount' && amount !== undefined
      ? formatAmount(amount, currency)
      : Object.hasOwn(names, name)
        ? `${String(value)} (${names[name]})`
        : String(value),
  ]);
  const facts: [string, string][] = [
    ['Asked by', record.principal],
    ['Workflow', workflow ? `${record.workflow}: ${workflow.description}` : record.workflow],
    ['Agent’s stated intent', record.intent ?? '(the agent gave none)'],
    ['Operation', `${record.connector}/${record.operation}${operation ? ` (${operation.description})` : ''}`],
    ...parameters,
    ['Held by policy', record.reasons.join(', ') || '(no policy id)'],
    ['Approver group', record.approverGroup],
    ['Asked at (UTC)', record.createdAt],
    ['Expires (UTC)', `${record.expiresAt} (after that the agent must ask again)`],
    ['Status', record.status],
    ['Approval id', record.id],
  ];
  return { headline, facts, call: canonicalJson(record.preview.call), backHref };
}
