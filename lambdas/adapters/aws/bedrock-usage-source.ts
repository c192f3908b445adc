/**
 * {@link LlmUsageSource} over Amazon Bedrock's own CloudWatch metrics: the daily sums of
 * `InputTokenCount` and `OutputTokenCount` (namespace `AWS/Bedrock`) under the dimension `ModelId` =
 * each workflow's application inference profile ARN. The provider counted these tokens, not the agent.
 * Needs `cloudwatch:GetMetricData` only.
 */
import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandOutput,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { BEDROCK_METRICS } from '../../../lib/contracts/metrics';
import {
  type LlmUsageSource,
  type MeasuredLlmUsage,
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

/** GetMetricData has no resource-level permissions, so IAM authorizes it on `*` only. */
export const BEDROCK_USAGE_SOURCE_ACTIONS = {
  dailyUsage: ['cloudwatch:GetMetricData'],
} as const satisfies IamActions<'dailyUsage'>;

const SECONDS_PER_DAY = 86_400;
const MS_PER_DAY = SECONDS_PER_DAY * 1000;

/** A workflow's inference profile and the model its tokens are priced as. */
export interface WorkflowInferenceProfile {
  readonly profileArn: string;
  /** A key of `prices.models`. */
  readonly model: string;
}

export interface BedrockUsageSourceProps {
  readonly client: CloudWatchClient;
  /** Workflow → its application inference profile. */
  readonly profiles: Readonly<Record<string, WorkflowInferenceProfile>>;
}

export class BedrockUsageSource implements LlmUsageSource, DeclaresIamPermissions<'dailyUsage'> {
  readonly label = 'Amazon Bedrock, per application inference profile (CloudWatch AWS/Bedrock)';

  constructor(private readonly props: BedrockUsageSourceProps) {}

  iamPermissions(methods: readonly 'dailyUsage'[]): IamPermission[] {
    return permissionsOf('BedrockUsageSource', BEDROCK_USAGE_SOURCE_ACTIONS, methods, () => [
      { resource: '*' },
    ]);
  }

  async dailyUsage(range: ReportRange): Promise<MeasuredLlmUsage[]> {
    const workflows = Object.entries(this.props.profiles);
    if (workflows.length === 0) return [];
    const metrics = [BEDROCK_METRICS.inputTokens, BEDROCK_METRICS.outputTokens] as const;
    const queries: MetricDataQuery[] = workflows.flatMap(([, profile], w) =>
      metrics.map((metric, m) => ({
        Id: `w${w}m${m}`,
        MetricStat: {
          Metric: {
            Namespace: BEDROCK_METRICS.namespace,
            MetricName: metric,
            Dimensions: [{ Name: BEDROCK_METRICS.dimension, Value: profile.profileArn }],
          },
          Period: SECONDS_PER_DAY,
          Stat: 'Sum',
        },
        ReturnData: true,
      })),
    );
    const byKey = new Map<string, MeasuredLlmUsage & { inputTokens: number; outputTokens: number }>();
    let nextToken: string | undefined;
    do {
      let output: GetMetricDataCommandOutput;
      try {
        output = await this.props.client.send(
          new GetMetricDataCommand({
            MetricDataQueries: queries,
            StartTime: startOfUtcDay(range.from),
            EndTime: new Date(startOfUtcDay(range.to).getTime() + MS_PER_DAY),
            ScanBy: 'TimestampAscending',
            NextToken: nextToken,
          }),
        );
      } catch (error) {
        throw new DependencyError(
          'bedrock metrics',
          describeAwsError(error, {
            action: 'cloudwatch:GetMetricData',
            resource: `namespace ${BEDROCK_METRICS.namespace}`,
          }),
          { cause: error },
        );
      }
      for (const result of output.MetricDataResults ?? []) {
        const match = /^w(\d+)m(\d)$/.exec(result.Id ?? '');
        if (!match) continue;
        if (result.StatusCode === 'Forbidden' || result.StatusCode === 'InternalError') {
          // Fail closed: missing tokens would read as less spend than there was.
          throw new DependencyError(
            'bedrock metrics',
            `CloudWatch could not answer the Bedrock token query ${result.Id} (${result.StatusCode}); try again later.`,
          );
        }
        const [workflow, profile] = workflows[Number(match[1])];
        const isInput = match[2] === '0';
        (result.Timestamps ?? []).forEach((timestamp, i) => {
          const day = utcDay(timestamp);
          if (day < range.from || day > range.to) return;
          const key = `${day}\u0000${workflow}`;
          const entry = byKey.get(key) ?? {
            day,
            workflow,
            model: profile.model,
            inputTokens: 0,
            outputTokens: 0,
          };
          const value = result.Values?.[i] ?? 0;
          if (isInput) entry.inputTokens += value;
          else entry.outputTokens += value;
          byKey.set(key, entry);
        });
      }
      nextToken = output.NextToken;
    } while (nextToken);
    return [...byKey.values()];
  }
}

/** The workflows' profiles from the JSON `{workflow: profileArn}` the stack outputs, priced per the config. */
export function inferenceProfilesOf(
  json: string | undefined,
  workflows: Readonly<Record<string, { readonly llm?: { readonly model: string } }>>,
): Record<string, WorkflowInferenceProfile> {
  if (!json) return {};
  const parsed = JSON.parse(json) as Record<string, unknown>;
  const profiles: Record<string, WorkflowInferenceProfile> = {};
  for (const [workflow, arn] of Object.entries(parsed)) {
    const model = Object.hasOwn(workflows, workflow) ? workflows[workflow].llm?.model : undefined;
    if (typeof arn === 'string' && model) profiles[workflow] = { profileArn: arn, model };
  }
  return profiles;
}
