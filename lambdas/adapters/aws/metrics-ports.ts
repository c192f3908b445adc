/** The port of usage metrics: CloudWatch EMF lines on stdout (no AWS call, no SDK client). */
import { FUNCTION_ENV } from '../../../lib/contracts/environment';
import type { AwsPortBuilder } from './aws-ports';
import { BedrockUsageSource, inferenceProfilesOf } from './bedrock-usage-source';
import { EmfMetricsSink } from './emf-metrics-sink';
import { cloudWatchClientOnDemand } from './sdk-on-demand';

export const metricsSink: AwsPortBuilder<'metricsSink'> = (context) =>
  context.expose('metricsSink', 'EmfMetricsSink', new EmfMetricsSink({ onError: context.onMetricsError }));

/**
 * The provider-measured LLM usage the spend cap counts: Bedrock's token metrics of the inference
 * profiles in `AIRLOCK_INFERENCE_PROFILES` (none: no workflow has an `llm`, and nothing is read).
 */
export const llmUsageSource: AwsPortBuilder<'llmUsageSource'> = (context) => {
  const profiles = inferenceProfilesOf(
    JSON.stringify(context.jsonObject(FUNCTION_ENV.inferenceProfiles)),
    context.config.workflows,
  );
  if (Object.keys(profiles).length === 0) return undefined;
  return context.expose(
    'llmUsageSource',
    'BedrockUsageSource',
    new BedrockUsageSource({
      client: context.client('cloudwatch', cloudWatchClientOnDemand),
      profiles,
    }),
    ['label'],
  );
};
