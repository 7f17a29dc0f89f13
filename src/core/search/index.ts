// The passage index: each document's text cut into passages, in one table the same on
// both dialects. Retrievers search it (see retriever.ts); one that keeps an index of its
// own is told as passages are written and removed.
import type { Knex } from 'knex';
import type { SqlRunner } from '../db/dialects.js';
import { countTerms, passagesOf, type TextShape } from './passages.js';
import type { Retriever } from './retriever.js';

/**
 * The documents an agent answers from: its own, plus those in the topics of its config;
 * a run may narrow them to one topic or some documents (one document at a time when it
 * answers per document).
 */
export interface SearchScope {
  agentId: number;
  topicIds: number[];
  /** Only those of these documents. */
  documentIds?: number[];
  /** Only those in this topic. */
  topicId?: number;
}

/** A passage as a dialect's search returns it. */
export interface PassageRow {
  document_id: number;
  position: number;
  content: string;
}

/** A document's passages: how many, and the range of their ids. */
export interface PassageSpan {
  id: number;
  count: number;
  firstId: number;
  lastId: number;
}

/**
 * The first `limit` passages of a document that contain any of these words, in order (they
 * are scored in JavaScript, the same way on both dialects).
 */
export type PassageSearch = (sql: SqlRunner, words: string[], document: PassageSpan, limit: number) => Promise<PassageRow[]>;

const INSERT_BATCH = 200;
/** Term rows per insert statement. */
const TERM_BATCH = 400;
/**
 * Term rows written per transaction: a document's counts go in one commit or a few, not one
 * per statement, and readers see them whole (its length is written with the last of them,
 * and ranking only reads documents with a length). Bounded, so the writer is never held
 * for long (a transaction takes some tens of milliseconds) and other writes go in between.
 */
const TERMS_PER_TRANSACTION = 4000;

export class PassageIndex {
  constructor(private readonly retrievers: readonly Retriever[]) {}

  /**
   * Replaces the passages of a document with those of its text, which may arrive in pieces
   * (a large file is read as it streams), and its term counts; returns how many passages
   * there are. A CSV is cut into rows (see passagesOf).
   */
  async index(db: Knex | Knex.Transaction, documentId: number, text: string | AsyncIterable<string> | Iterable<string>, shape: TextShape = 'prose'): Promise<number> {
    await this.remove(db, documentId);
    let count = 0;
    const counts = new Map<string, number>();
    let words = 0;
    for await (const batch of passagesOf(typeof text === 'string' ? [text] : text, INSERT_BATCH, shape)) {
      // A batch and its full-text entries in one commit (the insert and its triggers), not one commit per statement.
      await db.transaction(async (trx) => {
        await insertRows(trx, 'passages (document_id, position, content)', 3, batch.flatMap((passage) => [documentId, passage.position, passage.content]));
        for (const retriever of this.retrievers) await retriever.passagesAdded?.(trx, documentId, batch);
      });
      for (const passage of batch) words += countPassage(passage, shape, counts);
      count += batch.length;
    }
    await writeTermCounts(db, documentId, counts, words);
    return count;
  }

  /**
   * Counts every document's terms again from its stored passages (after a restore, which
   * brings passages but not these counts, derived from them).
   */
  async recountTerms(db: Knex | Knex.Transaction): Promise<void> {
    await db('document_terms').delete();
    await db('document_words').delete();
    const documents: Array<{ id: number; original_filename: string; filename: string }> = await db('documents').select('id', 'original_filename', 'filename');
    for (const document of documents) {
      const shape: TextShape = /\.csv$/i.test(document.original_filename || document.filename) ? 'csv' : 'prose';
      const passages: Array<{ position: number; content: string }> = await db('passages').where('document_id', document.id).orderBy('position').select('position', 'content');
      if (!passages.length) continue;
      const counts = new Map<string, number>();
      let words = 0;
      for (const passage of passages) words += countPassage(passage, shape, counts);
      await writeTermCounts(db, Number(document.id), counts, words);
    }
  }

  async remove(db: Knex | Knex.Transaction, documentId: number): Promise<void> {
    await db('passages').where('document_id', documentId).delete();
    await db('document_terms').where('document_id', documentId).delete();
    await db('document_words').where('document_id', documentId).delete();
    for (const retriever of this.retrievers) await retriever.passagesRemoved?.(db, documentId);
  }
}

/** Adds a passage's terms to `counts`; its number of words. */
function countPassage(passage: { position: number; content: string }, shape: TextShape, counts: Map<string, number>): number {
  // A CSV row repeats its header: the header's words count once, with the first row.
  const counted = shape === 'csv' && passage.position > 0 ? passage.content.slice(passage.content.indexOf('\n') + 1) : passage.content;
  return countTerms(counted, counts).words;
}

async function writeTermCounts(db: Knex | Knex.Transaction, documentId: number, counts: Map<string, number>, words: number): Promise<void> {
  // In term order, the order of the table's key: the inserts walk its pages in one direction.
  const rows = [...counts].sort(byTerm);
  for (let chunk = 0; chunk < rows.length || chunk === 0; chunk += TERMS_PER_TRANSACTION) {
    await db.transaction(async (trx) => {
      const end = Math.min(rows.length, chunk + TERMS_PER_TRANSACTION);
      for (let start = chunk; start < end; start += TERM_BATCH) {
        const values: unknown[] = [];
        for (let i = start; i < Math.min(end, start + TERM_BATCH); i++) values.push(documentId, rows[i][0], rows[i][1]);
        await insertRows(trx, 'document_terms (document_id, term, occurrences)', 3, values);
      }
      // The length goes with the last terms: a reader sees a document's length only once its terms are all there.
      if (end === rows.length) await trx('document_words').insert({ document_id: documentId, words });
    });
  }
}

/**
 * One multi-row INSERT of `values` (row after row, `width` to a row), written as SQL text
 * directly: knex's builder spends longer than the insert on hundreds of rows (and writes a
 * compound SELECT on SQLite), and the same text for the same number of rows is prepared once.
 */
async function insertRows(db: Knex | Knex.Transaction, into: string, width: number, values: unknown[]): Promise<void> {
  const row = `(${Array(width).fill('?').join(', ')})`;
  await db.raw(`INSERT INTO ${into} VALUES ${Array(values.length / width).fill(row).join(', ')}`, values as Knex.RawBinding[]);
}

const byTerm = (a: [string, number], b: [string, number]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** The `documents` rows of a scope, as SQL text over a `documents` table and its values. */
export function scopeClause(scope: SearchScope, alias = 'documents'): { where: string; values: number[] } {
  const topics = scope.topicIds.length ? ` OR ${alias}.topic_id IN (${scope.topicIds.map(() => '?').join(', ')})` : '';
  let where = `(${alias}.agent_id = ?${topics})`;
  const values = [scope.agentId, ...scope.topicIds];
  if (scope.topicId !== undefined) {
    where += ` AND ${alias}.topic_id = ?`;
    values.push(scope.topicId);
  }
  if (scope.documentIds) {
    where += scope.documentIds.length ? ` AND ${alias}.id IN (${scope.documentIds.map(() => '?').join(', ')})` : ' AND 0 = 1';
    values.push(...scope.documentIds);
  }
  return { where: `(${where})`, values };
}
