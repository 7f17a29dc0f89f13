// The passage index: each document's text cut into passages (one table, the same on both
// dialects) and searched with the database's own full-text search: FTS5 ranked by bm25
// on SQLite, a tsvector ranked by ts_rank on PostgreSQL.
import type { Knex } from 'knex';
import type { Dialect } from '../db/dialects.js';
import type { SqlRunner } from '../db/dialects.js';
import { passagesOf, queryTerms, snippetOf } from './passages.js';
import { searchSqlite } from './sqlite.js';
import { searchPostgres } from './postgres.js';

/** The documents an agent answers from: its own, plus those in the topics of its config. */
export interface SearchScope {
  agentId: number;
  topicIds: number[];
}

export interface SearchHit {
  documentId: number;
  originalFilename: string;
  position: number;
  /** The matching part of the passage, for display. */
  snippet: string;
  /** The whole passage, for a model's prompt. */
  content: string;
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
  private readonly searchIn: SearchFunction;

  constructor(
    dialect: Dialect,
    private readonly sql: SqlRunner,
  ) {
    this.searchIn = dialect === 'postgres' ? searchPostgres : searchSqlite;
  }

  /**
   * Replaces the passages of a document with those of its text, which may arrive in pieces
   * (a large file is read as it streams); returns how many passages there are.
   */
  async index(db: Knex | Knex.Transaction, documentId: number, text: string | AsyncIterable<string> | Iterable<string>): Promise<number> {
    await this.remove(db, documentId);
    let count = 0;
    for await (const batch of passagesOf(typeof text === 'string' ? [text] : text, INSERT_BATCH)) {
      await db('passages').insert(batch.map((passage) => ({ document_id: documentId, ...passage })));
      count += batch.length;
    }
    return count;
  }

  async remove(db: Knex | Knex.Transaction, documentId: number): Promise<void> {
    await db('passages').where('document_id', documentId).delete();
  }

  /**
   * The best passages for a message, best first. Only the message's words are searched,
   * each as a plain term: search syntax in a message ("NEAR(", "*", quotes) is just text.
   */
  async search(message: string, scope: SearchScope, limit: number): Promise<SearchHit[]> {
    const terms = queryTerms(message);
    if (!terms.length) return [];
    const rows = await this.searchIn(this.sql, terms, scope, limit);
    return rows.map((row) => ({
      documentId: Number(row.document_id),
      originalFilename: row.original_filename,
      position: Number(row.position),
      snippet: snippetOf(row.content, terms),
      content: row.content,
    }));
  }
}

/** The `documents` rows of a scope, as SQL text over a `documents` table and its values. */
export function scopeClause(scope: SearchScope, alias = 'documents'): { where: string; values: number[] } {
  const topics = scope.topicIds.length ? ` OR ${alias}.topic_id IN (${scope.topicIds.map(() => '?').join(', ')})` : '';
  return { where: `(${alias}.agent_id = ?${topics})`, values: [scope.agentId, ...scope.topicIds] };
}
