/**
 * The `knowledge-base` kind: search over classified documents, filtered in the query by what the
 * caller is cleared for. In AWS, Amazon Bedrock Knowledge Bases `Retrieve` with a metadata filter; in
 * the local pilot, Orama full-text search over a folder of tagged Markdown files.
 */
import { join } from 'node:path';
import { onDemand } from '../../adapters/aws/on-demand';
import type { ConnectorKind } from '../connector-kind';
import { BedrockKnowledgeBase, loadBedrockAgentRuntimeSdk } from './bedrock-knowledge-base';
import type { KnowledgeBase } from './knowledge-base';
import {
  checkKnowledgeBaseConfig,
  type KnowledgeBaseConnectorConfig,
  knowledgeBaseConnectorSchema,
} from './knowledge-base-config';
import { KnowledgeBaseConnector } from './knowledge-base-connector';
import { knowledgeBaseInfrastructure } from './knowledge-base-infrastructure';

export const knowledgeBaseKind: ConnectorKind<KnowledgeBaseConnectorConfig, KnowledgeBase> = {
  kind: 'knowledge-base',
  configSchema: knowledgeBaseConnectorSchema,
  checkConfig: checkKnowledgeBaseConfig,
  createConnector: (name, config, runtime) => new KnowledgeBaseConnector(name, config, runtime.adapters),
  infrastructure: knowledgeBaseInfrastructure,
  aws: {
    adapters: ({ config, client }) =>
      new BedrockKnowledgeBase({
        client: client('bedrock-agent-runtime', () =>
          onDemand(async () => new (await loadBedrockAgentRuntimeSdk()).BedrockAgentRuntimeClient({})),
        ),
        knowledgeBaseId: config.aws.knowledgeBaseId,
        classificationKey: config.aws.classificationKey,
      }),
    adapterMethods: ['search'],
  },
  local: {
    // Its YAML front-matter parser is loaded on the first search: no function in AWS runs it.
    adapters: ({ config, home }) => {
      const folder = onDemand(
        async () =>
          new (await import('./folder-knowledge-base.js')).FolderKnowledgeBase(
            join(home, config.local.folder),
          ),
      );
      return { search: async (search) => (await folder()).search(search) };
    },
    prepare: async ({ name, config, home }, { seedKnowledgeBase }) => {
      await seedKnowledgeBase(join(home, config.local.folder), name);
      return config;
    },
  },
};
