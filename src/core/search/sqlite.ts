// Passage search on SQLite: the FTS5 index, ranked with bm25.
import type { Knex } from 'knex';
import type { SearchFunction, SearchHit } from './index.js';

interface Row {
  document_id: number;
  original_filename: string;
  position: number;
  snippet: string;
  content: string;
}

export const searchSqlite: SearchFunction = async (db: Knex, terms, scope, limit): Promise<SearchHit[]> => {
  // Each term quoted: FTS5 reads it as a string, never as an operator or a column filter.
  const match = terms.map((term) => `"${term.replaceAll('"', '""')}"`).join(' OR ');
  const topics = scope.topicIds.length ? `OR d.topic_id IN (${scope.topicIds.map(() => '?').join(', ')})` : '';
  const rows: Row[] = await db.raw(
    `SELECT p.document_id, d.original_filename, p.position, p.content,
            snippet(passages_fts, 0, '', '', '…', 40) AS snippet
       FROM passages_fts
       JOIN passages p ON p.id = passages_fts.rowid
       JOIN documents d ON d.id = p.document_id
      WHERE passages_fts MATCH ? AND (d.agent_id = ? ${topics})
      ORDER BY bm25(passages_fts), p.document_id, p.position
      LIMIT ?`,
    [match, scope.agentId, ...scope.topicIds, limit],
  );
  return rows.map(toHit);
};

export function toHit(row: Row): SearchHit {
  return {
    documentId: Number(row.document_id),
    originalFilename: row.original_filename,
    position: Number(row.position),
    snippet: row.snippet,
    content: row.content,
  };
}
