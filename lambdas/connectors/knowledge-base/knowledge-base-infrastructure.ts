/**
 * The knowledge-base kind in AWS: nothing is created (the Bedrock knowledge base, its data source and
 * vector store belong to its owners); a bound function may call Retrieve on that one knowledge base.
 * (CDK types only: see connector-infrastructure.ts.)
 */
import type { ConnectorInfrastructure } from '../connector-infrastructure';
import { BEDROCK_KNOWLEDGE_BASE_ACTIONS } from './bedrock-knowledge-base';
import type { KnowledgeBaseConnectorConfig } from './knowledge-base-config';

export const knowledgeBaseInfrastructure: ConnectorInfrastructure<KnowledgeBaseConnectorConfig> = {
  groupId: 'ConnectorKnowledgeBases',
  create({ cdk, scope, config }) {
    const arn = cdk.core.Stack.of(scope).formatArn({
      service: 'bedrock',
      resource: 'knowledge-base',
      resourceName: config.aws.knowledgeBaseId,
      arnFormat: cdk.core.ArnFormat.SLASH_RESOURCE_NAME,
    });
    return {
      bind(grantee) {
        // Written by hand: there is no grant for a knowledge base the stack does not own. Retrieve only
        // (not RetrieveAndGenerate: the agent's own model writes the answer), on this knowledge base only.
        cdk.iam.Grant.addToPrincipal({
          grantee,
          actions: [...BEDROCK_KNOWLEDGE_BASE_ACTIONS.search],
          resourceArns: [arn],
        });
        return {};
      },
    };
  },
};
