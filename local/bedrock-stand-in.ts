/**
 * A local stand-in for Amazon Bedrock's Converse API behind a workflow's application inference
 * profile: it answers a conversation with a short canned reply and, as Bedrock does, publishes the
 * call's token counts as metrics of the profile (EMF lines in `<home>/provider-metrics.log`, namespace
 * `AWS/Bedrock`, dimension `ModelId`). The local cost report reads them as measured usage, as the AWS
 * report reads Bedrock's CloudWatch metrics. Tokens are counted as Anthropic's rough rule (about four
 * characters a token), which is what a stand-in can do without the model.
 */
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROVIDER_METRICS_LOG_FILE } from '../lambdas/adapters/local/provider-metrics-usage-source';
import { BEDROCK_METRICS } from '../lib/contracts/metrics';

export interface ConverseResult {
  readonly output: { readonly message: { readonly role: 'assistant'; readonly content: { text: string }[] } };
  readonly usage: {
    readonly inputTokens: number;
    readonly outputTokens: number;
    readonly totalTokens: number;
  };
  readonly stopReason: 'end_turn';
}

export class LocalBedrockStandIn {
  constructor(
    private readonly home: string,
    /** The profile ARNs this stand-in serves (the pilot's workflows with an `llm`). */
    private readonly profileArns: ReadonlySet<string>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Converse through a profile: the reply, and the token counts published as the profile's metrics. */
  async converse(
    modelId: string,
    messages: readonly { role: string; content: readonly { text?: string }[] }[],
  ): Promise<ConverseResult> {
    if (!this.profileArns.has(modelId)) {
      throw Object.assign(new Error(`The model or inference profile ${modelId} is not served here.`), {
        name: 'ResourceNotFoundException',
      });
    }
    const prompt = messages.flatMap((m) => m.content.map((c) => c.text ?? '')).join('\n');
    const text = `Stand-in reply to ${prompt.length} characters.`;
    const inputTokens = Math.max(1, Math.ceil(prompt.length / 4));
    const outputTokens = Math.max(1, Math.ceil(text.length / 4));
    const line = {
      _aws: {
        Timestamp: this.now().getTime(),
        CloudWatchMetrics: [
          {
            Namespace: BEDROCK_METRICS.namespace,
            Dimensions: [[BEDROCK_METRICS.dimension]],
            Metrics: [
              { Name: BEDROCK_METRICS.inputTokens, Unit: 'Count' },
              { Name: BEDROCK_METRICS.outputTokens, Unit: 'Count' },
              { Name: BEDROCK_METRICS.invocations, Unit: 'Count' },
            ],
          },
        ],
      },
      [BEDROCK_METRICS.dimension]: modelId,
      [BEDROCK_METRICS.inputTokens]: inputTokens,
      [BEDROCK_METRICS.outputTokens]: outputTokens,
      [BEDROCK_METRICS.invocations]: 1,
    };
    await appendFile(join(this.home, PROVIDER_METRICS_LOG_FILE), `${JSON.stringify(line)}\n`, {
      mode: 0o600,
    });
    return {
      output: { message: { role: 'assistant', content: [{ text }] } },
      usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
      stopReason: 'end_turn',
    };
  }
}
