import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type GetMetricDataCommandOutput,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';

const MS_PER_DAY = 86_400_000;

/**
 * A CloudWatch that answers GetMetricData like the service for daily Sum queries: it keeps daily
 * sums per metric and dimension set, answers only the periods inside [StartTime, EndTime), refuses
 * more than 500 queries, and pages its datapoints with NextToken (`pageSize` datapoints per page).
 */
export class FakeCloudWatchMetrics {
  readonly mock: AwsClientStub<CloudWatchClient>;
  readonly calls: GetMetricDataCommandInput[] = [];
  private readonly sums = new Map<string, Map<number, number>>();

  constructor(private readonly options: { pageSize?: number } = {}) {
    this.mock = mockClient(CloudWatchClient);
    this.mock.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => this.answer(input));
  }

  /** Adds `value` to the day's sum of a metric under exactly these dimensions. */
  put(
    namespace: string,
    metric: string,
    dimensions: Record<string, string>,
    day: string,
    value: number,
  ): void {
    const key = seriesKey(namespace, metric, dimensions);
    const series = this.sums.get(key) ?? new Map<number, number>();
    const at = Date.parse(`${day}T00:00:00Z`);
    series.set(at, (series.get(at) ?? 0) + value);
    this.sums.set(key, series);
  }

  restore(): void {
    this.mock.restore();
  }

  private answer(input: GetMetricDataCommandInput): GetMetricDataCommandOutput {
    this.calls.push(input);
    const queries = input.MetricDataQueries ?? [];
    if (queries.length > 500) {
      throw Object.assign(
        new Error('The collection MetricDataQueries must not have a size greater than 500.'),
        {
          name: 'InvalidParameterValueException',
        },
      );
    }
    const start = (input.StartTime as Date).getTime();
    const end = (input.EndTime as Date).getTime();
    const points: { id: string; at: number; value: number }[] = [];
    for (const query of queries) {
      const stat = query.MetricStat;
      if (!stat?.Metric || stat.Stat !== 'Sum' || stat.Period !== 86_400 || !query.Id) {
        throw Object.assign(new Error(`unsupported query ${query.Id}`), {
          name: 'InvalidParameterValueException',
        });
      }
      const dimensions = Object.fromEntries((stat.Metric.Dimensions ?? []).map((d) => [d.Name, d.Value]));
      const series = this.sums.get(
        seriesKey(stat.Metric.Namespace ?? '', stat.Metric.MetricName ?? '', dimensions),
      );
      for (let at = start; at < end; at += MS_PER_DAY) {
        const value = series?.get(at);
        if (value !== undefined) points.push({ id: query.Id, at, value });
      }
    }
    const offset = input.NextToken ? Number(input.NextToken) : 0;
    const pageSize = this.options.pageSize ?? 100_800;
    const page = points.slice(offset, offset + pageSize);
    const more = offset + pageSize < points.length;
    const results: MetricDataResult[] = queries.map((q) => {
      const mine = page.filter((p) => p.id === q.Id);
      return {
        Id: q.Id,
        Label: q.MetricStat?.Metric?.MetricName,
        Timestamps: mine.map((p) => new Date(p.at)),
        Values: mine.map((p) => p.value),
        StatusCode: more ? 'PartialData' : 'Complete',
      };
    });
    return {
      MetricDataResults: results,
      ...(more ? { NextToken: String(offset + pageSize) } : {}),
      $metadata: {},
    };
  }
}

function seriesKey(namespace: string, metric: string, dimensions: Record<string, unknown>): string {
  return JSON.stringify([
    namespace,
    metric,
    Object.entries(dimensions).sort(([a], [b]) => a.localeCompare(b)),
  ]);
}
