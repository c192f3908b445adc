/**
 * The port of the `knowledge-base` kind: a search that only ever looks at documents of the
 * classifications it is given. Adapters: Amazon Bedrock Knowledge Bases `Retrieve` with a metadata
 * filter (AWS), and Orama full-text search over a folder (local pilot).
 */

export interface KnowledgeBaseSearch {
  readonly text: string;
  readonly maxResults: number;
  /** The classifications the caller is cleared for: the only ones the search may look at. */
  readonly classifications: readonly string[];
  /** Names the connector and operation in messages. */
  readonly label: string;
}

export interface KnowledgeBaseHit {
  /** Where the document is (an S3 URI in AWS, a file name locally). */
  readonly source: string;
  readonly title?: string;
  readonly classification: string;
  readonly excerpt: string;
  readonly score: number;
}

export interface KnowledgeBase {
  /**
   * Searches the documents of `classifications` only: the filter is part of the query, so a document
   * of any other classification is never retrieved.
   * @throws AirlockError `upstream_error` when the search fails
   */
  search(search: KnowledgeBaseSearch): Promise<readonly KnowledgeBaseHit[]>;
}
