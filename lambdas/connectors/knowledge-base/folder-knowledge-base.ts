/**
 * The knowledge-base port in the local pilot: Orama full-text search over a folder of Markdown files,
 * each with a front matter naming its classification (`classification: confidential`). A file without
 * a known classification is not indexed: nothing untagged is ever found. The index is built on the
 * first search and rebuilt when the folder's files change.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { AirlockError } from '../../core/errors';
import type { KnowledgeBase, KnowledgeBaseHit, KnowledgeBaseSearch } from './knowledge-base';

const CLASSIFICATIONS = ['public', 'internal', 'confidential', 'pii'];
const FRONT_MATTER = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/;

interface LocalDocument {
  readonly source: string;
  readonly title: string;
  readonly classification: string;
  readonly content: string;
}

/** A document's front matter and text, or `undefined` when it has no known classification. */
export function parseLocalDocument(source: string, text: string): LocalDocument | undefined {
  const match = FRONT_MATTER.exec(text);
  if (!match) return undefined;
  let meta: unknown;
  try {
    meta = parseYaml(match[1]!);
  } catch {
    return undefined;
  }
  if (meta === null || typeof meta !== 'object') return undefined;
  const { classification, title } = meta as Record<string, unknown>;
  if (typeof classification !== 'string' || !CLASSIFICATIONS.includes(classification)) return undefined;
  return {
    source,
    title: typeof title === 'string' ? title : source,
    classification,
    content: text.slice(match[0].length).trim(),
  };
}

/** The part of Orama's API used here (its ESM and CommonJS type declarations differ in detail). */
interface Orama {
  create(options: { schema: Readonly<Record<string, string>> }): unknown;
  insert(db: unknown, document: Readonly<Record<string, string>>): unknown;
  search(
    db: unknown,
    params: {
      term: string;
      properties: readonly string[];
      where: Readonly<Record<string, { in: readonly string[] }>>;
      limit: number;
    },
  ):
    | { hits: { score: number; document: unknown }[] }
    | Promise<{ hits: { score: number; document: unknown }[] }>;
}

export class FolderKnowledgeBase implements KnowledgeBase {
  private index: { readonly stamp: string; readonly db: unknown } | undefined;

  constructor(private readonly folder: string) {}

  async search(search: KnowledgeBaseSearch): Promise<readonly KnowledgeBaseHit[]> {
    // Loaded when searched: the local pilot's search engine has no place in a Lambda bundle.
    const orama = (await import('@orama/orama')) as unknown as Orama;
    let db: unknown;
    try {
      db = await this.currentIndex(orama);
    } catch {
      throw new AirlockError(
        'upstream_error',
        `${search.label}: the local knowledge base's folder could not be read.`,
      );
    }
    const found = await orama.search(db, {
      term: search.text,
      properties: ['title', 'content'],
      // The clearance filter is part of the search: other documents are never candidates.
      where: { classification: { in: [...search.classifications] } },
      limit: search.maxResults,
    });
    return found.hits.map((hit) => {
      const document = hit.document as unknown as LocalDocument;
      return {
        source: document.source,
        title: document.title,
        classification: document.classification,
        excerpt: document.content,
        score: hit.score,
      };
    });
  }

  private async currentIndex(orama: Orama): Promise<unknown> {
    const names = (await readdir(this.folder)).filter((name) => name.endsWith('.md')).sort();
    const stats = await Promise.all(names.map((name) => stat(join(this.folder, name))));
    const stamp = names.map((name, i) => `${name}:${stats[i]!.mtimeMs}:${stats[i]!.size}`).join('|');
    if (this.index?.stamp === stamp) return this.index.db;
    const db = orama.create({
      schema: { source: 'string', title: 'string', content: 'string', classification: 'enum' },
    });
    for (const name of names) {
      const document = parseLocalDocument(name, await readFile(join(this.folder, name), 'utf8'));
      if (document) await orama.insert(db, { ...document });
    }
    this.index = { stamp, db };
    return db;
  }
}
