/**
 * Airlock's CloudWatch metrics, defined once and apart from the dashboards and alarms built on them
 * (as cdk-monitoring-constructs keeps its metric factories apart from its widgets).
 *
 * The functions write these metrics as CloudWatch EMF (lambdas/adapters/aws/emf-metrics-sink.ts):
 * namespace `Airlock`, dimension sets `[workflow]` and `[workflow, connector, operation]`. The names
 * here must match the names written there (`USAGE_METRIC_NAMES` in lambdas/core/usage-meter.ts);
 * test/infra/monitoring-stack.test.ts checks that they do.
 */
import { Duration, Fn, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import {
  BEDROCK_METRICS,
  COST_COMPONENT_METRICS,
  type CostComponentMetric,
  METRICS_NAMESPACE,
  MONTH_TO_DATE_METRICS,
  type MonthToDateMetricName,
  READ_LOG_FAILURES_METRIC,
  SHADOW_REFUSALS_METRIC,
  TOOL_DEFINITION_CHANGES_METRIC,
  type UsageMetricName,
} from '../contracts/metrics';

/** The namespace the EMF metrics sink writes to. */
export const AIRLOCK_NAMESPACE = METRICS_NAMESPACE;

/** Estimated cost components, each a metric `Cost<Component>Usd` written per usage point. */
export const COST_COMPONENTS = COST_COMPONENT_METRICS;

export type { CostComponentMetric };

/** Every metric name the EMF sink writes. */
export type AirlockMetricName =
  | UsageMetricName
  | typeof SHADOW_REFUSALS_METRIC
  | typeof TOOL_DEFINITION_CHANGES_METRIC
  | typeof READ_LOG_FAILURES_METRIC
  | MonthToDateMetricName;

/** Options every metric method accepts. */
export interface AirlockMetricOptions {
  /**
   * Aggregation period.
   * @default Duration.days(1) - the finance dashboard reads costs per day
   */
  readonly period?: Duration;
  /**
   * Label in graphs and alarm descriptions.
   * @default - the metric name
   */
  readonly label?: string;
}

/** An operation of a connector, as the `[workflow, connector, operation]` dimensions name it. */
export interface OperationRef {
  readonly connector: string;
  readonly operation: string;
}

/**
 * Metric definitions for Airlock's own EMF metrics and the KMS usage metric the signing-rate
 * alarm watches. Every method returns a new metric; none creates a resource.
 */
export class AirlockMetrics {
  /** Builds one metric of the `[workflow]` dimension set. */
  public metric(
    name: AirlockMetricName,
    workflow: string,
    statistic: string,
    options: AirlockMetricOptions = {},
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: AIRLOCK_NAMESPACE,
      metricName: name,
      dimensionsMap: { workflow },
      statistic,
      period: options.period ?? Duration.days(1),
      label: options.label,
    });
  }

  /**
   * Runs of a workflow, summed. A run is one access token's work: every request made with the same
   * token. The functions count a run once per execution environment that served it, so a run spread
   * over several environments counts slightly more than once.
   */
  public metricRuns(workflow: string, options: AirlockMetricOptions = {}): cloudwatch.Metric {
    return this.metric('Runs', workflow, cloudwatch.Stats.SUM, { label: 'Runs', ...options });
  }

  /** Requests of a workflow through the connector (the `Invocations` metric), summed. */
  public metricCalls(workflow: string, options: AirlockMetricOptions = {}): cloudwatch.Metric {
    return this.metric('Invocations', workflow, cloudwatch.Stats.SUM, { label: 'Calls', ...options });
  }

  /** Estimated cost in USD of a workflow (all components), summed. */
  public metricEstimatedCost(workflow: string, options: AirlockMetricOptions = {}): cloudwatch.Metric {
    return this.metric('EstimatedCostUsd', workflow, cloudwatch.Stats.SUM, {
      label: 'Estimated cost (USD)',
      ...options,
    });
  }

  /** One component of the estimated cost of a workflow, summed. */
  public metricCostComponent(
    workflow: string,
    component: CostComponentMetric,
    options: AirlockMetricOptions = {},
  ): cloudwatch.Metric {
    return this.metric(component, workflow, cloudwatch.Stats.SUM, {
      label: COST_COMPONENTS[component],
      ...options,
    });
  }

  /** Every cost component of a workflow, in the order the dashboard stacks them. */
  public metricCostComponents(workflow: string, options: AirlockMetricOptions = {}): cloudwatch.Metric[] {
    return (Object.keys(COST_COMPONENTS) as CostComponentMetric[]).map((component) =>
      this.metricCostComponent(workflow, component, options),
    );
  }

  /** Calls refused by policy, the kill switch or a limit, summed. */
  public metricDenials(workflow: string, options: AirlockMetricOptions = {}): cloudwatch.Metric {
    return this.metric('Denials', workflow, cloudwatch.Stats.SUM, { label: 'Denials', ...options });
  }

  /** Calls held for a human's approval, summed. */
  public metricApprovalsRequested(workflow: string, options: AirlockMetricOptions = {}): cloudwatch.Metric {
    return this.metric('ApprovalsRequested', workflow, cloudwatch.Stats.SUM, {
      label: 'Approvals requested',
      ...options,
    });
  }

  /** Calls shadow (log-only) policies would have refused, summed: what enforcing them would refuse. */
  public metricShadowRefusals(workflow: string, options: AirlockMetricOptions = {}): cloudwatch.Metric {
    return this.metric(SHADOW_REFUSALS_METRIC, workflow, cloudwatch.Stats.SUM, {
      label: 'Shadow policies would have refused',
      ...options,
    });
  }

  /**
   * Calls refused because an upstream MCP server changed a pinned tool's definition, summed: a rug pull
   * or an unreviewed upgrade (the tool-definition-change alarm watches it).
   */
  public metricToolDefinitionChanges(
    workflow: string,
    options: AirlockMetricOptions = {},
  ): cloudwatch.Metric {
    return this.metric(TOOL_DEFINITION_CHANGES_METRIC, workflow, cloudwatch.Stats.SUM, {
      label: 'Refused: upstream tool changed',
      ...options,
    });
  }

  /**
   * Read-log writes and lookups that failed, summed: each an approver shown less than the agent read, or
   * told the list is unknown (the read-log alarm watches it).
   */
  public metricReadLogFailures(workflow: string, options: AirlockMetricOptions = {}): cloudwatch.Metric {
    return this.metric(READ_LOG_FAILURES_METRIC, workflow, cloudwatch.Stats.SUM, {
      label: 'Read log failures',
      ...options,
    });
  }

  /** Calls that failed (upstream or internal errors), summed. */
  public metricFailures(workflow: string, options: AirlockMetricOptions = {}): cloudwatch.Metric {
    return this.metric('Failures', workflow, cloudwatch.Stats.SUM, { label: 'Failures', ...options });
  }

  /** Bytes returned to the agent, summed: what could leave the enterprise. */
  public metricBytesOut(workflow: string, options: AirlockMetricOptions = {}): cloudwatch.Metric {
    return this.metric('BytesOut', workflow, cloudwatch.Stats.SUM, { label: 'Bytes out', ...options });
  }

  /** Estimated cost in USD of one operation of a workflow (`[workflow, connector, operation]`), summed. */
  public metricOperationCost(
    workflow: string,
    { connector, operation }: OperationRef,
    options: AirlockMetricOptions = {},
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: AIRLOCK_NAMESPACE,
      metricName: 'EstimatedCostUsd',
      dimensionsMap: { workflow, connector, operation },
      statistic: cloudwatch.Stats.SUM,
      period: options.period ?? Duration.days(1),
      label: options.label ?? `${connector}/${operation}`,
    });
  }

  /**
   * A workflow's spend since the 1st of the month (UTC) in USD, as the cost-report function last wrote it
   * (Maximum: the latest snapshot within each period). Airlock's estimate plus the measured LLM cost.
   */
  public metricMonthToDateCost(workflow: string, options: AirlockMetricOptions = {}): cloudwatch.Metric {
    return this.metric(MONTH_TO_DATE_METRICS.monthToDate, workflow, cloudwatch.Stats.MAXIMUM, {
      label: 'Month to date (USD)',
      period: Duration.hours(6),
      ...options,
    });
  }

  /** The month's linear forecast for a workflow in USD, as the cost-report function last wrote it. */
  public metricMonthForecastCost(workflow: string, options: AirlockMetricOptions = {}): cloudwatch.Metric {
    return this.metric(MONTH_TO_DATE_METRICS.forecast, workflow, cloudwatch.Stats.MAXIMUM, {
      label: 'Forecast for the month (USD)',
      period: Duration.hours(6),
      ...options,
    });
  }

  /**
   * A workflow's whole estimated cost: Airlock's attributed estimate (`EstimatedCostUsd`) plus, with a
   * Bedrock inference profile, the LLM tokens Bedrock measured priced per million.
   */
  public metricWorkflowCost(
    workflow: string,
    llm:
      | {
          readonly profileArn: string;
          readonly profileId?: string;
          readonly inputPerMillionTokens: number;
          readonly outputPerMillionTokens: number;
        }
      | undefined,
    options: AirlockMetricOptions = {},
  ): cloudwatch.IMetric {
    const period = options.period ?? Duration.days(1);
    const airlock = this.metricEstimatedCost(workflow, { period });
    if (!llm) return options.label ? airlock.with({ label: options.label }) : airlock;
    return new cloudwatch.MathExpression({
      expression: 'FILL(airlock, 0) + llm',
      usingMetrics: { airlock, llm: this.metricMeasuredLlmCost(llm.profileArn, llm, { period }) },
      period,
      label: options.label ?? 'Cost (Airlock + measured LLM)',
    });
  }

  /**
   * Tokens Bedrock counted for a workflow's application inference profile (namespace `AWS/Bedrock`,
   * dimension `ModelId` = the profile ARN), summed: the provider's measure, not the agent's.
   */
  public metricBedrockTokens(
    profileArn: string,
    kind: 'input' | 'output',
    options: AirlockMetricOptions = {},
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: BEDROCK_METRICS.namespace,
      metricName: kind === 'input' ? BEDROCK_METRICS.inputTokens : BEDROCK_METRICS.outputTokens,
      dimensionsMap: { [BEDROCK_METRICS.dimension]: profileArn },
      statistic: cloudwatch.Stats.SUM,
      period: options.period ?? Duration.days(1),
      label: options.label ?? (kind === 'input' ? 'Input tokens (measured)' : 'Output tokens (measured)'),
    });
  }

  /**
   * The measured LLM cost of a workflow's profile in USD: its tokens × the model's prices per million.
   * Bedrock's `ModelId` may name the profile by its ARN or by its id (docs/cost.md); each day takes the
   * larger of the two counts, so the cost is right either way and a call is never counted twice.
   */
  public metricMeasuredLlmCost(
    profileArn: string,
    price: {
      readonly inputPerMillionTokens: number;
      readonly outputPerMillionTokens: number;
      /** The profile's id (e.g. `attrInferenceProfileId`). @default - the last segment of `profileArn` */
      readonly profileId?: string;
    },
    options: AirlockMetricOptions = {},
  ): cloudwatch.MathExpression {
    const period = options.period ?? Duration.days(1);
    const decimal = (n: number) => n.toFixed(6).replace(/\.?0+$/, '');
    const profileId = price.profileId ?? profileIdOf(profileArn);
    const larger = (a: string, b: string) =>
      `IF(FILL(${a}, 0) > FILL(${b}, 0), FILL(${a}, 0), FILL(${b}, 0))`;
    return new cloudwatch.MathExpression({
      expression: `(${larger('tin', 'tinid')} * ${decimal(price.inputPerMillionTokens)} + ${larger('tout', 'toutid')} * ${decimal(price.outputPerMillionTokens)}) / 1000000`,
      usingMetrics: {
        tin: this.metricBedrockTokens(profileArn, 'input', { period }),
        tout: this.metricBedrockTokens(profileArn, 'output', { period }),
        tinid: this.metricBedrockTokens(profileId, 'input', {
          period,
          label: 'Input tokens (measured, by id)',
        }),
        toutid: this.metricBedrockTokens(profileId, 'output', {
          period,
          label: 'Output tokens (measured, by id)',
        }),
      },
      period,
      label: options.label ?? 'LLM (measured)',
    });
  }

  /**
   * KMS calls counted against the account's "Cryptographic operations (ECC) request rate" quota, per
   * minute (the `AWS/Usage` metric Service Quotas reads). It counts every ECC call of the account in
   * the region, not only Airlock's: the quota is shared the same way.
   */
  public metricKmsEccCalls(options: AirlockMetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/Usage',
      metricName: 'CallCount',
      dimensionsMap: { Service: 'KMS', Type: 'API', Resource: 'CryptographicOperationsEcc', Class: 'None' },
      statistic: cloudwatch.Stats.SUM,
      period: options.period ?? Duration.minutes(1),
      label: options.label ?? 'KMS ECC calls',
    });
  }

  /** ECC signing calls per second, averaged over each period: {@link metricKmsEccCalls} / period. */
  public metricKmsEccCallsPerSecond(options: AirlockMetricOptions = {}): cloudwatch.MathExpression {
    const period = options.period ?? Duration.minutes(1);
    return new cloudwatch.MathExpression({
      expression: 'calls / PERIOD(calls)',
      usingMetrics: { calls: this.metricKmsEccCalls({ period }) },
      period,
      label: options.label ?? 'KMS ECC calls per second',
    });
  }
}

/** An application inference profile's id: the last segment of its ARN (in CloudFormation when a token). */
export function profileIdOf(profileArn: string): string {
  if (Token.isUnresolved(profileArn)) return Fn.select(1, Fn.split('/', profileArn));
  return profileArn.slice(profileArn.lastIndexOf('/') + 1);
}
