// The passage index: each document's text cut into passages (one table, the same on both
// dialects) and searched with the database's own full-text search: FTS5 ranked by bm25
// on SQLite, a tsvector ranked by ts_rank on PostgreSQL.
import type { Knex } from 'knex';
import { dialectOf } from '../db/dialects.js';
import { queryTerms, splitPassages } from './passages.js';
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

export type SearchFunction = (db: Knex, terms: string[], scope: SearchScope, limit: number) => Promise<SearchHit[]>;

const INSERT_BATCH = 200;

export class PassageIndex {
  private readonly searchIn: SearchFunction;

  constructor(knex: Knex) {
    this.searchIn = dialectOf(knex) === 'postgres' ? searchPostgres : searchSqlite;
  }

  /** Replaces the passages of a document with those of `text`; returns how many there are. */
  async index(db: Knex | Knex.Transaction, documentId: number, text: string): Promise<number> {
    await this.remove(db, documentId);
    const passages = splitPassages(text);
    for (let i = 0; i < passages.length; i += INSERT_BATCH) {
      await db('passages').insert(passages.slice(i, i + INSERT_BATCH).map((passage) => ({ document_id: documentId, ...passage })));
    }
    return passages.length;
  }

  async remove(db: Knex | Knex.Transaction, documentId: number): Promise<void> {
    await db('passages').where('document_id', documentId).delete();
  }

  /**
   * The best passages for a message, best first. Only the message's words are searched,
   * each as a plain term: search syntax in a message ("NEAR(", "*", quotes) is just text.
   */
  async search(db: Knex, message: string, scope: SearchScope, limit: number): Promise<SearchHit[]> {
    const terms = queryTerms(message);
    return terms.length ? this.searchIn(db, terms, scope, limit) : [];
  }
}

/** The `documents` rows of a scope, as a where-clause. */
export function inScope(scope: SearchScope) {
  return (builder: Knex.QueryBuilder) => {
    builder.where('documents.agent_id', scope.agentId);
    if (scope.topicIds.length) builder.orWhereIn('documents.topic_id', scope.topicIds);
  };
}
