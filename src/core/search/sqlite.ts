// Passage search on SQLite: the FTS5 index, ranked with bm25.
import type { PassageRow, SearchFunction } from './index.js';
import { scopeClause } from './index.js';

export const searchSqlite: SearchFunction = (sql, terms, scope, limit) => {
  // Each term quoted: FTS5 reads it as a string, never as an operator or a column filter.
  const match = terms.map((term) => `"${term.replaceAll('"', '""')}"`).join(' OR ');
  const { where, values } = scopeClause(scope, 'd');
  return sql.all<PassageRow>(
    `SELECT p.document_id, d.original_filename, p.position, p.content
       FROM passages_fts
       JOIN passages p ON p.id = passages_fts.rowid
       JOIN documents d ON d.id = p.document_id
      WHERE passages_fts MATCH ? AND ${where}
      ORDER BY bm25(passages_fts), p.document_id, p.position
      LIMIT ?`,
    [match, ...values, limit],
  );
};
