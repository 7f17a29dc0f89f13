// The full-text retriever. Documents are ranked first, passages within them second, so a
// long overview page does not get dozens of chances to win with one dense window:
//
// 1. Every document in scope is scored with BM25 over its whole text, from the term counts
//    kept per document (document_terms, document_words), in the same SQL on both dialects.
// 2. The best-scoring documents' passages that contain the query's words (found with FTS5
//    on SQLite, the tsvector on PostgreSQL) and their first passages are scored with BM25
//    too, in JavaScript, the same on both dialects; a document gains part of its first
//    passage's score (documents say what they are about first) and of its best passage's,
//    and its title (file name and first line) counts the query words it holds once more.
// 3. The answer takes each document's best passage in turn, so one document cannot fill
//    every source, and a passage identical to one already taken (a copy of a document) is
//    left out.
//
// Every figure was chosen with `npm run eval:retrieval` (see eval/retrieval.mjs).
import type { SqlRunner } from '../db/dialects.js';
import { scopeClause, type PassageRow, type PassageSearch, type SearchScope } from './index.js';
import { countTerms, queryTerms, searchFormsOf, snippetOf, wordsOf } from './passages.js';
import type { RetrieverDefinition, SearchHit, SearchOptions } from './retriever.js';
import { matchingPassagesPostgres } from './postgres.js';
import { matchingPassagesSqlite } from './sqlite.js';

const K1 = 1.2;
/** Passages are of about one length, so their length counts as in textbook BM25. */
const B = 0.75;
/**
 * Documents range from a paragraph to a book, and a long one holds the question's words by
 * chance more often, so its length counts more than in textbook BM25 (b 0.75). In the
 * eval (N = 371): b 0.75: r@1 0.698 r@5 0.908 MRR 0.782; 0.85: 0.698, 0.906, 0.782;
 * 0.9: 0.706, 0.908, 0.787; 1.0: 0.701, 0.911, 0.787. On its first 185 questions
 * alone, 0.75: 0.741, 0.957, 0.837; 0.9: 0.773, 0.957, 0.854.
 */
const DOCUMENT_B = 0.9;
/**
 * How much a document's first passage, and its best passage, add to its score. In the eval
 * (N = 364): whole-document BM25 alone r@1 0.646 r@5 0.896; + first passage × 0.5: 0.679,
 * 0.904; + best passage × 0.3 as well: 0.687, 0.907 (× 0.6: 0.673, 0.915).
 */
const LEAD_WEIGHT = 0.5;
const BEST_WEIGHT = 0.3;
/**
 * How much each query word in a document's title (its file name without the extension, and
 * its first line when that is short enough to be a heading) adds, times the word's weight.
 * In the eval (N = 371): 0: r@1 0.687 r@5 0.908 MRR 0.774; 0.3: 0.693, 0.906, 0.777;
 * 0.6: 0.698, 0.908, 0.782; 1.0: 0.674, 0.914, 0.770.
 */
const TITLE_WEIGHT = 0.6;
/** A first line of more words than this is prose, not a title. */
const TITLE_WORDS = 12;
/** Passage lengths are normalised against this many words (about half of a full passage). */
const AVERAGE_PASSAGE_WORDS = 100;
/** Documents whose first passages are scored, at least. */
const CANDIDATE_DOCUMENTS = 20;
/** A document with at most this many passages has them all scored; a longer one, its first this many holding a query word. */
const PASSAGES_PER_DOCUMENT = 30;
/** A long document's passages are looked for with each of this many of the query's rarest words. */
const RARE_TERMS = 3;
/** Documents beyond the `limit` best whose passages are read too, in case some of those are copies. */
const QUOTE_SPARES = 1;
/** A message with fewer content words than this is read as a follow-up of the turns before. */
const FOLLOW_UP_TERMS = 3;
/** Earlier user turns a follow-up borrows words from, the latest first, at half weight each further back. */
const EARLIER_TURNS = 3;
const MAX_TERMS = 24;

interface WeightedTerm {
  term: string;
  weight: number;
}

interface RankedDocument {
  id: number;
  originalFilename: string;
  score: number;
  passages: Array<PassageRow & { score: number }>;
}

export const fullTextRetriever: RetrieverDefinition = {
  kind: 'full-text',
  create({ dialect, sql }) {
    const matchingPassages = dialect === 'postgres' ? matchingPassagesPostgres : matchingPassagesSqlite;
    return {
      /**
       * Only the message's words are searched, each as a plain term: search syntax in a
       * message ("NEAR(", "*", quotes) is just text.
       */
      async search(message, scope, limit, options: SearchOptions = {}) {
        const query = weightedTerms(message, options.earlier ?? []);
        if (!query.length || limit < 1) return [];
        const { documents, weights } = await rankDocuments(sql, query, scope);
        const candidates = documents.slice(0, Math.max(CANDIDATE_DOCUMENTS, limit * 2));
        if (!candidates.length) return [];
        const byId = new Map(candidates.map((document) => [document.id, document]));
        const ids = candidates.map((document) => document.id);
        const firsts = await sql.all<PassageRow>(`SELECT document_id, position, content FROM passages WHERE position = 0 AND document_id IN (${ids.map(() => '?').join(', ')})`, ids);
        addPassages(firsts, query, weights, byId);
        candidates.sort(byScore);
        // Only the documents that may be quoted have their other passages read: the best
        // `limit`, and a few more in case some only repeat them (copies).
        const quoted = candidates.slice(0, limit + QUOTE_SPARES);
        addPassages(await passagesOfDocuments(sql, matchingPassages, query, weights, quoted.map((document) => document.id)), query, weights, byId);
        for (const document of quoted) document.score += BEST_WEIGHT * (document.passages[0]?.score ?? 0);
        candidates.sort(byScore);
        return pick(candidates, query.map((item) => item.term), limit);
      },
    };
  },
};

/**
 * The message's terms, and, when it is short ("Tell me more", "and the second one?"), the
 * terms of the user's turns before it at lower weight.
 */
export function weightedTerms(message: string, earlier: string[]): WeightedTerm[] {
  const terms = queryTerms(message).map((term) => ({ term, weight: 1 }));
  if (terms.length >= FOLLOW_UP_TERMS) return terms;
  let weight = 0.5;
  for (const turn of earlier.slice(0, EARLIER_TURNS)) {
    for (const term of queryTerms(turn)) {
      if (terms.length === MAX_TERMS) return terms;
      if (!terms.some((item) => item.term === term)) terms.push({ term, weight });
    }
    weight /= 2;
  }
  return terms;
}

const byScore = (a: RankedDocument, b: RankedDocument) => b.score - a.score || a.id - b.id;

const bm25 = (idf: number, tf: number, length: number, average: number, b = B) => (idf * tf * (K1 + 1)) / (tf + K1 * (1 - b + (b * length) / average));

/**
 * Every document in scope holding a query term, with its BM25 over its whole text, best
 * first; and each term's weight (the query's weight × its idf among the scope's documents).
 */
async function rankDocuments(sql: SqlRunner, query: WeightedTerm[], scope: SearchScope): Promise<{ documents: RankedDocument[]; weights: Map<string, number> }> {
  const { where, values } = scopeClause(scope, 'd');
  const terms = query.map((item) => item.term);
  // The scope's documents (with their lengths) and the terms' rows are read apart and
  // matched here: joined, each of a common term's thousands of rows cost two more lookups
  // (its document, its length), where the scope is read once.
  const inScope = await sql.all<{ id: number; original_filename: string; words: number }>(
    `SELECT d.id, d.original_filename, w.words FROM documents d JOIN document_words w ON w.document_id = d.id WHERE ${where}`,
    values,
  );
  const scopeById = new Map(inScope.map((document) => [Number(document.id), document]));
  const rows = (await sql.all<{ document_id: number; term: string; occurrences: number }>(
    `SELECT document_id, term, occurrences FROM document_terms WHERE term IN (${terms.map(() => '?').join(', ')})`,
    terms,
  )).filter((row) => scopeById.has(Number(row.document_id)));
  if (!rows.length) return { documents: [], weights: new Map() };
  // The collection (for idf and the average length) is the scope just read.
  const documentCount = inScope.length;
  const averageWords = Math.max(1, inScope.reduce((sum, document) => sum + Number(document.words), 0) / Math.max(1, documentCount));
  const frequency = new Map<string, number>();
  for (const row of rows) frequency.set(row.term, (frequency.get(row.term) ?? 0) + 1);
  const weights = new Map(query.map((item) => [item.term, item.weight * idfOf(documentCount, frequency.get(item.term) ?? 0)]));
  const documents = new Map<number, RankedDocument>();
  for (const row of rows) {
    const id = Number(row.document_id);
    let document = documents.get(id);
    const stored = scopeById.get(id)!;
    if (!document) documents.set(id, (document = { id, originalFilename: stored.original_filename, score: 0, passages: [] }));
    document.score += bm25(weights.get(row.term) ?? 0, Number(row.occurrences), Number(stored.words), averageWords, DOCUMENT_B);
  }
  return { documents: [...documents.values()].sort((a, b) => b.score - a.score || a.id - b.id), weights };
}

function idfOf(documents: number, holding: number): number {
  return Math.log(1 + (Math.max(documents, holding) - holding + 0.5) / (holding + 0.5));
}

/** Scores passages for the query and files them under their documents (best first); a first passage adds to its document's score. */
function addPassages(rows: PassageRow[], query: WeightedTerm[], weights: Map<string, number>, byId: Map<number, RankedDocument>): void {
  for (const row of rows) {
    const document = byId.get(Number(row.document_id));
    const position = Number(row.position);
    if (!document || document.passages.some((passage) => passage.position === position)) continue;
    const { counts, words } = countTerms(row.content);
    let score = 0;
    for (const { term } of query) {
      const tf = counts.get(term);
      if (tf) score += bm25(weights.get(term) ?? 0, tf, words, AVERAGE_PASSAGE_WORDS);
    }
    document.passages.push({ document_id: document.id, position, content: row.content, score });
    if (position === 0) document.score += LEAD_WEIGHT * score + TITLE_WEIGHT * titleScore(document.originalFilename, row.content, query, weights);
  }
  for (const document of byId.values()) document.passages.sort((a, b) => b.score - a.score || a.position - b.position);
}

/**
 * The summed weights of the query's terms found in a document's title: what a document is
 * named, and its first line when short (a heading, "# name"), say what it is about more
 * surely than a word anywhere in its text. Each term counts once, however often repeated.
 */
function titleScore(originalFilename: string, firstPassage: string, query: WeightedTerm[], weights: Map<string, number>): number {
  const firstLine = firstPassage.slice(0, firstPassage.indexOf('\n') + 1 || undefined);
  const name = originalFilename.replace(/\.[^.]*$/, '');
  const title = countTerms(firstLine.split(/\s+/).filter(Boolean).length <= TITLE_WORDS ? `${name} ${firstLine}` : name).counts;
  let score = 0;
  for (const { term } of query) if (title.has(term)) score += weights.get(term) ?? 0;
  return score;
}

/**
 * The passages of these documents worth scoring: all of a short document's, and of a long
 * one's, the first few that hold each of its rarest query words, and the first few that hold any.
 */
async function passagesOfDocuments(
  sql: SqlRunner,
  matchingPassages: PassageSearch,
  query: WeightedTerm[],
  weights: Map<string, number>,
  ids: number[],
): Promise<PassageRow[]> {
  const spans = await sql.all<{ document_id: number; count: number | string; first_id: number; last_id: number }>(
    `SELECT document_id, COUNT(*) AS count, MIN(id) AS first_id, MAX(id) AS last_id FROM passages WHERE document_id IN (${ids.map(() => '?').join(', ')}) GROUP BY document_id`,
    ids,
  );
  const short = spans.filter((span) => Number(span.count) <= PASSAGES_PER_DOCUMENT).map((span) => Number(span.document_id));
  const long = spans.filter((span) => Number(span.count) > PASSAGES_PER_DOCUMENT);
  // In a long document the first passages holding any query word may all hold only a
  // common one (a CSV header's, say): the first few holding each of the query's rarest
  // words are read too.
  const rarest = new Set([...query].sort((a, b) => (weights.get(b.term) ?? 0) - (weights.get(a.term) ?? 0)).slice(0, RARE_TERMS).map((item) => item.term));
  const each = Math.ceil(PASSAGES_PER_DOCUMENT / (RARE_TERMS + 1));
  const [shortRows, ...longRows] = await Promise.all([
    short.length ? sql.all<PassageRow>(`SELECT document_id, position, content FROM passages WHERE document_id IN (${short.map(() => '?').join(', ')})`, short) : [],
    ...long.map(async (span) => {
      const document = { id: Number(span.document_id), count: Number(span.count), firstId: Number(span.first_id), lastId: Number(span.last_id) };
      // One search per word: the first passages holding any word are the first of the
      // words' own first passages, and a search for one word's forms reads only its
      // postings, where one for all of them at once costs about as much as all of these.
      const perTerm = await Promise.all(query.map((item) => matchingPassages(sql, searchFormsOf(item.term), document, each)));
      const firstHoldingAny = new Map<number, PassageRow>();
      for (const rows of perTerm) for (const row of rows) firstHoldingAny.set(Number(row.position), row);
      const taken = [...firstHoldingAny.values()].sort((a, b) => Number(a.position) - Number(b.position)).slice(0, each);
      return [...query.flatMap((item, i) => (rarest.has(item.term) ? perTerm[i] : [])), ...taken];
    }),
  ]);
  return [...shortRows, ...longRows.flat()];
}

/** Each document's best passage in rank order, then each one's second best, and so on; no passage twice. */
function pick(documents: RankedDocument[], terms: string[], limit: number): SearchHit[] {
  const hits: SearchHit[] = [];
  const quoted = new Set<string>();
  for (let round = 0; hits.length < limit; round++) {
    let any = false;
    for (const document of documents) {
      const passage = document.passages[round];
      if (!passage) continue;
      any = true;
      if (round > 0 && passage.score <= 0) continue;
      const same = passage.content.replace(/\s+/g, ' ').trim();
      if (quoted.has(same)) continue;
      quoted.add(same);
      hits.push({
        documentId: document.id,
        originalFilename: document.originalFilename,
        position: passage.position,
        snippet: snippetOf(passage.content, terms),
        content: passage.content,
      });
      if (hits.length === limit) break;
    }
    if (!any) break;
  }
  return hits;
}
