/**
 * The local pilot's stand-in for Amazon Bedrock's CloudWatch metrics: `<home>/provider-metrics.log`
 * holds the EMF lines a local Bedrock stand-in (local/bedrock-stand-in.ts) writes for every model call,
 * in the shape Bedrock publishes (namespace `AWS/Bedrock`, dimension `ModelId` = the inference profile,
 * `InputTokenCount`, `OutputTokenCount`). This source reads them as the AWS source reads CloudWatch: the
 * provider's count, never the agent's. A line that is not such a record is skipped.
 */
import { readFile } from 'node:fs/promises';
import { BEDROCK_METRICS } from '../../../lib/contracts/metrics';
import { type LlmUsageSource, type MeasuredLlmUsage, type ReportRange, utcDay } from '../../core/cost-report';
import type { WorkflowInferenceProfile } from '../aws/bedrock-usage-source';

/** The stand-in's metrics file, below the pilot's home. */
export const PROVIDER_METRICS_LOG_FILE = 'provider-metrics.log';

/** The ARN the local pilot gives a workflow's stand-in inference profile. */
export function localInferenceProfileArn(stage: string, workflow: string): string {
  return `arn:aws:bedrock:local:000000000000:application-inference-profile/airlock-${stage}-${workflow}`;
}

/** Every workflow with an `llm`: its local profile ARN and the model its tokens are priced as. */
export function localInferenceProfiles(config: {
  readonly stage: string;
  readonly workflows: Readonly<Record<string, { readonly llm?: { readonly model: string } }>>;
}): Record<string, WorkflowInferenceProfile> {
  return Object.fromEntries(
    Object.entries(config.workflows).flatMap(([workflow, w]) =>
      w.llm
        ? [[workflow, { profileArn: localInferenceProfileArn(config.stage, workflow), model: w.llm.model }]]
        : [],
    ),
  );
}

export class ProviderMetricsLogUsageSource implements LlmUsageSource {
  readonly label = 'local Bedrock stand-in (provider metrics, not the agent’s reports)';

  constructor(
    private readonly file: string,
    /** Workflow → its (local) inference profile. */
    private readonly profiles: Readonly<Record<string, WorkflowInferenceProfile>>,
  ) {}

  async dailyUsage(range: ReportRange): Promise<MeasuredLlmUsage[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const workflowOf = new Map(Object.entries(this.profiles).map(([w, p]) => [p.profileArn, { w, p }]));
    const byKey = new Map<string, MeasuredLlmUsage & { inputTokens: number; outputTokens: number }>();
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      const aws = record._aws as
        | { Timestamp?: unknown; CloudWatchMetrics?: { Namespace?: unknown }[] }
        | undefined;
      if (aws?.CloudWatchMetrics?.[0]?.Namespace !== BEDROCK_METRICS.namespace) continue;
      const profile = workflowOf.get(String(record[BEDROCK_METRICS.dimension]));
      const input = record[BEDROCK_METRICS.inputTokens];
      const output = record[BEDROCK_METRICS.outputTokens];
      if (
        !profile ||
        typeof aws.Timestamp !== 'number' ||
        typeof input !== 'number' ||
        typeof output !== 'number'
      ) {
        continue;
      }
      if (!(input >= 0 && output >= 0)) continue;
      const day = utcDay(new Date(aws.Timestamp));
      if (day < range.from || day > range.to) continue;
      const key = `${day}\u0000${profile.w}`;
      const entry = byKey.get(key) ?? {
        day,
        workflow: profile.w,
        model: profile.p.model,
        inputTokens: 0,
        outputTokens: 0,
      };
      entry.inputTokens += input;
      entry.outputTokens += output;
      byKey.set(key, entry);
    }
    return [...byKey.values()];
  }
}
