/**
 * What a connector tells Cedar about one call, derived by its kind from the call's validated
 * parameters: the resource the call acts on and the facts policies decide on (an amount, an export
 * format). The proxy adds what every call has (principal, workflow, scopes, approval state, the
 * upstream's host).
 */
import type { ParameterValues } from './operation-parameters';

export interface ConnectorPolicyContext {
  /** The Cedar resource id: a file key, or the operation for kinds without finer resources. */
  readonly resourceId: string;
  /** The call's amount in cents, when the operation carries one. */
  readonly amountCents?: number;
  /** The format data leaves in, when the operation exports. */
  readonly format?: string;
}

/** The amount and format of an operation that declares parameters named `amount` and `format`. */
export function amountAndFormatOf(
  params: ParameterValues,
): Pick<ConnectorPolicyContext, 'amountCents' | 'format'> {
  const amount = typeof params.amount === 'number' ? params.amount : undefined;
  const format = typeof params.format === 'string' ? params.format : undefined;
  return {
    ...(amount !== undefined ? { amountCents: Math.round(amount * 100) } : {}),
    ...(format ? { format } : {}),
  };
}
