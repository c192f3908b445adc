/**
 * The cost report as RFC 4180 CSV, the form finance files: the CLI's `--format csv` and the monthly
 * e-mail's attachment-in-text both write it with this one function.
 */
import { type CostReport, roiPercent, type WorkflowCostFigures } from './cost-report';

/** CSV column names: one row per workflow per day, then one summary row per workflow and one for all. */
export const COST_CSV_COLUMNS = [
  'row',
  'day',
  'workflow',
  'cost_centre',
  'owner',
  'runs',
  'invocations',
  'denials',
  'approvals_requested',
  'failures',
  'bytes_out',
  'llm_measured_input_tokens',
  'llm_measured_output_tokens',
  'llm_self_reported_input_tokens',
  'llm_self_reported_output_tokens',
  'cost_api_gateway_usd',
  'cost_waf_usd',
  'cost_lambda_usd',
  'cost_dynamodb_usd',
  'cost_kms_usd',
  'cost_secrets_manager_usd',
  'cost_logs_usd',
  'cost_xray_usd',
  'cost_s3_usd',
  'cost_llm_measured_usd',
  'cost_llm_self_reported_usd',
  'cost_total_usd',
  'cost_per_run_usd',
  'minutes_saved_assumed',
  'value_usd_assumed',
  'roi_percent',
] as const;

/**
 * The report as RFC 4180 CSV (CRLF line ends, a header row): a `day` row per workflow per day, a
 * `workflow` row per workflow over the range, and one `total` row. Every row carries the workflow's cost
 * centre and owner, so a sheet filtered by cost centre still adds up. Amounts are plain decimals (never
 * exponent notation) so spreadsheets read them as numbers; an empty cell is "not defined" (cost per run
 * without runs, ROI when undefined). `roi_percent` is (value − cost) / cost × 100: 250 means +250%.
 */
export function formatCostCsv(report: CostReport): string {
  const owners = new Map(report.workflows.map((w) => [w.workflow, w]));
  const row = (kind: string, day: string, f: WorkflowCostFigures, costCentre: string, owner: string) => [
    kind,
    text(day),
    text(f.workflow),
    text(costCentre),
    text(owner),
    decimal(f.runs),
    decimal(f.invocations),
    decimal(f.denials),
    decimal(f.approvalsRequested),
    decimal(f.failures),
    decimal(f.bytesOut),
    decimal(f.llmMeasuredInputTokens),
    decimal(f.llmMeasuredOutputTokens),
    decimal(f.llmInputTokens),
    decimal(f.llmOutputTokens),
    ...CSV_COMPONENT_ORDER.map((key) => decimal(f.cost[key])),
    decimal(f.cost.total),
    f.costPerRunUsd === null ? '' : decimal(f.costPerRunUsd),
    decimal(f.minutesSaved),
    decimal(f.valueUsd),
    f.roi === null ? '' : decimal(roiPercent(f.roi) as number),
  ];
  const rows = [
    ...report.days.map((d) =>
      row('day', d.day, d, owners.get(d.workflow)?.costCentre ?? '', owners.get(d.workflow)?.owner ?? ''),
    ),
    ...report.workflows.map((w) => row('workflow', '', w, w.costCentre ?? '', w.owner ?? '')),
    row('total', '', report.summary, '', ''),
  ];
  return `${[[...COST_CSV_COLUMNS], ...rows].map((r) => r.join(',')).join('\r\n')}\r\n`;
}

/** The cost columns of the CSV, in column order. */
const CSV_COMPONENT_ORDER = [
  'apiGateway',
  'waf',
  'lambda',
  'dynamodb',
  'kms',
  'secretsManager',
  'logs',
  'xray',
  's3',
  'llmMeasured',
  'llm',
] as const;

/** A CSV text field: quoted when it must be (RFC 4180), and defused when a spreadsheet would run it as a formula. */
function text(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A number with up to 12 decimals, trailing zeros dropped, no exponent. */
function decimal(n: number): string {
  const fixed = n.toFixed(12);
  const trimmed = fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
  return trimmed === '-0' ? '0' : trimmed;
}
