/**
 * The knowledge-base port in AWS: Amazon Bedrock Knowledge Bases `Retrieve`, with the caller's
 * clearances as a metadata filter on each document's classification attribute, so the vector search
 * never considers a document the caller is not cleared for.
 */
import type { BedrockAgentRuntimeClient, RetrieveCommandOutput } from '@aws-sdk/client-bedrock-agent-runtime';
import {
  type AwsScope,
  type DeclaresIamPermissions,
  type IamActions,
  type IamPermission,
  permissionsOf,
} from '../../adapters/aws/iam-permissions';
import { type ClientSource, clientOf, onDemand } from '../../adapters/aws/on-demand';
import { AirlockError } from '../../core/errors';
import type { KnowledgeBase, KnowledgeBaseHit, KnowledgeBaseSearch } from './knowledge-base';

type KnowledgeBaseMethod = 'search';

/** The Bedrock Agent Runtime client package, loaded on a knowledge base's first search (lambdas/adapters/aws/on-demand.ts). */
export const loadBedrockAgentRuntimeSdk = onDemand(() => import('@aws-sdk/client-bedrock-agent-runtime'));

export const BEDROCK_KNOWLEDGE_BASE_ACTIONS = {
  search: ['bedrock:Retrieve'],
} as const satisfies IamActions<KnowledgeBaseMethod>;

/** `arn:<partition>:bedrock:<region>:<account>:knowledge-base/<id>`. */
export function knowledgeBaseArn(scope: AwsScope, knowledgeBaseId: string): string {
  return `arn:${scope.partition}:bedrock:${scope.region}:${scope.account}:knowledge-base/${knowledgeBaseId}`;
}

export interface BedrockKnowledgeBaseProps {
  /** Created once per function and injected (tests pass a mocked client), or on the first search. */
  readonly client: ClientSource<BedrockAgentRuntimeClient>;
  readonly knowledgeBaseId: string;
  /** The metadata attribute holding each document's classification. */
  readonly classificationKey: string;
}

export class BedrockKnowledgeBase implements KnowledgeBase, DeclaresIamPermissions<KnowledgeBaseMethod> {
  constructor(private readonly props: BedrockKnowledgeBaseProps) {}

  iamPermissions(methods: readonly KnowledgeBaseMethod[], scope: AwsScope): IamPermission[] {
    return permissionsOf('BedrockKnowledgeBase', BEDROCK_KNOWLEDGE_BASE_ACTIONS, methods, () => [
      { resource: knowledgeBaseArn(scope, this.props.knowledgeBaseId) },
    ]);
  }

  async search(search: KnowledgeBaseSearch): Promise<readonly KnowledgeBaseHit[]> {
    const { classificationKey } = this.props;
    if (search.classifications.length === 0) return [];
    let answer: RetrieveCommandOutput;
    try {
      const [{ RetrieveCommand }, client] = await Promise.all([
        loadBedrockAgentRuntimeSdk(),
        clientOf(this.props.client),
      ]);
      answer = await client.send(
        new RetrieveCommand({
          knowledgeBaseId: this.props.knowledgeBaseId,
          retrievalQuery: { text: search.text },
          retrievalConfiguration: {
            vectorSearchConfiguration: {
              numberOfResults: search.maxResults,
              filter: { in: { key: classificationKey, value: [...search.classifications] } },
            },
          },
        }),
      );
    } catch (error) {
      const name = (error as { name?: string } | undefined)?.name ?? 'unknown error';
      throw new AirlockError(
        'upstream_error',
        `${search.label}: the knowledge base did not answer (${name}).`,
      );
    }
    return (answer.retrievalResults ?? []).map((item, i) => {
      const metadata = (item.metadata ?? {}) as Record<string, unknown>;
      const classification = metadata[classificationKey];
      const title = metadata['title'];
      return {
        source: item.location?.s3Location?.uri ?? `result-${i + 1}`,
        ...(typeof title === 'string' && { title }),
        // Untagged reads as no classification, which no caller is cleared for: the connector drops it.
        classification: typeof classification === 'string' ? classification : 'unclassified',
        excerpt: item.content?.text ?? '',
        score: item.score ?? 0,
      };
    });
  }
}
