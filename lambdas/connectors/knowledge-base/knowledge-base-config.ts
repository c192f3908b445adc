/**
 * The config of a `knowledge-base` connector: search over documents each tagged with a
 * classification. What a caller is not cleared for is filtered out in the search itself.
 */
import * as z from 'zod';
import {
  connectorBase,
  nameSchema,
  operationBase,
  operationNameSchema,
} from '../../../lib/config/operation-schema';

export const knowledgeBaseOperationSchema = z.strictObject({
  ...operationBase,
  access: z.literal('read', { error: 'expected "read": a knowledge base is only searched' }),
  action: z.enum(['List', 'Read'], { error: 'expected List or Read: a knowledge base is only searched' }),
  /** Most results this operation returns. @default - the connector's maxResults */
  maxResults: z.number().int().positive().max(25).optional(),
});

export const knowledgeBaseConnectorSchema = z.strictObject({
  kind: z.literal('knowledge-base'),
  ...connectorBase,
  /** In AWS: an Amazon Bedrock knowledge base whose documents carry a classification metadata attribute. */
  aws: z.strictObject({
    knowledgeBaseId: z
      .string()
      .regex(/^[0-9A-Za-z]{10}$/, 'expected a Bedrock knowledge base id such as ABCDEFGHIJ'),
    /** The metadata attribute that holds each document's classification (its `.metadata.json`). */
    classificationKey: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,100}$/, 'expected a metadata attribute name')
      .default('classification'),
  }),
  /** In the local pilot: a folder under AIRLOCK_HOME of Markdown files with a `classification:` front matter. */
  local: z.strictObject({ folder: nameSchema }),
  /** Most results one search returns. */
  maxResults: z.number().int().positive().max(25).default(5),
  /** Longest excerpt of a document returned per result, in characters. */
  maxExcerptChars: z.number().int().min(100).max(20_000).default(2_000),
  operations: z.record(operationNameSchema, knowledgeBaseOperationSchema),
});

export type KnowledgeBaseConnectorConfig = z.infer<typeof knowledgeBaseConnectorSchema>;

/** Every operation searches with its `query` parameter, so each must declare it as a required string. */
export function checkKnowledgeBaseConfig(
  config: KnowledgeBaseConnectorConfig,
  report: (path: readonly (string | number)[], message: string) => void,
): void {
  for (const [name, op] of Object.entries(config.operations)) {
    const query = op.parameters['query'];
    if (query?.type !== 'string' || !query.required) {
      report(
        ['operations', name, 'parameters', 'query'],
        'expected a required string parameter "query" (the search text)',
      );
    }
    for (const other of Object.keys(op.parameters)) {
      if (other !== 'query') {
        report(['operations', name, 'parameters', other], 'a knowledge-base search takes only "query"');
      }
    }
  }
}
