/**
 * Airlock's CloudWatch metrics, named once: the functions write them as EMF
 * (lambdas/adapters/aws/emf-metrics-sink.ts), the cost report reads them back (CloudWatch or the local
 * metrics log), and the dashboards and alarms (lib/metrics) are built on the same names.
 */

/** The namespace every Airlock metric is written to. */
export const METRICS_NAMESPACE = 'Airlock';

/** The dimension sets a usage point is filed under: per workflow, and per operation of a workflow. */
export const METRIC_DIMENSION_SETS = {
  workflow: ['workflow'],
  operation: ['workflow', 'connector', 'operation'],
} as const;

/** Estimated cost components, each a metric `Cost<Component>Usd` written per usage point, with its label. */
export const COST_COMPONENT_METRICS = {
  CostApiGatewayUsd: 'API Gateway',
  CostWafUsd: 'WAF',
  CostLambdaUsd: 'Lambda',
  CostDynamoDbUsd: 'DynamoDB',
  CostKmsUsd: 'KMS',
  CostSecretsManagerUsd: 'Secrets Manager',
  CostLogsUsd: 'CloudWatch Logs (incl. EMF)',
  CostXRayUsd: 'X-Ray',
  CostS3Usd: 'S3',
  CostLlmUsd: 'LLM tokens (self-reported)',
} as const;

/** Name of one cost component metric. */
export type CostComponentMetric = keyof typeof COST_COMPONENT_METRICS;

/** The metrics every usage point is published as, in publishing order. */
export const USAGE_METRIC_NAMES = [
  'Invocations',
  'Runs',
  'Denials',
  'ApprovalsRequested',
  'Failures',
  'BytesOut',
  'Duration',
  'EstimatedCostUsd',
  ...(Object.keys(COST_COMPONENT_METRICS) as CostComponentMetric[]),
  'LlmInputTokens',
  'LlmOutputTokens',
] as const;

/** One metric name. */
export type UsageMetricName =
  | 'Invocations'
  | 'Runs'
  | 'Denials'
  | 'ApprovalsRequested'
  | 'Failures'
  | 'BytesOut'
  | 'Duration'
  | 'EstimatedCostUsd'
  | CostComponentMetric
  | 'LlmInputTokens'
  | 'LlmOutputTokens';

/**
 * Decisions that shadow (log-only) policies (`policies/shadow/`) would have refused, under the same
 * dimensions as the usage metrics; written only by points that have any. Not a cost figure: the cost
 * report does not read it.
 */
export const SHADOW_REFUSALS_METRIC = 'ShadowRefusals';

/**
 * The refusal reason of a call to an upstream MCP tool whose definition changed since it was pinned
 * (`airlock connectors pin`): the mcp-server connector refuses with it, the proxy counts it as
 * {@link TOOL_DEFINITION_CHANGES_METRIC}.
 */
export const TOOL_DEFINITION_CHANGED_REASON = 'mcp-tool-definition-changed';

/**
 * Calls refused because the upstream changed a pinned tool's definition (a "rug pull" or an unreviewed
 * upgrade), under the same dimensions as the usage metrics; written only by points that have any. An
 * alarm per workflow that uses an mcp-server connector watches it (lib/stacks/monitoring-stack.ts).
 */
export const TOOL_DEFINITION_CHANGES_METRIC = 'ToolDefinitionChanges';

/**
 * Reads the connector proxy could not note in the read log, and held writes whose list of documents read
 * before could not be looked up (lambdas/core/run-read-log.ts): each is an approver shown less than the
 * agent read, or told the list is unknown. The call itself goes on (the audit trail names every read).
 * Under the same dimensions as the usage metrics; written only by points that have any. An alarm per
 * workflow watches it (lib/stacks/monitoring-stack.ts).
 */
export const READ_LOG_FAILURES_METRIC = 'ReadLogFailures';

/**
 * The month so far of each workflow (dimension `workflow`), written by the cost-report function on its
 * schedule from the same figures as the report (Airlock's estimate plus the LLM tokens Bedrock measured):
 * a true month to date, which a dashboard cannot compute itself (its time range has no "since the 1st").
 * The finance dashboard shows them and the month-to-date budget alarm watches the first.
 */
export const MONTH_TO_DATE_METRICS = {
  /** Spend since 00:00 UTC on the 1st of the month, in USD. */
  monthToDate: 'MonthToDateCostUsd',
  /** The month's linear forecast (month to date ÷ days elapsed × days in the month), in USD. */
  forecast: 'MonthForecastCostUsd',
} as const;

/** Name of a month-to-date metric. */
export type MonthToDateMetricName = (typeof MONTH_TO_DATE_METRICS)[keyof typeof MONTH_TO_DATE_METRICS];

/**
 * Amazon Bedrock's own runtime metrics (namespace `AWS/Bedrock`, dimension `ModelId`): the token
 * counts of every call through a workflow's application inference profile, measured by the provider.
 * The cost source, the dashboard, the spend cap and the anomaly alarm read them per profile.
 */
export const BEDROCK_METRICS = {
  namespace: 'AWS/Bedrock',
  dimension: 'ModelId',
  inputTokens: 'InputTokenCount',
  outputTokens: 'OutputTokenCount',
  invocations: 'Invocations',
} as const;
