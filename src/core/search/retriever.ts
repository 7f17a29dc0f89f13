// What every retriever is: given a message and the documents an agent answers from, the
// best passages, best first. A retriever kind is registered once (search/retrievers.ts);
// an agent's config names one with "retriever", else the first registered answers.
import type { Knex } from 'knex';
import type { Dialect, SqlRunner } from '../db/dialects.js';
import type { Passage } from './passages.js';
import type { SearchScope } from './index.js';

export interface SearchHit {
  documentId: number;
  originalFilename: string;
  position: number;
  /** The matching part of the passage, for display. */
  snippet: string;
  /** The whole passage, for a model's prompt. */
  content: string;
}

export interface SearchOptions {
  /** The user's earlier turns in the conversation, the latest first: a short follow-up borrows their words. */
  earlier?: string[];
}

export interface Retriever {
  /** At most `limit` passages, best first, spread over documents (each one's best first). */
  search(query: string, scope: SearchScope, limit: number, options?: SearchOptions): Promise<SearchHit[]>;
  /**
   * Called as a document's passages are written (in batches, inside the same writes), for a
   * retriever that keeps an index of its own (embeddings, say). Rows it keeps per document
   * should reference `documents` ON DELETE CASCADE: deleting a document calls no hook.
   */
  passagesAdded?(db: Knex | Knex.Transaction, documentId: number, passages: Passage[]): Promise<void>;
  /** Called when a document's passages are removed (before it is indexed again, or when its text fails). */
  passagesRemoved?(db: Knex | Knex.Transaction, documentId: number): Promise<void>;
}

export interface RetrieverDeps {
  dialect: Dialect;
  /** Single statements by SQL text, on the context's database. */
  sql: SqlRunner;
}

/** One kind of retriever, as registered. */
export interface RetrieverDefinition {
  /** What `config.retriever` names ("full-text"). */
  kind: string;
  /** Made once per context. */
  create(deps: RetrieverDeps): Retriever;
}
