/**
 * What shadow (log-only) policies would have done over a time range, from the audit trail's
 * `policy_shadowed` records: per shadow policy, how many requests it would have refused, held for
 * approval or let through, for which workflows and operations, and when. `airlock policies report`
 * prints it; IT reads it before moving a policy from `policies/shadow/` to `policies/`.
 */
import type { AuditRecord } from './audit-record';

/** What one shadow policy would have done. */
export interface ShadowPolicySummary {
  readonly policy: string;
  /** Requests it would have refused that were let through (or held). */
  readonly wouldRefuse: number;
  /** Requests it would have held for a person's approval that were let through. */
  readonly wouldHold: number;
  /** Requests it would have let through that were refused (a shadow permit). */
  readonly wouldAllow: number;
  /** Requests per workflow. */
  readonly workflows: Readonly<Record<string, number>>;
  /** Requests per `connector/operation` (`credential` for a token request). */
  readonly operations: Readonly<Record<string, number>>;
  /** Requests per principal. */
  readonly principals: Readonly<Record<string, number>>;
  readonly firstTs?: string;
  readonly lastTs?: string;
  /** Request ids of the first few, to look up with `airlock audit export`. */
  readonly exampleRequestIds: readonly string[];
}

export interface ShadowReport {
  readonly from?: string;
  readonly to?: string;
  /** `policy_shadowed` records in the range. */
  readonly records: number;
  /** Records naming no shadow policy: the shadow set failed to evaluate (their reasons say why). */
  readonly evaluationErrors: number;
  /** One per shadow policy seen in the range or named in `known`, by policy id. */
  readonly policies: readonly ShadowPolicySummary[];
}

const EXAMPLES = 5;

interface Tally {
  wouldRefuse: number;
  wouldHold: number;
  wouldAllow: number;
  workflows: Record<string, number>;
  operations: Record<string, number>;
  principals: Record<string, number>;
  firstTs?: string;
  lastTs?: string;
  exampleRequestIds: string[];
}

function newTally(): Tally {
  return {
    wouldRefuse: 0,
    wouldHold: 0,
    wouldAllow: 0,
    // Prototype-less: workflow and principal names are keys.
    workflows: Object.create(null),
    operations: Object.create(null),
    principals: Object.create(null),
    exampleRequestIds: [],
  };
}

function add(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/**
 * Summarises the `policy_shadowed` records among `records` whose `ts` is in [from, to].
 * @param known the shadow policies in force now: each gets a row, so one that refused nothing shows 0.
 */
export async function summariseShadowDecisions(
  records: AsyncIterable<AuditRecord> | Iterable<AuditRecord>,
  options: { from?: Date; to?: Date; known?: readonly string[] } = {},
): Promise<ShadowReport> {
  const from = options.from?.getTime() ?? -Infinity;
  const to = options.to?.getTime() ?? Infinity;
  const tallies = new Map<string, Tally>((options.known ?? []).map((id) => [id, newTally()]));
  let count = 0;
  let evaluationErrors = 0;
  for await (const record of records) {
    if (record.type !== 'policy_shadowed') continue;
    const ms = Date.parse(record.ts);
    if (!(ms >= from && ms <= to)) continue;
    count += 1;
    const details = (record.details ?? {}) as { shadowPolicies?: unknown; wouldBe?: unknown };
    const policies = Array.isArray(details.shadowPolicies)
      ? details.shadowPolicies.filter((p): p is string => typeof p === 'string')
      : [];
    if (policies.length === 0) evaluationErrors += 1;
    for (const policy of policies) {
      let tally = tallies.get(policy);
      if (!tally) {
        tally = newTally();
        tallies.set(policy, tally);
      }
      if (details.wouldBe === 'deny') tally.wouldRefuse += 1;
      else if (details.wouldBe === 'approval_required') tally.wouldHold += 1;
      else if (details.wouldBe === 'allow') tally.wouldAllow += 1;
      add(tally.workflows, record.workflow);
      add(
        tally.operations,
        record.connector && record.operation ? `${record.connector}/${record.operation}` : 'credential',
      );
      add(tally.principals, record.principal);
      if (tally.firstTs === undefined || record.ts < tally.firstTs) tally.firstTs = record.ts;
      if (tally.lastTs === undefined || record.ts > tally.lastTs) tally.lastTs = record.ts;
      if (tally.exampleRequestIds.length < EXAMPLES) tally.exampleRequestIds.push(record.requestId);
    }
  }
  return {
    ...(options.from ? { from: options.from.toISOString() } : {}),
    ...(options.to ? { to: options.to.toISOString() } : {}),
    records: count,
    evaluationErrors,
    policies: [...tallies.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([policy, tally]) => ({
        policy,
        ...tally,
        workflows: { ...tally.workflows },
        operations: { ...tally.operations },
        principals: { ...tally.principals },
      })),
  };
}
