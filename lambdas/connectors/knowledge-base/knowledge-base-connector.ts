/**
 * The knowledge-base connector kind: `search {query}` over classified documents. The caller's
 * clearances go into the search as a filter, so what it is not cleared for is never retrieved; a hit
 * that comes back anyway (a mis-tagged index) is dropped and counted, never returned.
 */

import { UNCLEARED_CLASSIFICATIONS } from '../../../lib/contracts/classifications';
import { AirlockError } from '../../core/errors';
import type { Connector, ConnectorResult, InvokeOptions, UpstreamCall } from '../connector';
import {
  createOperationParameters,
  type OperationInputSchema,
  type OperationParameters,
  type ParameterValues,
} from '../operation-parameters';
import type { ConnectorPolicyContext } from '../policy-context';
import type { KnowledgeBase, KnowledgeBaseHit } from './knowledge-base';
import type { KnowledgeBaseConnectorConfig } from './knowledge-base-config';

interface PreparedSearch {
  readonly parameters: OperationParameters;
  readonly maxResults: number;
}

export interface KnowledgeBaseSearchResult {
  readonly results: readonly KnowledgeBaseHit[];
}

export class KnowledgeBaseConnector implements Connector {
  public readonly kind = 'knowledge-base';
  public readonly operations: readonly string[];
  private readonly prepared: ReadonlyMap<string, PreparedSearch>;

  constructor(
    public readonly name: string,
    private readonly config: KnowledgeBaseConnectorConfig,
    private readonly knowledgeBase: KnowledgeBase,
  ) {
    const prepared = new Map<string, PreparedSearch>();
    for (const [operation, op] of Object.entries(config.operations)) {
      prepared.set(operation, {
        parameters: createOperationParameters(`${name}/${operation}`, op.parameters),
        maxResults: op.maxResults ?? config.maxResults,
      });
    }
    this.prepared = prepared;
    this.operations = [...prepared.keys()];
  }

  inputSchema(operation: string): OperationInputSchema {
    return this.operation(operation).parameters.jsonSchema;
  }

  parseParameters(operation: string, params: unknown): ParameterValues {
    return this.operation(operation).parameters.parse(params);
  }

  describe(operation: string, params: unknown): UpstreamCall {
    const text = this.queryOf(operation, params);
    return { method: 'SEARCH', path: `${this.name}/${operation}`, body: { query: text } };
  }

  policyContext(operation: string): ConnectorPolicyContext {
    return { resourceId: operation };
  }

  resourceProblem(_operation: string, _params: ParameterValues, resource: string): string | undefined {
    return `Your token is narrowed to the resource ${JSON.stringify(resource)}, which names nothing in ${this.name} (a knowledge base is searched as a whole, within your clearances). Request a token without "resource" for ${this.name}.`;
  }

  async invoke(operation: string, params: unknown, options: InvokeOptions): Promise<ConnectorResult> {
    const { maxResults } = this.operation(operation);
    const text = this.queryOf(operation, params);
    const label = `Connector "${this.name}" operation "${operation}"`;
    if (options.signal?.aborted)
      throw new AirlockError('upstream_error', `${label}: the call was cancelled.`);
    const classifications = [...(options.clearedFor ?? UNCLEARED_CLASSIFICATIONS)];
    const hits = await this.knowledgeBase.search({ text, maxResults, classifications, label });
    const allowed = hits.filter((hit) => classifications.includes(hit.classification));
    const results = allowed.slice(0, maxResults).map((hit) => ({
      ...hit,
      excerpt: hit.excerpt.slice(0, this.config.maxExcerptChars),
    }));
    const result: KnowledgeBaseSearchResult = { results };
    return {
      result,
      documents: results.map((hit) => ({
        id: hit.source,
        bytes: hit.excerpt,
        classification: hit.classification,
      })),
      bytesOut: results.reduce((total, hit) => total + Buffer.byteLength(hit.excerpt), 0),
      withheld: hits.length - allowed.length,
    };
  }

  private queryOf(operation: string, params: unknown): string {
    const values = this.operation(operation).parameters.parse(params);
    const query = values['query'];
    if (typeof query !== 'string' || query.trim() === '') {
      throw new AirlockError(
        'invalid_request',
        `Invalid parameters for ${this.name}/${operation}: parameter "query": expected search text.`,
      );
    }
    return query;
  }

  private operation(operation: string): PreparedSearch {
    const prepared = this.prepared.get(operation);
    if (!prepared) {
      throw new AirlockError(
        'not_found',
        `Connector "${this.name}" has no operation "${operation}"; expected one of: ${this.operations.join(', ')}.`,
      );
    }
    return prepared;
  }
}
