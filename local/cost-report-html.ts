/**
 * The cost report as one self-contained HTML file finance can open offline or mail around: inline
 * CSS, SVG charts drawn here (no scripts, fonts or images fetched from anywhere), and the tables the
 * charts summarize. Stable hooks: `svg#cost-per-day`, `svg#roi`, `table#budgets`, `table#workflows`,
 * `table#components`, `table#top-operations`, `table#days`; the summary row is `tr.summary`.
 */
import {
  COST_COMPONENTS,
  COST_DEFINITIONS,
  type CostReport,
  daysOf,
  formatRoi,
  formatUsd,
  type WorkflowDayCost,
} from '../lambdas/core/cost-report';
import {
  budgetsTable,
  type CostTable,
  formatCount,
  workflowsTable,
} from '../lambdas/core/cost-report-tables';

/** Okabe–Ito colours: distinguishable with the common colour-vision deficiencies, and in print. */
const COMPONENT_COLOURS: Record<(typeof COST_COMPONENTS)[number]['key'], string> = {
  apiGateway: '#56B4E9',
  waf: '#999999',
  lambda: '#E69F00',
  dynamodb: '#0072B2',
  kms: '#009E73',
  secretsManager: '#CC79A7',
  logs: '#F0E442',
  xray: '#882255',
  s3: '#44AA99',
  llmMeasured: '#D55E00',
  llm: '#FFB38A',
};
/** Legend entries per row under the cost chart. */
const LEGEND_PER_ROW = 6;
const COST_COLOUR = '#3E4756';
const VALUE_COLOUR = '#009E73';

export interface CostReportHtmlOptions {
  /** When the report was made (shown in the header). */
  readonly generatedAt: Date;
  /** Where the figures came from, e.g. "local pilot metrics log" or "CloudWatch (eu-west-1)". */
  readonly source: string;
  /** Malformed records the source skipped; shown when not zero. */
  readonly skippedRecords?: number;
}

/** Renders the report as a complete HTML document. */
export function renderCostReportHtml(report: CostReport, options: CostReportHtmlOptions): string {
  const { runs, roi } = report.summary;
  const notes = [...report.notes];
  if (options.skippedRecords) {
    notes.push(`${options.skippedRecords} malformed metric record(s) were skipped and are not counted.`);
  }
  const title = `Airlock cost report ${report.range.from} to ${report.range.to}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Airlock cost report</h1>
<p class="meta">${escapeHtml(report.range.from)} to ${escapeHtml(report.range.to)} (UTC days) · source: ${escapeHtml(options.source)}${report.measuredLlmSource ? ` · LLM usage measured by: ${escapeHtml(report.measuredLlmSource)}` : ''} · generated ${escapeHtml(options.generatedAt.toISOString())}</p>
</header>
<main>
<section class="kpis" aria-label="Totals">
${kpi('Estimated cost', formatUsd(report.totalCostUsd), 'kpi-cost')}
${kpi('Value of time saved', formatUsd(report.totalValueUsd), 'kpi-value')}
${kpi('Runs', runs.toLocaleString('en-US'), 'kpi-runs')}
${kpi('ROI', formatRoi(roi), 'kpi-roi')}
</section>
${notes.length > 0 ? `<section class="notes" id="notes"><ul>${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul></section>` : ''}
<section>
<h2>Budgets this month</h2>
${summaryTable('budgets', budgetsTable(report))}
<p class="explain">Month to date is Airlock’s attributed cost of the workflow in the current UTC month, measured LLM usage included; the forecast carries the month’s daily average to its end.</p>
</section>
<section>
<h2>Cost per day by component</h2>
${costPerDayChart(report)}
</section>
<section>
<h2>Cost against value (ROI)</h2>
${roiChart(report)}
<p class="explain">Measured: runs, calls, denials, approvals, cost. Assumed: value = runs × minutes saved per run (config) ÷ 60 × hourly rate (config). ROI = (value − cost) ÷ cost, in percent. A run is one access token’s work for a workflow.</p>
</section>
<section>
<h2>Workflows</h2>
${summaryTable('workflows', workflowsTable(report))}
<p class="explain">${escapeHtml(COST_DEFINITIONS)}</p>
</section>
<section>
<h2>Cost by component</h2>
${componentsTable(report)}
</section>
<section>
<h2>Top operations by cost</h2>
${topOperationsTable(report)}
</section>
<section>
<h2>Per workflow per day</h2>
${daysTable(report)}
</section>
</main>
<footer><p>Costs are estimates from the price table in the Airlock config, attributed per request; AWS bills by account. Finance should reconcile with Cost Explorer (tag <code>airlock:workflow</code>).</p></footer>
</body>
</html>
`;
}

function kpi(label: string, value: string, id: string): string {
  return `<div class="kpi" id="${id}"><div class="kpi-label">${escapeHtml(label)}</div><div class="kpi-value">${escapeHtml(value)}</div></div>`;
}

const CHART_WIDTH = 960;
const CHART_HEIGHT = 340;
const MARGIN = { top: 16, right: 16, bottom: 82, left: 84 };

/** Stacked bars: one bar per workflow per day, stacked by cost component. */
function costPerDayChart(report: CostReport): string {
  const rows = report.days;
  const plotWidth = CHART_WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = CHART_HEIGHT - MARGIN.top - MARGIN.bottom;
  const legendRows = Math.ceil(COST_COMPONENTS.length / LEGEND_PER_ROW);
  const legend = COST_COMPONENTS.map(
    (c, i) =>
      `<g class="legend-item" transform="translate(${MARGIN.left + (i % LEGEND_PER_ROW) * 150},${CHART_HEIGHT - 18 - (legendRows - 1 - Math.floor(i / LEGEND_PER_ROW)) * 18})"><rect class="legend-swatch" width="12" height="12" y="-10" fill="${COMPONENT_COLOURS[c.key]}"/><text x="18">${escapeHtml(c.label)}</text></g>`,
  ).join('');
  const open = `<svg id="cost-per-day" class="chart" role="img" aria-labelledby="cost-per-day-title" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" xmlns="http://www.w3.org/2000/svg"><title id="cost-per-day-title">Estimated cost per workflow per day, stacked by component</title>`;
  if (rows.length === 0) {
    return `${open}<text class="empty" x="${CHART_WIDTH / 2}" y="${CHART_HEIGHT / 2}" text-anchor="middle">No usage recorded in this range.</text></svg>`;
  }
  const days = daysOf({ from: rows[0].day, to: rows[rows.length - 1].day });
  const workflows = [...new Set(rows.map((r) => r.workflow))].sort();
  const byKey = new Map<string, WorkflowDayCost>(rows.map((r) => [`${r.day}\u0000${r.workflow}`, r]));
  const max = Math.max(...rows.map((r) => r.cost.total));
  const ticks = niceTicks(max);
  const top = ticks[ticks.length - 1];
  const y = (usd: number) => MARGIN.top + plotHeight - (usd / top) * plotHeight;
  const groupWidth = plotWidth / days.length;
  const barWidth = Math.max(1, Math.min(48, (groupWidth * 0.8) / workflows.length));
  const labelEvery = Math.ceil(days.length / 15);

  const parts: string[] = [open];
  for (const tick of ticks) {
    parts.push(
      `<line class="grid" x1="${MARGIN.left}" x2="${CHART_WIDTH - MARGIN.right}" y1="${fmt(y(tick))}" y2="${fmt(y(tick))}"/>`,
      `<text class="axis-label" x="${MARGIN.left - 8}" y="${fmt(y(tick) + 4)}" text-anchor="end">${escapeHtml(formatUsd(tick))}</text>`,
    );
  }
  days.forEach((day, d) => {
    const groupX = MARGIN.left + d * groupWidth + (groupWidth - barWidth * workflows.length) / 2;
    workflows.forEach((workflow, w) => {
      const row = byKey.get(`${day}\u0000${workflow}`);
      if (!row) return;
      const x = groupX + w * barWidth;
      let stacked = 0;
      parts.push(`<g class="bar-stack" data-day="${day}" data-workflow="${escapeHtml(workflow)}">`);
      for (const component of COST_COMPONENTS) {
        const usd = row.cost[component.key];
        if (usd <= 0) continue;
        const y0 = y(stacked);
        stacked += usd;
        const y1 = y(stacked);
        parts.push(
          `<rect class="bar component-${component.key}" x="${fmt(x)}" y="${fmt(y1)}" width="${fmt(Math.max(1, barWidth - 2))}" height="${fmt(Math.max(0.5, y0 - y1))}" fill="${COMPONENT_COLOURS[component.key]}"><title>${escapeHtml(`${workflow}, ${day}: ${component.label} ${formatUsd(usd)} of ${formatUsd(row.cost.total)}`)}</title></rect>`,
        );
      }
      parts.push('</g>');
    });
    if (d % labelEvery === 0) {
      parts.push(
        `<text class="axis-label" x="${fmt(MARGIN.left + (d + 0.5) * groupWidth)}" y="${CHART_HEIGHT - MARGIN.bottom + 16}" text-anchor="middle">${day.slice(5)}</text>`,
      );
    }
  });
  parts.push(
    `<line class="axis" x1="${MARGIN.left}" x2="${CHART_WIDTH - MARGIN.right}" y1="${MARGIN.top + plotHeight}" y2="${MARGIN.top + plotHeight}"/>`,
  );
  if (workflows.length > 1) {
    parts.push(
      `<text class="axis-note" x="${CHART_WIDTH - MARGIN.right}" y="${CHART_HEIGHT - MARGIN.bottom + 34}" text-anchor="end">bars per day, left to right: ${escapeHtml(workflows.join(', '))}</text>`,
    );
  }
  parts.push(legend, '</svg>');
  return parts.join('');
}

/** Per workflow over the range: a cost bar and a value bar on one scale, with the ROI beside them. */
function roiChart(report: CostReport): string {
  const workflows = report.workflows;
  const rowHeight = 64;
  const left = 170;
  const right = 220;
  const height = Math.max(1, workflows.length) * rowHeight + 40;
  const plotWidth = CHART_WIDTH - left - right;
  const max = Math.max(0, ...workflows.flatMap((w) => [w.cost.total, w.valueUsd]));
  const x = (usd: number) => (max > 0 ? (usd / max) * plotWidth : 0);
  const parts = [
    `<svg id="roi" class="chart" role="img" aria-labelledby="roi-title" viewBox="0 0 ${CHART_WIDTH} ${height}" xmlns="http://www.w3.org/2000/svg"><title id="roi-title">Estimated cost against the value of time saved, per workflow</title>`,
  ];
  workflows.forEach((w, i) => {
    const top = 10 + i * rowHeight;
    const costWidth = w.cost.total > 0 ? Math.max(2, x(w.cost.total)) : 0;
    const valueWidth = w.valueUsd > 0 ? Math.max(2, x(w.valueUsd)) : 0;
    parts.push(
      `<g class="roi-row" data-workflow="${escapeHtml(w.workflow)}">`,
      `<text class="row-label" x="${left - 10}" y="${top + 30}" text-anchor="end">${escapeHtml(w.workflow)}</text>`,
      `<rect class="bar cost" x="${left}" y="${top + 6}" width="${fmt(costWidth)}" height="20" fill="${COST_COLOUR}"><title>${escapeHtml(`${w.workflow}: cost ${formatUsd(w.cost.total)}`)}</title></rect>`,
      `<text class="bar-label" x="${fmt(left + costWidth + 6)}" y="${top + 21}">cost ${escapeHtml(formatUsd(w.cost.total))}</text>`,
      `<rect class="bar value" x="${left}" y="${top + 30}" width="${fmt(valueWidth)}" height="20" fill="${VALUE_COLOUR}"><title>${escapeHtml(`${w.workflow}: value ${formatUsd(w.valueUsd)} (${w.runs} runs)`)}</title></rect>`,
      `<text class="bar-label" x="${fmt(left + valueWidth + 6)}" y="${top + 45}">value ${escapeHtml(formatUsd(w.valueUsd))}</text>`,
      `<text class="roi-label" x="${CHART_WIDTH - 16}" y="${top + 33}" text-anchor="end">ROI ${escapeHtml(formatRoi(w.roi))}</text>`,
      '</g>',
    );
  });
  if (workflows.length === 0) {
    parts.push(`<text class="empty" x="${CHART_WIDTH / 2}" y="24" text-anchor="middle">No workflows.</text>`);
  }
  parts.push(
    `<g class="legend-item" transform="translate(${left},${height - 12})"><rect width="12" height="12" y="-10" fill="${COST_COLOUR}"/><text x="18">Estimated cost</text></g>`,
    `<g class="legend-item" transform="translate(${left + 160},${height - 12})"><rect width="12" height="12" y="-10" fill="${VALUE_COLOUR}"/><text x="18">Value of time saved</text></g>`,
    '</svg>',
  );
  return parts.join('');
}

/** A summary table of {@link lambdas/core/cost-report-tables} as HTML. */
function summaryTable(id: string, { head, rows, summary, firstNumeric }: CostTable): string {
  return table(id, head, rows, firstNumeric, summary);
}

function componentsTable(report: CostReport): string {
  const head = ['Workflow', ...COST_COMPONENTS.map((c) => c.label), 'Total'];
  const row = (w: CostReport['summary']) => [
    w.workflow,
    ...COST_COMPONENTS.map((c) => formatUsd(w.cost[c.key])),
    formatUsd(w.cost.total),
  ];
  return table('components', head, report.workflows.map(row), 1, row(report.summary));
}

function daysTable(report: CostReport): string {
  const head = [
    'Day',
    'Workflow',
    'Runs',
    'Calls',
    'Denied',
    'Bytes out',
    'Cost',
    'Cost / run',
    'Value',
    'ROI',
  ];
  const body = report.days.map((d) => [
    d.day,
    d.workflow,
    formatCount(d.runs),
    formatCount(d.invocations),
    formatCount(d.denials),
    formatCount(d.bytesOut),
    formatUsd(d.cost.total),
    d.costPerRunUsd === null ? 'n/a' : formatUsd(d.costPerRunUsd),
    formatUsd(d.valueUsd),
    formatRoi(d.roi),
  ]);
  return table('days', head, body, 2);
}

function topOperationsTable(report: CostReport): string {
  const head = ['#', 'Workflow', 'Operation', 'Calls', 'Denied', 'Bytes out', 'Cost', 'Share of workflow'];
  const body = report.topOperations.map((o, i) => [
    String(i + 1),
    o.workflow,
    `${o.connector}/${o.operation}`,
    formatCount(o.invocations),
    formatCount(o.denials),
    formatCount(o.bytesOut),
    formatUsd(o.costUsd),
    `${(o.shareOfWorkflowCost * 100).toFixed(1)}%`,
  ]);
  return table('top-operations', head, body, 3);
}

/** A table whose columns from `firstNumeric` on are right-aligned figures. */
function table(
  id: string,
  head: readonly string[],
  body: readonly (readonly string[])[],
  firstNumeric: number,
  summary?: readonly string[],
): string {
  const cell = (tag: 'th' | 'td', text: string, i: number) =>
    `<${tag}${i >= firstNumeric ? ' class="num"' : ''}>${escapeHtml(text)}</${tag}>`;
  const rows =
    body.length > 0
      ? body.map((r) => `<tr>${r.map((c, i) => cell('td', c, i)).join('')}</tr>`).join('\n')
      : `<tr><td colspan="${head.length}" class="empty">No usage recorded in this range.</td></tr>`;
  const foot =
    summary && body.length > 0
      ? `<tfoot><tr class="summary">${summary.map((c, i) => cell('td', c, i)).join('')}</tr></tfoot>`
      : '';
  return `<div class="table-wrap"><table id="${id}"><thead><tr>${head.map((h, i) => cell('th', h, i)).join('')}</tr></thead><tbody>
${rows}
</tbody>${foot}</table></div>`;
}

/** About five round tick values from 0 up to at least `max`. */
function niceTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let i = 0; i * step < max + step * 1e-9 || ticks.length < 2; i += 1) ticks.push(i * step);
  if (ticks[ticks.length - 1] < max) ticks.push(ticks.length * step);
  // Round away binary noise (0.30000000000000004) so labels read cleanly.
  return ticks.map((t) => Number(t.toPrecision(12)));
}

function fmt(n: number): string {
  return n.toFixed(2);
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `
:root { color-scheme: light; --ink: #1d2433; --muted: #5b6474; --line: #d9dee7; --panel: #f6f8fb; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #fff; }
header { padding: 20px 32px 8px; border-bottom: 1px solid var(--line); }
h1 { margin: 0 0 4px; font-size: 22px; }
h2 { font-size: 16px; margin: 28px 0 8px; }
.meta, .explain, footer { color: var(--muted); font-size: 12px; }
main { padding: 8px 32px 24px; max-width: 1280px; }
footer { padding: 0 32px 24px; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; margin-top: 16px; }
.kpi { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px 16px; min-width: 180px; }
.kpi-label { color: var(--muted); font-size: 12px; }
.kpi-value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.notes { background: #fff7e6; border: 1px solid #f0c36d; border-radius: 6px; margin-top: 16px; padding: 4px 12px; }
.chart { width: 100%; height: auto; display: block; background: #fff; }
.chart text { font-size: 12px; fill: var(--ink); }
.chart .axis-label, .chart .axis-note { fill: var(--muted); font-variant-numeric: tabular-nums; }
.chart .grid { stroke: var(--line); stroke-width: 1; }
.chart .axis { stroke: var(--muted); stroke-width: 1; }
.chart .row-label { font-weight: 600; }
.chart .roi-label { font-weight: 600; font-size: 14px; }
.chart .empty { fill: var(--muted); font-size: 14px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 7px; font-size: 13px; text-align: left; white-space: nowrap; }
th { background: var(--panel); font-weight: 600; font-size: 12px; }
tr.summary td { font-weight: 600; border-top: 2px solid var(--line); }
.num { text-align: right; }
td.empty { color: var(--muted); text-align: center; }
@media print { main, header, footer { padding-left: 0; padding-right: 0; } section { break-inside: avoid; } }
`;
