/**
 * `POST /v1/usage`: an agent reports what its model spent, so finance sees the LLM's share of a
 * workflow's cost. What is reported is the agent's own claim, so it may not be used to seal a workflow
 * (a report counts against the daily spend cap, which refuses every call once it is reached):
 * - only a token that asked for the scope `usage:report` may report, and only for a workflow that
 *   enables reports (the broker grants the scope where Cedar's `credential-scopes-within-workflow`
 *   allows it);
 * - one report names at most `maxTokensPerReport` input and output tokens, and a token sends at most
 *   `perTokenPerMinute` reports;
 * - one principal's reports use at most `principalShareOfSpendCap` of the workflow's daily cap: a
 *   shared counter per principal and day, added to with a bound (atomic, so concurrent reports from
 *   any number of environments cannot pass it together);
 * - a report is refused while the workflow's cap is reached, like any call;
 * - what is recorded and metered is marked as self-reported (`details.selfReported` in the audit
 *   record; the cost report labels the LLM cost so).
 * Every report, refused ones included, is on the audit record.
 */
import * as z from 'zod';
import type { AirlockConfig } from '../../lib/config/schema';
import { USAGE_REPORT_SCOPE } from '../../lib/contracts/names';
import type { AuditAppender } from './audit-ledger';
import { boundedAuditEvent } from './audit-record';
import type { Caller } from './caller';
import { estimateCost } from './cost-estimate';
import { type CounterStore, counterExpiryOf, dailyCounterKey } from './counter-store';
import { AirlockError } from './errors';
import type { Clock } from './ports';
import type { RateLimiter } from './rate-limiter';
import { formatCapUsd, type SpendCap } from './spend-cap';
import type { UsageMeter } from './usage-meter';

/** The counter kind of a principal's reported usage of the day (nano-dollars). */
export const USAGE_COUNTER = 'usage';

const NANOS_PER_USD = 1e9;

export interface UsageReporterDeps {
  readonly config: AirlockConfig;
  readonly ledger: AuditAppender;
  readonly meter: UsageMeter;
  readonly spendCap: SpendCap;
  readonly counters: CounterStore;
  readonly rateLimiter: RateLimiter;
  readonly clock: Clock;
}

/** What the 202 answer says. */
export interface AcceptedUsage {
  readonly estimatedCostUsd: number;
  /** Cost of the principal's reports today in this workflow, this one included. */
  readonly reportedTodayUsd: number;
  /** What the principal's reports may add up to today. */
  readonly principalLimitUsd: number;
}

const tokenCount = z.number().int().nonnegative();
const usageSchema = z.strictObject({
  workflow: z.string().min(1).max(64),
  model: z.string().min(1).max(128),
  inputTokens: tokenCount,
  outputTokens: tokenCount,
});

export class UsageReporter {
  constructor(private readonly deps: UsageReporterDeps) {}

  /**
   * Checks, bounds, records and meters one report.
   * @throws AirlockError 400 (malformed, over the per-report bound, unknown model), 403 (no
   *   `usage:report` scope, another workflow), 429 (rate limit, the principal's share or the
   *   workflow's cap used up), after recording the refusal; DependencyError when the counters or the
   *   ledger cannot answer
   */
  async report(caller: Caller, body: unknown, requestId: string): Promise<AcceptedUsage> {
    let report: z.infer<typeof usageSchema> | undefined;
    try {
      report = this.parse(caller, body);
      return await this.accept(caller, report, requestId);
    } catch (error) {
      if (error instanceof AirlockError) await this.refused(caller, error, requestId, report);
      throw error;
    }
  }

  private parse(caller: Caller, body: unknown): z.infer<typeof usageSchema> {
    if (!caller.scopes.has(USAGE_REPORT_SCOPE)) {
      throw new AirlockError(
        'forbidden',
        `Your token lacks the scope "${USAGE_REPORT_SCOPE}". Request a token with it from POST /v1/credentials (the workflow must enable usage reports).`,
        { reasons: [`missing-scope:${USAGE_REPORT_SCOPE}`] },
      );
    }
    const parsed = usageSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path.join('.') || 'body';
      throw new AirlockError(
        'invalid_request',
        `${field.slice(0, 64)}: ${issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message} (expected {workflow, model, inputTokens, outputTokens}).`,
      );
    }
    const usage = parsed.data;
    if (usage.workflow !== caller.workflow) {
      throw new AirlockError(
        'forbidden',
        `Your token is for workflow "${caller.workflow}", not "${usage.workflow.slice(0, 64)}".`,
        { reasons: ['workflow-mismatch'] },
      );
    }
    const { maxTokensPerReport } = this.deps.config.workflows[caller.workflow].usageReports;
    for (const field of ['inputTokens', 'outputTokens'] as const) {
      if (usage[field] > maxTokensPerReport) {
        throw new AirlockError(
          'invalid_request',
          `${field}: at most ${maxTokensPerReport} per report in workflow "${caller.workflow}"; report each model call on its own.`,
          { reasons: ['usage-report-too-large'] },
        );
      }
    }
    if (!Object.hasOwn(this.deps.config.prices.models, usage.model)) {
      throw new AirlockError(
        'invalid_request',
        `model: no price for "${usage.model.slice(0, 128)}"; known models: ${Object.keys(this.deps.config.prices.models).join(', ')}.`,
      );
    }
    return usage;
  }

  private async accept(
    caller: Caller,
    usage: z.infer<typeof usageSchema>,
    requestId: string,
  ): Promise<AcceptedUsage> {
    const { config, spendCap, counters, clock } = this.deps;
    const settings = config.workflows[caller.workflow].usageReports;
    this.deps.rateLimiter.take(
      `usage:${caller.tokenId}`,
      settings.perTokenPerMinute,
      'usage reports of this token',
    );
    // A workflow whose cap is reached takes no more reports, as it takes no more calls.
    await spendCap.check(caller.workflow);
    const llm = { model: usage.model, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens };
    const cost = estimateCost(config.prices, {
      lambdaMs: 0,
      lambdaMemoryMb: 0,
      apiRequests: 0,
      kmsRequests: 0,
      secretsManagerCalls: 0,
      dynamodbWrites: 0,
      llm,
    }).llm;
    const now = clock.now();
    const limitUsd = spendCap.capOf(caller.workflow) * settings.principalShareOfSpendCap;
    const nanos = Math.ceil(cost * NANOS_PER_USD);
    const key = dailyCounterKey(USAGE_COUNTER, [caller.workflow, caller.principal], now);
    const expiresAt = counterExpiryOf(now);
    const reported = await counters.add(key, nanos, {
      expiresAt,
      atMost: Math.floor(limitUsd * NANOS_PER_USD),
    });
    if (reported === undefined) {
      throw new AirlockError(
        'rate_limited',
        `Your usage reports in workflow "${caller.workflow}" would pass your share of its daily spend cap today (${formatCapUsd(limitUsd)}, ${Math.round(settings.principalShareOfSpendCap * 100)}% of ${formatCapUsd(spendCap.capOf(caller.workflow))}). It resets at 00:00 UTC.`,
        { reasons: ['principal-share-of-spend-cap'], details: { principalLimitUsd: limitUsd } },
      );
    }
    try {
      await this.deps.ledger.append({
        type: 'usage_reported',
        principal: caller.principal,
        workflow: caller.workflow,
        decision: 'recorded',
        reasons: [],
        requestId,
        docHashes: [],
        details: { ...llm, selfReported: true, estimatedCostUsd: cost },
      });
    } catch (error) {
      // Not recorded, so not counted: the principal's share is given back.
      await counters.add(key, -nanos, { expiresAt }).catch(() => undefined);
      throw error;
    }
    this.deps.meter.record({
      runId: caller.tokenId,
      workflow: caller.workflow,
      outcome: 'usage_reported',
      bytesOut: 0,
      durationMs: 0,
      usage: {
        apiRequests: 1,
        kmsRequests: 0,
        secretsManagerCalls: 0,
        // The audit record, the principal's counter, and the workflow's spend counter (checked, then added to).
        dynamodbWrites: 4,
        llm,
      },
      timestamp: now,
    });
    // Counted against the cap at once (every environment sees it), not at this environment's next call.
    await spendCap.flush(caller.workflow);
    return {
      estimatedCostUsd: cost,
      reportedTodayUsd: reported / NANOS_PER_USD,
      principalLimitUsd: limitUsd,
    };
  }

  /** Records a refused report, in a bounded form (the body is the caller's). Never throws. */
  private async refused(
    caller: Caller,
    error: AirlockError,
    requestId: string,
    usage: z.infer<typeof usageSchema> | undefined,
  ): Promise<void> {
    await this.deps.ledger
      .append(
        boundedAuditEvent({
          type: 'usage_reported',
          principal: caller.principal,
          workflow: caller.workflow,
          decision: 'deny',
          reasons: [error.code, ...(error.reasons ?? [])],
          requestId,
          docHashes: [],
          ...(usage
            ? {
                details: {
                  model: usage.model,
                  inputTokens: usage.inputTokens,
                  outputTokens: usage.outputTokens,
                  selfReported: true,
                },
              }
            : {}),
        }),
      )
      .catch(() => undefined);
  }
}
