// The passage index: each document's text cut into passages, in one table the same on
// both dialects. Retrievers search it (see retriever.ts); one that keeps an index of its
// own is told as passages are written and removed.
import type { Knex } from 'knex';
import type { SqlRunner } from '../db/dialects.js';
import { passagesOf } from './passages.js';
import type { Retriever } from './retriever.js';

/** The documents an agent answers from: its own, plus those in the topics of its config. */
export interface SearchScope {
  agentId: number;
  topicIds: number[];
}

/** What a dialect's search query returns, best first. */
export interface PassageRow {
  document_id: number;
  original_filename: string;
  position: number;
  content: string;
}

export type SearchFunction = (sql: SqlRunner, terms: string[], scope: SearchScope, limit: number) => Promise<PassageRow[]>;

const INSERT_BATCH = 200;

export class PassageIndex {
  constructor(private readonly retrievers: readonly Retriever[]) {}

  /**
   * Replaces the passages of a document with those of its text, which may arrive in pieces
   * (a large file is read as it streams); returns how many passages there are.
   */
  async index(db: Knex | Knex.Transaction, documentId: number, text: string | AsyncIterable<string> | Iterable<string>): Promise<number> {
    await this.remove(db, documentId);
    let count = 0;
    for await (const batch of passagesOf(typeof text === 'string' ? [text] : text, INSERT_BATCH)) {
      await db('passages').insert(batch.map((passage) => ({ document_id: documentId, ...passage })));
      for (const retriever of this.retrievers) await retriever.passagesAdded?.(db, documentId, batch);
      count += batch.length;
    }
    return count;
  }

  async remove(db: Knex | Knex.Transaction, documentId: number): Promise<void> {
    await db('passages').where('document_id', documentId).delete();
    for (const retriever of this.retrievers) await retriever.passagesRemoved?.(db, documentId);
  }
}

/** The `documents` rows of a scope, as SQL text over a `documents` table and its values. */
export function scopeClause(scope: SearchScope, alias = 'documents'): { where: string; values: number[] } {
  const topics = scope.topicIds.length ? ` OR ${alias}.topic_id IN (${scope.topicIds.map(() => '?').join(', ')})` : '';
  return { where: `(${alias}.agent_id = ?${topics})`, values: [scope.agentId, ...scope.topicIds] };
}
