/**
 * The knowledge-base kind: the clearance filter is part of the search in both adapters (Orama over a
 * folder locally; Bedrock Knowledge Bases Retrieve over a fake that applies metadata filters as the
 * service does), and the connector drops, counts and never returns a hit it is not cleared for.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BedrockAgentRuntimeClient, RetrieveCommand } from '@aws-sdk/client-bedrock-agent-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { BedrockKnowledgeBase } from '../../../lambdas/connectors/knowledge-base/bedrock-knowledge-base';
import {
  FolderKnowledgeBase,
  parseLocalDocument,
} from '../../../lambdas/connectors/knowledge-base/folder-knowledge-base';
import type {
  KnowledgeBase,
  KnowledgeBaseHit,
} from '../../../lambdas/connectors/knowledge-base/knowledge-base';
import { KnowledgeBaseConnector } from '../../../lambdas/connectors/knowledge-base/knowledge-base-connector';
import { loadConfig, parseConfig } from '../../../lib/config/load-config';
import type { AirlockConfig } from '../../../lib/config/schema';
import { SAMPLE_CONFIDENTIAL_PHRASE, seedSampleKnowledgeBase } from '../../../local/sample-knowledge-base';

type KnowledgeBaseConfig = Extract<AirlockConfig['connectors'][string], { kind: 'knowledge-base' }>;
const handbookConfig = () => loadConfig().connectors.handbook as KnowledgeBaseConfig;
const INTERNAL = ['public', 'internal'];

describe('Knowledge-base config', () => {
  it('names the field when a search operation lacks its query or would write', () => {
    const example = JSON.parse(JSON.stringify(loadConfig()));
    example.connectors.handbook.operations.search.parameters = { text: { type: 'string', description: 'x' } };
    const writes = JSON.parse(JSON.stringify(loadConfig()));
    writes.connectors.handbook.operations.search.access = 'write';
    expect(() => parseConfig(example, 'test')).toThrow(
      /connectors\.handbook\.operations\.search\.parameters\.query/,
    );
    expect(() => parseConfig(writes, 'test')).toThrow(/connectors\.handbook\.operations\.search\.access/);
  });
});

describe('Class: FolderKnowledgeBase (Orama)', () => {
  let folder: string;

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'airlock-kb-'));
    await seedSampleKnowledgeBase(folder);
  });

  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('attack: a confidential page is not a candidate of a search without the clearance, even by its exact words', async () => {
    const kb = new FolderKnowledgeBase(folder);
    const hits = await kb.search({
      text: SAMPLE_CONFIDENTIAL_PHRASE,
      maxResults: 25,
      classifications: INTERNAL,
      label: 't',
    });
    expect(hits.map((h) => h.classification)).not.toContain('confidential');
    const cleared = await kb.search({
      text: SAMPLE_CONFIDENTIAL_PHRASE,
      maxResults: 25,
      classifications: [...INTERNAL, 'confidential'],
      label: 't',
    });
    expect(cleared[0]).toMatchObject({ source: 'executive-travel.md', classification: 'confidential' });
  });

  it('reads the classification from the front matter, and indexes nothing without a known one', () => {
    expect(parseLocalDocument('a.md', '---\nclassification: internal\ntitle: A\n---\nbody')).toEqual({
      source: 'a.md',
      title: 'A',
      classification: 'internal',
      content: 'body',
    });
    expect(parseLocalDocument('b.md', 'no front matter')).toBeUndefined();
    expect(parseLocalDocument('c.md', '---\nclassification: top-secret\n---\nx')).toBeUndefined();
    expect(parseLocalDocument('d.md', '---\nclassification: [internal\n---\nx')).toBeUndefined();
  });
});

interface StoredChunk {
  readonly text: string;
  readonly uri: string;
  readonly metadata: Record<string, string>;
}

/**
 * A Bedrock Knowledge Bases Retrieve fake that behaves like the service: it applies the request's
 * metadata filter (`in`, `equals`) before ranking, ranks by shared words, and returns at most
 * `numberOfResults`.
 */
function retrieveFake(chunks: readonly StoredChunk[]) {
  const stub = mockClient(BedrockAgentRuntimeClient);
  stub.on(RetrieveCommand).callsFake(async (input) => {
    const config = input.retrievalConfiguration?.vectorSearchConfiguration ?? {};
    const filter = config.filter as
      | { in?: { key: string; value: string[] }; equals?: { key: string; value: string } }
      | undefined;
    const passes = (chunk: StoredChunk) =>
      !filter ||
      ((filter.in ? filter.in.value.includes(chunk.metadata[filter.in.key] ?? '') : true) &&
        (filter.equals ? chunk.metadata[filter.equals.key] === filter.equals.value : true));
    const words = new Set(input.retrievalQuery.text.toLowerCase().split(/\W+/));
    const ranked = chunks
      .filter(passes)
      .map((chunk) => ({
        chunk,
        score: chunk.text
          .toLowerCase()
          .split(/\W+/)
          .filter((w) => words.has(w)).length,
      }))
      .filter((r) => r.score > 0)
      .sort((a, b) => b.score - a.score)
      .slice(0, config.numberOfResults ?? 5);
    return {
      retrievalResults: ranked.map(({ chunk, score }) => ({
        content: { text: chunk.text, type: 'TEXT' },
        location: { type: 'S3', s3Location: { uri: chunk.uri } },
        metadata: chunk.metadata,
        score,
      })),
    };
  });
  return stub;
}

const CHUNKS: StoredChunk[] = [
  {
    text: 'Hotel cap per night is GBP 180 in London',
    uri: 's3://kb/travel.md',
    metadata: { classification: 'internal', title: 'Travel' },
  },
  {
    text: `The ${SAMPLE_CONFIDENTIAL_PHRASE} with the Harbour View Hotel is GBP 142`,
    uri: 's3://kb/exec.md',
    metadata: { classification: 'confidential' },
  },
];

describe('Class: BedrockKnowledgeBase (Retrieve with a metadata filter)', () => {
  const stub = retrieveFake(CHUNKS);
  afterAll(() => stub.restore());
  const kb = new BedrockKnowledgeBase({
    client: new BedrockAgentRuntimeClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    }),
    knowledgeBaseId: 'ABCDEFGHIJ',
    classificationKey: 'classification',
  });

  it('sends the caller’s clearances as the metadata filter of the search', async () => {
    stub.resetHistory();
    await kb.search({ text: 'hotel', maxResults: 5, classifications: INTERNAL, label: 't' });
    expect(stub.commandCalls(RetrieveCommand)[0]!.args[0].input.retrievalConfiguration).toEqual({
      vectorSearchConfiguration: {
        numberOfResults: 5,
        filter: { in: { key: 'classification', value: INTERNAL } },
      },
    });
  });

  it('attack: a confidential chunk is never retrieved for a caller without the clearance', async () => {
    const hits = await kb.search({
      text: `${SAMPLE_CONFIDENTIAL_PHRASE} hotel`,
      maxResults: 5,
      classifications: INTERNAL,
      label: 't',
    });
    expect(hits.map((h) => h.source)).toEqual(['s3://kb/travel.md']);
    const cleared = await kb.search({
      text: SAMPLE_CONFIDENTIAL_PHRASE,
      maxResults: 5,
      classifications: [...INTERNAL, 'confidential'],
      label: 't',
    });
    expect(cleared[0]).toMatchObject({ source: 's3://kb/exec.md', classification: 'confidential' });
  });

  it('reports a Retrieve failure as upstream_error without the service’s message', async () => {
    const failing = mockClient(BedrockAgentRuntimeClient);
    failing
      .on(RetrieveCommand)
      .rejects(Object.assign(new Error('secret detail'), { name: 'ThrottlingException' }));
    const error = await kb
      .search({ text: 'x', maxResults: 1, classifications: INTERNAL, label: 'handbook/search' })
      .catch((e) => e);
    expect(error).toMatchObject({
      code: 'upstream_error',
      message: expect.stringContaining('ThrottlingException'),
    });
    expect(error.message).not.toContain('secret detail');
    failing.restore();
  });
});

describe('Class: KnowledgeBaseConnector', () => {
  /** An index whose tags went wrong: it returns what it was asked to filter out. */
  class IgnoringFilter implements KnowledgeBase {
    async search(): Promise<readonly KnowledgeBaseHit[]> {
      return [
        { source: 'a.md', classification: 'internal', excerpt: 'ok', score: 2 },
        { source: 'b.md', classification: 'confidential', excerpt: 'GBP 142', score: 1 },
        { source: 'c.md', classification: 'unclassified', excerpt: 'untagged', score: 1 },
      ];
    }
  }

  it('attack: drops and counts a hit above the caller’s clearances that an index returned anyway', async () => {
    const connector = new KnowledgeBaseConnector('handbook', handbookConfig(), new IgnoringFilter());
    const outcome = await connector.invoke(
      'search',
      { query: 'x' },
      { requestId: 'r', clearedFor: INTERNAL },
    );
    expect(outcome.result).toEqual({
      results: [{ source: 'a.md', classification: 'internal', excerpt: 'ok', score: 2 }],
    });
    expect(outcome.withheld).toBe(2);
    expect(JSON.stringify(outcome.documents)).not.toContain('GBP 142');
  });

  it("attack: a confidential page found by an internal search was listed to approvers under the search's classification", async () => {
    // Prepare: a caller cleared for confidential; the index answers pages of two classifications.
    const connector = new KnowledgeBaseConnector('handbook', handbookConfig(), new IgnoringFilter());

    // Act
    const outcome = await connector.invoke(
      'search',
      { query: 'x' },
      { requestId: 'r', clearedFor: ['public', 'internal', 'confidential'] },
    );

    // Assess: each document says its own classification, which decides who is shown its name.
    expect(outcome.documents.map((d) => [d.id, d.classification])).toEqual([
      ['a.md', 'internal'],
      ['b.md', 'confidential'],
    ]);
  });

  it('searches within public and internal when the caller’s clearances are not given (fail closed)', async () => {
    const asked: string[][] = [];
    const connector = new KnowledgeBaseConnector('handbook', handbookConfig(), {
      search: async (s) => {
        asked.push([...s.classifications]);
        return [];
      },
    });
    await connector.invoke('search', { query: 'x' }, { requestId: 'r' });
    expect(asked).toEqual([INTERNAL]);
  });
});
