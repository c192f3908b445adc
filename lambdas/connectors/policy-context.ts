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
  /**
   * The call's amount, currency and export format as the caller gave them; the proxy turns them into
   * exact cents, an ISO currency and a normalised format (`deriveDataPolicyContext`), refusing what it
   * cannot read.
   */
  readonly amount?: unknown;
  readonly currency?: unknown;
  readonly format?: unknown;
}

/** The amount, currency and format of an operation that declares parameters with those names. */
export function dataParametersOf(
  params: ParameterValues,
): Pick<ConnectorPolicyContext, 'amount' | 'currency' | 'format'> {
  return { amount: params.amount, currency: params.currency, format: params.format };
}
