/**
 * {@link LlmUsageSource} over Amazon Bedrock's own CloudWatch metrics: the daily sums of
 * `InputTokenCount` and `OutputTokenCount` (namespace `AWS/Bedrock`) under the dimension `ModelId` =
 * each workflow's application inference profile ARN. The provider counted these tokens, not the agent.
 * Needs `cloudwatch:GetMetricData` only.
 */
import type {
  CloudWatchClient,
  GetMetricDataCommandOutput,
  MetricDataQuery,
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
import { type ClientSource, clientOf } from './on-demand';
import { loadCloudWatchSdk } from './sdk-on-demand';

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
  readonly client: ClientSource<CloudWatchClient>;
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
      metrics.flatMap((metric, m) =>
        modelIdSpellings(profile.profileArn).map((modelId, spelling) => ({
          Id: `w${w}m${m}s${spelling}`,
          MetricStat: {
            Metric: {
              Namespace: BEDROCK_METRICS.namespace,
              MetricName: metric,
              Dimensions: [{ Name: BEDROCK_METRICS.dimension, Value: modelId }],
            },
            Period: SECONDS_PER_DAY,
            Stat: 'Sum',
          },
          ReturnData: true,
        })),
      ),
    );
    // Day, workflow, metric and spelling → tokens; each day then takes the larger spelling's count.
    const bySpelling = new Map<string, number>();
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
        const match = /^w(\d+)m(\d)s(\d)$/.exec(result.Id ?? '');
        if (!match) continue;
        if (result.StatusCode === 'Forbidden' || result.StatusCode === 'InternalError') {
          // Fail closed: missing tokens would read as less spend than there was.
          throw new DependencyError(
            'bedrock metrics',
            `CloudWatch could not answer the Bedrock token query ${result.Id} (${result.StatusCode}); try again later.`,
          );
        }
        (result.Timestamps ?? []).forEach((timestamp, i) => {
          const day = utcDay(timestamp);
          if (day < range.from || day > range.to) return;
          const key = JSON.stringify([day, Number(match[1]), match[2], match[3]]);
          bySpelling.set(key, (bySpelling.get(key) ?? 0) + (result.Values?.[i] ?? 0));
        });
      }
      nextToken = output.NextToken;
    } while (nextToken);
    const byKey = new Map<string, MeasuredLlmUsage & { inputTokens: number; outputTokens: number }>();
    for (const [key, tokens] of bySpelling) {
      const [day, w, m] = JSON.parse(key) as [string, number, string, string];
      const [workflow, profile] = workflows[w];
      const entryKey = `${day}\u0000${workflow}`;
      const entry = byKey.get(entryKey) ?? {
        day,
        workflow,
        model: profile.model,
        inputTokens: 0,
        outputTokens: 0,
      };
      // The same calls under either spelling: the larger count, never the sum.
      if (m === '0') entry.inputTokens = Math.max(entry.inputTokens, tokens);
      else entry.outputTokens = Math.max(entry.outputTokens, tokens);
      byKey.set(entryKey, entry);
    }
    return [...byKey.values()];
  }
}

/**
 * The values the `ModelId` dimension may carry for calls through an application inference profile: its
 * ARN (what the client passes as `modelId`), and its id (the ARN's last segment), which Cloud Custodian's
 * inference-profile metrics filter queries (cloud-custodian/cloud-custodian#10786). AWS's runtime
 * metrics page does not say which one Bedrock publishes (docs/cost.md); reading both and keeping the
 * larger count per day is right either way, and never counts a call twice.
 */
export function modelIdSpellings(profileArn: string): string[] {
  const id = profileArn.slice(profileArn.lastIndexOf('/') + 1);
  return id && id !== profileArn ? [profileArn, id] : [profileArn];
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
