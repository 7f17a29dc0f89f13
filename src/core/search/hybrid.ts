// Hybrid retrieval: the full-text ranking and the vector ranking of the same passages,
// fused by reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): a passage
// scores the sum of 1 / (k + rank) over the lists it is in, k = 60. Ranks, not scores, are
// fused, so bm25 and cosine need no common scale.
import type { SqlRunner } from '../db/dialects.js';
import { scopeClause, type SearchScope } from './index.js';
import { queryTerms, snippetOf } from './passages.js';
import type { SearchHit } from './retriever.js';
import type { VectorMatch } from './vectors.js';

export const RRF_K = 60;

/** The hits of several rankings, best first by reciprocal rank fusion; ties keep the first list's order. */
export function fuseRankings(rankings: SearchHit[][], limit: number): SearchHit[] {
  const fused = new Map<string, { hit: SearchHit; score: number; first: number }>();
  let order = 0;
  for (const ranking of rankings) {
    ranking.forEach((hit, rank) => {
      const key = `${hit.documentId}:${hit.position}`;
      const entry = fused.get(key) ?? { hit, score: 0, first: order++ };
      entry.score += 1 / (RRF_K + rank + 1);
      fused.set(key, entry);
    });
  }
  return [...fused.values()].sort((a, b) => b.score - a.score || a.first - b.first).slice(0, limit).map((entry) => entry.hit);
}

/** The ids of the documents a scope holds. */
export async function documentIdsIn(sql: SqlRunner, scope: SearchScope): Promise<Set<number>> {
  const { where, values } = scopeClause(scope);
  const rows = await sql.all<{ id: number }>(`SELECT id FROM documents WHERE ${where}`, values);
  return new Set(rows.map((row) => Number(row.id)));
}

/** Vector matches as search hits, in the matches' order (passages removed meanwhile are left out). */
export async function hitsOf(sql: SqlRunner, matches: VectorMatch[], query: string): Promise<SearchHit[]> {
  if (!matches.length) return [];
  const rows = await sql.all<{ id: number; document_id: number; original_filename: string; position: number; content: string }>(
    `SELECT p.id, p.document_id, d.original_filename, p.position, p.content
       FROM passages p JOIN documents d ON d.id = p.document_id
      WHERE p.id IN (${matches.map(() => '?').join(', ')})`,
    matches.map((match) => match.passageId),
  );
  const byId = new Map(rows.map((row) => [Number(row.id), row]));
  const terms = queryTerms(query);
  return matches.flatMap((match) => {
    const row = byId.get(match.passageId);
    if (!row) return [];
    return [{
      documentId: Number(row.document_id),
      originalFilename: row.original_filename,
      position: Number(row.position),
      snippet: snippetOf(row.content, terms),
      content: row.content,
    }];
  });
}
