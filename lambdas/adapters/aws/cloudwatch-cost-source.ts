/**
 * {@link CostSource} over CloudWatch: daily sums (period 86,400 s from 00:00 UTC, statistic Sum) of
 * the usage metrics in namespace `Airlock`, for every workflow of the config (dimension `workflow`)
 * and every operation it may call (dimensions `workflow, connector, operation`). Needs
 * `cloudwatch:GetMetricData` only.
 *
 * CloudWatch cannot count distinct run ids (they are EMF properties, not metrics), so runs are the
 * `Runs` metric: a run served by several Lambda execution environments counts once per environment.
 */
import type {
  CloudWatchClient,
  GetMetricDataCommandOutput,
  MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type { AirlockConfig } from '../../../lib/config/schema';
import { METRICS_NAMESPACE, USAGE_METRIC_NAMES, type UsageMetricName } from '../../../lib/contracts/metrics';
import {
  type CostSource,
  type CostSourceResult,
  type DailyMetricTotals,
  type MetricValues,
  type ReportRange,
  startOfUtcDay,
  utcDay,
} from '../../core/cost-report';
import { DependencyError } from '../../core/errors';
import { describeAwsError } from './aws-permission-error';
import {
  type DeclaresIamPermissions,
  type IamActions,
  type IamPermission,
  permissionsOf,
} from './iam-permissions';
import { type ClientSource, clientOf } from './on-demand';
import { loadCloudWatchSdk } from './sdk-on-demand';

/**
 * The IAM actions each method sends. GetMetricData has no resource-level permissions (nor a
 * condition key that narrows it), so IAM authorizes it on `*` only.
 */
export const CLOUDWATCH_COST_SOURCE_ACTIONS = {
  dailyTotals: ['cloudwatch:GetMetricData'],
} as const satisfies IamActions<keyof CostSource>;

/** GetMetricData takes at most 500 queries per call. */
const MAX_QUERIES_PER_CALL = 500;
const SECONDS_PER_DAY = 86_400;
const MS_PER_DAY = SECONDS_PER_DAY * 1000;

/** What the top-operations table needs per operation; the rest stays at the workflow level. */
const OPERATION_METRICS = [
  'EstimatedCostUsd',
  'Invocations',
  'Denials',
  'BytesOut',
] as const satisfies readonly UsageMetricName[];

export interface CloudWatchCostSourceProps {
  readonly client: ClientSource<CloudWatchClient>;
  /** The workflows and their operations to query. */
  readonly config: Pick<AirlockConfig, 'workflows'>;
}

interface QueryTarget {
  readonly workflow: string;
  readonly connector?: string;
  readonly operation?: string;
  readonly metric: UsageMetricName;
}

export class CloudWatchCostSource implements CostSource, DeclaresIamPermissions<keyof CostSource> {
  constructor(private readonly props: CloudWatchCostSourceProps) {}

  iamPermissions(methods: readonly (keyof CostSource)[]): IamPermission[] {
    return permissionsOf('CloudWatchCostSource', CLOUDWATCH_COST_SOURCE_ACTIONS, methods, () => [
      { resource: '*' },
    ]);
  }

  async dailyTotals(range: ReportRange): Promise<CostSourceResult> {
    const targets = this.targets();
    const queries: MetricDataQuery[] = targets.map((target, i) => ({
      Id: `q${i}`,
      MetricStat: {
        Metric: {
          Namespace: METRICS_NAMESPACE,
          MetricName: target.metric,
          Dimensions: [
            { Name: 'workflow', Value: target.workflow },
            ...(target.connector !== undefined && target.operation !== undefined
              ? [
                  { Name: 'connector', Value: target.connector },
                  { Name: 'operation', Value: target.operation },
                ]
              : []),
          ],
        },
        Period: SECONDS_PER_DAY,
        Stat: 'Sum',
      },
      ReturnData: true,
    }));
    const startTime = startOfUtcDay(range.from);
    const endTime = new Date(startOfUtcDay(range.to).getTime() + MS_PER_DAY);

    const groups = new Map<string, DailyMetricTotals>();
    for (let i = 0; i < queries.length; i += MAX_QUERIES_PER_CALL) {
      const batch = queries.slice(i, i + MAX_QUERIES_PER_CALL);
      for (const result of await this.fetchAll(batch, startTime, endTime)) {
        const target = targets[Number(result.id.slice(1))];
        if (!target) continue;
        result.points.forEach(({ timestamp, value }) => {
          const day = utcDay(timestamp);
          if (day < range.from || day > range.to) return;
          const key = JSON.stringify([
            day,
            target.workflow,
            target.connector ?? null,
            target.operation ?? null,
          ]);
          let totals = groups.get(key);
          if (!totals) {
            totals = {
              day,
              workflow: target.workflow,
              ...(target.connector !== undefined
                ? { connector: target.connector, operation: target.operation }
                : {}),
              values: Object.fromEntries(USAGE_METRIC_NAMES.map((n) => [n, 0])) as MetricValues,
            };
            groups.set(key, totals);
          }
          totals.values[target.metric] += value;
        });
      }
    }
    return { totals: [...groups.values()], skippedRecords: 0 };
  }

  private targets(): QueryTarget[] {
    const targets: QueryTarget[] = [];
    for (const [workflow, config] of Object.entries(this.props.config.workflows)) {
      for (const metric of USAGE_METRIC_NAMES) targets.push({ workflow, metric });
      for (const [connector, operations] of Object.entries(config.connectors)) {
        for (const operation of operations) {
          for (const metric of OPERATION_METRICS) targets.push({ workflow, connector, operation, metric });
        }
      }
    }
    return targets;
  }

  /** Runs one batch of queries through every page; a query CloudWatch could not answer fails the report. */
  private async fetchAll(
    queries: MetricDataQuery[],
    startTime: Date,
    endTime: Date,
  ): Promise<{ id: string; points: { timestamp: Date; value: number }[] }[]> {
    const byId = new Map<string, { timestamp: Date; value: number }[]>();
    let nextToken: string | undefined;
    do {
      let output: GetMetricDataCommandOutput;
      try {
        const [{ GetMetricDataCommand }, client] = await Promise.all([
          loadCloudWatchSdk(),
          clientOf(this.props.client),
        ]);
        output = await client.send(
          new GetMetricDataCommand({
            MetricDataQueries: queries,
            StartTime: startTime,
            EndTime: endTime,
            ScanBy: 'TimestampAscending',
            NextToken: nextToken,
          }),
        );
      } catch (error) {
        throw new DependencyError(
          'cloudwatch metrics',
          describeAwsError(error, {
            action: 'cloudwatch:GetMetricData',
            resource: `namespace ${METRICS_NAMESPACE}`,
          }),
          { cause: error },
        );
      }
      for (const result of output.MetricDataResults ?? []) {
        if (result.Id === undefined) continue;
        if (result.StatusCode === 'Forbidden' || result.StatusCode === 'InternalError') {
          // Fail closed: a report missing some figures would read as lower spend than there was.
          throw new DependencyError(
            'cloudwatch metrics',
            `CloudWatch could not answer query ${result.Label ?? result.Id} (${result.StatusCode}${messageOf(result.Messages)}); try again later.`,
          );
        }
        const points = byId.get(result.Id) ?? [];
        const timestamps = result.Timestamps ?? [];
        const values = result.Values ?? [];
        if (timestamps.length !== values.length) {
          throw new DependencyError(
            'cloudwatch metrics',
            `CloudWatch answered query ${result.Id} with ${timestamps.length} timestamps but ${values.length} values.`,
          );
        }
        timestamps.forEach((timestamp, i) => {
          points.push({ timestamp, value: values[i] });
        });
        byId.set(result.Id, points);
      }
      nextToken = output.NextToken;
    } while (nextToken);
    return [...byId].map(([id, points]) => ({ id, points }));
  }
}

function messageOf(messages: readonly { Value?: string }[] | undefined): string {
  const text = (messages ?? [])
    .map((m) => m.Value)
    .filter(Boolean)
    .join('; ');
  return text ? `: ${text}` : '';
}
